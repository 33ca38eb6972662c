//! Sums of matrix products, `dst = E + Σ αᵢ Lᵢ Rᵢ`, and the order of matrix chains.
//!
//! A gradient is often a sum of outer products (the example's ∂L/∂A is
//! `2(w zᵀ + p (u ⊙ v)ᵀ + r xᵀ)`): instead of materialising each rank-1 matrix and adding,
//! the thin terms are packed side by side and computed as one product
//! `[2w 2p 2r] [z (u ⊙ v) x]ᵀ`, which writes the result once. Other terms accumulate into
//! the same buffer (faer's `Accum::Add`), scalings become the kernel's α, and the
//! elementwise part `E` (if any) is written first by a fused loop. Operands are views, so
//! transposes are only strides.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use super::elementwise::{Kernel, Registers};
use super::{put_slots, take_slots, Memory, Source, ValueId, View};

/// A product with an inner dimension at most this is *thin*: several thin terms are packed
/// into one product. (Beyond a few columns the packing copy buys nothing.)
const THIN_RANK: usize = 8;

/// Products with at least this many multiply-adds (m·k·n) run on two threads; below it the
/// threads cost more than they save. Measured on this machine (2 cores) with faer 0.24:
/// TODO(measure)
const PARALLEL_WORK: usize = 1 << 20;

/// A scale factor: a constant times an optional scalar computed at run time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scale {
    pub constant: f64,
    pub runtime: Option<Source>,
}

impl Scale {
    pub(super) const ONE: Scale = Scale { constant: 1.0, runtime: None };

    /// The product of two scales, if it is still one (at most one run-time factor).
    pub(super) fn times(self, other: Scale) -> Option<Scale> {
        let runtime = match (self.runtime, other.runtime) {
            (Some(_), Some(_)) => return None,
            (a, b) => a.or(b),
        };
        Some(Scale { constant: self.constant * other.constant, runtime })
    }

    fn value(self, memory: &Memory) -> f64 {
        match self.runtime {
            Some(source) => self.constant * memory.scalar(source),
            None => self.constant,
        }
    }
}

/// α L R, with L `m × k` and R `k × n`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Term {
    pub alpha: Scale,
    pub left: View,
    pub right: View,
}

#[derive(Debug)]
enum Group {
    One(Term),
    /// Thin terms computed as one product `[α₁L₁ α₂L₂ …] [R₁; R₂; …]`, packed into the
    /// scratch values `left` (m × rank) and `right` (rank × n).
    Packed { terms: Vec<Term>, left: ValueId, right: ValueId, rank: usize },
}

/// `dst = init + Σ terms`, grouped for execution.
#[derive(Debug)]
pub(super) struct Products {
    rows: usize,
    cols: usize,
    init: Option<Kernel>,
    groups: Vec<Group>,
}

impl Products {
    /// Groups `terms` (each `rows × cols`); `scratch(rows, cols)` makes a scratch value.
    pub(super) fn new(
        rows: usize,
        cols: usize,
        init: Option<Kernel>,
        terms: Vec<Term>,
        mut scratch: impl FnMut(usize, usize) -> ValueId,
    ) -> Products {
        let is_thin = |t: &Term| rows > 1 && cols > 1 && t.left.cols <= THIN_RANK;
        let (thin, wide): (Vec<Term>, Vec<Term>) = terms.into_iter().partition(is_thin);
        let mut groups: Vec<Group> = wide.into_iter().map(Group::One).collect();
        if thin.len() == 1 {
            groups.push(Group::One(thin[0]));
        } else if thin.len() > 1 {
            let rank = thin.iter().map(|t| t.left.cols).sum();
            let (left, right) = (scratch(rows, rank), scratch(rank, cols));
            groups.push(Group::Packed { terms: thin, left, right, rank });
        }
        Products { rows, cols, init, groups }
    }

    pub(super) fn registers(&self) -> usize {
        self.init.as_ref().map_or(0, Kernel::registers)
    }

    pub(super) fn reads(&self, out: &mut Vec<ValueId>) {
        if let Some(init) = &self.init {
            init.reads(out);
        }
        let mut term = |t: &Term| {
            for source in [Some(t.left.source), Some(t.right.source), t.alpha.runtime].into_iter().flatten() {
                if let Source::Value(v) = source {
                    out.push(v);
                }
            }
        };
        for group in &self.groups {
            match group {
                Group::One(t) => term(t),
                Group::Packed { terms, .. } => terms.iter().for_each(&mut term),
            }
        }
    }

