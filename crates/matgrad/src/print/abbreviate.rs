//! Short names for repeated subexpressions of printed results, as a person introduces
//! `p = Aᵀ w` when a derivation uses `Aᵀ w` twice.
//!
//! Deterministic: the candidates are unnamed nodes used twice or more inside the roots' expressions (named nodes are atoms), named in id order — a topological
//! order, so each definition uses only earlier ones — from letter pools that skip every name
//! already in use (lower case for vectors and scalars, upper case for matrices).

use std::collections::{HashMap, HashSet};

use crate::ir::{Graph, NodeId, Op};

const LOWER: &[&str] = &["p", "q", "r", "s", "t", "g", "h", "k", "m", "n", "a", "b", "c", "d", "e", "f"];
/// Operations (nodes of the printed tree, names counting one) above which an expression
/// printed in two places gets a name even though it is printed once inside other ones.
const LONG: usize = 24;

const UPPER: &[&str] = &["P", "Q", "R", "S", "T", "M", "N", "G", "H", "J", "F", "E", "D", "C"];

/// Names for the repeated subexpressions of `roots`, and for each of `growing` (a quantity
/// that later lines extend, named so that each line stays short), in definition order.
/// `taken` holds every name the user's program already uses.
pub fn abbreviations(
    graph: &Graph,
    roots: &[NodeId],
    growing: &[NodeId],
    taken: &HashSet<String>,
) -> Vec<(NodeId, String)> {
    abbreviations_after(graph, roots, growing, taken, &[])
}

/// [`abbreviations`] for a text that also shows names already given (`given`: the
/// gradient's `p`, `q`, `r`, which an explanation of it keeps, so that one page never gives
/// one letter two meanings): the given names and the new ones, in definition order.
pub fn abbreviations_after(
    graph: &Graph,
    roots: &[NodeId],
    growing: &[NodeId],
    taken: &HashSet<String>,
    given: &[(NodeId, String)],
) -> Vec<(NodeId, String)> {
    let given_nodes: HashSet<NodeId> = given.iter().map(|(id, _)| *id).collect();
    let mut taken = taken.clone();
    taken.extend(given.iter().map(|(_, name)| name.clone()));
    let is_atom = |id: NodeId| {
        graph.name(id).is_some()
            || given_nodes.contains(&id)
            || matches!(graph.op(id), Op::Input(_) | Op::Const(_) | Op::Eye(_) | Op::Size(_) | Op::Fill(..))
    };
    // Uses of each node by distinct parents inside the printed expressions (roots count once).
    let is_root: HashSet<NodeId> = roots.iter().copied().collect();
    let mut uses: HashMap<NodeId, usize> = HashMap::new();
    let mut seen: HashSet<NodeId> = HashSet::new();
    let mut stack: Vec<NodeId> = Vec::new();
    // A root prints in full wherever it is a root, so only its uses inside other
    // expressions count.
    stack.extend(roots);
    while let Some(id) = stack.pop() {
        if !seen.insert(id) || (is_atom(id) && !is_root.contains(&id)) {
            continue;
        }
        let mut children: Vec<NodeId> = graph.op(id).children().as_slice().to_vec();
        children.dedup();
        for child in children {
            *uses.entry(child).or_default() += 1;
            stack.push(child);
        }
    }
    let mut candidates: Vec<NodeId> = uses
        .iter()
        .filter(|&(&id, &count)| {
            // A function of an atom is short, but three times is a pattern a reader names:
            // softmax's Jacobian reads Diag(p) − p pᵀ, not with softmax(s) thrice.
            let application = count >= 3 && matches!(graph.op(id), Op::Map(..) | Op::Softmax(_));
            count >= 2 && !is_atom(id) && !is_transparent(graph, id) && (application || !is_slight(graph, id, &is_atom))
        })
        .map(|(&id, _)| id)
        .collect();
    candidates.extend(growing.iter().filter(|&&id| !is_atom(id) && !is_transparent(graph, id)));
    candidates.sort();
    candidates.dedup();
    // A long expression printed in two places, as a root and inside another root (the
    // adjoints of a chain, each the next one times a factor), is named too: otherwise each
    // line repeats the one before it, and the text grows with the square of the program.
    let mut named: HashSet<NodeId> = candidates.iter().copied().collect();
    let mut size: HashMap<NodeId, usize> = HashMap::new();
    let mut order: Vec<NodeId> = seen.into_iter().collect();
    order.sort();
    for id in order {
        if is_atom(id) && !is_root.contains(&id) {
            continue;
        }
        let printed = graph.op(id).children().into_iter().map(|c| {
            if named.contains(&c) {
                1
            } else {
                size.get(&c).copied().unwrap_or(1)
            }
        });
        let total = printed.fold(1usize, |sum, s| sum.saturating_add(s));
        let repeated = uses.get(&id).copied().unwrap_or(0) + usize::from(is_root.contains(&id)) >= 2;
        if total > LONG && repeated && !is_atom(id) && !is_transparent(graph, id) && named.insert(id) {
            candidates.push(id);
        }
        size.insert(id, total);
    }
    candidates.sort();
    // Where each pool's search for a free name resumes, so naming stays linear.
    let mut next = [0usize; 2];
    let mut names = Vec::new();
    for id in candidates {
        let small = graph.dims.is_vector(graph.shape(id)) || graph.is_scalar(id);
        let (pool, cursor) = if small { (LOWER, &mut next[0]) } else { (UPPER, &mut next[1]) };
        let name = fresh_name_from(pool, cursor, &taken);
        taken.insert(name.clone());
        names.push((id, name));
    }
    // The given names first among equals: every definition uses only earlier ones, as the
    // nodes' order is topological.
    names.extend(given.iter().cloned());
    names.sort_by_key(|(id, _)| *id);
    names
}

