//! The matrix of a linear map between vectors, in matrix notation: from d(y) = f(dx), a
//! linear expression in the tangent dx, the matrix J with f(dx) = J dx.
//!
//! Each node of f that depends on dx is read as its coefficient of dx — a column vector or
//! scalar v as the matrix B with v = B dx, a row vector as C with vᵀ = C dx, a matrix as a
//! sum of the few shapes a linear matrix of a vector takes in these expressions (an outer
//! product with dx on one side, P Diag(B dx) R, a scalar times a matrix) — built bottom-up,
//! one rule per op, through `simplify::build`, so that `Diag(s) I` comes out as `Diag(s)`.
//! An expression outside these shapes has no matrix form here (None); the block is then
//! shown as its linear map and in index notation, which always exist.

use std::collections::HashMap;

use crate::ir::shape::ONE;
use crate::ir::{Constant, Dim, Graph, NodeId, Op, Shape};
use crate::simplify::build;

/// A node's coefficient of the tangent dx (of length n).
#[derive(Debug, Clone)]
enum Linear {
    /// A column vector or a scalar v = B dx (B is rows(v) × n).
    Column(NodeId),
    /// A row vector v with vᵀ = C dx.
    Row(NodeId),
    /// A matrix: the sum of its terms.
    Matrix(Vec<Term>),
}

/// One term of a matrix that is linear in dx.
#[derive(Debug, Clone, Copy)]
enum Term {
    /// (B dx) r: a column times an independent row.
    Outer(NodeId, NodeId),
    /// u (C dx)ᵀ: an independent column times a row.
    OuterTransposed(NodeId, NodeId),
    /// P Diag(B dx) R.
    Diag(NodeId, NodeId, NodeId),
    /// (S dx) M: a scalar times an independent matrix.
    Scaled(NodeId, NodeId),
}

/// J with `map` = J `tangent`, for a column vector (or scalar) `map` linear in the column
/// vector `tangent`; None when `map` is not in a shape this reads.
pub(crate) fn matrix_of(graph: &mut Graph, map: NodeId, tangent: NodeId) -> Option<NodeId> {
    let order = graph.reachable(&[map]);
    let mut linear: HashMap<NodeId, Linear> = HashMap::new();
    for id in order {
        let depends = id == tangent || graph.op(id).children().into_iter().any(|c| linear.contains_key(&c));
        if !depends {
            continue;
        }
        let value = if id == tangent {
            let n = graph.shape(tangent).rows;
            Linear::Column(build(graph, Op::Eye(n)))
        } else {
            rule(graph, id, &linear)?
        };
        linear.insert(id, value);
    }
    match linear.remove(&map)? {
        Linear::Column(b) => Some(b),
        Linear::Row(_) | Linear::Matrix(_) => None,
    }
}

/// The coefficient of `id`, whose children's coefficients are in `linear` (an independent
/// child has none).
fn rule(graph: &mut Graph, id: NodeId, linear: &HashMap<NodeId, Linear>) -> Option<Linear> {
    let of = |child: NodeId| linear.get(&child).cloned();
    let shape = graph.shape(id);
    match graph.op(id) {
        // The tangent is handled by the caller; no other leaf depends on it.
        Op::Input(_) | Op::Const(_) | Op::Eye(_) | Op::Size(_) | Op::Fill(..) => None,
        Op::Neg(a) => Some(coefficients(graph, of(a)?, |g, b| build(g, Op::Neg(b)))),
        Op::Add(a, b) => match (of(a), of(b)) {
            (Some(x), Some(y)) => {
                let (x, y) = (widen(graph, x, graph.shape(a), shape), widen(graph, y, graph.shape(b), shape));
                add(graph, x, y)
            }
            (Some(x), None) if is_zero(graph, b) => Some(x),
            (None, Some(y)) if is_zero(graph, a) => Some(y),
            _ => None,
        },
        Op::Mul(a, b) => match (of(a), of(b)) {
            (Some(x), None) => hadamard(graph, b, x, graph.shape(a)),
            (None, Some(y)) => hadamard(graph, a, y, graph.shape(b)),
            _ => None,
        },
        Op::Div(a, b) => {
            let x = of(a)?;
            if of(b).is_some() {
                return None;
            }
            let one = graph.constant(1.0);
            let reciprocal = build(graph, Op::Div(one, b));
            hadamard(graph, reciprocal, x, graph.shape(a))
        }
        Op::MatMul(a, b) => match (of(a), of(b)) {
            (None, Some(y)) => left(graph, a, y, graph.shape(b)),
            (Some(x), None) => right(graph, x, graph.shape(a), b),
            _ => None,
        },
        Op::Transpose(a) => Some(transpose(graph, of(a)?, graph.shape(a))),
        Op::Sum(a) => sum(graph, of(a)?, graph.shape(a)),
        Op::Trace(a) => trace(graph, of(a)?),
        Op::Diag(a) => match of(a)? {
            Linear::Column(b) => {
                let eye = build(graph, Op::Eye(graph.shape(a).rows));
                Some(Linear::Matrix(vec![Term::Diag(eye, b, eye)]))
            }
            Linear::Row(_) | Linear::Matrix(_) => None,
        },
        Op::DiagPart(a) => diag_part(graph, of(a)?),
        // Not linear: a linear map's expression applies these to independent values only.
        Op::Pow(..)
        | Op::Map(..)
        | Op::MatPow(..)
        | Op::Norm1(_)
        | Op::Norm2(_)
        | Op::Det(_)
        | Op::LogDet(_)
        | Op::Inv(_)
        | Op::Softmax(_)
        | Op::LogSumExp(_) => None,
    }
}

