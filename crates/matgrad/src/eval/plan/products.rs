//! Sums of matrix products, `dst = E + Σ αᵢ Lᵢ Rᵢ`, and the order of matrix chains.
//!
//! A gradient is often a sum of outer products (the example's ∂L/∂A is
//! `2(w zᵀ + p (u ⊙ v)ᵀ + r xᵀ)`): instead of materialising each rank-1 matrix and adding,
//! the thin terms are packed side by side and computed as one product
//! `[2w 2p 2r] [z (u ⊙ v) x]ᵀ`, which writes the result once. Other terms accumulate into
//! the same buffer (faer's `Accum::Add`), scalings become the kernel's α, and the
//! elementwise part `E` (if any) is written first by a fused loop. Operands are views, so
//! transposes are only strides. A weighted term `α L Diag(w) R` (a Hessian's `X Diag(d) Xᵀ`)
//! is computed by blocks of the scaled rows of R, and when it is symmetric (R = Lᵀ) as its
//! lower triangle by [`super::gram`]'s register tiles, mirrored: then it writes the result
//! first and `E` is added after it.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

use super::dense::{self, Columns, Thin};
use super::elementwise::{Kernel, Registers};
use super::gram;
use super::{put_slots, take_slots, Inputs, Memory, Source, ValueId, View};

/// A product with an inner dimension at most this is *thin*: thin terms are packed side by
/// side (up to this rank in all) and computed by one pass over the result.
const THIN_RANK: usize = 8;

/// faer's products with at least this many multiply-adds (m·k·n) run on two threads.
/// Measured on this machine (2 cores, inside the thread pool): square products gain from
/// 128³ ≈ 2·10⁶ on (66 µs against 68; 402 against 470 at 256³) and lose below (50 µs
/// against 28 at 96³).
pub(super) const PARALLEL_WORK: usize = 1 << 21;

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

    /// The factor as a prefix: `2·`, `−`, `t3·`, or nothing.
    pub(super) fn describe(&self, name: &dyn Fn(Source) -> String) -> String {
        let runtime = self.runtime.map(|s| format!("{}·", name(s))).unwrap_or_default();
        let constant = match self.constant {
            1.0 => String::new(),
            -1.0 => "−".to_string(),
            c => format!("{c}·"),
        };
        format!("{constant}{runtime}")
    }

    pub(super) fn value(self, memory: &Memory) -> f64 {
        match self.runtime {
            Some(source) => self.constant * memory.scalar(source),
            None => self.constant,
        }
    }
}

/// α L R, with L `m × k` and R `k × n`; with weights w (a k-vector), α L Diag(w) R.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Term {
    pub alpha: Scale,
    pub left: View,
    pub right: View,
    pub weights: Option<View>,
}

/// Whether an `m × n` product `L Diag(w) R` with inner dimension k is worth computing as a
/// weighted product (in blocks of Diag(w) R) rather than through the scaled matrix: when
/// it is a matrix product, not a matrix–vector or thin one.
pub(super) fn weighs(m: usize, k: usize, n: usize) -> bool {
    m > 1 && n > 1 && k > THIN_RANK
}

/// The rows of Diag(w) R that a weighted product scales at a time: enough for faer's
/// kernels to run at full speed (its inner blocks are a few hundred long), few enough that
/// the scratch is at most half of the `m × n` result (or 32 rows of it), so that `X Diag(d) Xᵀ` needs memory
/// for its result and not for the `n × d` scaled matrix (9–11× the Hessian before).
fn weighted_block(m: usize, k: usize) -> usize {
    (m / 2).clamp(32, 512).min(k)
}

#[derive(Debug)]
enum Group {
    /// `y (+)= α A x` (`dots`: `y (+)= α Aᵀ x`, column dot products), with A the
    /// `rows × cols` storage of `matrix`. With two threads each takes half of A's columns;
    /// in the first form the second half's partial sum goes through `partial`.
    MatrixVector {
        alpha: Scale,
        matrix: Source,
        rows: usize,
        cols: usize,
        vector: Source,
        dots: bool,
        parallel: bool,
        partial: Option<ValueId>,
    },
    /// Any other product, through faer.
    General { term: Term, parallel: bool },
    /// `α L Diag(w) R` (the term's weights w), `block` rows of Diag(w) R at a time, scaled
    /// into `buffer` and multiplied through faer. With `triangle`, a symmetric product
    /// (R = Lᵀ) that writes the result first computes the lower triangle only, by
    /// [`gram`] with `buffer` as its scratch, and mirrors it: half the multiply-adds.
    Weighted { term: Term, block: usize, buffer: ValueId, triangle: bool, parallel: bool },
    /// Thin terms computed as one product `[α₁L₁ α₂L₂ …] [R₁; R₂; …]` of rank at most
    /// [`THIN_RANK`], packed into the scratch values `left` (m × rank) and `right` (R by rows).
    Packed { terms: Vec<Term>, left: ValueId, right: ValueId, rank: usize, parallel: bool },
    /// A matrix–vector product computed by an earlier pass over its matrix with others
    /// ([`super::matrix_vectors`]): `y (+)= α p`, with p (the raw product, `len` entries) at
    /// `offset` in `value`.
    Computed { product: MatrixVector, value: ValueId, offset: usize },
}

