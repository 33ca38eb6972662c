//! Reverse-mode differentiation that emits graph nodes.
//!
//! The adjoint of a node is the sum over its children of the child's adjoint pulled back
//! through the edge: x̄ᵢ = Σⱼ (∂xⱼ/∂xᵢ)ᵀ x̄ⱼ. The sweep visits nodes in reverse id order
//! (a reverse topological order); each op's vector-Jacobian rule (in [`rules`]) builds the
//! pulled-back cotangents as new nodes through `simplify::build`, and [`Adjoints::add`]
//! sums them, so a gradient is an ordinary simplified node: it can be printed, evaluated,
//! and differentiated again. Zero cotangents are never materialised (None until a term
//! arrives). Each term is also recorded as a [`Step`], the trace `explain` prints.

mod forward;
mod rules;

pub use forward::{differential, differential_along};
pub(crate) use rules::derivative;

use std::collections::{HashMap, HashSet};

use crate::ir::{Constant, Graph, NodeId, Op};
use crate::simplify::build;

/// The result of a reverse sweep.
#[derive(Debug, Clone)]
pub struct Gradients {
    /// For each requested node, its gradient (of the node's shape).
    pub gradients: Vec<(NodeId, NodeId)>,
    /// Every node's adjoint that received a term, by node id (empty for a [`pullback`]).
    pub adjoints: Vec<Option<NodeId>>,
}

/// Why a gradient cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffError {
    /// Gradients are of scalars; this says what the output is instead (`has length n`).
    NotScalar(String),
}

/// The gradient of the scalar `output` with respect to each of `wrt` (inputs or
/// intermediates: the total derivative either way).
pub fn grad(graph: &mut Graph, output: NodeId, wrt: &[NodeId]) -> Result<Gradients, DiffError> {
    if !graph.is_scalar(output) {
        return Err(DiffError::NotScalar(graph.dims.describe(graph.shape(output))));
    }
    let one = graph.constant(1.0);
    Ok(sweep(graph, output, one, wrt, Stop::Never))
}

/// The pull-back of `cotangent` (of `root`'s shape) through `root`'s expression to each of
/// `leaves`, treating the leaves as independent: one edge of the chain rule, such as
/// w̄ ↦ (w̄ zᵀ, Aᵀ w̄) for w = A z with leaves A and z. A leaf `root` does not reach gets zeros.
pub fn pullback(graph: &mut Graph, root: NodeId, cotangent: NodeId, leaves: &[NodeId]) -> Gradients {
    sweep(graph, root, cotangent, leaves, Stop::AtTargets)
}

/// Whether the sweep continues below the nodes it was asked about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    Never,
    AtTargets,
}

fn sweep(graph: &mut Graph, output: NodeId, seed: NodeId, targets: &[NodeId], stop: Stop) -> Gradients {
    let target: HashSet<NodeId> = targets.iter().copied().collect();
    let region = region(graph, output, &target, stop);
    let needed = depends_on(graph, &region, &target, stop);
    let mut adjoints = Adjoints { terms: HashMap::new() };
    adjoints.terms.insert(output, seed);
    for &id in region.iter().rev() {
        let Some(&cotangent) = adjoints.terms.get(&id) else { continue };
        if !needed.contains(&id) || (stop == Stop::AtTargets && target.contains(&id)) {
            continue;
        }
        rules::pull_back(graph, &mut adjoints, &needed, id, cotangent);
    }
    let gradients = targets
        .iter()
        .map(|&x| {
            let gradient = match adjoints.terms.get(&x).copied() {
                Some(g) => g,
                None => {
                    let shape = graph.shape(x);
                    build(graph, Op::Fill(Constant(0.0), shape))
                }
            };
            (x, gradient)
        })
        .collect();
    // A pull-back's callers read its gradients; a dense table of every node would make the
    // thousands of pull-backs of an explanation quadratic.
    let by_node = match stop {
        Stop::Never => {
            let mut by_node = vec![None; output.index() + 1];
            for (id, term) in &adjoints.terms {
                by_node[id.index()] = Some(*term);
            }
            by_node
        }
        Stop::AtTargets => Vec::new(),
    };
    Gradients { gradients, adjoints: by_node }
}

/// The nodes the sweep may visit, in increasing id order: everything `output` reaches, or
/// with `Stop::AtTargets`, what it reaches without passing through a target (the targets
/// included), so that the pull-back through one statement visits only its expression.
fn region(graph: &Graph, output: NodeId, target: &HashSet<NodeId>, stop: Stop) -> Vec<NodeId> {
    if stop == Stop::Never {
        // Dense, in one pass down the arena: a node's derivative children are earlier.
        let mut seen = vec![false; output.index() + 1];
        seen[output.index()] = true;
        for i in (0..=output.index()).rev() {
            if seen[i] {
                for child in graph.derivative_children(NodeId(i as u32)) {
                    seen[child.index()] = true;
                }
            }
        }
        return (0..seen.len()).filter(|&i| seen[i]).map(|i| NodeId(i as u32)).collect();
    }
    let mut seen = HashSet::from([output]);
    let mut stack = vec![output];
    while let Some(id) = stack.pop() {
        if id != output && target.contains(&id) {
            continue;
        }
        for child in graph.derivative_children(id) {
            if seen.insert(child) {
                stack.push(child);
            }
        }
    }
    let mut region: Vec<NodeId> = seen.into_iter().collect();
    region.sort();
    region
}

/// The nodes whose adjoints the sweep needs: those that depend on a target.
pub(crate) type Needed = HashSet<NodeId>;

/// Cotangent accumulation: the one place that knows a missing adjoint is zero.
pub(crate) struct Adjoints {
    terms: HashMap<NodeId, NodeId>,
}

impl Adjoints {
    /// Adds `term`, a pull-back of a user's cotangent, to the adjoint of `node`.
    pub(crate) fn add(&mut self, graph: &mut Graph, node: NodeId, term: NodeId) {
        let sum = match self.terms.get(&node) {
            None => term,
            Some(&sum) => build(graph, Op::Add(sum, term)),
        };
        self.terms.insert(node, sum);
    }
}

/// Which nodes of `region` (in increasing id order) depend on a target: only their adjoints
/// are needed. With `Stop::AtTargets`, a target's own inputs do not count (it is a leaf).
fn depends_on(graph: &Graph, region: &[NodeId], target: &HashSet<NodeId>, stop: Stop) -> Needed {
    let mut needed: Needed = target.clone();
    for &id in region {
        let leaf = stop == Stop::AtTargets && target.contains(&id);
        if !leaf && !needed.contains(&id) && graph.derivative_children(id).into_iter().any(|c| needed.contains(&c)) {
            needed.insert(id);
        }
    }
    needed
}