fn is_zero(graph: &Graph, id: NodeId) -> bool {
    matches!(graph.op(id), Op::Fill(c, _) | Op::Const(c) if c.0 == 0.0)
}

fn mm(graph: &mut Graph, a: NodeId, b: NodeId) -> NodeId {
    build(graph, Op::MatMul(a, b))
}

fn t(graph: &mut Graph, a: NodeId) -> NodeId {
    build(graph, Op::Transpose(a))
}

fn diag(graph: &mut Graph, a: NodeId) -> NodeId {
    build(graph, Op::Diag(a))
}

fn ones(graph: &mut Graph, rows: Dim, cols: Dim) -> NodeId {
    build(graph, Op::Fill(Constant(1.0), Shape::new(rows, cols)))
}

/// The kind of a shape: scalar, column, row or matrix.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Column,
    Row,
    Matrix,
}

fn kind(graph: &Graph, shape: Shape) -> Kind {
    let (rows, cols) = (graph.dims.resolve(shape.rows) == ONE, graph.dims.resolve(shape.cols) == ONE);
    match (rows, cols) {
        (true, true) => Kind::Scalar,
        (false, true) => Kind::Column,
        (true, false) => Kind::Row,
        (false, false) => Kind::Matrix,
    }
}

/// `f` applied to the factor that multiplies dx in every term (negation, a scaling).
fn coefficients(graph: &mut Graph, linear: Linear, mut f: impl FnMut(&mut Graph, NodeId) -> NodeId) -> Linear {
    match linear {
        Linear::Column(b) => Linear::Column(f(graph, b)),
        Linear::Row(c) => Linear::Row(f(graph, c)),
        Linear::Matrix(terms) => Linear::Matrix(
            terms
                .into_iter()
                .map(|term| match term {
                    Term::Outer(b, r) => Term::Outer(f(graph, b), r),
                    Term::OuterTransposed(u, c) => Term::OuterTransposed(u, f(graph, c)),
                    Term::Diag(p, b, r) => Term::Diag(p, f(graph, b), r),
                    Term::Scaled(s, m) => Term::Scaled(f(graph, s), m),
                })
                .collect(),
        ),
    }
}

fn add(graph: &mut Graph, x: Linear, y: Linear) -> Option<Linear> {
    // `widen` made both operands of the sum's kind.
    match (x, y) {
        (Linear::Column(a), Linear::Column(b)) => Some(Linear::Column(build(graph, Op::Add(a, b)))),
        (Linear::Row(a), Linear::Row(b)) => Some(Linear::Row(build(graph, Op::Add(a, b)))),
        (Linear::Matrix(mut a), Linear::Matrix(b)) => {
            a.extend(b);
            Some(Linear::Matrix(a))
        }
        _ => None,
    }
}

