//! One vector-Jacobian rule per op. Each rule's doc line is its math, with Ḡ the cotangent
//! of the node and y its value; the rule emits graph nodes, never numbers.

use crate::ir::func::Slope;
use crate::ir::{Constant, Func, Graph, NodeId, Op};
use crate::simplify::build;

use super::{Adjoints, Needed};

/// Sends the pull-back of `cotangent` (the adjoint of `id`) to each child of `id` that the
/// gradient needs.
pub(super) fn pull_back(graph: &mut Graph, adjoints: &mut Adjoints, needed: &Needed, id: NodeId, cotangent: NodeId) {
    let mut edge = Edge { graph, adjoints, needed, parent: id, g: cotangent };
    // A held name is the identity of the node it holds (`Graph::add_held`).
    if let Some(of) = edge.graph.held(id) {
        return edge.send(of, |edge| edge.g);
    }
    match edge.graph.op(id) {
        Op::Input(_) | Op::Const(_) | Op::Eye(_) | Op::Size(_) | Op::Fill(..) => {}
        Op::Neg(a) => vjp_neg(&mut edge, a),
        Op::Add(a, b) => vjp_add(&mut edge, a, b),
        Op::Mul(a, b) => vjp_mul(&mut edge, a, b),
        Op::Div(a, b) => vjp_div(&mut edge, a, b),
        Op::Pow(a, b) => vjp_pow(&mut edge, a, b),
        Op::MatMul(a, b) => vjp_matmul(&mut edge, a, b),
        Op::Transpose(a) => vjp_transpose(&mut edge, a),
        Op::Map(f, a) => vjp_map(&mut edge, f, a),
        Op::MatPow(a, k) => vjp_matpow(&mut edge, a, k),
        Op::Sum(a) => vjp_sum(&mut edge, a),
        Op::Norm1(a) => vjp_norm1(&mut edge, a),
        Op::Norm2(a) => vjp_norm2(&mut edge, a),
        Op::Trace(a) => vjp_trace(&mut edge, a),
        Op::Det(a) => vjp_det(&mut edge, a),
        Op::LogDet(a) => vjp_logdet(&mut edge, a),
        Op::Inv(a) => vjp_inv(&mut edge, a),
        Op::Diag(a) => vjp_diag(&mut edge, a),
        Op::DiagPart(a) => vjp_diag_part(&mut edge, a),
        Op::Softmax(a) => vjp_softmax(&mut edge, a),
        Op::LogSumExp(a) => vjp_logsumexp(&mut edge, a),
    }
}

/// The edge from a node (`parent`, with cotangent `g`) to its children.
struct Edge<'a> {
    graph: &'a mut Graph,
    adjoints: &'a mut Adjoints,
    needed: &'a Needed,
    parent: NodeId,
    g: NodeId,
}

impl Edge<'_> {
    /// Adds `term(graph)` to `child`'s adjoint if the gradient needs it; a term that was
    /// broadcast from a scalar child is summed back to a scalar.
    fn send(&mut self, child: NodeId, term: impl FnOnce(&mut Self) -> NodeId) {
        if !self.needed.contains(&child) {
            return;
        }
        let mut term = term(self);
        if self.graph.is_scalar(child) && !self.graph.is_scalar(term) {
            term = self.build(Op::Sum(term));
        }
        self.adjoints.add(self.graph, child, term);
    }

    fn build(&mut self, op: Op) -> NodeId {
        build(self.graph, op)
    }

    fn constant(&mut self, value: f64) -> NodeId {
        self.graph.constant(value)
    }

    fn neg(&mut self, a: NodeId) -> NodeId {
        self.build(Op::Neg(a))
    }

    fn add(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.build(Op::Add(a, b))
    }

    fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.build(Op::Mul(a, b))
    }

    fn div(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.build(Op::Div(a, b))
    }

    fn matmul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.build(Op::MatMul(a, b))
    }

    fn t(&mut self, a: NodeId) -> NodeId {
        self.build(Op::Transpose(a))
    }

    fn map(&mut self, f: Func, a: NodeId) -> NodeId {
        self.build(Op::Map(f, a))
    }

    /// Ḡ ⊙ `factor`
    fn g_times(&mut self, factor: NodeId) -> NodeId {
        let g = self.g;
        self.mul(g, factor)
    }
}

