//! Matrix products read as chains of factors: `A (B x)` and `(A B) x` are the one chain
//! `[A, B, x]`, so the rules see through association.
//!
//! A chain is rebuilt in one canonical association, chosen from its factors' kinds so that
//! it is also the cheap one to compute where the chain holds vectors (the generated code
//! follows the graph's association; the plan chooses its own order): a chain that ends in a
//! column vector is multiplied from the right (`A (B x)`), one that starts with a row vector
//! from the left (`(xᵀ A) B`), and a chain with an outer product `u vᵀ` inside is split
//! there. Equal chains thus become one node (hash-consing), which is what lets like terms
//! (`A x xᵀ + (x xᵀ Aᵀ)ᵀ`) be collected.

use crate::ir::{Graph, NodeId, Op};

use super::build;

/// The most factors a chain is read with: a longer one (the adjoint at the start of a long
/// chain of products) is left as it was built, so that each new factor costs bounded work.
const MAX_FACTORS: usize = 64;

/// The largest power factors are merged into (`A A … A`); `MatPow` holds a `u32`, and a
/// larger power is not a form a person writes.
const MAX_POWER: u32 = 64;

/// The factors of `id`'s product chain, left to right; None past [`MAX_FACTORS`]. Named
/// products are atoms: looking inside would lose the user's name.
pub fn factors(graph: &Graph, id: NodeId) -> Option<Vec<NodeId>> {
    let mut out = Vec::new();
    let mut stack = vec![id];
    while let Some(x) = stack.pop() {
        match graph.op(x) {
            Op::MatMul(a, b) if x == id || graph.name(x).is_none() => stack.extend([b, a]),
            _ => out.push(x),
        }
        if out.len() + stack.len() > MAX_FACTORS {
            return None;
        }
    }
    Some(out)
}

pub fn is_column(graph: &Graph, id: NodeId) -> bool {
    graph.dims.is_vector(graph.shape(id))
}

pub fn is_row(graph: &Graph, id: NodeId) -> bool {
    graph.dims.is_vector(graph.shape(id).transposed())
}

/// The chain's product in its canonical association. The inner products are built through
/// the rules; the outermost is only added, since a rule that rebuilds its own node through
/// [`build`] would rewrite it again without end (the caller's rewrite loop simplifies it).
pub fn product(graph: &mut Graph, factors: &[NodeId]) -> NodeId {
    let top = |graph: &mut Graph, a: NodeId, b: NodeId| graph.add(Op::MatMul(a, b)).expect("a chain's factors fit");
    let (&first, &last) = (factors.first().expect("a chain has a factor"), factors.last().expect("non-empty"));
    let n = factors.len();
    if n == 1 {
        return first;
    }
    if let Some(k) = outer_split(graph, factors) {
        let (left, right) = (part(graph, &factors[..k]), part(graph, &factors[k..]));
        return top(graph, left, right);
    }
    if is_column(graph, last) {
        // Right to left: A (B (C x)).
        let rest = part(graph, &factors[1..]);
        top(graph, first, rest)
    } else {
        let rest = part(graph, &factors[..n - 1]);
        top(graph, rest, last)
    }
}

/// Where a chain of more than two factors holds an outer product `u vᵀ`: each side is thin,
/// multiplied toward it.
fn outer_split(graph: &Graph, factors: &[NodeId]) -> Option<usize> {
    let n = factors.len();
    (n > 2).then(|| (1..n).find(|&k| is_column(graph, factors[k - 1]) && is_row(graph, factors[k]))).flatten()
}

/// Whether `id` already is [`product`] of `factors`, read without building anything: a chain
/// in its canonical form is left alone at the cost of one walk (rebuilding it would run the
/// rules on every inner product again, quadratic in the chain's length at every new factor).
fn is_product(graph: &Graph, id: NodeId, factors: &[NodeId]) -> bool {
    let n = factors.len();
    if n == 1 {
        return id == factors[0];
    }
    let Op::MatMul(a, b) = graph.op(id) else { return false };
    if let Some(k) = outer_split(graph, factors) {
        return is_product(graph, a, &factors[..k]) && is_product(graph, b, &factors[k..]);
    }
    if is_column(graph, factors[n - 1]) {
        a == factors[0] && is_product(graph, b, &factors[1..])
    } else {
        b == factors[n - 1] && is_product(graph, a, &factors[..n - 1])
    }
}

/// A part of a chain, simplified: [`product`] of it through [`build`].
pub fn part(graph: &mut Graph, factors: &[NodeId]) -> NodeId {
    match factors {
        [one] => *one,
        _ => {
            let p = product(graph, factors);
            match graph.op(p) {
                Op::MatMul(a, b) => build(graph, Op::MatMul(a, b)),
                _ => p,
            }
        }
    }
}

