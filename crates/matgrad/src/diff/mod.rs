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

pub use forward::differential;
pub(crate) use rules::derivative;

use crate::ir::{Constant, Graph, NodeId, Op};
use crate::simplify::build;

/// One chain-rule term: `node` receives `term` from its use in `parent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub parent: NodeId,
    pub node: NodeId,
    /// The cotangent of `parent` pulled back through the edge to `node`.
    pub term: NodeId,
}

/// The result of a reverse sweep.
#[derive(Debug, Clone)]
pub struct Gradients {
    /// The scalar that was differentiated.
    pub output: NodeId,
    /// For each requested node, its gradient (of the node's shape).
    pub gradients: Vec<(NodeId, NodeId)>,
    /// Every node's adjoint that received a term, by node id.
    pub adjoints: Vec<Option<NodeId>>,
    /// Every chain-rule term, in the order the sweep made them.
    pub steps: Vec<Step>,
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
    let mut target = vec![false; output.index() + 1];
    for x in targets.iter().filter(|x| x.index() <= output.index()) {
        target[x.index()] = true;
    }
    let needed = depends_on(graph, output, &target, stop);
    let is_target = |id: NodeId| target[id.index()];
    let mut adjoints = Adjoints { terms: vec![None; output.index() + 1], steps: Vec::new() };
    adjoints.terms[output.index()] = Some(seed);
    for index in (0..=output.index()).rev() {
        let id = NodeId(index as u32);
        let Some(cotangent) = adjoints.terms[index] else { continue };
        if !needed[index] || (stop == Stop::AtTargets && is_target(id)) {
            continue;
        }
        rules::pull_back(graph, &mut adjoints, &needed, id, cotangent);
    }
    let gradients = targets
        .iter()
        .map(|&x| {
            let gradient = match adjoints.terms.get(x.index()).copied().flatten() {
                Some(g) => g,
                None => {
                    let shape = graph.shape(x);
                    build(graph, Op::Fill(Constant(0.0), shape))
                }
            };
            (x, gradient)
        })
        .collect();
    Gradients { output, gradients, adjoints: adjoints.terms, steps: adjoints.steps }
}

/// Cotangent accumulation: the one place that knows a missing adjoint is zero.
pub(crate) struct Adjoints {
    terms: Vec<Option<NodeId>>,
    steps: Vec<Step>,
}

impl Adjoints {
    /// Adds `term`, the pull-back of `parent`'s cotangent, to the adjoint of `node`.
    pub(crate) fn add(&mut self, graph: &mut Graph, parent: NodeId, node: NodeId, term: NodeId) {
        self.steps.push(Step { parent, node, term });
        let slot = &mut self.terms[node.index()];
        *slot = Some(match *slot {
            None => term,
            Some(sum) => build(graph, Op::Add(sum, term)),
        });
    }
}

/// Which nodes up to `output` depend on a target (`target[i]` for node i): only their
/// adjoints are needed.
/// With `Stop::AtTargets`, a target's own inputs do not count (it is a leaf).
fn depends_on(graph: &Graph, output: NodeId, target: &[bool], stop: Stop) -> Vec<bool> {
    let mut needed = target.to_vec();
    for index in 0..=output.index() {
        let id = NodeId(index as u32);
        let leaf = stop == Stop::AtTargets && target[index];
        if !needed[index] && !leaf {
            needed[index] = graph.op(id).children().into_iter().any(|c| needed[c.index()]);
        }
    }
    needed
}
