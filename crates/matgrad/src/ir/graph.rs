//! The computation graph: an append-only, hash-consed arena of typed nodes.
//!
//! Invariants: nodes are only made by [`Graph::add`], which infers the shape and returns the
//! existing node for an operation already present; children always have smaller ids than
//! their parents, so id order is a topological order and the reverse sweep is `(0..n).rev()`.

use std::collections::HashMap;

use super::op::{Children, Constant, Op, ShapeError};
use super::shape::{Dims, Shape};
use crate::simplify::Simplifier;

/// Index of a node in its graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub op: Op,
    pub shape: Shape,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub name: String,
    pub shape: Shape,
}

#[derive(Debug, Clone, Default)]
pub struct Graph {
    nodes: Vec<Node>,
    memo: HashMap<Op, NodeId>,
    inputs: Vec<Input>,
    /// The user's name for a node (`y`, `u`, …): the first statement that computed it.
    names: HashMap<NodeId, String>,
    /// The nodes made by [`Graph::add_held`], with the node each holds.
    held: HashMap<NodeId, NodeId>,
    pub dims: Dims,
    /// The state of simplification: what [`crate::simplify::build`] may still do, and what
    /// each rewrite did.
    pub simplifier: Simplifier,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    /// The node for `op`, made if it is new. Fails only if the operands' shapes do not fit.
    pub fn add(&mut self, op: Op) -> Result<NodeId, ShapeError> {
        if let Some(&id) = self.memo.get(&op) {
            return Ok(id);
        }
        let (nodes, inputs) = (&self.nodes, &self.inputs);
        let shape =
            op.infer_shape(&mut self.dims, |child| nodes[child.index()].shape, |input| inputs[input as usize].shape)?;
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(Node { op, shape });
        self.memo.insert(op, id);
        Ok(id)
    }

    /// A node that holds `of` apart: its value is `of`'s (it is the same operation on the
    /// same children, so evaluation and printing need nothing new), but no `add` returns
    /// it, and differentiation reads it as the identity of `of` ([`Graph::derivative_children`]).
    /// A name's value held this way is read only where the name is used: `e = exp(x)` and a
    /// later `exp(x)` are two nodes, so ∂L/∂e gathers the uses of `e` only, and ∂L/∂x
    /// reaches x through both (see `ir::lower::lower_holding`).
    pub fn add_held(&mut self, of: NodeId) -> NodeId {
        let node = Node { op: self.nodes[of.index()].op, shape: self.nodes[of.index()].shape };
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(node);
        self.held.insert(id, of);
        id
    }

    /// The node a node made by [`Graph::add_held`] holds.
    pub fn held(&self, id: NodeId) -> Option<NodeId> {
        self.held.get(&id).copied()
    }

    /// Every node made by [`Graph::add_held`], with the node it holds.
    pub fn holds(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        self.held.iter().map(|(&copy, &of)| (copy, of))
    }

    /// The nodes a derivative of `id` goes through: its operation's children, or the node
    /// it holds (an identity: the derivative rules, which use a node's own value, such as
    /// exp(x) for exp, apply to the held node, so that moving a held name on top of what
    /// its expression gives it does not move its expression's slope).
    pub fn derivative_children(&self, id: NodeId) -> Children {
        match self.held(id) {
            Some(of) => Children::one(of),
            None => self.op(id).children(),
        }
    }

    /// A new input called `name`; its shape is what the program declared or inferred.
    pub fn add_input(&mut self, name: &str, shape: Shape) -> NodeId {
        self.inputs.push(Input { name: name.to_string(), shape });
        let op = Op::Input(self.inputs.len() as u32 - 1);
        self.add(op).expect("an input's shape is given, not inferred")
    }

    pub fn constant(&mut self, value: f64) -> NodeId {
        self.add(Op::Const(Constant(value))).expect("a constant is a scalar")
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn op(&self, id: NodeId) -> Op {
        self.nodes[id.index()].op
    }

    /// The node's shape with every solved unknown substituted.
    pub fn shape(&self, id: NodeId) -> Shape {
        self.dims.resolve_shape(self.nodes[id.index()].shape)
    }

    pub fn is_scalar(&self, id: NodeId) -> bool {
        self.dims.is_scalar(self.nodes[id.index()].shape)
    }

    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.nodes.iter().enumerate().map(|(i, n)| (NodeId(i as u32), n))
    }

    pub fn inputs(&self) -> &[Input] {
        &self.inputs
    }

    pub fn input(&self, index: u32) -> &Input {
        &self.inputs[index as usize]
    }

    /// The user's name for a node: an input's name, or the first statement that computed it.
    pub fn name(&self, id: NodeId) -> Option<&str> {
        match self.op(id) {
            // A name held apart from an input (`y = x`) is its own.
            Op::Input(i) if !self.held.contains_key(&id) => Some(&self.inputs[i as usize].name),
            _ => self.names.get(&id).map(String::as_str),
        }
    }

    /// Whether an input or a node is called `name`.
    pub fn has_name(&self, name: &str) -> bool {
        self.inputs.iter().any(|input| input.name == name) || self.names.values().any(|n| n == name)
    }

    /// Attaches `name` to `id` unless the node already has one.
    pub fn set_name(&mut self, id: NodeId, name: &str) {
        self.names.entry(id).or_insert_with(|| name.to_string());
        self.simplifier.forget_costs();
    }

    /// Takes `name` off `id`, if that is its name: a page's definition made after the
    /// model (`\bar{o} = o - t`) must not rename the model's own values in print.
    pub fn forget_name(&mut self, id: NodeId, name: &str) {
        if self.names.get(&id).is_some_and(|n| n == name) {
            self.names.remove(&id);
            self.simplifier.forget_costs();
        }
    }

    /// Ids of `roots` and everything they depend on, in increasing (topological) order.
    pub fn reachable(&self, roots: &[NodeId]) -> Vec<NodeId> {
        let mut seen = vec![false; self.nodes.len()];
        for root in roots {
            seen[root.index()] = true;
        }
        for i in (0..self.nodes.len()).rev() {
            if seen[i] {
                for child in self.nodes[i].op.children() {
                    seen[child.index()] = true;
                }
            }
        }
        (0..self.nodes.len()).filter(|&i| seen[i]).map(|i| NodeId(i as u32)).collect()
    }
}