impl Group {
    /// The group's matrix–vector product, if it is one.
    fn matrix_vector(&self) -> Option<MatrixVector> {
        match self {
            Group::MatrixVector { alpha, matrix, rows, cols, vector, dots, parallel, .. } => Some(MatrixVector {
                alpha: *alpha,
                matrix: *matrix,
                rows: *rows,
                cols: *cols,
                vector: *vector,
                transposed: *dots,
                parallel: *parallel,
            }),
            _ => None,
        }
    }
}

/// One matrix–vector product `α A x` (`transposed`: `α Aᵀ x`), with A the `rows × cols`
/// storage of `matrix`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct MatrixVector {
    pub alpha: Scale,
    pub matrix: Source,
    pub rows: usize,
    pub cols: usize,
    pub vector: Source,
    pub transposed: bool,
    pub parallel: bool,
}

impl MatrixVector {
    /// The entries of the product: A's columns if transposed, else its rows.
    pub(super) fn len(&self) -> usize {
        if self.transposed {
            self.cols
        } else {
            self.rows
        }
    }
}

/// `dst = init + Σ terms`, grouped for execution.
#[derive(Debug)]
pub(super) struct Products {
    rows: usize,
    cols: usize,
    init: Option<Kernel>,
    /// Whether the elementwise part is added after the first group instead of written
    /// before every group.
    init_last: bool,
    groups: Vec<Group>,
}

impl Products {
    /// Groups `terms` (each `rows × cols`); `scratch(len)` makes a scratch value.
    pub(super) fn new(
        rows: usize,
        cols: usize,
        init: Option<Kernel>,
        terms: Vec<Term>,
        mut scratch: impl FnMut(usize) -> ValueId,
    ) -> Products {
        let mut groups = Vec::new();
        let mut thin: Vec<Term> = Vec::new();
        // Two threads split every matrix by columns, so that each core keeps reading the
        // same half (from its own cache) in every pass.
        let split = |entries: usize| entries >= dense::PARALLEL_ENTRIES;
        // Weighted products go first, so that a symmetric one writes the result before any
        // other term; each is put before the earlier ones, so the last is the first writer.
        // Only the first writer computes half a symmetric result (a later one would add half
        // of itself to a result that need not be symmetric), and then the elementwise part is
        // added after it (`X Diag(d) Xᵀ + 2λ I`, ridge regression's Hessian).
        let first_writer = terms.iter().rposition(|t| t.weights.is_some());
        for (at, term) in terms.into_iter().enumerate() {
            let (k, (l, r)) = (term.left.cols, (term.left, term.right));
            if term.weights.is_some() {
                let block = weighted_block(rows, k);
                let symmetric = l.source == r.source && l.transposed != r.transposed && l.rows == r.cols;
                let triangle = symmetric && Some(at) == first_writer;
                let parallel = rows * cols * block >= PARALLEL_WORK;
                let len = if triangle { gram::scratch_len(rows) } else { block * cols };
                groups.insert(0, Group::Weighted { term, block, buffer: scratch(len), triangle, parallel });
                continue;
            }
            let storage = |v: View| if v.transposed { (v.cols, v.rows) } else { (v.rows, v.cols) };
            let mut group = |matrix: View, vector: View, dots: bool| {
                let (rows, cols) = storage(matrix);
                let parallel = split(rows * cols) && cols >= 8;
                let partial = (parallel && !dots).then(|| scratch(rows));
                Group::MatrixVector {
                    alpha: term.alpha,
                    matrix: matrix.source,
                    rows,
                    cols,
                    vector: vector.source,
                    dots,
                    parallel,
                    partial,
                }
            };
            groups.push(if rows == 1 && cols == 1 {
                // A dot product: the column r dotted with l.
                Group::MatrixVector {
                    alpha: term.alpha,
                    matrix: r.source,
                    rows: k,
                    cols: 1,
                    vector: l.source,
                    dots: true,
                    parallel: false,
                    partial: None,
                }
            } else if cols == 1 {
                group(l, r, l.transposed)
            } else if rows == 1 {
                group(r, l, !r.transposed)
            } else if k <= THIN_RANK {
                thin.push(term);
                continue;
            } else {
                Group::General { term, parallel: rows * cols * k >= PARALLEL_WORK }
            });
        }
        // Thin terms in packs of rank at most THIN_RANK, in order.
        let mut pack: Vec<Term> = Vec::new();
        let mut finish = |pack: &mut Vec<Term>, groups: &mut Vec<Group>| {
            if !pack.is_empty() {
                let rank = pack.iter().map(|t| t.left.cols).sum();
                let (left, right) = (scratch(rows * rank), scratch(rank * cols));
                let parallel = split(rows * cols) && cols >= 2;
                groups.push(Group::Packed { terms: std::mem::take(pack), left, right, rank, parallel });
            }
        };
        for term in thin {
            if pack.iter().map(|t| t.left.cols).sum::<usize>() + term.left.cols > THIN_RANK {
                finish(&mut pack, &mut groups);
            }
            pack.push(term);
        }
        finish(&mut pack, &mut groups);
        let triangle_first = matches!(groups.first(), Some(Group::Weighted { triangle: true, .. }));
        let (init, init_last) = match init {
            Some(init) if triangle_first => (Some(init.adding()), true),
            init => (init, false),
        };
        Products { rows, cols, init, init_last, groups }
    }