/// A scalar's coefficient S spread over `to`, as a broadcast sum spreads the scalar: 𝟙 S
/// for a vector, (S dx) 𝟙𝟙ᵀ for a matrix.
fn widen(graph: &mut Graph, linear: Linear, from: Shape, to: Shape) -> Linear {
    let Linear::Column(s) = linear else { return linear };
    if kind(graph, from) != Kind::Scalar {
        return Linear::Column(s);
    }
    match kind(graph, to) {
        Kind::Scalar => Linear::Column(s),
        Kind::Column => {
            let ones = ones(graph, to.rows, ONE);
            Linear::Column(mm(graph, ones, s))
        }
        Kind::Row => {
            let ones = ones(graph, to.cols, ONE);
            Linear::Row(mm(graph, ones, s))
        }
        Kind::Matrix => {
            let ones = ones(graph, to.rows, to.cols);
            Linear::Matrix(vec![Term::Scaled(s, ones)])
        }
    }
}

/// c ⊙ v for an independent c and a v linear in dx (of shape `shape`); either may be a
/// scalar that scales the other.
fn hadamard(graph: &mut Graph, c: NodeId, v: Linear, shape: Shape) -> Option<Linear> {
    let c_shape = graph.shape(c);
    if kind(graph, c_shape) == Kind::Scalar {
        return Some(coefficients(graph, v, |g, b| build(g, Op::Mul(c, b))));
    }
    if kind(graph, shape) == Kind::Scalar {
        let Linear::Column(s) = v else { return None };
        return Some(scalar_times(graph, s, c));
    }
    Some(match v {
        // c ⊙ (B dx) = Diag(c) B dx
        Linear::Column(b) => Linear::Column(diag_times(graph, c, b)),
        Linear::Row(r) => {
            let ct = t(graph, c);
            let d = diag(graph, ct);
            Linear::Row(mm(graph, d, r))
        }
        Linear::Matrix(terms) => {
            let mut out = Vec::new();
            for term in terms {
                out.push(match term {
                    // ((B dx) r) ⊙ M = Diag(B dx) M Diag(r)
                    Term::Outer(b, r) => {
                        let eye = build(graph, Op::Eye(c_shape.rows));
                        let rt = t(graph, r);
                        let d = diag(graph, rt);
                        let right = mm(graph, c, d);
                        Term::Diag(eye, b, right)
                    }
                    // (u (C dx)ᵀ) ⊙ M = Diag(u) M Diag(C dx)
                    Term::OuterTransposed(u, cc) => {
                        let d = diag(graph, u);
                        let left = mm(graph, d, c);
                        let eye = build(graph, Op::Eye(c_shape.cols));
                        Term::Diag(left, cc, eye)
                    }
                    Term::Diag(..) => return None,
                    Term::Scaled(s, m) => Term::Scaled(s, build(graph, Op::Mul(m, c))),
                });
            }
            Linear::Matrix(out)
        }
    })
}

/// Diag(c) B, distributed over B's sums so that a broadcast scalar's 𝟙 S becomes c S:
/// Diag(p) (W − 𝟙 pᵀ W) = Diag(p) W − p pᵀ W.
fn diag_times(graph: &mut Graph, c: NodeId, b: NodeId) -> NodeId {
    match graph.op(b) {
        Op::Add(x, y) if graph.name(b).is_none() => {
            let (x, y) = (diag_times(graph, c, x), diag_times(graph, c, y));
            build(graph, Op::Add(x, y))
        }
        Op::Neg(x) if graph.name(b).is_none() => {
            let x = diag_times(graph, c, x);
            build(graph, Op::Neg(x))
        }
        Op::MatMul(ones, s) if matches!(graph.op(ones), Op::Fill(one, _) if one.0 == 1.0) => mm(graph, c, s),
        _ => {
            let d = diag(graph, c);
            mm(graph, d, b)
        }
    }
}

/// (S dx) c for an independent non-scalar c: a column c S, a row's cᵀ S, a matrix's term.
fn scalar_times(graph: &mut Graph, s: NodeId, c: NodeId) -> Linear {
    match kind(graph, graph.shape(c)) {
        Kind::Scalar => Linear::Column(build(graph, Op::Mul(c, s))),
        Kind::Column => Linear::Column(mm(graph, c, s)),
        Kind::Row => {
            let ct = t(graph, c);
            Linear::Row(mm(graph, ct, s))
        }
        Kind::Matrix => Linear::Matrix(vec![Term::Scaled(s, c)]),
    }
}

