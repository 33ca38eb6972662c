//! The rule table. Each rule's doc line states its identity; `RULES` lists them in the order
//! they are tried (cheap identities first, canonical forms last).

use crate::eval::scalar_function;
use crate::ir::{Constant, Dim, Graph, NodeId, Op, Shape};

use super::monomial::without;
use super::{build, chain, rational, Monomial};

/// A named rewrite: a simpler node equal to the given one, or None when it does not apply.
pub struct Rule {
    /// The rule's name: how reports cite it, and how the tests find its example.
    pub name: &'static str,
    /// The identity, as a person writes it: what a report says the rule did.
    pub identity: &'static str,
    /// How the cost model judges the rule's result (see the module `simplify`).
    pub kind: Kind,
    pub apply: fn(&mut Graph, NodeId) -> Option<NodeId>,
}

/// What a rule's result must do to the [`super::Cost`] to be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Lower it: the rule makes the expression shorter.
    Shorten,
    /// Not raise it: the rule moves toward a canonical order (of factors, of a sign, of a
    /// transpose), which it never moves back from.
    Orient,
}

pub const RULES: &[Rule] = &[
    Rule { name: "fold-constants", identity: "2 + 3 = 5, exp(0) = 1", kind: Kind::Shorten, apply: fold_constants },
    Rule {
        name: "zeros-and-ones",
        identity: "a + 0 = a, 1 a = a, 0 a = 0, a / 1 = a, a¹ = a, sum(0) = 0",
        kind: Kind::Shorten,
        apply: zeros_and_ones,
    },
    Rule {
        name: "times-reciprocal", identity: "a ⊙ (1 ⊘ b) = a ⊘ b", kind: Kind::Shorten, apply: times_reciprocal
    },
    Rule { name: "negate-twice", identity: "−(−a) = a", kind: Kind::Shorten, apply: negate_twice },
    Rule {
        name: "transpose-trivial",
        identity: "(Aᵀ)ᵀ = A, sᵀ = s, Iᵀ = I, Diag(u)ᵀ = Diag(u)",
        kind: Kind::Shorten,
        apply: transpose_trivial,
    },
    Rule {
        name: "transpose-of-product",
        identity: "(A B … C)ᵀ = Cᵀ … Bᵀ Aᵀ, where that is shorter: (xᵀ M)ᵀ = Mᵀ x",
        kind: Kind::Shorten,
        apply: chain::transposed,
    },
    Rule { name: "inverse-twice", identity: "(A⁻¹)⁻¹ = A", kind: Kind::Shorten, apply: inverse_twice },
    Rule {
        name: "inverse-of-transpose",
        identity: "(Aᵀ)⁻¹ = (A⁻¹)ᵀ, written A⁻ᵀ",
        kind: Kind::Orient,
        apply: inverse_of_transpose,
    },
    Rule {
        name: "power-of-transpose", identity: "(Aᵀ)ᵏ = (Aᵏ)ᵀ", kind: Kind::Orient, apply: power_of_transpose
    },
    Rule {
        name: "matrix-chain",
        identity: "I A = A, A⁻¹ A = I, A A = A², A² A = A³, one association per chain",
        kind: Kind::Orient,
        apply: chain::canonical,
    },
    Rule { name: "diag-of-fill", identity: "Diag(c 𝟙) = c I", kind: Kind::Shorten, apply: diag_of_fill },
    Rule {
        name: "fill-arithmetic",
        identity: "3 𝟙 − 2 𝟙 = 𝟙, 2 (3 𝟙) = 6 𝟙, sum(c 𝟙ₙ) = c n",
        kind: Kind::Shorten,
        apply: fill_arithmetic,
    },
    Rule { name: "fill-as-scalar", identity: "(c 𝟙) ⊙ a = c a", kind: Kind::Orient, apply: fill_as_scalar },
    Rule {
        name: "product-of-fills",
        identity: "(c 𝟙ₘ 𝟙ₖᵀ)(d 𝟙ₖ 𝟙ₙᵀ) = c d k 𝟙ₘ 𝟙ₙᵀ, 𝟙ₙᵀ 𝟙ₙ = n",
        kind: Kind::Orient,
        apply: product_of_fills,
    },
    Rule {
        name: "dot-with-ones", identity: "𝟙ᵀ v = vᵀ 𝟙 = sum(v)", kind: Kind::Shorten, apply: dot_with_ones
    },
    Rule {
        name: "dot-as-sum",
        identity: "uᵀ w = sum(u ⊙ w), where that is shorter: pᵀ (t ⊘ p) = sum(t)",
        kind: Kind::Shorten,
        apply: dot_as_sum,
    },
    Rule {
        name: "elementwise-powers",
        identity: "x ⊙ x = x², x⁻² ⊙ x² = 𝟙, x² ⊙ x = x³",
        kind: Kind::Orient,
        apply: elementwise_powers,
    },
    Rule { name: "transpose-scaled", identity: "(s A)ᵀ = s Aᵀ", kind: Kind::Orient, apply: transpose_scaled },
    Rule {
        name: "transpose-sum",
        identity: "Aᵀ + Bᵀ = (A + B)ᵀ, Bᵀ Xᵀ + Xᵀ Bᵀ = (X B + B X)ᵀ",
        kind: Kind::Shorten,
        apply: transpose_sum,
    },
    Rule {
        name: "product-with-scalar",
        identity: "A B = s B when A = s is 1×1",
        kind: Kind::Orient,
        apply: product_with_scalar,
    },
    Rule {
        name: "product-with-identity",
        identity: "I A = A = A I",
        kind: Kind::Shorten,
        apply: product_with_identity,
    },
    Rule {
        name: "diag-times-vector",
        identity: "Diag(u) v = u ⊙ v, vᵀ Diag(u) = (u ⊙ v)ᵀ",
        kind: Kind::Shorten,
        apply: diag_times_vector,
    },
    Rule {
        name: "scalars-out-of-products",
        identity: "(s A)(t B) = s t (A B), (s a) ⊙ (t b) = s t (a ⊙ b), (s a) ⊘ (t b) = (s/t)(a ⊘ b)",
        kind: Kind::Orient,
        apply: scalars_out_of_products,
    },
    Rule {
        name: "transpose-elementwise",
        identity: "aᵀ ⊙ bᵀ = (a ⊙ b)ᵀ",
        kind: Kind::Shorten,
        apply: transpose_elementwise,
    },
    Rule {
        name: "scalars-out-of-reductions",
        identity: "sum(s A) = s sum(A), tr(s A) = s tr(A)",
        kind: Kind::Orient,
        apply: scalars_out_of_reductions,
    },
    Rule { name: "sum-of-transpose", identity: "sum(Aᵀ) = sum(A)", kind: Kind::Shorten, apply: sum_of_transpose },
    Rule {
        name: "size-of-identity", identity: "sum(Iₙ) = tr(Iₙ) = n", kind: Kind::Shorten, apply: size_of_identity
    },
    Rule { name: "diag-of-transpose", identity: "diag(Aᵀ) = diag(A)", kind: Kind::Shorten, apply: diag_of_transpose },
    Rule { name: "diag-of-outer", identity: "diag(u vᵀ) = u ⊙ v", kind: Kind::Shorten, apply: diag_of_outer },
    Rule {
        name: "sum-of-elementwise-product",
        identity: "sum(u ⊙ v) = uᵀ v, sum(u²) = uᵀ u for named vectors",
        kind: Kind::Orient,
        apply: sum_of_elementwise_product,
    },
    Rule {
        name: "negate-difference", identity: "−(a − b) = b − a", kind: Kind::Orient, apply: negate_difference
    },
    Rule {
        name: "canonical-scaling",
        identity: "(2 n)(w / n) = 2 w, −(−2 a) = 2 a",
        kind: Kind::Orient,
        apply: canonical_scaling,
    },
    Rule {
        name: "elementwise-order",
        identity: "a ⊙ b = b ⊙ a, factors in definition order",
        kind: Kind::Orient,
        apply: elementwise_order,
    },
    Rule { name: "negative-last", identity: "−a + b = b − a", kind: Kind::Orient, apply: negative_last },
    Rule {
        name: "collect-like-terms",
        identity: "2 a + 3 a = 5 a, a + b + a = 2 a + b, a − a = 0",
        kind: Kind::Orient,
        apply: collect_like_terms,
    },
    Rule {
        name: "common-scalar-factor",
        identity: "2 s a + 2 b = 2 (s a + b), −a − b = −(a + b)",
        kind: Kind::Shorten,
        apply: common_scalar_factor,
    },
    Rule {
        name: "common-core",
        identity: "c I − 2 I = (c − 2) I, s A x + t A x = (s + t) A x",
        kind: Kind::Shorten,
        apply: common_core,
    },
    Rule {
        name: "common-matrix-factor",
        identity: "A X + A Y = A (X + Y), X B + Y B = (X + Y) B",
        kind: Kind::Shorten,
        apply: common_matrix_factor,
    },
    Rule {
        name: "cancel-and-expand",
        identity: "p ⊙ (1 − p) ⊙ ((t − 1) ⊘ (1 − p) + t ⊘ p) = t − p, when that is shorter",
        kind: Kind::Shorten,
        apply: rational::cancel_and_expand,
    },
];