    pub(super) fn registers(&self) -> usize {
        self.init.as_ref().map_or(0, Kernel::registers)
    }

    /// The product, if the sum is one matrix–vector product plus, at most, a pointwise vector
    /// program (which can then run on any range of entries).
    pub(super) fn matrix_vector(&self) -> Option<MatrixVector> {
        let [group] = self.groups.as_slice() else { return None };
        let product = group.matrix_vector()?;
        if self.init.as_ref().is_some_and(|init| !init.is_pointwise_vector(product.len())) {
            return None;
        }
        Some(product)
    }

    /// Each matrix–vector product of the sum (not a dot product), with its group's index.
    pub(super) fn matrix_vectors(&self) -> Vec<(usize, MatrixVector)> {
        let products = self.groups.iter().enumerate().filter_map(|(i, g)| g.matrix_vector().map(|p| (i, p)));
        products.filter(|(_, p)| p.cols > 1 || !p.transposed).collect()
    }

    /// Takes matrix–vector product `group` from entries `offset..` of `value`, which an
    /// earlier pass over its matrix writes.
    pub(super) fn compute_from(&mut self, group: usize, value: ValueId, offset: usize) {
        let product = self.matrix_vectors().into_iter().find(|&(i, _)| i == group).map(|(_, p)| p);
        let product = product.expect("a matrix–vector product of the sum");
        self.groups[group] = Group::Computed { product, value, offset };
    }

    /// The elementwise part, taken out (to run before the products, writing the result).
    pub(super) fn take_init(&mut self) -> Option<Kernel> {
        // Only a sum with a symmetric weighted product runs its elementwise part last, and
        // such a sum is not the matrix–vector product that a shared pass takes apart.
        debug_assert!(!self.init_last, "the elementwise part of this sum runs after its first product");
        self.init.take()
    }

    /// Whether the elementwise part runs on two threads (it needs its own registers).
    pub(super) fn is_parallel(&self) -> bool {
        self.init.as_ref().is_some_and(Kernel::is_parallel)
    }

    /// Whether any part runs on two threads.
    pub(super) fn uses_threads(&self) -> bool {
        self.is_parallel()
            || self.groups.iter().any(|g| match g {
                Group::MatrixVector { parallel, .. }
                | Group::General { parallel, .. }
                | Group::Weighted { parallel, .. }
                | Group::Packed { parallel, .. } => *parallel,
                Group::Computed { .. } => false,
            })
    }

    /// The matrices the sum streams through (each matrix–vector product's matrix, each
    /// general product's factors; not a thin product's packed vectors), with their sizes.
    pub(super) fn matrices(&self, out: &mut Vec<(Source, usize)>) {
        for group in &self.groups {
            match group {
                Group::MatrixVector { matrix, rows, cols, .. } => out.push((*matrix, rows * cols)),
                Group::General { term, .. } | Group::Weighted { term, .. } => {
                    out.extend([term.left, term.right].map(|v| (v.source, v.len())));
                }
                Group::Packed { .. } | Group::Computed { .. } => {}
            }
        }
    }

