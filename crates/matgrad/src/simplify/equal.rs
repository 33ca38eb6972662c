//! Whether two nodes are one value written two ways: up to where the transposes stand
//! ((AB)ᵀ = BᵀAᵀ, (A + B)ᵀ = Aᵀ + Bᵀ, (A⁻¹)ᵀ = (Aᵀ)⁻¹, a scalar's transpose is itself), how a
//! product associates (A (B C) = (A B) C), the order and grouping of a sum's terms and of an
//! elementwise product's factors, and a trace's cyclic order (tr(A B) = tr(B A)).
//!
//! The graph is hash-consed, so equal spellings are one node; this finds the equal values
//! the rules leave in different spellings, each the shortest of its own term
//! (`Aᵀ Cᵀ − (C A)ᵀ`), so that like terms are combined whatever their spelling. It builds no
//! node, and a named node is compared as itself: the user's names are atoms.

use std::collections::HashMap;

use crate::ir::{Graph, NodeId, Op};

/// Comparisons one question may make before answering "not known to be equal": a bound on
/// the work of deep or wide terms, on the safe side.
const MAX_STEPS: usize = 256;

/// The most factors of a product or terms of a sum one comparison reads: the terms rules
/// combine have a handful, and a chain of 100 000 statements must not be read for each.
const MAX_PARTS: usize = 32;

/// Whether `a` and `b` are equal as values by the identities above.
pub fn same_value(graph: &Graph, a: NodeId, b: NodeId) -> bool {
    a == b || Comparison { graph, memo: HashMap::new(), steps: MAX_STEPS }.same((a, false), (b, false))
}

/// Whether two lists of nodes are one multiset of values: each of `x` equal, as
/// [`same_value`] says, to its own one of `y`.
pub fn same_values(graph: &Graph, x: &[NodeId], y: &[NodeId]) -> bool {
    let side = |list: &[NodeId]| list.iter().map(|&node| (node, false)).collect::<Vec<Side>>();
    Comparison { graph, memo: HashMap::new(), steps: MAX_STEPS }.same_multiset(&side(x), &side(y))
}

/// A node, transposed or not.
type Side = (NodeId, bool);

struct Comparison<'g> {
    graph: &'g Graph,
    memo: HashMap<(Side, Side), bool>,
    steps: usize,
}

