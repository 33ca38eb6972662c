//! Simplification: rewrite rules as data, applied as nodes are built.
//!
//! Every rule is a named function from a node to a simpler equal node (or nothing). The
//! derivative rules build their nodes through [`build`], so gradients come out simplified
//! with no separate cleanup; [`simplify`] runs the same rules over an existing expression.
//! Rules never change a value (each is checked numerically in the tests), never look inside
//! a node the user named, and only rewrite toward a canonical form, so they terminate.

mod monomial;
mod rational;
mod rules;

pub use monomial::Monomial;
pub use rules::RULES;

use crate::ir::{Graph, NodeId, Op};

/// More rewrites than any real node needs; a bound so a rule bug cannot loop forever.
const FUEL: usize = 64;

/// How deeply rules may build through each other. Real rewrites nest a few levels; a deeper
/// nest means two rules undo each other, which debug builds report and release builds
/// survive by keeping the node as it is.
const MAX_NESTING: usize = 200;

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The node for `op`, simplified. Its children must already be simplified.
pub fn build(graph: &mut Graph, op: Op) -> NodeId {
    let id = graph.add(op).expect("rules and derivative rules build well-shaped nodes");
    let depth = NESTING.with(|n| n.replace(n.get() + 1));
    debug_assert!(depth < MAX_NESTING, "simplification rules recurse without end on {op:?}");
    let result = if depth < MAX_NESTING { rewrite(graph, id) } else { id };
    NESTING.with(|n| n.set(depth));
    result
}

/// Applies the rules to `id` until none fires.
fn rewrite(graph: &mut Graph, mut id: NodeId) -> NodeId {
    for _ in 0..FUEL {
        if graph.name(id).is_some() {
            break;
        }
        let next = RULES.iter().find_map(|rule| (rule.apply)(graph, id).filter(|&next| next != id));
        match next {
            Some(next) => id = next,
            None => break,
        }
    }
    id
}