fn constant(graph: &Graph, id: NodeId) -> Option<f64> {
    match graph.op(id) {
        Op::Const(c) => Some(c.0),
        _ => None,
    }
}

/// The value every entry of `id` has, if it is a constant or a fill.
fn uniform(graph: &Graph, id: NodeId) -> Option<f64> {
    match graph.op(id) {
        Op::Const(c) | Op::Fill(c, _) => Some(c.0),
        _ => None,
    }
}

fn zeros(graph: &mut Graph, shape: Shape) -> NodeId {
    if graph.dims.is_scalar(shape) {
        graph.constant(0.0)
    } else {
        graph.add(Op::Fill(Constant(0.0), shape)).expect("a fill has its own shape")
    }
}

/// Scalar arithmetic on constant operands.
fn fold_constants(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let value = match graph.op(id) {
        Op::Neg(a) => -constant(graph, a)?,
        Op::Add(a, b) => constant(graph, a)? + constant(graph, b)?,
        Op::Mul(a, b) => constant(graph, a)? * constant(graph, b)?,
        Op::Div(a, b) => constant(graph, a)? / constant(graph, b)?,
        Op::Pow(a, b) => constant(graph, a)?.powf(constant(graph, b)?),
        Op::Map(f, a) => scalar_function(f)(constant(graph, a)?),
        _ => return None,
    };
    value.is_finite().then(|| graph.constant(value))
}

fn zeros_and_ones(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let shape = graph.shape(id);
    let same_shape = |graph: &Graph, a: NodeId| graph.shape(a) == shape;
    match graph.op(id) {
        Op::Add(a, b) if uniform(graph, a) == Some(0.0) && same_shape(graph, b) => Some(b),
        Op::Add(a, b) if uniform(graph, b) == Some(0.0) && same_shape(graph, a) => Some(a),
        Op::Neg(a)
        | Op::Transpose(a)
        | Op::Sum(a)
        | Op::Trace(a)
        | Op::Norm1(a)
        | Op::Norm2(a)
        | Op::Diag(a)
        | Op::DiagPart(a)
            if uniform(graph, a) == Some(0.0) =>
        {
            Some(zeros(graph, shape))
        }
        Op::Mul(a, b) | Op::MatMul(a, b) if uniform(graph, a) == Some(0.0) || uniform(graph, b) == Some(0.0) => {
            Some(zeros(graph, shape))
        }
        Op::Div(a, _) if uniform(graph, a) == Some(0.0) => Some(zeros(graph, shape)),
        Op::Mul(a, b) if uniform(graph, a) == Some(1.0) && same_shape(graph, b) => Some(b),
        Op::Mul(a, b) if uniform(graph, b) == Some(1.0) && same_shape(graph, a) => Some(a),
        Op::Div(a, b) | Op::Pow(a, b) if constant(graph, b) == Some(1.0) => Some(a),
        _ => None,
    }
}