    /// Puts the matrix–vector products of `matrix` first, so they run while it is still in
    /// the cache from the step before (the sum is the same in any order, to rounding).
    pub(super) fn lead_with(&mut self, matrix: Source) {
        let reads = |g: &Group| matches!(g, Group::MatrixVector { matrix: m, .. } if *m == matrix);
        self.groups.sort_by_key(|g| !reads(g));
    }

    pub(super) fn reads(&self, out: &mut Vec<ValueId>) {
        if let Some(init) = &self.init {
            init.reads(out);
        }
        let mut sources: Vec<Source> = Vec::new();
        for group in &self.groups {
            match group {
                Group::MatrixVector { alpha, matrix, vector, .. } => {
                    sources.extend([Some(*matrix), Some(*vector), alpha.runtime].into_iter().flatten())
                }
                Group::General { term, .. } => sources.extend(term_sources(term)),
                Group::Weighted { term, .. } => sources.extend(term_sources(term)),
                Group::Packed { terms, .. } => terms.iter().for_each(|t| sources.extend(term_sources(t))),
                Group::Computed { product, value, .. } => {
                    sources.extend([Some(Source::Value(*value)), product.alpha.runtime].into_iter().flatten())
                }
            }
        }
        out.extend(sources.into_iter().filter_map(|s| match s {
            Source::Value(v) => Some(v),
            Source::Input(_) => None,
        }));
    }

    pub(super) fn scratch(&self, out: &mut Vec<ValueId>) {
        for group in &self.groups {
            match group {
                Group::Packed { left, right, .. } => out.extend([*left, *right]),
                Group::MatrixVector { partial: Some(partial), .. } => out.push(*partial),
                Group::Weighted { buffer, .. } => out.push(*buffer),
                Group::MatrixVector { partial: None, .. } | Group::General { .. } | Group::Computed { .. } => {}
            }
        }
    }

    /// The sum as it is computed, e.g. `2·w·zᵀ + …` with each group's kernel.
    pub(super) fn describe(&self, name: &dyn Fn(Source) -> String) -> String {
        let scale = |alpha: &Scale| alpha.describe(name);
        let view = |v: View| {
            if v.transposed && v.rows > 1 && v.cols > 1 {
                format!("{}ᵀ", name(v.source))
            } else {
                name(v.source)
            }
        };
        // R's rows, as the columns of Rᵀ.
        let column = |v: View| view(v.transpose());
        let threads = |how: &str, parallel: bool| if parallel { format!("{how}, 2 threads") } else { how.to_string() };
        let mut parts = Vec::new();
        if let Some(init) = &self.init {
            parts.push(init.expression(name));
        }
        for group in &self.groups {
            parts.push(match group {
                Group::MatrixVector { alpha, matrix, vector, dots, parallel, .. } => {
                    let t = if *dots { "ᵀ" } else { "" };
                    let how = threads("matrix–vector", *parallel);
                    format!("{}{}{t}·{}   [{how}]", scale(alpha), name(*matrix), name(*vector))
                }
                Group::General { term, parallel } => {
                    let how = threads("matrix product", *parallel);
                    format!("{}{}·{}   [{how}]", scale(&term.alpha), view(term.left), view(term.right))
                }
                Group::Weighted { term, block, triangle, parallel, .. } => {
                    let how = match *triangle {
                        true => format!(
                            "weighted product, symmetric, by tiles, {} samples a pass",
                            gram::samples_per_pass(term.left.rows)
                        ),
                        false => format!("weighted product, {block} rows at a time"),
                    };
                    let how = threads(&how, *parallel);
                    let w = term.weights.map(|w| name(w.source)).unwrap_or_default();
                    let (l, r) = (view(term.left), view(term.right));
                    format!("{}{l}·Diag({w})·{r}   [{how}]", scale(&term.alpha))
                }
                Group::Computed { product, value, offset } => {
                    let t = if product.transposed { "ᵀ" } else { "" };
                    let (a, x) = (name(product.matrix), name(product.vector));
                    let column = offset / product.len() + 1;
                    let from = name(Source::Value(*value));
                    format!("{}{a}{t}·{x}   [column {column} of {from}]", scale(&product.alpha))
                }
                Group::Packed { terms, rank, parallel, .. } => {
                    let left: Vec<String> =
                        terms.iter().map(|t| format!("{}{}", scale(&t.alpha), view(t.left))).collect();
                    let right: Vec<String> = terms.iter().map(|t| column(t.right)).collect();
                    let how = threads(&format!("one thin product, rank {rank}"), *parallel);
                    format!("[{}]·[{}]ᵀ   [{how}]", left.join(" "), right.join(" "))
                }
            });
        }
        format!("{}   [{}×{}]", parts.join(" + "), self.rows, self.cols)
    }