/// a v for an independent a and a v of shape `shape` linear in dx.
fn left(graph: &mut Graph, a: NodeId, v: Linear, shape: Shape) -> Option<Linear> {
    match v {
        Linear::Column(s) if kind(graph, shape) == Kind::Scalar => Some(scalar_times(graph, s, a)),
        Linear::Column(b) => Some(Linear::Column(mm(graph, a, b))),
        Linear::Row(c) => Some(match kind(graph, graph.shape(a)) {
            Kind::Scalar => Linear::Row(build(graph, Op::Mul(a, c))),
            _ => Linear::Matrix(vec![Term::OuterTransposed(a, c)]),
        }),
        Linear::Matrix(terms) => {
            let terms = terms
                .into_iter()
                .map(|term| match term {
                    Term::Outer(b, r) => Term::Outer(mm(graph, a, b), r),
                    Term::OuterTransposed(u, c) => Term::OuterTransposed(mm(graph, a, u), c),
                    Term::Diag(p, b, r) => Term::Diag(mm(graph, a, p), b, r),
                    Term::Scaled(s, m) => Term::Scaled(s, mm(graph, a, m)),
                })
                .collect();
            let rows = graph.shape(a).rows;
            Some(if graph.dims.resolve(rows) == ONE { to_row(graph, terms) } else { Linear::Matrix(terms) })
        }
    }
}

/// v b for a v of shape `shape` linear in dx and an independent b.
fn right(graph: &mut Graph, v: Linear, shape: Shape, b: NodeId) -> Option<Linear> {
    let b_kind = kind(graph, graph.shape(b));
    match v {
        Linear::Column(s) if kind(graph, shape) == Kind::Scalar => Some(scalar_times(graph, s, b)),
        Linear::Column(c) if b_kind == Kind::Scalar => Some(Linear::Column(build(graph, Op::Mul(b, c)))),
        Linear::Column(c) => Some(Linear::Matrix(vec![Term::Outer(c, b)])),
        // (vb)ᵀ = bᵀ vᵀ = bᵀ C dx
        Linear::Row(c) => {
            let bt = t(graph, b);
            let product = mm(graph, bt, c);
            Some(if b_kind == Kind::Column { Linear::Column(product) } else { Linear::Row(product) })
        }
        Linear::Matrix(terms) => {
            let terms = terms
                .into_iter()
                .map(|term| match term {
                    Term::Outer(c, r) => Term::Outer(c, mm(graph, r, b)),
                    Term::OuterTransposed(u, c) => {
                        let bt = t(graph, b);
                        Term::OuterTransposed(u, mm(graph, bt, c))
                    }
                    Term::Diag(p, c, r) => Term::Diag(p, c, mm(graph, r, b)),
                    Term::Scaled(s, m) => Term::Scaled(s, mm(graph, m, b)),
                })
                .collect();
            Some(if b_kind == Kind::Column { to_column(graph, terms) } else { Linear::Matrix(terms) })
        }
    }
}

/// Terms whose values have become column vectors, as one column coefficient.
fn to_column(graph: &mut Graph, terms: Vec<Term>) -> Linear {
    Linear::Column(sum_terms(graph, terms, |graph, term| match term {
        // (B dx) s with s now 1×1
        Term::Outer(b, s) => build(graph, Op::Mul(s, b)),
        // u (C dx)ᵀ with C dx now 1×1
        Term::OuterTransposed(u, c) => mm(graph, u, c),
        // P Diag(B dx) r = P Diag(r) B dx
        Term::Diag(p, b, r) => {
            let d = diag(graph, r);
            let pd = mm(graph, p, d);
            mm(graph, pd, b)
        }
        Term::Scaled(s, m) => mm(graph, m, s),
    }))
}

/// Terms whose values have become row vectors, as one row coefficient (of the transpose).
fn to_row(graph: &mut Graph, terms: Vec<Term>) -> Linear {
    Linear::Row(sum_terms(graph, terms, |graph, term| match term {
        // ((B dx) r)ᵀ = rᵀ (B dx) with B dx now 1×1
        Term::Outer(b, r) => {
            let rt = t(graph, r);
            mm(graph, rt, b)
        }
        // (s (C dx)ᵀ)ᵀ = s C dx
        Term::OuterTransposed(s, c) => build(graph, Op::Mul(s, c)),
        // (p Diag(B dx) R)ᵀ = Rᵀ Diag(pᵀ) B dx
        Term::Diag(p, b, r) => {
            let (rt, pt) = (t(graph, r), t(graph, p));
            let d = diag(graph, pt);
            let rd = mm(graph, rt, d);
            mm(graph, rd, b)
        }
        Term::Scaled(s, m) => {
            let mt = t(graph, m);
            mm(graph, mt, s)
        }
    }))
}

