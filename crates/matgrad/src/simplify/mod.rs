//! Simplification: rewrite rules as data, applied as nodes are built, judged by one cost.
//!
//! Every rule is a named function from a node to an equal node (or nothing). The derivative
//! rules build their nodes through [`build`], so gradients come out simplified with no
//! separate cleanup. Rules never change a value (each is checked numerically in the tests)
//! and never look inside a node the user named.
//!
//! **One cost model.** Whether a rewrite is kept is decided here, not by the rule: a rule of
//! kind [`Kind::Shorten`] is kept only when its result costs strictly less than the node it
//! replaces ([`Cost`]: printed nodes, then transposes, then depth), and a rule of kind
//! [`Kind::Orient`] (an order of factors, where a sign stands, which side a transpose is
//! on) only when it adds no node and no transpose. Shortening rules terminate because the cost falls;
//! orienting rules because each moves toward an order of its own and never back.
//!
//! **Termination is explicit.** The state of simplification is a value, [`Simplifier`], kept
//! by the graph: a budget of rewrites, the nesting of rules building through each other,
//! the memo of costs, and the record of which rule made which node (so that `explain` can say
//! why one line became the next). When the budget runs out, nodes are built as they are,
//! unsimplified and still equal to what was asked; [`Simplifier::exhausted`] says so.

mod chain;
pub(crate) mod equal;
mod monomial;
mod rational;
mod rules;

use std::collections::HashMap;

pub use monomial::Monomial;
pub use rules::{Kind, Rule, RULES};

use crate::ir::{Graph, NodeId, Op};

/// Rewrites a graph may make before simplification stops: far more than any real program
/// needs (the 10 000-statement chains of the scaling tests make a few per node), a bound so
/// that a rule bug or a pathological input cannot loop forever.
pub const DEFAULT_BUDGET: usize = 50_000_000;

/// Rewrites one node may go through before it is kept as it is.
const FUEL: usize = 64;

/// How deeply rules may build through each other. Real rewrites nest a few levels; a deeper
/// nest means two rules undo each other, which debug builds report and release builds
/// survive by keeping the node as it is.
const MAX_NESTING: usize = 200;

/// The size of a printed expression, compared in this order: nodes (a named node or an
/// input counts as one leaf, as it prints as its name), then transposes, then depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cost {
    pub nodes: u32,
    pub transposes: u32,
    pub depth: u32,
}

/// What simplification of one graph has done and may still do.
#[derive(Debug, Clone)]
pub struct Simplifier {
    budget: usize,
    exhausted: bool,
    nesting: usize,
    /// The rule that made each node a rewrite produced.
    made_by: HashMap<NodeId, &'static str>,
    /// `Cost::of` each node, once computed; cleared when a node is named.
    costs: Vec<Option<Cost>>,
}

impl Default for Simplifier {
    fn default() -> Simplifier {
        Simplifier::with_budget(DEFAULT_BUDGET)
    }
}

impl Simplifier {
    pub fn with_budget(budget: usize) -> Simplifier {
        Simplifier { budget, exhausted: false, nesting: 0, made_by: HashMap::new(), costs: Vec::new() }
    }

    /// Whether the budget ran out: nodes built since are as they were asked for.
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }

    /// The rule whose rewrite produced `id`, if one did.
    pub fn made_by(&self, id: NodeId) -> Option<&'static str> {
        self.made_by.get(&id).copied()
    }

    /// Names change what costs one leaf.
    pub fn forget_costs(&mut self) {
        self.costs.clear();
    }
}

impl Cost {
    /// The cost of `id` as printed: its own node plus its children's, where a named child
    /// is one leaf. Saturating, so that a deep shared DAG cannot overflow.
    pub fn of(graph: &mut Graph, id: NodeId) -> Cost {
        // Children come before parents (the arena is topological), so filling the memo from
        // the lowest unknown id upward needs no recursion.
        let mut stack = vec![id];
        while let Some(&top) = stack.last() {
            // A named child is one leaf (`own_cost`): its expression is never costed.
            let pending: Vec<NodeId> = graph
                .op(top)
                .children()
                .into_iter()
                .filter(|&c| graph.name(c).is_none() && cost_memo(graph, c).is_none())
                .collect();
            if pending.is_empty() {
                stack.pop();
                let cost = own_cost(graph, top);
                set_cost_memo(graph, top, cost);
            } else {
                stack.extend(pending);
            }
        }
        cost_memo(graph, id).expect("computed above")
    }

    /// The cost of `id` where it appears inside another expression: one leaf if named.
    pub fn as_child(graph: &mut Graph, id: NodeId) -> Cost {
        if graph.name(id).is_some() {
            Cost { nodes: 1, transposes: 0, depth: 1 }
        } else {
            Cost::of(graph, id)
        }
    }
}

fn cost_memo(graph: &Graph, id: NodeId) -> Option<Cost> {
    graph.simplifier.costs.get(id.index()).copied().flatten()
}

fn set_cost_memo(graph: &mut Graph, id: NodeId, cost: Cost) {
    let costs = &mut graph.simplifier.costs;
    if costs.len() <= id.index() {
        costs.resize(id.index() + 1, None);
    }
    costs[id.index()] = Some(cost);
}