    pub(super) fn run(
        &self,
        inputs: Inputs,
        slots: &mut [Vec<f64>],
        slot_of: &[usize],
        registers: &mut Registers,
        dst: &mut [f64],
    ) {
        let (rows, cols) = (self.rows, self.cols);
        let dst = &mut dst[..rows * cols];
        let mut accumulate = false;
        let run_init = |slots: &mut [Vec<f64>], registers: &mut Registers, dst: &mut [f64]| {
            if let Some(init) = &self.init {
                init.run(&Memory::new(inputs, slots, slot_of), registers, dst);
            }
        };
        if !self.init_last {
            run_init(slots, registers, dst);
            accumulate = self.init.is_some();
        }
        for group in &self.groups {
            match group {
                Group::MatrixVector { alpha, matrix, rows, cols, vector, dots, parallel, partial } => {
                    let mut taken = partial.map(|p| take_slots(slots, slot_of, [p]));
                    let memory = Memory::new(inputs, slots, slot_of);
                    let a = Columns::whole(memory.get(*matrix), *rows, *cols);
                    let (x, alpha) = (memory.get(*vector), alpha.value(&memory));
                    if *dots {
                        dense::transposed_matrix_vector(dst, accumulate, alpha, a, x, *parallel);
                    } else {
                        let partial = taken.as_mut().map(|[p]| p.as_mut_slice());
                        dense::matrix_vector(dst, accumulate, alpha, a, x, partial);
                    }
                    if let (Some(p), Some(taken)) = (partial, taken) {
                        put_slots(slots, slot_of, [*p], taken);
                    }
                }
                Group::General { term, parallel } => {
                    let memory = Memory::new(inputs, slots, slot_of);
                    let (left, right) = (matrix(&memory, term.left), matrix(&memory, term.right));
                    gemm(dst, rows, cols, accumulate, left, right, term.alpha.value(&memory), *parallel);
                }
                Group::Weighted { term, block, buffer: scratch, triangle, parallel } => {
                    let [mut buffer] = take_slots(slots, slot_of, [*scratch]);
                    let memory = Memory::new(inputs, slots, slot_of);
                    let weights = term.weights.expect("a weighted term has weights");
                    let product = Weighted { term: *term, weights, block: *block, parallel: *parallel };
                    debug_assert!(!(*triangle && accumulate), "a triangle is computed by the first writer only");
                    product.run(&memory, &mut buffer, dst, rows, cols, accumulate, *triangle);
                    put_slots(slots, slot_of, [*scratch], [buffer]);
                }
                Group::Computed { product, value, offset } => {
                    let memory = Memory::new(inputs, slots, slot_of);
                    let (len, alpha) = (product.len(), product.alpha.value(&memory));
                    let computed = &memory.get(Source::Value(*value))[*offset..offset + len];
                    let dst = &mut dst[..len];
                    if accumulate {
                        dst.iter_mut().zip(computed).for_each(|(d, p)| *d = alpha.mul_add(*p, *d));
                    } else {
                        dst.iter_mut().zip(computed).for_each(|(d, p)| *d = alpha * p);
                    }
                }
                Group::Packed { terms, left, right, rank, parallel } => {
                    let taken = take_slots(slots, slot_of, [*left, *right]);
                    let [mut packed_left, mut packed_right] = taken;
                    pack(&Memory::new(inputs, slots, slot_of), terms, rows, cols, &mut packed_left, &mut packed_right);
                    let thin = Thin { left: &packed_left, right: &packed_right, rank: *rank };
                    dense::thin_product(dst, rows, cols, accumulate, thin, *parallel);
                    put_slots(slots, slot_of, [*left, *right], [packed_left, packed_right]);
                }
            }
            if self.init_last && !accumulate {
                run_init(slots, registers, dst);
            }
            accumulate = true;
        }
    }
}