fn times_reciprocal(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Mul(a, b) = graph.op(id) else { return None };
    let reciprocal = |x: NodeId| match graph.op(x) {
        Op::Div(one, d) if uniform(graph, one) == Some(1.0) && graph.name(x).is_none() => Some(d),
        _ => None,
    };
    let (numerator, denominator) = match (reciprocal(a), reciprocal(b)) {
        (_, Some(d)) => (a, d),
        (Some(d), None) => (b, d),
        (None, None) => return None,
    };
    if graph.shape(numerator) != graph.shape(id) {
        return None;
    }
    Some(build(graph, Op::Div(numerator, denominator)))
}

fn negate_twice(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    match graph.op(id) {
        Op::Neg(a) => match graph.op(a) {
            Op::Neg(b) if graph.name(a).is_none() => Some(b),
            _ => None,
        },
        _ => None,
    }
}

fn transpose_trivial(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Transpose(a) = graph.op(id) else { return None };
    if graph.is_scalar(a) {
        return Some(a);
    }
    match graph.op(a) {
        Op::Transpose(b) => Some(b),
        Op::Eye(_) | Op::Diag(_) => Some(a),
        Op::Fill(c, shape) => Some(graph.add(Op::Fill(c, shape.transposed())).expect("a fill has its own shape")),
        _ => None,
    }
}

fn is_transpose(graph: &Graph, id: NodeId) -> bool {
    matches!(graph.op(id), Op::Transpose(_)) && graph.name(id).is_none()
}

fn transpose_scaled(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Transpose(a) = graph.op(id) else { return None };
    let term = Monomial::of(graph, a);
    let core = term.core?;
    if term.is_bare() {
        return None;
    }
    let transposed = build(graph, Op::Transpose(core));
    Some(term.with_core(transposed).build(graph))
}

/// `Aᵀ + Bᵀ = (A + B)ᵀ`, where each term is a transpose or a product of transposes, perhaps
/// scaled: `Bᵀ Xᵀ + Xᵀ Bᵀ` is `(X B + B X)ᵀ`, as the Matrix Cookbook writes it.
fn transpose_sum(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Add(a, b) = graph.op(id) else { return None };
    if !reads_transposed(graph, a) || !reads_transposed(graph, b) {
        return None;
    }
    let (x, y) = (build(graph, Op::Transpose(a)), build(graph, Op::Transpose(b)));
    let sum = build(graph, Op::Add(x, y));
    Some(build(graph, Op::Transpose(sum)))
}

/// Whether `id`, read as a scaled term, is a transpose or an unnamed product whose every
/// factor is one: a term whose own transpose has none left to write.
fn reads_transposed(graph: &Graph, id: NodeId) -> bool {
    let Some(core) = Monomial::of(graph, id).core else { return false };
    if is_transpose(graph, core) {
        return true;
    }
    matches!(graph.op(core), Op::MatMul(..))
        && graph.name(core).is_none()
        && chain::factors(graph, core).is_some_and(|factors| factors.iter().all(|&f| is_transpose(graph, f)))
}

/// A 1×1 factor in a matrix product is a scaling.
fn product_with_scalar(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::MatMul(a, b) = graph.op(id) else { return None };
    (graph.is_scalar(a) || graph.is_scalar(b)).then(|| build(graph, Op::Mul(a, b)))
}

fn product_with_identity(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::MatMul(a, b) = graph.op(id) else { return None };
    match (graph.op(a), graph.op(b)) {
        (Op::Eye(_), _) => Some(b),
        (_, Op::Eye(_)) => Some(a),
        _ => None,
    }
}

fn diag_times_vector(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::MatMul(a, b) = graph.op(id) else { return None };
    match (graph.op(a), graph.op(b)) {
        (Op::Diag(u), Op::Diag(v)) => {
            let product = build(graph, Op::Mul(u, v));
            Some(build(graph, Op::Diag(product)))
        }
        (Op::Diag(u), _) if graph.dims.is_vector(graph.shape(b)) => Some(build(graph, Op::Mul(u, b))),
        (Op::Transpose(v), Op::Diag(u)) if graph.dims.is_vector(graph.shape(v)) => {
            let product = build(graph, Op::Mul(u, v));
            Some(build(graph, Op::Transpose(product)))
        }
        _ => None,
    }
}

fn scalars_out_of_products(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let (a, b) = match graph.op(id) {
        Op::MatMul(a, b) | Op::Mul(a, b) | Op::Div(a, b) if !graph.is_scalar(a) && !graph.is_scalar(b) => (a, b),
        _ => return None,
    };
    let (left, right) = (scaled_fill_or_term(graph, a), scaled_fill_or_term(graph, b));
    let (Some(x), Some(y)) = (left.core, right.core) else { return None };
    if left.is_bare() && right.is_bare() {
        return None;
    }
    let (core, scalar) = match graph.op(id) {
        Op::MatMul(..) => (Op::MatMul(x, y), left.scalar_part().times(right.scalar_part())),
        Op::Div(..) => (Op::Div(x, y), left.scalar_part().times(right.scalar_part().reciprocal())),
        _ => (Op::Mul(x, y), left.scalar_part().times(right.scalar_part())),
    };
    if !scalar.coefficient.is_finite() {
        return None;
    }
    let core = build(graph, core);
    Some(scalar.with_core(core).build(graph))
}