    pub(super) fn scratch(&self, out: &mut Vec<ValueId>) {
        for group in &self.groups {
            if let Group::Packed { left, right, .. } = group {
                out.extend([*left, *right]);
            }
        }
    }

    pub(super) fn run(
        &self,
        inputs: &[&[f64]],
        slots: &mut [Vec<f64>],
        slot_of: &[usize],
        registers: &mut Registers,
        dst: &mut [f64],
    ) {
        let (rows, cols) = (self.rows, self.cols);
        let dst = &mut dst[..rows * cols];
        let mut accumulate = false;
        if let Some(init) = &self.init {
            init.run(&Memory { inputs, slots, slot_of }, registers, dst);
            accumulate = true;
        }
        for group in &self.groups {
            match group {
                Group::One(term) => {
                    let memory = Memory { inputs, slots, slot_of };
                    let (left, right) = (matrix(&memory, term.left), matrix(&memory, term.right));
                    gemm(dst, rows, cols, accumulate, left, right, term.alpha.value(&memory));
                }
                Group::Packed { terms, left, right, rank } => {
                    let taken = take_slots(slots, slot_of, [*left, *right]);
                    let [mut packed_left, mut packed_right] = taken;
                    pack(&Memory { inputs, slots, slot_of }, terms, rows, cols, &mut packed_left, &mut packed_right);
                    let l = MatRef::from_column_major_slice(&packed_left[..rows * rank], rows, *rank);
                    let r = MatRef::from_column_major_slice(&packed_right[..rank * cols], *rank, cols);
                    gemm(dst, rows, cols, accumulate, l, r, 1.0);
                    put_slots(slots, slot_of, [*left, *right], [packed_left, packed_right]);
                }
            }
            accumulate = true;
        }
    }
}

/// Copies each thin term's α L into consecutive columns of `left` and its R into
/// consecutive rows of `right`.
fn pack(memory: &Memory, terms: &[Term], rows: usize, cols: usize, left: &mut [f64], right: &mut [f64]) {
    let rank: usize = terms.iter().map(|t| t.left.cols).sum();
    let mut at = 0;
    for term in terms {
        let alpha = term.alpha.value(memory);
        let (l, r) = (memory.get(term.left.source), memory.get(term.right.source));
        let ((l_row, l_col), (r_row, r_col)) = (term.left.strides(), term.right.strides());
        for c in 0..term.left.cols {
            let column = &mut left[(at + c) * rows..(at + c + 1) * rows];
            for (i, entry) in column.iter_mut().enumerate() {
                *entry = alpha * l[i * l_row + c * l_col];
            }
            for j in 0..cols {
                right[j * rank + at + c] = r[c * r_row + j * r_col];
            }
        }
        at += term.left.cols;
    }
}

fn matrix<'a>(memory: &Memory<'a>, view: View) -> MatRef<'a, f64> {
    let data = memory.get(view.source);
    if view.transposed {
        MatRef::from_column_major_slice(&data[..view.len()], view.cols, view.rows).transpose()
    } else {
        MatRef::from_column_major_slice(&data[..view.len()], view.rows, view.cols)
    }
}

/// dst (+)= α L R, on two threads when the product is large enough to gain from them.
fn gemm(dst: &mut [f64], rows: usize, cols: usize, accumulate: bool, l: MatRef<f64>, r: MatRef<f64>, alpha: f64) {
    let work = rows * cols * l.ncols();
    let par = if work >= PARALLEL_WORK { Par::rayon(2) } else { Par::Seq };
    let accum = if accumulate { Accum::Add } else { Accum::Replace };
    matmul(MatMut::from_column_major_slice_mut(dst, rows, cols), accum, l, r, alpha, par);
}

/// The cheapest way to multiply a chain of matrices whose sizes are `dims` (factor `i` is
/// `dims[i] × dims[i + 1]`), by the classic dynamic programme over m·k·n costs:
/// `split[i][j]` is where the product of factors `i..=j` splits last.
pub(super) fn chain_order(dims: &[usize]) -> Vec<Vec<usize>> {
    let n = dims.len() - 1;
    let mut cost = vec![vec![0usize; n]; n];
    let mut split = vec![vec![0usize; n]; n];
    for length in 1..n {
        for i in 0..n - length {
            let j = i + length;
            cost[i][j] = usize::MAX;
            for k in i..j {
                let c = cost[i][k]
                    .saturating_add(cost[k + 1][j])
                    .saturating_add(dims[i].saturating_mul(dims[k + 1]).saturating_mul(dims[j + 1]));
                if c < cost[i][j] {
                    cost[i][j] = c;
                    split[i][j] = k;
                }
            }
        }
    }
    split
}
