//! Forward mode: the differential of an expression, as graph nodes.
//!
//! Given the differentials of some leaves (dA, dx as tangent nodes), [`differential`] builds
//! d(root) by one jvp rule per op, in id (topological) order, never looking below a leaf.
//! A node that does not depend on any leaf has differential zero, represented as None and
//! never materialised. `explain` prints these as the differential of each statement
//! (dy = dA x + A dx), and they are checked against the reverse-mode rules in the tests.
//! [`differential_along`] is the same walk in a direction whose parts may lie below one
//! another (an intermediate variable and the inputs below it, as a Hessian holds them).

use std::collections::HashMap;

use crate::ir::{Constant, Func, Graph, NodeId, Op};
use crate::simplify::build;

use super::rules::derivative;

/// d(`root`) given `tangents` (leaf, its differential); None when it is zero.
pub fn differential(graph: &mut Graph, root: NodeId, tangents: &[(NodeId, NodeId)]) -> Option<NodeId> {
    forward(graph, root, tangents, Parts::Leaves)
}

/// d(`root`) in a direction whose parts may lie below one another: each part's node moves
/// by its tangent on top of what the nodes below it move it by (dz = dW x + v for z = W x
/// with parts (W, dW) and (z, v)). It is the sum over the parts of the differential with
/// only that part's node a leaf, which is how a Hessian's blocks hold their variables, so
/// the product H·v of a direction reaches through an intermediate variable to the inputs
/// below it. Where no part lies below another it is [`differential`]. None when it is zero.
pub fn differential_along(graph: &mut Graph, root: NodeId, parts: &[(NodeId, NodeId)]) -> Option<NodeId> {
    forward(graph, root, parts, Parts::Added)
}

/// What a tangent given for a node means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    /// The node's whole differential: nothing below it is looked at.
    Leaves,
    /// Added to the differential that the nodes below it give.
    Added,
}

fn forward(graph: &mut Graph, root: NodeId, tangents: &[(NodeId, NodeId)], parts: Parts) -> Option<NodeId> {
    let given: HashMap<NodeId, NodeId> = tangents.iter().copied().collect();
    let mut d: HashMap<NodeId, Option<NodeId>> = HashMap::new();
    // The nodes below root, not looking inside leaves, in topological order.
    let mut order = Vec::new();
    let mut stack = vec![root];
    let mut seen = std::collections::HashSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        order.push(id);
        if parts == Parts::Added || !given.contains_key(&id) {
            stack.extend(graph.derivative_children(id));
        }
    }
    order.sort();
    for id in order {
        let tangent = match (given.get(&id), parts) {
            (Some(&t), Parts::Leaves) => Some(t),
            (Some(&t), Parts::Added) => {
                let below = jvp(graph, id, &d);
                sum(graph, below, Some(t))
            }
            (None, _) => jvp(graph, id, &d),
        };
        d.insert(id, tangent);
    }
    d.get(&root).copied().flatten()
}

