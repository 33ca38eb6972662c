//! Dense routines with no fused form: softmax, log-sum-exp, inverse, solves, determinants
//! and matrix powers. Each computes into its destination with scratch made at compile time
//! (the LU factors, pivots and faer's stack), so these allocate nothing per run either.

use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::linalg::lu::partial_pivoting::{factor, inverse, solve};
use faer::{Accum, MatMut, MatRef, Par};

use super::{put_slots, take_slots, Inputs, Memory, Source, ValueId, View};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Routine {
    Softmax,
    LogSumExp,
    Inverse,
    /// `A⁻¹ B` by LU, for `inv(A) B` (the inverse itself is never formed).
    Solve,
    Det,
    LogDet,
    /// A square matrix to the power k ≥ 2, by squaring.
    Power(u32),
}

/// A routine applied to one operand (and, for a solve, its right-hand side); `scratch`
/// holds the `n × n` values the routine needs: the LU factors, or the powers of the base.
#[derive(Debug)]
pub(super) struct Special {
    routine: Routine,
    operand: View,
    rhs: Option<View>,
    scratch: Vec<ValueId>,
}

/// Per-step scratch that is not an `f64` array.
pub(crate) enum SpecialScratch {
    None,
    Lu { forward: Vec<usize>, backward: Vec<usize>, stack: MemBuffer },
}

impl std::fmt::Debug for SpecialScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpecialScratch::None => f.write_str("None"),
            SpecialScratch::Lu { forward, .. } => write!(f, "Lu({})", forward.len()),
        }
    }
}

impl Special {
    /// `scratch(rows, cols)` makes a scratch value; `rhs` is a solve's B.
    pub(super) fn new(
        routine: Routine,
        operand: View,
        rhs: Option<View>,
        mut scratch: impl FnMut(usize, usize) -> ValueId,
    ) -> Special {
        let n = operand.rows;
        let scratch = match routine {
            Routine::Softmax | Routine::LogSumExp => vec![],
            Routine::Inverse | Routine::Solve | Routine::Det | Routine::LogDet => vec![scratch(n, n)],
            Routine::Power(_) => vec![scratch(n, n), scratch(n, n)],
        };
        Special { routine, operand, rhs, scratch }
    }

    pub(super) fn describe(&self, name: &dyn Fn(Source) -> String) -> String {
        let operand = if self.operand.transposed {
            format!("{}ᵀ", name(self.operand.source))
        } else {
            name(self.operand.source)
        };
        match self.routine {
            Routine::Softmax => format!("softmax({operand})"),
            Routine::LogSumExp => format!("logsumexp({operand})"),
            Routine::Inverse => format!("inv({operand})   [LU]"),
            Routine::Solve => {
                let rhs = self.rhs.map(|b| name(b.source)).unwrap_or_default();
                format!("{operand}⁻¹·{rhs}   [LU solve]")
            }
            Routine::Det => format!("det({operand})   [LU]"),
            Routine::LogDet => format!("logdet({operand})   [LU]"),
            Routine::Power(k) => format!("{operand}^{k}   [by squaring]"),
        }
    }

    /// Whether the routine runs on two threads: a large matrix power or LU does (its n³
    /// work is what products of as much work get threads for).
    pub(super) fn uses_threads(&self) -> bool {
        !matches!(self.routine, Routine::Softmax | Routine::LogSumExp) && threads(self.operand.rows) != Par::Seq
    }

    pub(super) fn reads(&self, out: &mut Vec<ValueId>) {
        for view in std::iter::once(self.operand).chain(self.rhs) {
            if let Source::Value(v) = view.source {
                out.push(v);
            }
        }
    }

    pub(super) fn scratch(&self, out: &mut Vec<ValueId>) {
        out.extend(&self.scratch);
    }

    /// An LU's factors may overwrite its operand, as LAPACK's `dgesv` does, where nothing
    /// reads the operand afterwards: a Newton step then holds its Hessian once, not twice.
    /// The allocator decides (`memory::assign`); [`Special::run`] sees it as one slot.
    pub(super) fn in_place(&self) -> Option<(ValueId, ValueId)> {
        match (self.routine, self.operand.source, self.scratch.as_slice()) {
            (Routine::Inverse | Routine::Solve | Routine::Det | Routine::LogDet, Source::Value(v), &[factors])
                if !self.operand.transposed =>
            {
                Some((factors, v))
            }
            _ => None,
        }
    }

    pub(super) fn workspace(&self) -> SpecialScratch {
        let n = self.operand.rows;
        match self.routine {
            Routine::Inverse | Routine::Solve | Routine::Det | Routine::LogDet => {
                let after = match (self.routine, self.rhs) {
                    (Routine::Inverse, _) => inverse::inverse_scratch::<usize, f64>(n, threads(n)),
                    (Routine::Solve, Some(b)) => solve::solve_in_place_scratch::<usize, f64>(n, b.cols, threads(n)),
                    _ => StackReq::EMPTY,
                };
                let request = factor::lu_in_place_scratch::<usize, f64>(n, n, threads(n), Default::default()).or(after);
                SpecialScratch::Lu { forward: vec![0; n], backward: vec![0; n], stack: MemBuffer::new(request) }
            }
            Routine::Softmax | Routine::LogSumExp | Routine::Power(_) => SpecialScratch::None,
        }
    }

