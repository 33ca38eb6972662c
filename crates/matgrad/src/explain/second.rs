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

use std::collections::HashMap;

use super::{fresh_input, Explanation, VertexKind};
use crate::diff::differential;
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
    /// The vertices whose differentials are the direction (the variables, inputs).
    pub directions: Vec<usize>,
    /// Each statement's differential in the direction, closed (in terms of dx), by vertex;
    /// its local form is the first order's `differentials`.
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
        let wrt: Vec<NodeId> = self.gradient.wrt.iter().map(|w| w.node).collect();
        let directions: Vec<usize> = (0..self.vertices.len())
            .filter(|&i| self.vertices[i].kind == VertexKind::Input && wrt.contains(&self.vertices[i].node))
            .collect();
        if let Some(w) = self
            .gradient
            .wrt
            .iter()
            .find(|w| !self.vertices.iter().any(|v| v.node == w.node && v.kind == VertexKind::Input))
        {
            return Err(Error::request(format!(
                "the second-order explanation differentiates with respect to inputs, and `{}` is not one the output depends on",
                w.name
            ))
            .with_hint("name inputs of the program in wrt"));
        }
        let mut taken: std::collections::HashSet<String> =
            self.graph().inputs().iter().map(|input| input.name.clone()).collect();
        let graph = &mut self.gradient.program.graph;
        let leaves: Vec<(NodeId, NodeId)> =
            directions.iter().map(|&i| (self.vertices[i].node, self.vertices[i].tangent)).collect();
        let zero = |graph: &mut crate::ir::Graph, like: NodeId| {
            let shape = graph.shape(like);
            build(graph, Op::Fill(Constant(0.0), shape))
        };
        let mut forward = HashMap::new();
        for (i, vertex) in self.vertices.iter().enumerate() {
            if vertex.kind != VertexKind::Input {
                let d = differential(graph, vertex.node, &leaves).unwrap_or_else(|| zero(graph, vertex.node));
                forward.insert(i, d);
            }
        }
        // The output's adjoint is the constant 1: its differential is zero, and it gets no
        // symbol.
        let output = self.vertices.len() - 1;
        let mut dbar = HashMap::new();
        for (i, vertex) in self.vertices.iter().enumerate().filter(|&(i, _)| i != output) {
            if let Some(bar) = vertex.bar {
                let name = format!("d{}", graph.name(bar).unwrap_or_default());
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
            let closed = differential(graph, step.adjoint, &leaves).unwrap_or_else(|| zero(graph, step.adjoint));
            reverse.push(AdjointDifferential { vertex: step.vertex, terms, closed });
        }
        self.second = Some(SecondOrder { directions, forward, dbar, reverse });
        Ok(self)
    }
}