fn transpose(graph: &mut Graph, v: Linear, shape: Shape) -> Linear {
    match v {
        Linear::Column(b) if kind(graph, shape) == Kind::Scalar => Linear::Column(b),
        Linear::Column(b) => Linear::Row(b),
        Linear::Row(c) => Linear::Column(c),
        Linear::Matrix(terms) => Linear::Matrix(
            terms
                .into_iter()
                .map(|term| match term {
                    Term::Outer(b, r) => Term::OuterTransposed(t(graph, r), b),
                    Term::OuterTransposed(u, c) => Term::Outer(c, t(graph, u)),
                    Term::Diag(p, b, r) => Term::Diag(t(graph, r), b, t(graph, p)),
                    Term::Scaled(s, m) => Term::Scaled(s, t(graph, m)),
                })
                .collect(),
        ),
    }
}

/// sum(v) = 𝟙ᵀ v 𝟙.
fn sum(graph: &mut Graph, v: Linear, shape: Shape) -> Option<Linear> {
    match v {
        Linear::Column(b) if kind(graph, shape) == Kind::Scalar => Some(Linear::Column(b)),
        Linear::Column(b) => {
            let ones = ones(graph, ONE, shape.rows);
            Some(Linear::Column(mm(graph, ones, b)))
        }
        Linear::Row(c) => {
            let ones = ones(graph, ONE, shape.cols);
            Some(Linear::Column(mm(graph, ones, c)))
        }
        Linear::Matrix(_) => {
            let row = ones(graph, ONE, shape.rows);
            let column = ones(graph, shape.cols, ONE);
            let rows = left(graph, row, v, shape)?;
            right(graph, rows, Shape::new(ONE, shape.cols), column)
        }
    }
}

fn trace(graph: &mut Graph, v: Linear) -> Option<Linear> {
    let Linear::Matrix(terms) = v else { return None };
    Some(Linear::Column(sum_terms(graph, terms, |graph, term| match term {
        // tr((B dx) r) = r B dx
        Term::Outer(b, r) => mm(graph, r, b),
        // tr(u (C dx)ᵀ) = uᵀ C dx
        Term::OuterTransposed(u, c) => {
            let ut = t(graph, u);
            mm(graph, ut, c)
        }
        // tr(P Diag(b) R) = diag(R P)ᵀ b
        Term::Diag(p, b, r) => {
            let rp = mm(graph, r, p);
            let d = build(graph, Op::DiagPart(rp));
            let dt = t(graph, d);
            mm(graph, dt, b)
        }
        Term::Scaled(s, m) => {
            let trace = build(graph, Op::Trace(m));
            build(graph, Op::Mul(trace, s))
        }
    })))
}

fn diag_part(graph: &mut Graph, v: Linear) -> Option<Linear> {
    let Linear::Matrix(terms) = v else { return None };
    Some(Linear::Column(sum_terms(graph, terms, |graph, term| match term {
        // diag((B dx) r) = Diag(rᵀ) B dx
        Term::Outer(b, r) => {
            let rt = t(graph, r);
            let d = diag(graph, rt);
            mm(graph, d, b)
        }
        // diag(u (C dx)ᵀ) = Diag(u) C dx
        Term::OuterTransposed(u, c) => {
            let d = diag(graph, u);
            mm(graph, d, c)
        }
        // diag(P Diag(b) R) = (P ⊙ Rᵀ) b
        Term::Diag(p, b, r) => {
            let rt = t(graph, r);
            let both = build(graph, Op::Mul(p, rt));
            mm(graph, both, b)
        }
        Term::Scaled(s, m) => {
            let d = build(graph, Op::DiagPart(m));
            mm(graph, d, s)
        }
    })))
}

/// Σ `coefficient(term)` over the terms of a matrix (it has at least one).
fn sum_terms(graph: &mut Graph, terms: Vec<Term>, mut coefficient: impl FnMut(&mut Graph, Term) -> NodeId) -> NodeId {
    let mut total: Option<NodeId> = None;
    for term in terms {
        let b = coefficient(graph, term);
        total = Some(match total {
            None => b,
            Some(sum) => build(graph, Op::Add(sum, b)),
        });
    }
    total.expect("a matrix linear in dx has a term")
}
