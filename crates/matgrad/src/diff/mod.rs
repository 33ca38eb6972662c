//! Reverse-mode differentiation that emits graph nodes.
//!
//! The adjoint of a node is the sum over its children of the child's adjoint pulled back
//! through the edge: x̄ᵢ = Σⱼ (∂xⱼ/∂xᵢ)ᵀ x̄ⱼ. The sweep visits nodes in reverse id order
//! (a reverse topological order); each op's vector-Jacobian rule (in [`rules`]) builds the
//! pulled-back cotangents as new nodes through `simplify::build`, and [`Adjoints::add`]
//! sums them, so a gradient is an ordinary simplified node: it can be printed, evaluated,
//! and differentiated again. Zero cotangents are never materialised (None until a term
//! arrives). Each term is also recorded as a [`Step`], the trace `explain` prints.

mod rules;

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

/// The gradient of the scalar `output` with respect to each of `wrt`.
pub fn grad(graph: &mut Graph, output: NodeId, wrt: &[NodeId]) -> Result<Gradients, DiffError> {
    if !graph.is_scalar(output) {
        return Err(DiffError::NotScalar(graph.dims.describe(graph.shape(output))));
    }
    let needed = depends_on(graph, output, wrt);
    let mut adjoints = Adjoints { terms: vec![None; output.index() + 1], steps: Vec::new() };
    let one = graph.constant(1.0);
    adjoints.terms[output.index()] = Some(one);
    for index in (0..=output.index()).rev() {
        let id = NodeId(index as u32);
        let Some(cotangent) = adjoints.terms[index] else { continue };
        if !needed[index] {
            continue;
        }
        rules::pull_back(graph, &mut adjoints, &needed, id, cotangent);
    }
    let gradients = wrt
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
    Ok(Gradients { output, gradients, adjoints: adjoints.terms, steps: adjoints.steps })
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

/// Which nodes up to `output` depend on any of `wrt`: only their adjoints are needed.
fn depends_on(graph: &Graph, output: NodeId, wrt: &[NodeId]) -> Vec<bool> {
    let mut needed = vec![false; output.index() + 1];
    for x in wrt {
        if x.index() <= output.index() {
            needed[x.index()] = true;
        }
    }
    for index in 0..=output.index() {
        if !needed[index] {
            needed[index] = graph.op(NodeId(index as u32)).children().into_iter().any(|c| needed[c.index()]);
        }
    }
    needed
}