/// [`Monomial::of`] `id`, where a fill `c 𝟙 𝟙ᵀ` is the scalar `c` times the ones, so that
/// it gives up its scalar to the product it stands in: `Bᵀ (−𝟙 𝟙ᵀ)` is `−Bᵀ 𝟙 𝟙ᵀ`.
fn scaled_fill_or_term(graph: &mut Graph, id: NodeId) -> Monomial {
    match graph.op(id) {
        Op::Fill(c, shape) if c.0 != 0.0 && c.0 != 1.0 => {
            let ones = graph.add(Op::Fill(Constant(1.0), shape)).expect("a fill has its own shape");
            let c = graph.constant(c.0);
            Monomial::of(graph, c).with_core(ones)
        }
        _ => Monomial::of(graph, id),
    }
}

fn transpose_elementwise(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Mul(a, b) = graph.op(id) else { return None };
    match (graph.op(a), graph.op(b)) {
        (Op::Transpose(x), Op::Transpose(y))
            if is_transpose(graph, a) && is_transpose(graph, b) && !graph.is_scalar(x) && !graph.is_scalar(y) =>
        {
            let product = build(graph, Op::Mul(x, y));
            Some(build(graph, Op::Transpose(product)))
        }
        _ => None,
    }
}

fn scalars_out_of_reductions(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let (a, trace) = match graph.op(id) {
        Op::Sum(a) => (a, false),
        Op::Trace(a) => (a, true),
        _ => return None,
    };
    let term = Monomial::of(graph, a);
    let core = term.core?;
    if term.is_bare() {
        return None;
    }
    let reduced = build(graph, if trace { Op::Trace(core) } else { Op::Sum(core) });
    Some(term.scalar_part().times(Monomial::of(graph, reduced)).build(graph))
}

fn sum_of_transpose(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Sum(a) = graph.op(id) else { return None };
    match graph.op(a) {
        Op::Transpose(x) if is_transpose(graph, a) => Some(build(graph, Op::Sum(x))),
        _ => None,
    }
}

fn diag_of_transpose(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::DiagPart(a) = graph.op(id) else { return None };
    match graph.op(a) {
        Op::Transpose(x) if is_transpose(graph, a) => Some(build(graph, Op::DiagPart(x))),
        _ => None,
    }
}

/// The diagonal of an outer product of vectors, `diag(u vᵀ)`, is `u ⊙ v`: no n × n matrix.
fn diag_of_outer(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::DiagPart(a) = graph.op(id) else { return None };
    let Op::MatMul(u, row) = graph.op(a) else { return None };
    let (rows, cols) = (graph.shape(u), graph.shape(row));
    if graph.name(a).is_some() || !graph.dims.is_vector(rows) || !graph.dims.is_vector(cols.transposed()) {
        return None;
    }
    let v = build(graph, Op::Transpose(row));
    Some(build(graph, Op::Mul(u, v)))
}

fn sum_of_elementwise_product(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Sum(a) = graph.op(id) else { return None };
    // A transposed vector's entries are the vector's: sum((xᵀ)²) is xᵀx too.
    let plain = |graph: &Graph, x: NodeId| match graph.op(x) {
        Op::Transpose(y) if graph.name(x).is_none() && graph.dims.is_vector(graph.shape(y)) => y,
        _ => x,
    };
    let (u, v) = match graph.op(a) {
        Op::Mul(u, v) => (plain(graph, u), plain(graph, v)),
        Op::Pow(u, two) if constant(graph, two) == Some(2.0) => (plain(graph, u), plain(graph, u)),
        _ => return None,
    };
    let is_vector = |x: NodeId| graph.dims.is_vector(graph.shape(x));
    // Only for named factors (`xᵀ x`): a sum over a product of long expressions reads
    // better as it is.
    let named = |x: NodeId| graph.name(x).is_some();
    if graph.name(a).is_some() || !is_vector(u) || !is_vector(v) || !named(u) || !named(v) {
        return None;
    }
    let ut = build(graph, Op::Transpose(u));
    // Added, not built: see `dot_as_sum`, the rule the other way.
    Some(graph.add(Op::MatMul(ut, v)).expect("a dot product of two vectors of one length"))
}

fn negate_difference(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Neg(sum) = graph.op(id) else { return None };
    let Op::Add(a, b) = graph.op(sum) else { return None };
    if graph.name(sum).is_some() || Monomial::of(graph, a).is_negative() || !Monomial::of(graph, b).is_negative() {
        return None;
    }
    let (minus_a, minus_b) = (build(graph, Op::Neg(a)), build(graph, Op::Neg(b)));
    Some(build(graph, Op::Add(minus_b, minus_a)))
}

fn negative_last(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Add(a, b) = graph.op(id) else { return None };
    let negative = |x: NodeId| Monomial::of(graph, x).is_negative() || matches!(graph.op(x), Op::Const(c) if c.0 < 0.0);
    if negative(a) && !negative(b) && graph.shape(a) == graph.shape(b) {
        Some(build(graph, Op::Add(b, a)))
    } else {
        None
    }
}

fn canonical_scaling(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    match graph.op(id) {
        Op::Neg(_) => {}
        Op::Mul(a, b) if graph.is_scalar(a) || graph.is_scalar(b) => {}
        Op::Div(_, b) if graph.is_scalar(b) => {}
        _ => return None,
    }
    Some(Monomial::of_node(graph, id).build(graph))
}

/// The most factors [`elementwise_order`] sorts: a longer chain (the adjoint at the start of
/// a long chain of elementwise statements) is left in the order it was built, so that each
/// new factor costs a bounded amount of work.
const MAX_ELEMENTWISE_FACTORS: usize = 64;