/// The first name of `pool` not in `taken`, then the first of `pool[0]` numbered (`p₁`,
/// `p₂`, …, canonical `p1`): how every introduced name is chosen (a repeated subexpression's,
/// a block's symbol, the Kronecker delta). The caller adds it to `taken`.
pub fn fresh_name(pool: &[&str], taken: &HashSet<String>) -> String {
    fresh_name_from(pool, &mut 0, taken)
}

/// [`fresh_name`] searching from `*cursor` on, which it leaves after the name found (so
/// that naming many values from one pool stays linear).
fn fresh_name_from(pool: &[&str], cursor: &mut usize, taken: &HashSet<String>) -> String {
    loop {
        let candidate = match pool.get(*cursor) {
            Some(name) => name.to_string(),
            None => format!("{}{}", pool[0], *cursor - pool.len() + 1),
        };
        *cursor += 1;
        if !taken.contains(&candidate) {
            return candidate;
        }
    }
}

/// A transpose, a negation or a constant multiple: a name for what is inside serves as well
/// (`2 q`, `qᵀ`), so these are never named themselves.
fn is_transparent(graph: &Graph, id: NodeId) -> bool {
    match graph.op(id) {
        Op::Transpose(_) | Op::Neg(_) => true,
        Op::Mul(a, b) => matches!(graph.op(a), Op::Const(_)) || matches!(graph.op(b), Op::Const(_)),
        _ => false,
    }
}

/// Whether naming `id` would save the reader nothing: one operation on atoms or on
/// transposed or inverted atoms, such as `Aᵀ w`, `u ⊙ v`, `2 w`, `−u`, `X⁻ᵀ`.
fn is_slight(graph: &Graph, id: NodeId, is_atom: &dyn Fn(NodeId) -> bool) -> bool {
    let simple = |c: NodeId| {
        is_atom(c)
            || match graph.op(c) {
                Op::Transpose(a) | Op::Neg(a) | Op::Inv(a) => {
                    is_atom(a) || matches!(graph.op(a), Op::Inv(x) | Op::Transpose(x) if is_atom(x))
                }
                _ => false,
            }
    };
    graph.op(id).children().into_iter().all(simple)
}