/// d(−a): ā = −Ḡ
fn vjp_neg(e: &mut Edge, a: NodeId) {
    e.send(a, |e| {
        let g = e.g;
        e.neg(g)
    });
}

/// d(a + b): ā = Ḡ, b̄ = Ḡ
fn vjp_add(e: &mut Edge, a: NodeId, b: NodeId) {
    e.send(a, |e| e.g);
    e.send(b, |e| e.g);
}

/// d(a ⊙ b): ā = Ḡ ⊙ b, b̄ = Ḡ ⊙ a
fn vjp_mul(e: &mut Edge, a: NodeId, b: NodeId) {
    e.send(a, |e| e.g_times(b));
    e.send(b, |e| e.g_times(a));
}

/// d(a / b): ā = Ḡ / b, b̄ = −Ḡ ⊙ y / b
fn vjp_div(e: &mut Edge, a: NodeId, b: NodeId) {
    let y = e.parent;
    e.send(a, |e| {
        let g = e.g;
        e.div(g, b)
    });
    e.send(b, |e| {
        let gy = e.g_times(y);
        let quotient = e.div(gy, b);
        e.neg(quotient)
    });
}

/// d(a^b): ā = Ḡ ⊙ b ⊙ a^(b−1), b̄ = Ḡ ⊙ y ⊙ log(a)
fn vjp_pow(e: &mut Edge, a: NodeId, b: NodeId) {
    let y = e.parent;
    e.send(a, |e| {
        let minus_one = e.constant(-1.0);
        let exponent = e.add(b, minus_one);
        let power = e.build(Op::Pow(a, exponent));
        let scaled = e.mul(b, power);
        e.g_times(scaled)
    });
    e.send(b, |e| {
        let log = e.map(Func::Log, a);
        let factor = e.mul(y, log);
        e.g_times(factor)
    });
}

/// d(A B): Ā = Ḡ Bᵀ, B̄ = Aᵀ Ḡ
fn vjp_matmul(e: &mut Edge, a: NodeId, b: NodeId) {
    e.send(a, |e| {
        let (g, bt) = (e.g, e.t(b));
        e.matmul(g, bt)
    });
    e.send(b, |e| {
        let (at, g) = (e.t(a), e.g);
        e.matmul(at, g)
    });
}

/// d(Aᵀ): Ā = Ḡᵀ
fn vjp_transpose(e: &mut Edge, a: NodeId) {
    e.send(a, |e| {
        let g = e.g;
        e.t(g)
    });
}

/// d(f(a)) elementwise: ā = Ḡ ⊙ f′(a)
fn vjp_map(e: &mut Edge, f: Func, a: NodeId) {
    let y = e.parent;
    e.send(a, |e| match derivative(e.graph, f, a, y) {
        Some(slope) => e.g_times(slope),
        None => {
            let shape = e.graph.shape(a);
            e.build(Op::Fill(Constant(0.0), shape))
        }
    });
}

/// f′(a) for an elementwise f with y = f(a), by f's rule in the function table
/// (`Func::info`): σ′ = y ⊙ (1 − y), tanh′ = 1 − y², sqrt′ = 1 ⊘ (2 y), relu′ = step(a), ….
/// None where f′ is zero (sign, step).
pub(crate) fn derivative(graph: &mut Graph, f: Func, a: NodeId, y: NodeId) -> Option<NodeId> {
    let one = graph.constant(1.0);
    let two = graph.constant(2.0);
    let rule = f.info().derivative?;
    Some(rule(&mut Slope { graph, a, y, one, two }))
}