/// The factors of a chain of elementwise products of non-scalars, appended to `factors`;
/// None when there are more than [`MAX_ELEMENTWISE_FACTORS`].
fn elementwise_factors(graph: &Graph, id: NodeId, factors: &mut Vec<NodeId>) -> Option<()> {
    let mut stack = vec![id];
    while let Some(id) = stack.pop() {
        match graph.op(id) {
            Op::Mul(a, b) if graph.name(id).is_none() && !graph.is_scalar(a) && !graph.is_scalar(b) => {
                stack.extend([b, a]);
            }
            _ => factors.push(id),
        }
        if factors.len() + stack.len() > MAX_ELEMENTWISE_FACTORS {
            return None;
        }
    }
    Some(())
}

/// The factors of `id` when it is an elementwise product of two non-scalars (a scaling is
/// not one): what the rules on elementwise products read.
fn product_factors(graph: &Graph, id: NodeId) -> Option<Vec<NodeId>> {
    let Op::Mul(a, b) = graph.op(id) else { return None };
    if graph.is_scalar(a) || graph.is_scalar(b) {
        return None;
    }
    let mut factors = Vec::new();
    elementwise_factors(graph, a, &mut factors)?;
    elementwise_factors(graph, b, &mut factors)?;
    Some(factors)
}

fn elementwise_order(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let mut factors = product_factors(graph, id)?;
    factors.sort();
    let mut product = factors[0];
    for &factor in &factors[1..] {
        product = graph.add(Op::Mul(product, factor)).expect("factors of one shape");
    }
    Some(product)
}

/// The most terms of a sum read at once to find like terms among them; a longer sum is
/// read as its two operands.
const MAX_TERMS: usize = 8;

/// Like terms anywhere in a sum, not only side by side: in `Aᵀ − 2 A + Aᵀ` the two `Aᵀ`
/// combine. The first pair found combines, in the first's place; the rule fires again on
/// the rebuilt sum, which has a term fewer, until no two terms are alike.
fn collect_like_terms(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Add(a, b) = graph.op(id) else { return None };
    let terms = match sum_terms(graph, id) {
        // A transposed or negated sum's terms, each transposed or negated (`(Aᵀ − A)ᵀ` is
        // `A − Aᵀ`, `−(B + Aᵀ)` is `−B − Aᵀ`), so that they meet the terms beside it.
        Some(terms) if terms.iter().all(|t| t.is_plain()) => terms.into_iter().map(|t| t.node).collect(),
        Some(terms) => terms.into_iter().map(|t| t.build(graph)).collect(),
        None => vec![a, b],
    };
    // A fill is its scalar times ones, so that `6 𝟙` and `−6 𝟙` apart in a sum are like.
    let monomials: Vec<Monomial> = terms.iter().map(|&t| scaled_fill_or_term(graph, t)).collect();
    let (i, j) = (0..terms.len())
        .flat_map(|i| (i + 1..terms.len()).map(move |j| (i, j)))
        .find(|&(i, j)| monomials[i].same_factors(&monomials[j], graph))?;
    let (left, right) = (&monomials[i], &monomials[j]);
    let coefficient = left.coefficient + right.coefficient;
    // The terms are one value, perhaps spelled two ways (`A + Aᵀ` and `(A + Aᵀ)ᵀ`): the
    // shorter spelling stays.
    let kept = match (left.core, right.core) {
        (Some(x), Some(y)) if super::Cost::of(graph, y) < super::Cost::of(graph, x) => right,
        _ => left,
    };
    let combined = (coefficient != 0.0).then(|| Monomial { coefficient, ..kept.clone() }.build(graph));
    with_pair_replaced(graph, id, &terms, (i, j), combined)
}

/// The sum `id` of `terms` with terms `i` and `j` replaced by `combined` at `i` (or dropped,
/// for None), of the sum's shape: a scalar left alone (`A − A + c`) is broadcast as `c 𝟙 𝟙ᵀ`.
fn with_pair_replaced(
    graph: &mut Graph,
    id: NodeId,
    terms: &[NodeId],
    (i, j): (usize, usize),
    combined: Option<NodeId>,
) -> Option<NodeId> {
    let rest: Vec<NodeId> = terms
        .iter()
        .enumerate()
        .filter_map(|(k, &term)| match k {
            k if k == i => combined,
            k if k == j => None,
            _ => Some(term),
        })
        .collect();
    match rest.split_first() {
        None => {
            let shape = graph.shape(id);
            Some(zeros(graph, shape))
        }
        Some((&first, others)) => {
            let sum = others.iter().fold(first, |sum, &term| build(graph, Op::Add(sum, term)));
            let shape = graph.shape(id);
            if graph.shape(sum) == shape {
                return Some(sum);
            }
            // What is left is a scalar broadcast over the sum's shape: its fill (`p − 1 − p`
            // is −𝟙), or `s 𝟙`.
            if !graph.is_scalar(sum) {
                return None;
            }
            Some(match constant(graph, sum) {
                Some(c) => fill(graph, c, shape),
                None => {
                    let ones = fill(graph, 1.0, shape);
                    build(graph, Op::Mul(sum, ones))
                }
            })
        }
    }
}

/// One term of a sum as [`sum_terms`] reads it: the node, and whether a transpose and a minus
/// stand over it (`(Aᵀ − A)ᵀ` holds `A` transposed, `A` transposed and negated).
#[derive(Debug, Clone, Copy)]
struct Term {
    node: NodeId,
    transposed: bool,
    negated: bool,
}

impl Term {
    /// The term as a node of its own, its transpose and minus built through the rules.
    fn build(self, graph: &mut Graph) -> NodeId {
        let mut node = self.node;
        if self.transposed {
            node = build(graph, Op::Transpose(node));
        }
        if self.negated {
            node = build(graph, Op::Neg(node));
        }
        node
    }