    pub(super) fn run(
        &self,
        inputs: Inputs,
        slots: &mut [Vec<f64>],
        slot_of: &[usize],
        workspace: &mut SpecialScratch,
        dst: &mut [f64],
    ) {
        let n = self.operand.rows;
        match (self.routine, self.scratch.as_slice()) {
            (Routine::Softmax, _) => {
                let x = &Memory::new(inputs, slots, slot_of).get(self.operand.source)[..n];
                softmax(x, &mut dst[..n]);
            }
            (Routine::LogSumExp, _) => {
                let x = &Memory::new(inputs, slots, slot_of).get(self.operand.source)[..n];
                dst[0] = log_sum_exp(x);
            }
            (Routine::Inverse | Routine::Solve | Routine::Det | Routine::LogDet, &[scratch]) => {
                let SpecialScratch::Lu { forward, backward, stack } = workspace else {
                    unreachable!("LU routines get LU scratch")
                };
                let in_place = matches!(self.operand.source, Source::Value(v) if slot_of[v.0 as usize] == slot_of[scratch.0 as usize]);
                let [mut factors] = take_slots(slots, slot_of, [scratch]);
                let mut lu = MatMut::from_column_major_slice_mut(&mut factors[..n * n], n, n);
                if !in_place {
                    lu.copy_from(matrix(&Memory::new(inputs, slots, slot_of), self.operand));
                }
                let stack = MemStack::new(stack);
                let (info, perm) =
                    factor::lu_in_place(lu.as_mut(), forward, backward, threads(n), stack, Default::default());
                let lu = lu.as_ref();
                let diagonal = (0..n).map(|i| lu[(i, i)]);
                match self.routine {
                    Routine::Inverse => {
                        let out = MatMut::from_column_major_slice_mut(&mut dst[..n * n], n, n);
                        inverse::inverse(out, lu, lu, perm, threads(n), stack);
                    }
                    Routine::Solve => {
                        let b = self.rhs.expect("a solve has a right-hand side");
                        let mut out = MatMut::from_column_major_slice_mut(&mut dst[..n * b.cols], n, b.cols);
                        out.copy_from(matrix(&Memory::new(inputs, slots, slot_of), b));
                        solve::solve_in_place(lu, lu, perm, out, threads(n), stack);
                    }
                    // As faer's `determinant` (which the interpreter uses): the product of the
                    // pivots, negated for an odd number of row swaps.
                    Routine::Det => {
                        let det = diagonal.fold(1.0, |product, u| product * u);
                        dst[0] = if info.transposition_count % 2 == 0 { det } else { -det };
                    }
                    // log |det A| = Σ log |uᵢᵢ|, which does not overflow where det A would.
                    Routine::LogDet => dst[0] = diagonal.map(|u| u.abs().ln()).sum(),
                    Routine::Softmax | Routine::LogSumExp | Routine::Power(_) => unreachable!(),
                }
                put_slots(slots, slot_of, [scratch], [factors]);
            }
            (Routine::Power(k), &[base, product]) => {
                let scratch = [base, product];
                let [mut base, mut product] = take_slots(slots, slot_of, scratch);
                power(
                    &Memory::new(inputs, slots, slot_of),
                    self.operand,
                    k,
                    &mut dst[..n * n],
                    &mut base,
                    &mut product,
                );
                put_slots(slots, slot_of, scratch, [base, product]);
            }
            (Routine::Inverse | Routine::Solve | Routine::Det | Routine::LogDet | Routine::Power(_), _) => {
                unreachable!("these routines are made with their scratch")
            }
        }
    }
}

/// eˣ⁻ᵐᵃˣ / Σ eˣ⁻ᵐᵃˣ, as the interpreter computes it.
fn softmax(x: &[f64], out: &mut [f64]) {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = x.iter().map(|v| (v - max).exp()).sum();
    for (o, v) in out.iter_mut().zip(x) {
        *o = (v - max).exp() / total;
    }
}

/// max + log Σ eˣ⁻ᵐᵃˣ, as the interpreter computes it.
fn log_sum_exp(x: &[f64]) -> f64 {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max.is_infinite() {
        max
    } else {
        max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
    }
}

/// The threads for n³ work on an `n × n` matrix.
fn threads(n: usize) -> Par {
    if n * n * n >= super::products::PARALLEL_WORK {
        Par::rayon(2)
    } else {
        Par::Seq
    }
}

/// Aᵏ by square-and-multiply into `out`, with `base` and `product` as scratch.
fn power(memory: &Memory, a: View, mut k: u32, out: &mut [f64], base: &mut [f64], product: &mut [f64]) {
    let n = a.rows;
    let (base, product) = (&mut base[..n * n], &mut product[..n * n]);
    MatMut::from_column_major_slice_mut(base, n, n).copy_from(matrix(memory, a));
    let multiply = |product: &mut [f64], l: &[f64], r: &[f64]| {
        let (l, r) = (MatRef::from_column_major_slice(l, n, n), MatRef::from_column_major_slice(r, n, n));
        let par = threads(n);
        faer::linalg::matmul::matmul(
            MatMut::from_column_major_slice_mut(product, n, n),
            Accum::Replace,
            l,
            r,
            1.0,
            par,
        );
    };
    let mut started = false;
    while k > 0 {
        if k & 1 == 1 {
            if started {
                multiply(product, out, base);
                out.copy_from_slice(product);
            } else {
                out.copy_from_slice(base);
                started = true;
            }
        }
        k >>= 1;
        if k > 0 {
            multiply(product, base, base);
            base.copy_from_slice(product);
        }
    }
}

fn matrix<'a>(memory: &Memory<'a>, view: View) -> MatRef<'a, f64> {
    super::products::matrix(memory, view)
}