impl Comparison<'_> {
    fn same(&mut self, a: Side, b: Side) -> bool {
        let (a, b) = (self.as_scalar(self.stripped(a)), self.as_scalar(self.stripped(b)));
        if a == b {
            return true;
        }
        if let Some(&known) = self.memo.get(&(a, b)) {
            return known;
        }
        if self.steps == 0 {
            return false;
        }
        self.steps -= 1;
        // A scalar is its own transpose, so either orientation of its expression may match
        // (xᵀ y and yᵀ x).
        let scalar = self.graph.is_scalar(a.0);
        let answer = self.compare(a, b) || (scalar && self.compare(a, (b.0, true)));
        self.memo.insert((a, b), answer);
        answer
    }

    /// `(node, transposed)` with the transposes above it taken in (a named transpose is
    /// a name, and stays).
    fn stripped(&self, (mut node, mut transposed): Side) -> Side {
        while let Op::Transpose(inner) = self.graph.op(node) {
            if self.graph.name(node).is_some() {
                break;
            }
            node = inner;
            transposed = !transposed;
        }
        (node, transposed)
    }

    /// A scalar is never transposed.
    fn as_scalar(&self, (node, transposed): Side) -> Side {
        (node, transposed && !self.graph.is_scalar(node))
    }

    fn compare(&mut self, a: Side, b: Side) -> bool {
        let graph = self.graph;
        if graph.name(a.0).is_some() || graph.name(b.0).is_some() {
            return a.0 == b.0 && a.1 == b.1;
        }
        let (ta, tb) = (a.1, b.1);
        match (graph.op(a.0), graph.op(b.0)) {
            (Op::MatMul(..) | Op::Transpose(_), _) | (_, Op::MatMul(..) | Op::Transpose(_)) => {
                match (self.chain(a), self.chain(b)) {
                    (Some(x), Some(y)) => (x.len() > 1 || y.len() > 1) && self.same_chains(&x, &y),
                    _ => false,
                }
            }
            (Op::Add(..), Op::Add(..)) => match (self.terms(a), self.terms(b)) {
                (Some(x), Some(y)) => self.same_multiset(&x, &y),
                _ => false,
            },
            // The operations that commute with a transpose: elementwise ones, the inverse, a
            // power.
            (Op::Neg(x), Op::Neg(y)) => self.same((x, ta), (y, tb)),
            (Op::Map(f, x), Op::Map(g, y)) => f == g && self.same((x, ta), (y, tb)),
            (Op::Mul(..), Op::Mul(..)) => match (self.factors(a), self.factors(b)) {
                (Some(x), Some(y)) => self.same_multiset(&x, &y),
                _ => false,
            },
            (Op::Div(x1, x2), Op::Div(y1, y2)) | (Op::Pow(x1, x2), Op::Pow(y1, y2)) => {
                self.same((x1, ta), (y1, tb)) && self.same((x2, ta), (y2, tb))
            }
            (Op::Inv(x), Op::Inv(y)) | (Op::Softmax(x), Op::Softmax(y)) => self.same((x, ta), (y, tb)),
            (Op::MatPow(x, j), Op::MatPow(y, k)) => j == k && self.same((x, ta), (y, tb)),
            // Scalars of their argument that a transpose does not change.
            (Op::Sum(x), Op::Sum(y))
            | (Op::Norm1(x), Op::Norm1(y))
            | (Op::Norm2(x), Op::Norm2(y))
            | (Op::Det(x), Op::Det(y))
            | (Op::LogDet(x), Op::LogDet(y))
            | (Op::LogSumExp(x), Op::LogSumExp(y)) => {
                self.same((x, false), (y, false)) || self.same((x, false), (y, true))
            }
            (Op::Trace(x), Op::Trace(y)) => match (self.chain((x, false)), self.chain((y, false))) {
                (Some(x), Some(y)) => self.same_cycles(&x, &y),
                _ => false,
            },
            // diag(Aᵀ) = diag(A); Diag(v) is symmetric.
            (Op::DiagPart(x), Op::DiagPart(y)) => {
                ta == tb && (self.same((x, false), (y, false)) || self.same((x, false), (y, true)))
            }
            (Op::Diag(x), Op::Diag(y)) => self.same((x, false), (y, false)),
            (Op::Eye(m), Op::Eye(n)) => graph.dims.resolve(m) == graph.dims.resolve(n),
            (Op::Fill(c, s), Op::Fill(d, t)) => {
                let shape = |shape: crate::ir::Shape, transposed: bool| {
                    let shape = if transposed { crate::ir::Shape::new(shape.cols, shape.rows) } else { shape };
                    (graph.dims.resolve(shape.rows), graph.dims.resolve(shape.cols))
                };
                c == d && shape(s, ta) == shape(t, tb)
            }
            (Op::Input(_) | Op::Const(_) | Op::Size(_), _)
            | (Op::Neg(_) | Op::Add(..) | Op::Mul(..) | Op::Div(..) | Op::Pow(..) | Op::Map(..), _)
            | (Op::MatPow(..) | Op::Sum(_) | Op::Norm1(_) | Op::Norm2(_) | Op::Trace(_) | Op::Det(_), _)
            | (Op::LogDet(_) | Op::Inv(_) | Op::Diag(_) | Op::DiagPart(_) | Op::Softmax(_), _)
            | (Op::LogSumExp(_) | Op::Eye(_) | Op::Fill(..), _) => false,
        }
    }

    /// The factors of a matrix product, left to right, each with whether it is transposed:
    /// (A B)ᵀ C is [Bᵀ, Aᵀ, C]. None past [`MAX_PARTS`] factors.
    fn chain(&self, side: Side) -> Option<Vec<Side>> {
        self.flattened(side, |op| match op {
            Op::MatMul(x, y) => Some((x, y, true)),
            _ => None,
        })
    }

    /// The factors of an elementwise product (scalings included), each with whether it is
    /// transposed. None past [`MAX_PARTS`].
    fn factors(&self, side: Side) -> Option<Vec<Side>> {
        self.flattened(side, |op| match op {
            Op::Mul(x, y) => Some((x, y, false)),
            _ => None,
        })
    }

    /// The terms of a sum, each with whether it is transposed. None past [`MAX_PARTS`].
    fn terms(&self, side: Side) -> Option<Vec<Side>> {
        self.flattened(side, |op| match op {
            Op::Add(x, y) => Some((x, y, false)),
            _ => None,
        })
    }

    /// The operands of a nest of one binary operation, left to right; `split` gives a
    /// node's two operands and whether a transpose reverses them.
    fn flattened(&self, side: Side, split: impl Fn(Op) -> Option<(NodeId, NodeId, bool)>) -> Option<Vec<Side>> {
        let mut out = Vec::new();
        let mut stack = vec![side];
        while let Some(side) = stack.pop() {
            let (node, transposed) = self.stripped(side);
            match split(self.graph.op(node)) {
                Some((x, y, reverses)) if self.graph.name(node).is_none() => {
                    let (first, second) = if transposed && reverses { (y, x) } else { (x, y) };
                    stack.push((second, transposed));
                    stack.push((first, transposed));
                }
                _ => out.push((node, transposed)),
            }
            if out.len() + stack.len() > MAX_PARTS {
                return None;
            }
        }
        Some(out)
    }

    fn same_chains(&mut self, x: &[Side], y: &[Side]) -> bool {
        x.len() == y.len() && x.iter().zip(y).all(|(&a, &b)| self.same(a, b))
    }

    /// Whether two chains are one product under a trace: a rotation of each other, or of
    /// the other's transpose (tr(Aᵀ) = tr(A)).
    fn same_cycles(&mut self, x: &[Side], y: &[Side]) -> bool {
        if x.len() != y.len() {
            return false;
        }
        let reversed: Vec<Side> = y.iter().rev().map(|&(node, t)| (node, !t)).collect();
        (0..y.len()).any(|shift| {
            let turned = |chain: &[Side]| chain[shift..].iter().chain(&chain[..shift]).copied().collect::<Vec<_>>();
            self.same_chains(x, &turned(y)) || self.same_chains(x, &turned(&reversed))
        })
    }

    /// Whether two lists of terms match one to one, in any order.
    fn same_multiset(&mut self, x: &[Side], y: &[Side]) -> bool {
        if x.len() != y.len() {
            return false;
        }
        let mut unmatched: Vec<Side> = y.to_vec();
        for &a in x {
            match unmatched.iter().position(|&b| self.same(a, b)) {
                Some(i) => {
                    unmatched.swap_remove(i);
                }
                None => return false,
            }
        }
        true
    }
}