    fn is_plain(self) -> bool {
        !self.transposed && !self.negated
    }
}

/// The terms of a sum, left to right, through the nested, transposed and negated sums the
/// user did not name (`B − (B + Aᵀ) + Aᵀ` is four terms); None past [`MAX_TERMS`].
fn sum_terms(graph: &Graph, id: NodeId) -> Option<Vec<Term>> {
    let mut terms = Vec::new();
    let mut stack = vec![Term { node: id, transposed: false, negated: false }];
    let is_sum = |x: NodeId| matches!(graph.op(x), Op::Add(..)) && graph.name(x).is_none();
    while let Some(term) = stack.pop() {
        let unnamed = term.node == id || graph.name(term.node).is_none();
        match graph.op(term.node) {
            Op::Add(a, b) if unnamed => {
                stack.push(Term { node: b, ..term });
                stack.push(Term { node: a, ..term });
            }
            Op::Transpose(inner) if unnamed && is_sum(inner) => {
                stack.push(Term { node: inner, transposed: !term.transposed, ..term });
            }
            Op::Neg(inner)
                if unnamed && (is_sum(inner) || matches!(graph.op(inner), Op::Transpose(x) if is_sum(x))) =>
            {
                stack.push(Term { node: inner, negated: !term.negated, ..term });
            }
            _ => terms.push(term),
        }
        if terms.len() + stack.len() > MAX_TERMS {
            return None;
        }
    }
    Some(terms)
}

/// Multiset intersection of two sorted lists.
fn common(a: &[NodeId], b: &[NodeId]) -> Vec<NodeId> {
    let mut rest = b.to_vec();
    a.iter().filter(|x| rest.iter().position(|y| y == *x).map(|i| rest.remove(i)).is_some()).copied().collect()
}

fn common_scalar_factor(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Add(a, b) = graph.op(id) else { return None };
    let (left, right) = (Monomial::of(graph, a), Monomial::of(graph, b));
    left.core?;
    right.core?;
    // The common part: the coefficient when both have it (with the sign when both are
    // negative), and the scalar factors both share.
    let magnitude = if left.coefficient.abs() == right.coefficient.abs() { left.coefficient.abs() } else { 1.0 };
    let both_negative = left.coefficient < 0.0 && right.coefficient < 0.0;
    let shared = Monomial {
        coefficient: if both_negative { -magnitude } else { magnitude },
        numerator: common(&left.numerator, &right.numerator),
        denominator: common(&left.denominator, &right.denominator),
        core: None,
    };
    if shared.coefficient == 1.0 && shared.numerator.is_empty() && shared.denominator.is_empty() {
        return None;
    }
    let rest = |graph: &mut Graph, term: &Monomial| {
        Monomial {
            coefficient: term.coefficient / shared.coefficient,
            numerator: without(&term.numerator, &shared.numerator),
            denominator: without(&term.denominator, &shared.denominator),
            core: term.core,
        }
        .build(graph)
    };
    let (x, y) = (rest(graph, &left), rest(graph, &right));
    let sum = build(graph, Op::Add(x, y));
    Some(shared.with_core(sum).build(graph))
}

/// The terms of the sum `id` (a transposed or negated sum's terms are collect-like-terms' to
/// read: taking a factor out of one would first need the transpose or minus built over each
/// of its terms, so such a sum is its two operands).
fn plain_terms(graph: &Graph, id: NodeId) -> Option<Vec<NodeId>> {
    let Op::Add(a, b) = graph.op(id) else { return None };
    Some(match sum_terms(graph, id) {
        Some(terms) if terms.iter().all(|t| t.is_plain()) => terms.into_iter().map(|t| t.node).collect(),
        _ => vec![a, b],
    })
}

/// Two terms of a sum that are one non-scalar value times different scalars (which
/// collect-like-terms, adding constant coefficients only, leaves apart): their scalars summed.
fn common_core(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let terms = plain_terms(graph, id)?;
    let monomials: Vec<Monomial> = terms.iter().map(|&t| Monomial::of(graph, t)).collect();
    let (i, j) = (0..terms.len()).flat_map(|i| (i + 1..terms.len()).map(move |j| (i, j))).find(|&(i, j)| {
        let (x, y) = (&monomials[i], &monomials[j]);
        x.core.is_some() && x.core == y.core && !x.same_factors(y, graph)
    })?;
    let (x, y) = (monomials[i].scalar_part(), monomials[j].scalar_part());
    let core = monomials[i].core.expect("found with a core");
    let (x, y) = (x.build(graph), y.build(graph));
    let scalar = build(graph, Op::Add(x, y));
    let combined = build(graph, Op::Mul(scalar, core));
    with_pair_replaced(graph, id, &terms, (i, j), Some(combined))
}

/// The most factors of a product [`common_matrix_factor`] takes a factor out of. A longer
/// one (an adjoint deep in a chain of statements, `Aᵀ Aᵀ … Aᵀ w̄`) would be rebuilt whole
/// for each sum it meets, and the terms a person factors have a handful.
const MAX_FACTORED: usize = 8;