fn jvp(graph: &mut Graph, id: NodeId, d: &HashMap<NodeId, Option<NodeId>>) -> Option<NodeId> {
    let t = |x: NodeId| d.get(&x).copied().flatten();
    let b = |graph: &mut Graph, op: Op| build(graph, op);
    let y = id;
    let shape = graph.shape(id);
    // A held name is the identity of the node it holds (`Graph::add_held`).
    if let Some(of) = graph.held(id) {
        return t(of);
    }
    match graph.op(id) {
        Op::Input(_) | Op::Const(_) | Op::Eye(_) | Op::Size(_) | Op::Fill(..) => None,
        // d(−a) = −da
        Op::Neg(a) => t(a).map(|da| b(graph, Op::Neg(da))),
        // d(a + b) = da + db, a scalar's differential broadcast to the sum's shape
        Op::Add(a, c) => {
            let (da, dc) = (t(a).map(|x| widen(graph, x, shape)), t(c).map(|x| widen(graph, x, shape)));
            sum(graph, da, dc)
        }
        // d(a ⊙ b) = da ⊙ b + a ⊙ db
        Op::Mul(a, c) => {
            let left = t(a).map(|da| b(graph, Op::Mul(da, c)));
            let right = t(c).map(|dc| b(graph, Op::Mul(a, dc)));
            sum(graph, left, right)
        }
        // d(a ⊘ b) = da ⊘ b − y ⊙ db ⊘ b
        Op::Div(a, c) => {
            let left = t(a).map(|da| b(graph, Op::Div(da, c)));
            let right = t(c).map(|dc| {
                let scaled = b(graph, Op::Mul(y, dc));
                let quotient = b(graph, Op::Div(scaled, c));
                b(graph, Op::Neg(quotient))
            });
            sum(graph, left, right)
        }
        // d(a^b) = b a^(b−1) ⊙ da + y ⊙ log(a) ⊙ db
        Op::Pow(a, c) => {
            let left = t(a).map(|da| {
                let minus_one = graph.constant(-1.0);
                let exponent = b(graph, Op::Add(c, minus_one));
                let power = b(graph, Op::Pow(a, exponent));
                let slope = b(graph, Op::Mul(c, power));
                b(graph, Op::Mul(slope, da))
            });
            let right = t(c).map(|dc| {
                let log = b(graph, Op::Map(Func::Log, a));
                let slope = b(graph, Op::Mul(y, log));
                b(graph, Op::Mul(slope, dc))
            });
            sum(graph, left, right)
        }
        // d(A B) = dA B + A dB
        Op::MatMul(a, c) => {
            let left = t(a).map(|da| b(graph, Op::MatMul(da, c)));
            let right = t(c).map(|dc| b(graph, Op::MatMul(a, dc)));
            sum(graph, left, right)
        }
        // d(Aᵀ) = dAᵀ
        Op::Transpose(a) => t(a).map(|da| b(graph, Op::Transpose(da))),
        // d(f(a)) = f′(a) ⊙ da
        Op::Map(f, a) => {
            let da = t(a)?;
            let slope = derivative(graph, f, a, y)?;
            Some(b(graph, Op::Mul(slope, da)))
        }
        // d(Aᵏ) = Σᵢ Aⁱ dA Aᵏ⁻¹⁻ⁱ
        Op::MatPow(a, k) => {
            let da = t(a)?;
            let mut total = None;
            for i in 0..k {
                let mut term = da;
                if i > 0 {
                    let left = if i == 1 { a } else { b(graph, Op::MatPow(a, i)) };
                    term = b(graph, Op::MatMul(left, term));
                }
                let rest = k - 1 - i;
                if rest > 0 {
                    let right = if rest == 1 { a } else { b(graph, Op::MatPow(a, rest)) };
                    term = b(graph, Op::MatMul(term, right));
                }
                total = sum(graph, total, Some(term));
            }
            total
        }
        // d(sum A) = sum(dA)
        Op::Sum(a) => t(a).map(|da| b(graph, Op::Sum(da))),
        // d‖A‖₁ = sum(sign(A) ⊙ dA)
        Op::Norm1(a) => t(a).map(|da| {
            let sign = b(graph, Op::Map(Func::Sign, a));
            let product = b(graph, Op::Mul(sign, da));
            b(graph, Op::Sum(product))
        }),
        // d‖A‖ = sum(A ⊙ dA) / y
        Op::Norm2(a) => t(a).map(|da| {
            let product = b(graph, Op::Mul(a, da));
            let total = b(graph, Op::Sum(product));
            b(graph, Op::Div(total, y))
        }),
        // d tr(A) = tr(dA)
        Op::Trace(a) => t(a).map(|da| b(graph, Op::Trace(da))),
        // d det(A) = y tr(A⁻¹ dA)
        Op::Det(a) => t(a).map(|da| {
            let trace = trace_of_inverse_times(graph, a, da);
            b(graph, Op::Mul(y, trace))
        }),
        // d log|det A| = tr(A⁻¹ dA)
        Op::LogDet(a) => t(a).map(|da| trace_of_inverse_times(graph, a, da)),
        // d(A⁻¹) = −y dA y
        Op::Inv(a) => t(a).map(|da| {
            let left = b(graph, Op::MatMul(y, da));
            let product = b(graph, Op::MatMul(left, y));
            b(graph, Op::Neg(product))
        }),
        // d Diag(a) = Diag(da); d diag(A) = diag(dA)
        Op::Diag(a) => t(a).map(|da| b(graph, Op::Diag(da))),
        Op::DiagPart(a) => t(a).map(|da| b(graph, Op::DiagPart(da))),
        // d softmax(a) = y ⊙ (da − yᵀ da)
        Op::Softmax(a) => t(a).map(|da| {
            let yt = b(graph, Op::Transpose(y));
            let inner = b(graph, Op::MatMul(yt, da));
            let minus = b(graph, Op::Neg(inner));
            let centered = b(graph, Op::Add(da, minus));
            b(graph, Op::Mul(y, centered))
        }),
        // d logsumexp(a) = softmax(a)ᵀ da
        Op::LogSumExp(a) => t(a).map(|da| {
            let softmax = b(graph, Op::Softmax(a));
            let st = b(graph, Op::Transpose(softmax));
            b(graph, Op::MatMul(st, da))
        }),
    }
}

/// tr(A⁻¹ dA)
fn trace_of_inverse_times(graph: &mut Graph, a: NodeId, da: NodeId) -> NodeId {
    let inverse = build(graph, Op::Inv(a));
    let product = build(graph, Op::MatMul(inverse, da));
    build(graph, Op::Trace(product))
}

/// The sum of two optional differentials.
fn sum(graph: &mut Graph, a: Option<NodeId>, b: Option<NodeId>) -> Option<NodeId> {
    match (a, b) {
        (Some(a), Some(b)) => Some(build(graph, Op::Add(a, b))),
        (a, b) => a.or(b),
    }
}

/// A scalar differential spread over `shape`, as a broadcast sum would spread it.
fn widen(graph: &mut Graph, tangent: NodeId, shape: crate::ir::Shape) -> NodeId {
    if graph.is_scalar(tangent) && !graph.dims.is_scalar(shape) {
        let ones = build(graph, Op::Fill(Constant(1.0), shape));
        build(graph, Op::Mul(tangent, ones))
    } else {
        tangent
    }
}
