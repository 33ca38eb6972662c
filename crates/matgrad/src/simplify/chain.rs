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

fn is_column(graph: &Graph, id: NodeId) -> bool {
    graph.dims.is_vector(graph.shape(id))
}

fn is_row(graph: &Graph, id: NodeId) -> bool {
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
        let (left, right) = (inner(graph, &factors[..k]), inner(graph, &factors[k..]));
        return top(graph, left, right);
    }
    if is_column(graph, last) {
        // Right to left: A (B (C x)).
        let rest = inner(graph, &factors[1..]);
        top(graph, first, rest)
    } else {
        let rest = inner(graph, &factors[..n - 1]);
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
fn inner(graph: &mut Graph, factors: &[NodeId]) -> NodeId {
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

/// A factor as a power of a base: `A` is `(A, 1)`, `Aᵏ` is `(A, k)`, `(Aᵏ)ᵀ` is `(Aᵀ, k)`
/// where `Aᵀ` is a node of the graph already (the chain's own `Aᵀ` factors are).
fn as_power(graph: &Graph, id: NodeId) -> (NodeId, u32) {
    match graph.op(id) {
        Op::MatPow(a, k) if graph.name(id).is_none() => (a, k),
        _ => (id, 1),
    }
}

/// Whether `a b` is the identity: `X⁻¹ X`, `X X⁻¹`, and their transposes.
fn inverse_pair(graph: &Graph, a: NodeId, b: NodeId) -> bool {
    let unnamed = |x: NodeId| graph.name(x).is_none();
    let inverse_of = |x: NodeId, y: NodeId| matches!(graph.op(x), Op::Inv(z) if z == y && unnamed(x));
    let transposed = |x: NodeId| match graph.op(x) {
        Op::Transpose(z) if unnamed(x) => Some(z),
        _ => None,
    };
    inverse_of(a, b)
        || inverse_of(b, a)
        || match (transposed(a), transposed(b)) {
            (Some(x), Some(y)) => inverse_of(x, y) || inverse_of(y, x),
            _ => false,
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
    let mut out: Vec<(NodeId, u32)> = Vec::with_capacity(factors.len());
    for &f in &factors {
        if matches!(graph.op(f), Op::Eye(_)) {
            continue;
        }
        let (base, k) = as_power(graph, f);
        match out.last_mut() {
            Some((b, j)) if *b == base && merge_powers => {
                if *j + k > MAX_POWER {
                    return None;
                }
                *j += k;
            }
            Some(&mut (b, 1)) if k == 1 && inverse_pair(graph, b, base) => {
                out.pop();
            }
            _ => out.push((base, k)),
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
        rebuilt.push(if k == 1 { base } else { build(graph, Op::MatPow(base, k)) });
    }
    if rebuilt.is_empty() {
        // Everything cancelled: the identity of the product's size.
        let n = graph.shape(id).rows;
        return Some(build(graph, Op::Eye(n)));
    }
    Some(product(graph, &rebuilt))
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