/// `A X + c A Y = A (X + c Y)` and `X B + Y B = (X + Y) B`, for any two terms of a sum
/// (`Aᵀ x − 2 s x + A x` is `(Aᵀ + A) x − 2 s x`), the factor read through the products'
/// association (`A (B x) + A y` is `A (B x + y)`).
fn common_matrix_factor(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let terms = plain_terms(graph, id)?;
    let monomials: Vec<Monomial> = terms.iter().map(|&t| Monomial::of(graph, t)).collect();
    let chains: Vec<Option<Vec<NodeId>>> = monomials
        .iter()
        .map(|m| {
            let core = m.core?;
            let is_product = matches!(graph.op(core), Op::MatMul(..)) && graph.name(core).is_none();
            is_product.then(|| chain::factors(graph, core)).flatten().filter(|f| f.len() <= MAX_FACTORED)
        })
        .collect();
    // What is left of each product once the factor is out is a sum, which the plan writes
    // out as a dense array unless it can distribute the factor over it again. So not where
    // a rest is a diagonal or an outer product u … vᵀ, cheap only as a product, except for
    // one diagonal beside one outer product: `Diag(p) A − p pᵀ A` reads better as
    // (Diag(p) − p pᵀ) A, softmax's Jacobian times A, and the plan computes that as
    // Diag(p) A − p (pᵀ A) (`eval::plan::lower`'s `distributes`). Two outer products,
    // `(Aᵀ Diag(p) − Aᵀ p pᵀ) A` as Aᵀ (Diag(p) − p pᵀ) A before the plan distributed
    // it, were an n×n sum where the terms were n×d (the log-sum-exp Hessian 8× slower).
    let diagonal = |graph: &Graph, rest: &[NodeId]| matches!(rest, [d] if matches!(graph.op(*d), Op::Diag(_)));
    let outer = |graph: &Graph, rest: &[NodeId]| {
        rest.len() >= 2 && chain::is_column(graph, rest[0]) && chain::is_row(graph, rest[rest.len() - 1])
    };
    let structured =
        |graph: &Graph, rest: &[NodeId]| rest.iter().all(|&f| matches!(graph.op(f), Op::Diag(_))) || outer(graph, rest);
    let softmax_like = |graph: &Graph, x: &[NodeId], y: &[NodeId]| {
        diagonal(graph, x) && outer(graph, y) || outer(graph, x) && diagonal(graph, y)
    };
    let (i, j, left) =
        (0..terms.len()).flat_map(|i| (i + 1..terms.len()).map(move |j| (i, j))).find_map(|(i, j)| {
            let (Some(x), Some(y)) = (&chains[i], &chains[j]) else { return None };
            let fits = |rest_x: &[NodeId], rest_y: &[NodeId]| {
                softmax_like(graph, rest_x, rest_y) || !structured(graph, rest_x) && !structured(graph, rest_y)
            };
            match (x.first() == y.first(), x.last() == y.last()) {
                (true, _) if fits(&x[1..], &y[1..]) => Some((i, j, true)),
                (_, true) if fits(&x[..x.len() - 1], &y[..y.len() - 1]) => Some((i, j, false)),
                _ => None,
            }
        })?;
    let (x, y) = (chains[i].as_ref().expect("found"), chains[j].as_ref().expect("found"));
    let (factor, x, y) = match left {
        true => (x[0], &x[1..], &y[1..]),
        false => (x[x.len() - 1], &x[..x.len() - 1], &y[..y.len() - 1]),
    };
    let rest = |graph: &mut Graph, term: &Monomial, chain: &[NodeId]| {
        let core = chain::part(graph, chain);
        term.with_core(core).build(graph)
    };
    let (x, y) = (rest(graph, &monomials[i], x), rest(graph, &monomials[j], y));
    let sum = build(graph, Op::Add(x, y));
    let combined = build(graph, if left { Op::MatMul(factor, sum) } else { Op::MatMul(sum, factor) });
    with_pair_replaced(graph, id, &terms, (i, j), Some(combined))
}

fn inverse_twice(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Inv(a) = graph.op(id) else { return None };
    match graph.op(a) {
        Op::Inv(x) if graph.name(a).is_none() => Some(x),
        _ => None,
    }
}

fn inverse_of_transpose(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Inv(a) = graph.op(id) else { return None };
    let Op::Transpose(x) = graph.op(a) else { return None };
    if graph.name(a).is_some() {
        return None;
    }
    let inverse = build(graph, Op::Inv(x));
    Some(build(graph, Op::Transpose(inverse)))
}

fn power_of_transpose(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::MatPow(a, k) = graph.op(id) else { return None };
    let Op::Transpose(x) = graph.op(a) else { return None };
    if graph.name(a).is_some() {
        return None;
    }
    let power = build(graph, Op::MatPow(x, k));
    Some(build(graph, Op::Transpose(power)))
}

/// `c I`, through the rules.
fn scaled_identity(graph: &mut Graph, c: f64, n: Dim) -> NodeId {
    let eye = build(graph, Op::Eye(n));
    if c == 1.0 {
        return eye;
    }
    let c = graph.constant(c);
    build(graph, Op::Mul(c, eye))
}

fn diag_of_fill(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Diag(a) = graph.op(id) else { return None };
    match graph.op(a) {
        Op::Fill(c, shape) => Some(scaled_identity(graph, c.0, shape.rows)),
        // A scaled fill is held as s 𝟙 (`scaled_fill_or_term`): Diag(s 𝟙) = s I, so that
        // tr(A) − Σᵢ Aᵢᵢ's gradient, I + Diag(−1 𝟙), cancels.
        Op::Mul(s, f) | Op::Mul(f, s) if graph.is_scalar(s) => {
            let Op::Fill(c, shape) = graph.op(f) else { return None };
            let eye = scaled_identity(graph, c.0, shape.rows);
            Some(build(graph, Op::Mul(s, eye)))
        }
        _ => None,
    }
}

/// A fill of `shape` with every entry `value`: a constant for a scalar.
fn fill(graph: &mut Graph, value: f64, shape: Shape) -> NodeId {
    if graph.dims.is_scalar(shape) {
        graph.constant(value)
    } else {
        graph.add(Op::Fill(Constant(value), shape)).expect("a fill has its own shape")
    }
}