/// One weighted product's operands, for [`Weighted::run`].
struct Weighted {
    term: Term,
    weights: View,
    block: usize,
    parallel: bool,
}

impl Weighted {
    /// dst (+)= α L Diag(w) R, `block` rows of R at a time; with `triangle`, the lower
    /// triangle only, mirrored at the end (R = Lᵀ, and nothing else written before).
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        memory: &Memory,
        buffer: &mut [f64],
        dst: &mut [f64],
        rows: usize,
        cols: usize,
        accumulate: bool,
        triangle: bool,
    ) {
        let (left, alpha) = (matrix(memory, self.term.left), self.term.alpha.value(memory));
        let (r, (r_row, r_col)) = (memory.get(self.term.right.source), self.term.right.strides());
        let w = memory.get(self.weights.source);
        let w_step = self.weights.step();
        let inner = self.term.left.cols;
        if triangle {
            let (row_step, sample_step) = self.term.left.strides();
            let data = &memory.get(self.term.left.source)[..rows * inner];
            let x = gram::Samples { data, d: rows, n: inner, row_step, sample_step };
            gram::weighted_gram(dst, accumulate, alpha, x, w, w_step, buffer, self.parallel);
            mirror(dst, rows);
            return;
        }
        let par = if self.parallel { Par::rayon(2) } else { Par::Seq };
        let mut out = MatMut::from_column_major_slice_mut(&mut dst[..rows * cols], rows, cols);
        for (b, start) in (0..inner).step_by(self.block).enumerate() {
            let len = self.block.min(inner - start);
            let buffer = &mut buffer[..len * cols];
            // Diag(w) R for rows start.., written in R's own order so that both are read
            // and written contiguously.
            // (A view's contiguous direction has stride 1, so each column, or row, of R is a
            // slice: loops over slices, which the compiler vectorises.)
            let scaled = if r_row <= r_col {
                debug_assert_eq!(r_row, 1);
                let weights = |i: usize| w[(start + i) * w_step];
                for (j, column) in buffer.chunks_exact_mut(len).enumerate() {
                    let source = &r[start + j * r_col..][..len];
                    if w_step == 1 {
                        let weights = &w[start..start + len];
                        column.iter_mut().zip(source).zip(weights).for_each(|((e, &x), &c)| *e = c * x);
                    } else {
                        column.iter_mut().zip(source).enumerate().for_each(|(i, (e, &x))| *e = weights(i) * x);
                    }
                }
                MatRef::from_column_major_slice(buffer, len, cols)
            } else {
                debug_assert_eq!(r_col, 1);
                for (i, row) in buffer.chunks_exact_mut(cols).enumerate() {
                    let (weight, source) = (w[(start + i) * w_step], &r[(start + i) * r_row..][..cols]);
                    row.iter_mut().zip(source).for_each(|(e, &x)| *e = weight * x);
                }
                MatRef::from_column_major_slice(buffer, cols, len).transpose()
            };
            let accum = if accumulate || b > 0 { Accum::Add } else { Accum::Replace };
            matmul(out.as_mut(), accum, left.subcols(start, len), scaled, alpha, par);
        }
    }
}

/// Copies the lower triangle of the `n × n` column-major `dst` onto the upper one (0.3 ms
/// at n = 1000, against 55 ms for the product: not worth blocking).
fn mirror(dst: &mut [f64], n: usize) {
    for j in 1..n {
        for i in 0..j {
            dst[j * n + i] = dst[i * n + j];
        }
    }
}

fn term_sources(t: &Term) -> impl Iterator<Item = Source> {
    [Some(t.left.source), Some(t.right.source), t.alpha.runtime, t.weights.map(|w| w.source)].into_iter().flatten()
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

pub(super) fn matrix<'a>(memory: &Memory<'a>, view: View) -> MatRef<'a, f64> {
    let data = memory.get(view.source);
    if view.transposed {
        MatRef::from_column_major_slice(&data[..view.len()], view.cols, view.rows).transpose()
    } else {
        MatRef::from_column_major_slice(&data[..view.len()], view.rows, view.cols)
    }
}

/// dst (+)= α L R through faer, on two threads if `parallel`.
#[allow(clippy::too_many_arguments)]
fn gemm(
    dst: &mut [f64],
    rows: usize,
    cols: usize,
    accumulate: bool,
    l: MatRef<f64>,
    r: MatRef<f64>,
    alpha: f64,
    parallel: bool,
) {
    let par = if parallel { Par::rayon(2) } else { Par::Seq };
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