/// A factor as a signed power of a base, so that runs of one base merge and cancel: `A` is
/// `(A, 1)`, `Aᵏ` is `(A, k)`, `A⁻¹` is `(A, −1)`, `(Aᵏ)⁻¹` and `(A⁻¹)ᵏ` are `(A, −k)`, and the transpose
/// of any of these is the same power of `Aᵀ` (`(A²)ᵀ` is `(Aᵀ, 2)`, `A⁻ᵀ` is `(Aᵀ, −1)`).
/// Named nodes are atoms, as in [`factors`].
fn as_power(graph: &mut Graph, id: NodeId) -> (NodeId, i64) {
    let unnamed = |graph: &Graph, x: NodeId| graph.name(x).is_none();
    let untransposed = |graph: &Graph, x: NodeId| -> Option<(NodeId, i64)> {
        if !unnamed(graph, x) {
            return None;
        }
        match graph.op(x) {
            Op::MatPow(a, k) => match graph.op(a) {
                Op::Inv(b) if unnamed(graph, a) => Some((b, -i64::from(k))),
                _ => Some((a, i64::from(k))),
            },
            Op::Inv(a) => match graph.op(a) {
                Op::MatPow(b, k) if unnamed(graph, a) => Some((b, -i64::from(k))),
                _ => Some((a, -1)),
            },
            _ => None,
        }
    };
    if let Some(power) = untransposed(graph, id) {
        return power;
    }
    if let Op::Transpose(inner) = graph.op(id) {
        if unnamed(graph, id) {
            if let Some((base, k)) = untransposed(graph, inner) {
                return (build(graph, Op::Transpose(base)), k);
            }
        }
    }
    (id, 1)
}

/// `baseᵏ` for a nonzero `k`: `base`, `Aᵏ`, `A⁻¹`, `(Aᵏ)⁻¹`, through the rules (so that
/// `(Aᵀ)²` is `(A²)ᵀ` and `(Aᵀ)⁻¹` is `A⁻ᵀ`).
fn power(graph: &mut Graph, base: NodeId, k: i64) -> NodeId {
    let magnitude = u32::try_from(k.unsigned_abs()).expect("bounded by MAX_POWER");
    let positive = if magnitude == 1 { base } else { build(graph, Op::MatPow(base, magnitude)) };
    if k > 0 {
        positive
    } else {
        build(graph, Op::Inv(positive))
    }
}

/// `id`'s chain with identities removed, inverse pairs cancelled and runs of one base
/// merged into a power, in the canonical association: `A X⁻¹ X A` is `A²`. None when
/// `id` is not a product, or its chain is too long to read.
pub fn canonical(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    if !matches!(graph.op(id), Op::MatMul(..)) {
        return None;
    }
    let factors = factors(graph, id)?;
    // A chain applied to a vector is computed as products with vectors, `Aᵀ (Aᵀ w)`: merged
    // into `(A²)ᵀ w`, the plan would square the matrix (n³ instead of 2n² operations).
    let merge_powers = !factors.iter().any(|&f| is_column(graph, f) || is_row(graph, f));
    let mut powers: Vec<(NodeId, i64)> = Vec::with_capacity(factors.len());
    for &f in &factors {
        if !matches!(graph.op(f), Op::Eye(_)) {
            powers.push(as_power(graph, f));
        }
    }
    let mut out = merged(&powers, merge_powers)?;
    // The inverse of a product of square factors read as the product of their inverses,
    // (A X B)⁻¹ = B⁻¹ X⁻¹ A⁻¹, where that lets factors cancel (Aᵀ (A X B)⁻ᵀ Bᵀ = X⁻ᵀ).
    if let Some(expanded) = inverses_expanded(graph, &powers) {
        if let Some(shorter) = merged(&expanded, merge_powers).filter(|e| e.len() < out.len()) {
            out = shorter;
        }
    }
    // Nothing removed or merged: every factor stands as it was (a power unmerged rebuilds to
    // itself), so only the association can differ.
    if out.len() == factors.len() && is_product(graph, id, &factors) {
        return None;
    }
    let mut rebuilt = Vec::with_capacity(out.len());
    for (base, k) in out {
        // A square base only: a vector's `x x` does not type, so runs of it never form.
        rebuilt.push(power(graph, base, k));
    }
    if rebuilt.is_empty() {
        // Everything cancelled: the identity of the product's size.
        let n = graph.shape(id).rows;
        return Some(build(graph, Op::Eye(n)));
    }
    Some(product(graph, &rebuilt))
}