/// The number of entries of `shape` as a scalar node: a constant where the sizes are numbers.
fn entries(graph: &mut Graph, shape: Shape) -> NodeId {
    let mut factors = Vec::new();
    for dim in [shape.rows, shape.cols] {
        match graph.dims.resolve(dim) {
            Dim::Number(1) => {}
            Dim::Number(n) => factors.push(graph.constant(n as f64)),
            _ => factors.push(graph.add(Op::Size(dim)).expect("a size is a scalar")),
        }
    }
    match factors[..] {
        [] => graph.constant(1.0),
        [one] => one,
        [a, b] => build(graph, Op::Mul(a, b)),
        _ => unreachable!("a shape has two dimensions"),
    }
}

fn fill_arithmetic(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let shape = graph.shape(id);
    let value = match graph.op(id) {
        Op::Neg(a) => -uniform(graph, a)?,
        Op::Add(a, b) if graph.shape(a) == graph.shape(b) => uniform(graph, a)? + uniform(graph, b)?,
        Op::Mul(a, b) => uniform(graph, a)? * uniform(graph, b)?,
        Op::Div(a, b) => uniform(graph, a)? / uniform(graph, b)?,
        Op::Pow(a, b) => uniform(graph, a)?.powf(uniform(graph, b)?),
        Op::Map(f, a) => scalar_function(f)(uniform(graph, a)?),
        Op::Transpose(a) => uniform(graph, a)?,
        Op::Sum(a) => {
            let c = uniform(graph, a)?;
            let a_shape = graph.shape(a);
            let count = entries(graph, a_shape);
            let c = graph.constant(c);
            return Some(build(graph, Op::Mul(c, count)));
        }
        _ => return None,
    };
    value.is_finite().then(|| fill(graph, value, shape))
}

/// sum(Iₙ) = tr(Iₙ) = n: the size itself, which prints as its name (an identity sized only by
/// its use would otherwise print as a bare `I` whose size the text no longer says).
fn size_of_identity(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let (Op::Sum(a) | Op::Trace(a)) = graph.op(id) else { return None };
    let Op::Eye(n) = graph.op(a) else { return None };
    match graph.dims.resolve(n) {
        Dim::Number(n) => Some(graph.constant(n as f64)),
        n => Some(graph.add(Op::Size(n)).expect("a size is a scalar")),
    }
}

fn fill_as_scalar(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Mul(a, b) = graph.op(id) else { return None };
    let (c, other) = match (graph.op(a), graph.op(b)) {
        (Op::Fill(c, _), _) if graph.shape(b) == graph.shape(id) && !graph.is_scalar(b) => (c, b),
        (_, Op::Fill(c, _)) if graph.shape(a) == graph.shape(id) && !graph.is_scalar(a) => (c, a),
        _ => return None,
    };
    let c = graph.constant(c.0);
    Some(build(graph, Op::Mul(c, other)))
}

fn product_of_fills(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::MatMul(a, b) = graph.op(id) else { return None };
    let (Op::Fill(c, left), Op::Fill(d, _)) = (graph.op(a), graph.op(b)) else { return None };
    let shape = graph.shape(id);
    let inner = entries(graph, Shape::vector(left.cols));
    let ones = fill(graph, c.0 * d.0, shape);
    Some(build(graph, Op::Mul(inner, ones)))
}

fn dot_with_ones(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::MatMul(a, b) = graph.op(id) else { return None };
    if !graph.is_scalar(id) {
        return None;
    }
    let (c, v) = match (graph.op(a), graph.op(b)) {
        (Op::Fill(c, _), _) => (c.0, b),
        (_, Op::Fill(c, _)) => (c.0, a),
        _ => return None,
    };
    let sum = build(graph, Op::Sum(v));
    let c = graph.constant(c);
    Some(build(graph, Op::Mul(c, sum)))
}

fn dot_as_sum(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::MatMul(a, w) = graph.op(id) else { return None };
    let Op::Transpose(u) = graph.op(a) else { return None };
    let is_vector = |x: NodeId| graph.dims.is_vector(graph.shape(x));
    if graph.name(a).is_some() || !is_vector(u) || !is_vector(w) {
        return None;
    }
    let product = build(graph, Op::Mul(u, w));
    // Only where the elementwise product simplified: `sum(u ⊙ w)` itself is no shorter than
    // `uᵀ w`, only free of a transpose, and the dot product is how a person writes it.
    if matches!(graph.op(product), Op::Mul(a, b) if (a, b) == (u, w) || (a, b) == (w, u)) {
        return None;
    }
    // Added, not built: `sum-of-elementwise-product` goes the other way for named vectors,
    // and the cost model, which judges the result, must see it before any other rule does.
    Some(graph.add(Op::Sum(product)).expect("a sum is a scalar"))
}

fn elementwise_powers(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let factors = product_factors(graph, id)?;
    // Each factor as base^exponent; bases in first-seen order, exponents summed.
    let mut bases: Vec<(NodeId, f64)> = Vec::new();
    let mut merged = false;
    for f in factors {
        let (base, k) = match graph.op(f) {
            Op::Pow(x, e) if graph.name(f).is_none() && !graph.is_scalar(x) => match constant(graph, e) {
                Some(k) => (x, k),
                None => (f, 1.0),
            },
            _ => (f, 1.0),
        };
        match bases.iter_mut().find(|(b, _)| *b == base) {
            Some((_, e)) => {
                *e += k;
                merged = true;
            }
            None => bases.push((base, k)),
        }
    }
    if !merged {
        return None;
    }
    let shape = graph.shape(id);
    let mut product: Option<NodeId> = None;
    for (base, k) in bases {
        let factor = if k == 0.0 {
            continue;
        } else if k == 1.0 {
            base
        } else {
            let k = graph.constant(k);
            build(graph, Op::Pow(base, k))
        };
        product = Some(match product {
            None => factor,
            Some(p) => build(graph, Op::Mul(p, factor)),
        });
    }
    Some(product.unwrap_or_else(|| fill(graph, 1.0, shape)))
}