/// d(Aᵏ): Ā = Σᵢ₌₀ᵏ⁻¹ (Aᵀ)ⁱ Ḡ (Aᵀ)ᵏ⁻¹⁻ⁱ
fn vjp_matpow(e: &mut Edge, a: NodeId, k: u32) {
    e.send(a, |e| {
        let at = e.t(a);
        let power = |e: &mut Edge, i: u32| match i {
            0 => None,
            1 => Some(at),
            i => Some(e.build(Op::MatPow(at, i))),
        };
        let mut sum: Option<NodeId> = None;
        for i in 0..k {
            let mut term = e.g;
            if let Some(left) = power(e, i) {
                term = e.matmul(left, term);
            }
            if let Some(right) = power(e, k - 1 - i) {
                term = e.matmul(term, right);
            }
            sum = Some(match sum {
                None => term,
                Some(s) => e.add(s, term),
            });
        }
        sum.expect("a matrix power has k ≥ 2")
    });
}

/// d(sum(a)): ā = Ḡ 𝟙
fn vjp_sum(e: &mut Edge, a: NodeId) {
    e.send(a, |e| {
        let shape = e.graph.shape(a);
        let ones = e.build(Op::Fill(Constant(1.0), shape));
        e.g_times(ones)
    });
}

/// d(‖a‖₁): ā = Ḡ sign(a), with sign(0) = 0 as the subgradient
fn vjp_norm1(e: &mut Edge, a: NodeId) {
    e.send(a, |e| {
        let sign = e.map(Func::Sign, a);
        e.g_times(sign)
    });
}

/// d(‖a‖): ā = Ḡ a / y
fn vjp_norm2(e: &mut Edge, a: NodeId) {
    let y = e.parent;
    e.send(a, |e| {
        let direction = e.div(a, y);
        e.g_times(direction)
    });
}

/// d(tr A): Ā = Ḡ I
fn vjp_trace(e: &mut Edge, a: NodeId) {
    e.send(a, |e| {
        let n = e.graph.shape(a).rows;
        let eye = e.build(Op::Eye(n));
        e.g_times(eye)
    });
}

/// A⁻ᵀ, the transposed inverse.
fn inverse_transpose(e: &mut Edge, a: NodeId) -> NodeId {
    let inverse = e.build(Op::Inv(a));
    e.t(inverse)
}

/// d(det A): Ā = Ḡ y A⁻ᵀ
fn vjp_det(e: &mut Edge, a: NodeId) {
    let y = e.parent;
    e.send(a, |e| {
        let inverse = inverse_transpose(e, a);
        let scaled = e.mul(y, inverse);
        e.g_times(scaled)
    });
}

/// d(log |det A|): Ā = Ḡ A⁻ᵀ
fn vjp_logdet(e: &mut Edge, a: NodeId) {
    e.send(a, |e| {
        let inverse = inverse_transpose(e, a);
        e.g_times(inverse)
    });
}

/// d(A⁻¹): Ā = −yᵀ Ḡ yᵀ
fn vjp_inv(e: &mut Edge, a: NodeId) {
    let y = e.parent;
    e.send(a, |e| {
        let (yt, g) = (e.t(y), e.g);
        let left = e.matmul(yt, g);
        let product = e.matmul(left, yt);
        e.neg(product)
    });
}

/// d(Diag(a)): ā = diag(Ḡ)
fn vjp_diag(e: &mut Edge, a: NodeId) {
    e.send(a, |e| {
        let g = e.g;
        e.build(Op::DiagPart(g))
    });
}

/// d(diag(A)): Ā = Diag(Ḡ)
fn vjp_diag_part(e: &mut Edge, a: NodeId) {
    e.send(a, |e| {
        let g = e.g;
        e.build(Op::Diag(g))
    });
}

/// d(softmax(a)): ā = y ⊙ (Ḡ − yᵀ Ḡ)
fn vjp_softmax(e: &mut Edge, a: NodeId) {
    let y = e.parent;
    e.send(a, |e| {
        let (yt, g) = (e.t(y), e.g);
        let inner = e.matmul(yt, g);
        let minus = e.neg(inner);
        let centered = e.add(g, minus);
        e.mul(y, centered)
    });
}

/// d(logsumexp(a)): ā = Ḡ softmax(a)
fn vjp_logsumexp(e: &mut Edge, a: NodeId) {
    e.send(a, |e| {
        let softmax = e.build(Op::Softmax(a));
        e.g_times(softmax)
    });
}