/// Runs of one base merged: powers of opposite signs cancel (`X⁻³ X² = X⁻¹`, `A⁻¹ A = I`),
/// which is less work in any chain; same signs merge only when `merge_powers`. None past
/// [`MAX_POWER`].
fn merged(powers: &[(NodeId, i64)], merge_powers: bool) -> Option<Vec<(NodeId, i64)>> {
    let mut out: Vec<(NodeId, i64)> = Vec::with_capacity(powers.len());
    for &(base, k) in powers {
        match out.last_mut() {
            Some((b, j)) if *b == base && (merge_powers || (*j > 0) != (k > 0)) => {
                if (*j + k).unsigned_abs() > u64::from(MAX_POWER) {
                    return None;
                }
                *j += k;
                if *j == 0 {
                    out.pop();
                }
            }
            _ => out.push((base, k)),
        }
    }
    Some(out)
}

/// `powers` with each inverse of an unnamed product of square factors, `(F₁ … Fₖ)⁻¹` (a
/// power of −1 whose base is a product), replaced by `Fₖ⁻¹ … F₁⁻¹`, its transpose
/// `(F₁ … Fₖ)⁻ᵀ` by `F₁⁻ᵀ … Fₖ⁻ᵀ`, and each transposed product beside them by its factors'
/// transposes. None when there is no inverse of a product (nothing is built then).
fn inverses_expanded(graph: &mut Graph, powers: &[(NodeId, i64)]) -> Option<Vec<(NodeId, i64)>> {
    let square = |graph: &Graph, x: NodeId| {
        let shape = graph.shape(x);
        graph.dims.resolve(shape.rows) == graph.dims.resolve(shape.cols)
    };
    let product_of_squares = |graph: &Graph, x: NodeId| -> Option<Vec<NodeId>> {
        if graph.name(x).is_some() || !matches!(graph.op(x), Op::MatMul(..)) {
            return None;
        }
        factors(graph, x).filter(|f| f.iter().all(|&f| square(graph, f)))
    };
    let untransposed = |graph: &Graph, base: NodeId| match graph.op(base) {
        Op::Transpose(inner) if graph.name(base).is_none() => inner,
        _ => base,
    };
    if !powers.iter().any(|&(base, k)| k == -1 && product_of_squares(graph, untransposed(graph, base)).is_some()) {
        return None;
    }
    let mut expanded = Vec::with_capacity(powers.len());
    for &(base, k) in powers {
        if k == 1 {
            // A transposed product beside them is opened too, `(A X)ᵀ = Xᵀ Aᵀ`, so that
            // `(A X)ᵀ (A X B)⁻ᵀ` is seen to be `B⁻ᵀ`.
            match graph.op(base) {
                Op::Transpose(inner) if graph.name(base).is_none() && graph.name(inner).is_none() => {
                    if let Some(inside) = factors(graph, inner).filter(|f| f.len() > 1) {
                        for &f in inside.iter().rev() {
                            let transposed = build(graph, Op::Transpose(f));
                            expanded.push(as_power(graph, transposed));
                        }
                        continue;
                    }
                }
                _ => {}
            }
        }
        if k != -1 {
            expanded.push((base, k));
            continue;
        }
        let transposed = match graph.op(base) {
            Op::Transpose(inner) if graph.name(base).is_none() => Some(inner),
            _ => None,
        };
        let Some(inside) = product_of_squares(graph, transposed.unwrap_or(base)) else {
            expanded.push((base, k));
            continue;
        };
        match transposed {
            None => {
                for &f in inside.iter().rev() {
                    let (b, j) = as_power(graph, f);
                    expanded.push((b, -j));
                }
            }
            Some(_) => {
                for &f in &inside {
                    let (b, j) = as_power(graph, f);
                    expanded.push((build(graph, Op::Transpose(b)), -j));
                }
            }
        }
    }
    Some(expanded)
}

/// `(F₁ F₂ … Fₖ)ᵀ = Fₖᵀ … F₁ᵀ`, each factor's transpose built through the rules (so that
/// `(xᵀ Aᵀ A)ᵀ` is `Aᵀ A x`). The cost model keeps it only where it is shorter.
pub fn transposed(graph: &mut Graph, id: NodeId) -> Option<NodeId> {
    let Op::Transpose(inner) = graph.op(id) else { return None };
    if graph.name(inner).is_some() || !matches!(graph.op(inner), Op::MatMul(..)) {
        return None;
    }
    let factors = factors(graph, inner)?;
    let reversed: Vec<NodeId> = factors.iter().rev().map(|&f| build(graph, Op::Transpose(f))).collect();
    Some(product(graph, &reversed))
}