/// A node's cost from its children's (already in the memo).
fn own_cost(graph: &Graph, id: NodeId) -> Cost {
    let nodes = match graph.op(id) {
        // `c 𝟙` prints as the product it is: the number, the ones and, for a negative `c`, its
        // minus sign, as `−(c 𝟙)` would (so a product that takes the scalar out is no longer).
        Op::Fill(c, _) if c.0 < 0.0 => 4,
        Op::Fill(c, _) if c.0 != 0.0 && c.0 != 1.0 => 3,
        _ => 1,
    };
    let mut cost = Cost { nodes, transposes: u32::from(matches!(graph.op(id), Op::Transpose(_))), depth: 1 };
    for child in graph.op(id).children() {
        let c = if graph.name(child).is_some() {
            Cost { nodes: 1, transposes: 0, depth: 1 }
        } else {
            cost_memo(graph, child).expect("children are costed first")
        };
        cost.nodes = cost.nodes.saturating_add(c.nodes);
        cost.transposes = cost.transposes.saturating_add(c.transposes);
        cost.depth = cost.depth.max(c.depth.saturating_add(1));
    }
    // A dot product is written `uᵀ v`: its transpose is notation, not a transpose to push
    // away (else `sum(u ⊙ v)` would win over it).
    if let Op::MatMul(a, _) = graph.op(id) {
        if graph.is_scalar(id) && matches!(graph.op(a), Op::Transpose(_)) && graph.name(a).is_none() {
            cost.transposes = cost.transposes.saturating_sub(1);
        }
    }
    cost
}

/// The node for `op`, simplified. Its children must already be simplified.
pub fn build(graph: &mut Graph, op: Op) -> NodeId {
    let id = graph.add(op).expect("rules and derivative rules build well-shaped nodes");
    let simplifier = &mut graph.simplifier;
    if simplifier.budget == 0 || simplifier.nesting >= MAX_NESTING {
        debug_assert!(simplifier.nesting < MAX_NESTING, "simplification rules recurse without end on {op:?}");
        simplifier.exhausted |= simplifier.budget == 0;
        return id;
    }
    simplifier.nesting += 1;
    let result = rewrite(graph, id);
    graph.simplifier.nesting -= 1;
    result
}

/// Applies the rules to `id` until none is kept.
fn rewrite(graph: &mut Graph, mut id: NodeId) -> NodeId {
    for _ in 0..FUEL {
        if graph.name(id).is_some() {
            break;
        }
        let mut next = None;
        for rule in RULES {
            if graph.simplifier.budget == 0 {
                graph.simplifier.exhausted = true;
                return id;
            }
            let Some(candidate) = (rule.apply)(graph, id).filter(|&c| c != id) else { continue };
            graph.simplifier.budget = graph.simplifier.budget.saturating_sub(1);
            let (before, after) = (Cost::of(graph, id), Cost::as_child(graph, candidate));
            let kept = match rule.kind {
                Kind::Shorten => after < before,
                // Depth is only a tie-break between shorter forms: scalars stand outside
                // products (`0.5 (S⁻ᵀ r)`), one level deeper than `S⁻ᵀ (0.5 r)`.
                Kind::Orient => (after.nodes, after.transposes) <= (before.nodes, before.transposes),
            };
            if kept {
                graph.simplifier.made_by.entry(candidate).or_insert(rule.name);
                next = Some(candidate);
                break;
            }
        }
        match next {
            Some(n) => id = n,
            None => break,
        }
    }
    id
}

/// `id`'s expression simplified again from its leaves: every unnamed node rebuilt through
/// [`build`], bottom-up. A printed closed form read back (its nodes added as written) comes
/// out as the simplifier writes it; the tests check that this is a fixed point.
#[cfg_attr(not(test), allow(dead_code))]
pub fn simplify(graph: &mut Graph, id: NodeId) -> NodeId {
    let mut done: HashMap<NodeId, NodeId> = HashMap::new();
    let mut stack = vec![id];
    while let Some(&top) = stack.last() {
        if done.contains_key(&top) {
            stack.pop();
            continue;
        }
        if top != id && graph.name(top).is_some() {
            done.insert(top, top);
            stack.pop();
            continue;
        }
        let children = graph.op(top).children();
        let pending: Vec<NodeId> = children.into_iter().filter(|c| !done.contains_key(c)).collect();
        if !pending.is_empty() {
            stack.extend(pending);
            continue;
        }
        stack.pop();
        let rebuilt = graph.op(top).map_children(|c| done[&c]);
        let result = build(graph, rebuilt);
        done.insert(top, result);
    }
    done[&id]
}

/// The rules whose rewrites made `id`'s expression what it is, in the table's order: what a
/// report says of why a closed form reads as it does. Named nodes are the user's, not the
/// rules', and are not looked into.
pub fn rules_behind(graph: &Graph, id: NodeId) -> Vec<&'static rules::Rule> {
    rules_behind_printed(graph, id, &|x| graph.name(x).is_some())
}

/// [`rules_behind`] for a form printed with more names than the user's (`explain`'s
/// introduced `p`, `q`): the nodes `printed_as_name` says print as a name are not looked
/// into, since the line does not show what made them.
pub fn rules_behind_printed(
    graph: &Graph,
    id: NodeId,
    printed_as_name: &dyn Fn(NodeId) -> bool,
) -> Vec<&'static rules::Rule> {
    let mut used = std::collections::HashSet::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![id];
    while let Some(x) = stack.pop() {
        if !seen.insert(x) || x != id && printed_as_name(x) {
            continue;
        }
        if let Some(rule) = graph.simplifier.made_by(x) {
            used.insert(rule);
        }
        stack.extend(graph.op(x).children());
    }
    RULES.iter().filter(|rule| used.contains(rule.name)).collect()
}
