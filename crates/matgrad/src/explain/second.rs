//! The second-order explanation (`explain --hessian`): forward mode over the
//! backpropagation that the first-order explanation shows, in a direction dx of the
//! variables — the vector v of a Hessian-vector product.
//!
//! Every step of the first order is differentiated as a graph node, so each can be printed
//! and checked as the first order's are: each statement's differential in the direction
//! (its local form in terms of its uses' dv, against its closed form in terms of dx), each
//! adjoint's differential (d w̄ as the sum of its terms' differentials, with symbolic d w̄ of
//! the parents, against the differential of the closed-form adjoint), and the read-off
//! d(∂L/∂x) = (H dx)ₓ against central differences of the gradient along dx.

use std::collections::{HashMap, HashSet};

use super::{differential_name, fresh_input, spelled, Explanation, VertexKind};
use crate::diff::{differential, differential_along};
use crate::ir::{Constant, NodeId, Op};
use crate::simplify::build;
use crate::Error;

/// The differential of one adjoint step: d w̄ = Σ d(term).
#[derive(Debug, Clone)]
pub struct AdjointDifferential {
    pub vertex: usize,
    /// Each term's differential, in the first-order step's order (the parent it comes from):
    /// None where it is zero.
    pub terms: Vec<(usize, Option<NodeId>)>,
    /// The differential of the closed-form adjoint in the direction dx.
    pub closed: NodeId,
}

/// The second-order part of an explanation.
#[derive(Debug, Clone)]
pub struct SecondOrder {
    /// The variables' parts of the direction, in the vertices' order: (vertex, symbol). An
    /// input's part is its differential dx; a statement's value z, held as a leaf for its
    /// own derivative as the Hessian holds it, has a part of its own, `v_z`, by which it
    /// moves on top of what its uses move it by (dz = dW x + v_z).
    pub directions: Vec<(usize, NodeId)>,
    /// Each statement's differential in the direction from its uses' differentials, by
    /// vertex in program order: the first order's, plus its own part for a variable.
    pub local: Vec<(usize, NodeId)>,
    /// Each statement's differential in the direction, closed (in terms of dx), by vertex.
    pub forward: HashMap<usize, NodeId>,
    /// The input standing for each adjoint's differential `dw̄`, by vertex (statements).
    pub dbar: HashMap<usize, NodeId>,
    /// In the backpropagation's order (the output first).
    pub reverse: Vec<AdjointDifferential>,
}

impl Explanation {
    /// Grows the explanation with its second order: every backpropagation step
    /// differentiated in the direction dx of the variables.
    pub(crate) fn with_second_order(mut self) -> Result<Explanation, Error> {
        let variables = self.variable_vertices()?;
        let mut taken: HashSet<String> = self.graph().inputs().iter().map(|input| spelled(&input.name)).collect();
        taken.extend(self.gradient.program.statements.iter().map(|s| s.name.clone()));
        let graph = &mut self.gradient.program.graph;
        let mut directions = Vec::new();
        for &i in &variables {
            let vertex = &self.vertices[i];
            let symbol = match vertex.kind {
                VertexKind::Input => vertex.tangent,
                VertexKind::Intermediate | VertexKind::Output => {
                    fresh_input(graph, &format!("v_{}", vertex.name), vertex.node, &mut taken)
                }
            };
            directions.push((i, symbol));
        }
        let parts: Vec<(NodeId, NodeId)> =
            directions.iter().map(|&(i, symbol)| (self.vertices[i].node, symbol)).collect();
        let zero = |graph: &mut crate::ir::Graph, like: NodeId| {
            let shape = graph.shape(like);
            build(graph, Op::Fill(Constant(0.0), shape))
        };
        let first_order: HashMap<usize, NodeId> = self.differentials.iter().copied().collect();
        let mut local = Vec::new();
        let mut forward = HashMap::new();
        for (i, vertex) in self.vertices.iter().enumerate() {
            if vertex.kind == VertexKind::Input {
                continue;
            }
            let own = directions.iter().find(|&&(v, _)| v == i).map(|&(_, symbol)| symbol);
            let d = match (first_order.get(&i).copied(), own) {
                (Some(d), Some(own)) => Some(build(graph, Op::Add(d, own))),
                (d, own) => d.or(own),
            };
            local.extend(d.map(|d| (i, d)));
            let d = differential_along(graph, vertex.node, &parts).unwrap_or_else(|| zero(graph, vertex.node));
            forward.insert(i, d);
        }
        // The output's adjoint is the constant 1: its differential is zero, and it gets no
        // symbol.
        let output = self.vertices.len() - 1;
        let mut dbar = HashMap::new();
        for (i, vertex) in self.vertices.iter().enumerate().filter(|&(i, _)| i != output) {
            if let Some(bar) = vertex.bar {
                let name = differential_name(graph.name(bar).unwrap_or_default());
                dbar.insert(i, fresh_input(graph, &name, vertex.node, &mut taken));
            }
        }
        // A term is an expression in its parent's symbolic adjoint and in named values: its
        // differential holds every named value and every adjoint symbol as a leaf, with its
        // own symbol, so that it reads d w̄ and dv where a person writes them.
        let mut symbols: Vec<(NodeId, NodeId)> = self.vertices.iter().map(|v| (v.node, v.tangent)).collect();
        symbols.extend(self.vertices.iter().enumerate().filter_map(|(i, v)| Some((v.bar?, *dbar.get(&i)?))));
        let mut reverse = Vec::new();
        for step in &self.backprop {
            let terms = step.terms.iter().map(|t| (t.parent, differential(graph, t.matrix_form, &symbols))).collect();
            let closed = differential_along(graph, step.adjoint, &parts).unwrap_or_else(|| zero(graph, step.adjoint));
            reverse.push(AdjointDifferential { vertex: step.vertex, terms, closed });
        }
        self.second = Some(SecondOrder { directions, local, forward, dbar, reverse });
        Ok(self)
    }

    /// The vertex of each variable, in the vertices' order. An input or a statement's value
    /// is one where the output depends on it. (Two names of one value, and a constant, are
    /// refused for every derivative before this: `Program::variables`.)
    fn variable_vertices(&self) -> Result<Vec<usize>, Error> {
        let mut vertices = Vec::new();
        for w in &self.gradient.wrt {
            let Some(i) = self.vertices.iter().position(|v| v.node == w.node) else {
                let output = self.gradient.program.output_statement().name.clone();
                return Err(Error::request(format!(
                    "the output `{output}` does not depend on `{}`, so its second derivatives with respect to `{}` \
                     are zero and have no steps to explain",
                    w.name, w.name
                ))
                .with_hint(format!("leave `{}` out of the variables", w.name)));
            };
            vertices.push(i);
        }
        vertices.sort();
        Ok(vertices)
    }
}
