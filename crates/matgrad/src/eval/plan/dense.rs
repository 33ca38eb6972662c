//! The dense kernels a gradient spends its time in, written for the shapes that occur:
//! matrix–vector products (`A x`, `Aᵀ w`) and thin updates (`dst += [a c e] [b d f]ᵀ`).
//!
//! faer's general product pays a setup cost that dominates at these shapes (a 64×64
//! matrix–vector product took 0.53 µs through faer, 0.26 µs here); these loops use explicit
//! vectors under `pulp`'s runtime dispatch, so they get AVX-512 or AVX2 and FMA where the
//! CPU has them. Large ones are split in two halves for two threads.

use pulp::{Arch, Simd, WithSimd};

/// Matrices with at least this many entries are processed by two threads (the callers
/// decide, with this). Measured on this machine (2 cores, inside the thread pool): two
/// threads win from about 128×128 on (matrix–vector 3.8 µs against 4.3 at 128, 11 against
/// 17 at 256) and lose below (1.8 µs against 0.9 at 64).
pub(super) const PARALLEL_ENTRIES: usize = 1 << 15;

/// A column-major `rows × cols` matrix, or some of its columns: column `j` is
/// `data[j·rows..(j + 1)·rows]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Columns<'a> {
    pub data: &'a [f64],
    pub rows: usize,
    pub cols: usize,
}

impl<'a> Columns<'a> {
    /// A whole `rows × cols` matrix stored in `data`.
    pub(super) fn whole(data: &'a [f64], rows: usize, cols: usize) -> Columns<'a> {
        Columns { data: &data[..rows * cols], rows, cols }
    }

    /// Columns `range`.
    pub(super) fn columns(self, range: std::ops::Range<usize>) -> Columns<'a> {
        Columns { data: &self.data[range.start * self.rows..range.end * self.rows], cols: range.len(), ..self }
    }

    fn column(&self, j: usize) -> &'a [f64] {
        &self.data[j * self.rows..(j + 1) * self.rows]
    }
}

/// `y (+)= α A x` with A read down its columns (y has A's rows). Given `partial` (of A's
/// rows), two threads each take half of A's columns, the second summing into `partial`.
pub(super) fn matrix_vector(
    y: &mut [f64],
    accumulate: bool,
    alpha: f64,
    a: Columns,
    x: &[f64],
    partial: Option<&mut [f64]>,
) {
    let y = &mut y[..a.rows];
    match partial {
        Some(partial) => {
            let half = a.cols / 2;
            let (left, right) = (a.columns(0..half), a.columns(half..a.cols));
            let partial = &mut partial[..a.rows];
            rayon::join(
                || product(y, accumulate, alpha, left, &x[..half], false),
                || product(partial, false, alpha, right, &x[half..], false),
            );
            for (yi, pi) in y.iter_mut().zip(partial.iter()) {
                *yi += pi;
            }
        }
        None => product(y, accumulate, alpha, a, x, false),
    }
}

/// `y (+)= α Aᵀ x`: entry j is the dot product of column j of A with x (y has A's columns).
pub(super) fn transposed_matrix_vector(
    y: &mut [f64],
    accumulate: bool,
    alpha: f64,
    a: Columns,
    x: &[f64],
    parallel: bool,
) {
    let y = &mut y[..a.cols];
    if parallel && a.cols >= 8 {
        let half = a.cols / 2;
        let (top, bottom) = y.split_at_mut(half);
        rayon::join(
            || product(top, accumulate, alpha, a.columns(0..half), x, true),
            || product(bottom, accumulate, alpha, a.columns(half..a.cols), x, true),
        );
    } else {
        product(y, accumulate, alpha, a, x, true);
    }
}

/// `y (+)= α A x` or, `transposed`, `y (+)= α Aᵀ x`, on this thread.
pub(super) fn product(y: &mut [f64], accumulate: bool, alpha: f64, a: Columns, x: &[f64], transposed: bool) {
    if transposed {
        Arch::new().dispatch(DotColumns { y: &mut y[..a.cols], accumulate, alpha, a, x })
    } else {
        Arch::new().dispatch(AxpyColumns { y: &mut y[..a.rows], accumulate, alpha, a, x })
    }
}

/// Entries of a matrix that one core reads twice while they stay in its L2 cache (2 MiB
/// here), with room for what else the pass touches: 512 KiB.
pub(super) const CACHE_BLOCK_ENTRIES: usize = 1 << 16;

/// `out[i·stride..][..] = A xs[i]` (`transposed`: `Aᵀ xs[i]`, an entry per column) for each
/// vector, on this thread: A in blocks of whole groups of eight columns of at most
/// [`CACHE_BLOCK_ENTRIES`], each block read by every product while it is in the cache.
/// Without `transposed`, `xs[i]` holds the entries for A's columns only.
pub(super) fn products_by_blocks(out: &mut [f64], stride: usize, a: Columns, xs: &[&[f64]], transposed: bool) {
    if a.cols == 0 {
        // No columns: the products are zero (without `transposed`; otherwise empty).
        out.fill(0.0);
        return;
    }
    let block = (CACHE_BLOCK_ENTRIES / a.rows.max(1) / 8 * 8).max(8);
    for start in (0..a.cols).step_by(block) {
        let range = start..(start + block).min(a.cols);
        let columns = a.columns(range.clone());
        for (i, x) in xs.iter().enumerate() {
            let out = &mut out[i * stride..(i + 1) * stride];
            if transposed {
                product(&mut out[range.clone()], false, 1.0, columns, x, true);
            } else {
                product(out, start > 0, 1.0, columns, &x[range.clone()], false);
            }
        }
    }
}

/// A thin product's factors, packed: L is `rows × rank` column-major, R is given by rows
/// (`right[j·rank + t]` is R(t, j)), rank ≤ 8.
#[derive(Debug, Clone, Copy)]
pub(super) struct Thin<'a> {
    pub left: &'a [f64],
    pub right: &'a [f64],
    pub rank: usize,
}

/// `dst (+)= L R` for a thin product, `rows × cols`.
pub(super) fn thin_product(dst: &mut [f64], rows: usize, cols: usize, accumulate: bool, thin: Thin, parallel: bool) {
    let Thin { left, right, rank } = thin;
    let dst = &mut dst[..rows * cols];
    // Whether to write past the caches: decided for the whole array, which each thread's
    // half belongs to.
    let stream = !accumulate && streaming::worthwhile(dst, rows);
    let run = |dst: &mut [f64], first_col: usize| {
        macro_rules! rank {
            ($r:literal) => {
                Arch::new().dispatch(RankColumns::<$r> { dst, rows, accumulate, stream, left, right, first_col })
            };
        }
        match rank {
            1 => rank!(1),
            2 => rank!(2),
            3 => rank!(3),
            4 => rank!(4),
            5 => rank!(5),
            6 => rank!(6),
            7 => rank!(7),
            _ => rank!(8),
        }
    };
    if parallel && cols >= 2 {
        let half = cols / 2;
        let (first, second) = dst.split_at_mut(half * rows);
        rayon::join(|| run(first, 0), || run(second, half));
    } else {
        run(dst, 0);
    }
}

// Each kernel is a `WithSimd` operation: `pulp` calls `with_simd` from a function compiled
// for the CPU's instruction set (AVX-512, AVX2 + FMA, or baseline), and `#[inline(always)]`
// pulls the loops into it. (A closure would not do: it is compiled on its own, for the
// baseline instruction set.) The loops are written with explicit vectors: the compiler's
// own vectorisation of the plain loops ran at a third to a half of these (64×64
// matrix–vector 0.49 µs against 0.26, Aᵀx 0.80 against 0.33, rank-3 update 0.84 against
// 0.34).

/// The `N` vectors at `data[offset..]`, which must hold `N` whole vectors.
#[inline(always)]
fn load<S: Simd, const N: usize>(data: &[f64], offset: usize) -> [S::f64s; N] {
    let (vectors, _) = S::as_simd_f64s(&data[offset..offset + N * S::F64_LANES]);
    std::array::from_fn(|r| vectors[r])
}

#[inline(always)]
fn store<S: Simd, const N: usize>(data: &mut [f64], offset: usize, values: [S::f64s; N]) {
    let (vectors, _) = S::as_mut_simd_f64s(&mut data[offset..offset + N * S::F64_LANES]);
    for (vector, value) in vectors.iter_mut().zip(values) {
        *vector = value;
    }
}

/// `value` or `old + value`, for the kernels' `accumulate` flag.
#[inline(always)]
fn combine<S: Simd>(
    simd: S,
    accumulate: bool,
    alpha: S::f64s,
    value: S::f64s,
    old: impl FnOnce() -> S::f64s,
) -> S::f64s {
    if accumulate {
        simd.mul_add_f64s(value, alpha, old())
    } else {
        simd.mul_f64s(value, alpha)
    }
}

/// Up to this many entries, `A x` keeps blocks of y in registers and runs along A's rows
/// (each column read in short pieces); above, it sweeps down eight columns at a time, so that
/// A is read in long runs the hardware prefetches. Measured here: 64×64 0.26 µs against
/// 0.49, 256×256 8.7 against 10.3; but 512×512 63 against 49, 1024×1024 441 against 331.
const STRIP_ENTRIES: usize = 1 << 16;

/// α A x, by blocks of y held in registers (small A) or by sweeps of eight columns.
struct AxpyColumns<'a> {
    y: &'a mut [f64],
    accumulate: bool,
    alpha: f64,
    a: Columns<'a>,
    x: &'a [f64],
}

impl WithSimd for AxpyColumns<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let AxpyColumns { y, accumulate, alpha, a, x } = self;
        let x = &x[..a.cols];
        if a.rows * a.cols > STRIP_ENTRIES {
            return axpy_sweep(simd, &mut y[..a.rows], accumulate, alpha, a, x);
        }
        let lanes = S::F64_LANES;
        let alpha = simd.splat_f64s(alpha);
        let mut first = 0;
        while first + 8 * lanes <= a.rows {
            axpy_block::<S, 8>(simd, y, first, accumulate, alpha, a, x);
            first += 8 * lanes;
        }
        while first + lanes <= a.rows {
            axpy_block::<S, 1>(simd, y, first, accumulate, alpha, a, x);
            first += lanes;
        }
        if first < a.rows {
            // The last rows, fewer than a vector: masked loads and stores.
            let mut acc = simd.splat_f64s(0.0);
            for (j, &xj) in x.iter().enumerate() {
                let column = simd.partial_load_f64s(&a.column(j)[first..]);
                acc = simd.mul_add_f64s(column, simd.splat_f64s(xj), acc);
            }
            let value = combine(simd, accumulate, alpha, acc, || simd.partial_load_f64s(&y[first..a.rows]));
            simd.partial_store_f64s(&mut y[first..a.rows], value);
        }
    }
}

/// α A x eight columns at a time: y is read and written once per eight columns (it stays in
/// the cache), each column is read from top to bottom.
#[inline(always)]
fn axpy_sweep<S: Simd>(simd: S, y: &mut [f64], accumulate: bool, alpha: f64, a: Columns, x: &[f64]) {
    if !accumulate {
        y.fill(0.0);
    }
    let whole = a.rows - a.rows % S::F64_LANES;
    let mut j = 0;
    while j + 8 <= a.cols {
        let c: [f64; 8] = std::array::from_fn(|t| alpha * x[j + t]);
        let cols: [&[f64]; 8] = std::array::from_fn(|t| a.column(j + t));
        let cv: [S::f64s; 8] = std::array::from_fn(|t| simd.splat_f64s(c[t]));
        let cols_v: [&[S::f64s]; 8] = std::array::from_fn(|t| S::as_simd_f64s(&cols[t][..whole]).0);
        let (head, _) = S::as_mut_simd_f64s(&mut y[..whole]);
        for (v, out) in head.iter_mut().enumerate() {
            // Two independent chains of four (no closure here: see above).
            let mut low = simd.mul_f64s(cv[3], cols_v[3][v]);
            let mut high = simd.mul_f64s(cv[7], cols_v[7][v]);
            for t in (0..3).rev() {
                low = simd.mul_add_f64s(cv[t], cols_v[t][v], low);
                high = simd.mul_add_f64s(cv[t + 4], cols_v[t + 4][v], high);
            }
            *out = simd.add_f64s(*out, simd.add_f64s(low, high));
        }
        for i in whole..a.rows {
            y[i] += (0..8).map(|t| c[t] * cols[t][i]).sum::<f64>();
        }
        j += 8;
    }
    // The last columns one by one (not padded with zero coefficients: 0 · ∞ would be NaN).
    for (j, &xj) in x.iter().enumerate().skip(j) {
        let (c, column) = (alpha * xj, a.column(j));
        let cv = simd.splat_f64s(c);
        let (head, _) = S::as_mut_simd_f64s(&mut y[..whole]);
        for (out, &v) in head.iter_mut().zip(S::as_simd_f64s(&column[..whole]).0) {
            *out = simd.mul_add_f64s(cv, v, *out);
        }
        for i in whole..a.rows {
            y[i] = c.mul_add(column[i], y[i]);
        }
    }
}

/// Rows `first..first + N·lanes` of α A x.
#[inline(always)]
fn axpy_block<S: Simd, const N: usize>(
    simd: S,
    y: &mut [f64],
    first: usize,
    accumulate: bool,
    alpha: S::f64s,
    a: Columns,
    x: &[f64],
) {
    let mut acc = [simd.splat_f64s(0.0); N];
    for (j, &xj) in x.iter().enumerate() {
        let column = load::<S, N>(a.data, j * a.rows + first);
        let xj = simd.splat_f64s(xj);
        for r in 0..N {
            acc[r] = simd.mul_add_f64s(column[r], xj, acc[r]);
        }
    }
    let old = if accumulate { load::<S, N>(y, first) } else { acc };
    let result = std::array::from_fn(|r| combine(simd, accumulate, alpha, acc[r], || old[r]));
    store::<S, N>(y, first, result);
}

/// α Aᵀ x (y has A's columns): four columns at a time, each dot
/// product in two vector accumulators, with x loaded once for the four.
struct DotColumns<'a> {
    y: &'a mut [f64],
    accumulate: bool,
    alpha: f64,
    a: Columns<'a>,
    x: &'a [f64],
}

impl WithSimd for DotColumns<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let DotColumns { y, accumulate, alpha, a, x } = self;
        let x = &x[..a.rows];
        let mut k = 0;
        while k + 8 <= y.len() {
            dot_block8(simd, y, k, accumulate, alpha, a, x);
            k += 8;
        }
        while k + 4 <= y.len() {
            dot_block::<S, 4>(simd, y, k, accumulate, alpha, a, x);
            k += 4;
        }
        while k < y.len() {
            dot_block::<S, 1>(simd, y, k, accumulate, alpha, a, x);
            k += 1;
        }
    }
}

/// `y[k..k + 8]` (+)= α (columns `k..k + 8` of A)ᵀ x: one accumulator a column (eight
/// independent chains keep both FMA units busy), x loaded once for the eight, and the eight
/// sums reduced together ([`sum_each`]).
#[inline(always)]
fn dot_block8<S: Simd>(simd: S, y: &mut [f64], k: usize, accumulate: bool, alpha: f64, a: Columns, x: &[f64]) {
    let lanes = S::F64_LANES;
    let whole = a.rows - a.rows % lanes;
    let (xs, _) = S::as_simd_f64s(&x[..whole]);
    let cols: [&[S::f64s]; 8] = std::array::from_fn(|t| S::as_simd_f64s(&a.column(k + t)[..whole]).0);
    let mut acc = [simd.splat_f64s(0.0); 8];
    for (v, &xv) in xs.iter().enumerate() {
        for t in 0..8 {
            acc[t] = simd.mul_add_f64s(cols[t][v], xv, acc[t]);
        }
    }
    if whole < a.rows {
        // The last rows, fewer than a vector (masked lanes load as zero).
        let xv = simd.partial_load_f64s(&x[whole..]);
        for (t, acc) in acc.iter_mut().enumerate() {
            *acc = simd.mul_add_f64s(simd.partial_load_f64s(&a.column(k + t)[whole..]), xv, *acc);
        }
    }
    let sums = sum_each(simd, acc);
    for (out, dot) in y[k..k + 8].iter_mut().zip(sums) {
        *out = if accumulate { *out + alpha * dot } else { alpha * dot };
    }
}

/// The sum of each vector's lanes. With AVX-512, the eight horizontal sums are one
/// transposing tree of 14 shuffles and 7 additions (instead of eight separate reductions of
/// about as many instructions each, in long dependent chains): a program computing a 64×64
/// `Aᵀx` took 0.25 µs a call against 0.29–0.30 with four columns at a time and separate
/// reductions (0.06 µs of either is the call itself).
#[inline(always)]
fn sum_each<S: Simd>(simd: S, acc: [S::f64s; 8]) -> [f64; 8] {
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<S>() == std::any::TypeId::of::<pulp::x86::V4>() {
        // SAFETY: S is V4 (same type), whose vectors are `f64x8`.
        let (v4, acc) = unsafe {
            (std::mem::transmute_copy::<S, pulp::x86::V4>(&simd), std::mem::transmute_copy::<_, [pulp::f64x8; 8]>(&acc))
        };
        return sum_each_v4(v4, acc);
    }
    acc.map(|a| simd.reduce_sum_f64s(a))
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sum_each_v4(v4: pulp::x86::V4, acc: [pulp::f64x8; 8]) -> [f64; 8] {
    use pulp::bytemuck::cast;
    use std::arch::x86_64::__m512d;
    let f = v4.avx512f;
    let a: [__m512d; 8] = acc.map(cast);
    // Each step halves the vectors and doubles the columns each holds. Pairs of columns:
    // lanes (c, c′) of every 128-bit quarter hold partial sums of columns c and c′.
    let pair = |x: __m512d, y: __m512d| f._mm512_add_pd(f._mm512_unpacklo_pd(x, y), f._mm512_unpackhi_pd(x, y));
    let b = [pair(a[0], a[1]), pair(a[2], a[3]), pair(a[4], a[5]), pair(a[6], a[7])];
    // Quarters 0, 2 of x and of y, plus quarters 1, 3: four columns, two partial sums each.
    let quad = |x: __m512d, y: __m512d| {
        f._mm512_add_pd(f._mm512_shuffle_f64x2::<0b10_00_10_00>(x, y), f._mm512_shuffle_f64x2::<0b11_01_11_01>(x, y))
    };
    let c = [quad(b[0], b[1]), quad(b[2], b[3])];
    cast(quad(c[0], c[1]))
}

/// `y[k..k + C]` (+)= α (columns `k..k + C` of A)ᵀ x.
#[inline(always)]
fn dot_block<S: Simd, const C: usize>(
    simd: S,
    y: &mut [f64],
    k: usize,
    accumulate: bool,
    alpha: f64,
    a: Columns,
    x: &[f64],
) {
    let lanes = S::F64_LANES;
    let cols: [&[f64]; C] = std::array::from_fn(|t| a.column(k + t));
    let mut even = [simd.splat_f64s(0.0); C];
    let mut odd = [simd.splat_f64s(0.0); C];
    let mut i = 0;
    while i + 2 * lanes <= a.rows {
        let xs = load::<S, 2>(x, i);
        for t in 0..C {
            let c = load::<S, 2>(cols[t], i);
            even[t] = simd.mul_add_f64s(c[0], xs[0], even[t]);
            odd[t] = simd.mul_add_f64s(c[1], xs[1], odd[t]);
        }
        i += 2 * lanes;
    }
    while i < a.rows {
        // A last vector, whole or masked (masked lanes load as zero).
        let xs = simd.partial_load_f64s(&x[i..]);
        for t in 0..C {
            even[t] = simd.mul_add_f64s(simd.partial_load_f64s(&cols[t][i..]), xs, even[t]);
        }
        i += lanes;
    }
    for t in 0..C {
        let dot = alpha * simd.reduce_sum_f64s(simd.add_f64s(even[t], odd[t]));
        y[k + t] = if accumulate { y[k + t] + dot } else { dot };
    }
}

/// Columns `first_col..` of L R into `dst` (whole columns of `rows` entries), for rank R.
struct RankColumns<'a, const R: usize> {
    dst: &'a mut [f64],
    rows: usize,
    accumulate: bool,
    /// Streaming stores (see [`streaming`]), which only a `dst` that is not accumulated into uses.
    stream: bool,
    left: &'a [f64],
    right: &'a [f64],
    first_col: usize,
}

/// Below this many entries, a thin product keeps a block of L's rows in registers and sweeps
/// across the columns (64×64, rank 3: 0.34 µs against 0.80 column by column); above it the
/// sweep's strided stores cost more than reloading L for each column (256×256: 19 µs
/// against 14.5).
const REGISTER_BLOCKED_ENTRIES: usize = 1 << 13;

impl<const R: usize> WithSimd for RankColumns<'_, R> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let RankColumns { dst, rows, accumulate, stream, left, right, first_col } = self;
        let lanes = S::F64_LANES;
        let cols = dst.len() / rows;
        let l: [&[f64]; R] = std::array::from_fn(|t| &left[t * rows..(t + 1) * rows]);
        let whole = rows - rows % lanes;
        if dst.len() <= REGISTER_BLOCKED_ENTRIES {
            let mut first = 0;
            while first + 4 * lanes <= whole {
                rank_block::<S, R, 4>(simd, dst, rows, first, accumulate, l, right, first_col..first_col + cols);
                first += 4 * lanes;
            }
            while first < whole {
                rank_block::<S, R, 1>(simd, dst, rows, first, accumulate, l, right, first_col..first_col + cols);
                first += lanes;
            }
        } else if stream && S::F64_LANES % 2 == 0 {
            let lv: [&[S::f64s]; R] = std::array::from_fn(|t| S::as_simd_f64s(&l[t][..whole]).0);
            for (j, column) in dst.chunks_exact_mut(rows).enumerate() {
                let c: [S::f64s; R] = std::array::from_fn(|t| simd.splat_f64s(right[(first_col + j) * R + t]));
                for (v, out) in column[..whole].chunks_exact_mut(lanes).enumerate() {
                    let mut sum = simd.mul_f64s(c[0], lv[0][v]);
                    for t in 1..R {
                        sum = simd.mul_add_f64s(c[t], lv[t][v], sum);
                    }
                    streaming::store::<S>(out, sum);
                }
            }
            streaming::fence();
        } else {
            let lv: [&[S::f64s]; R] = std::array::from_fn(|t| S::as_simd_f64s(&l[t][..whole]).0);
            for (j, column) in dst.chunks_exact_mut(rows).enumerate() {
                let c: [S::f64s; R] = std::array::from_fn(|t| simd.splat_f64s(right[(first_col + j) * R + t]));
                let (head, _) = S::as_mut_simd_f64s(&mut column[..whole]);
                for (v, out) in head.iter_mut().enumerate() {
                    let mut sum = if accumulate { *out } else { simd.splat_f64s(0.0) };
                    for t in 0..R {
                        sum = simd.mul_add_f64s(c[t], lv[t][v], sum);
                    }
                    *out = sum;
                }
            }
        }
        if whole < rows {
            // The last rows of every column, fewer than a vector.
            for (j, column) in dst.chunks_exact_mut(rows).enumerate() {
                let c = &right[(first_col + j) * R..(first_col + j + 1) * R];
                for (i, out) in column.iter_mut().enumerate().skip(whole) {
                    let mut sum = if accumulate { *out } else { 0.0 };
                    for t in 0..R {
                        sum = c[t].mul_add(l[t][i], sum);
                    }
                    *out = sum;
                }
            }
        }
    }
}

/// Rows `first..first + N·lanes` of columns `js` of L R, with that block of L in registers.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rank_block<S: Simd, const R: usize, const N: usize>(
    simd: S,
    dst: &mut [f64],
    rows: usize,
    first: usize,
    accumulate: bool,
    l: [&[f64]; R],
    right: &[f64],
    js: std::ops::Range<usize>,
) {
    let l: [[S::f64s; N]; R] = std::array::from_fn(|t| load::<S, N>(l[t], first));
    let first_col = js.start;
    for j in js {
        let c = &right[j * R..(j + 1) * R];
        let offset = (j - first_col) * rows + first;
        let mut sum = if accumulate { load::<S, N>(dst, offset) } else { [simd.splat_f64s(0.0); N] };
        for t in 0..R {
            let ct = simd.splat_f64s(c[t]);
            for r in 0..N {
                sum[r] = simd.mul_add_f64s(ct, l[t][r], sum[r]);
            }
        }
        store::<S, N>(dst, offset, sum);
    }
}

/// Non-temporal stores, for a large result that nothing reads soon (a gradient with respect
/// to a big matrix, written once at the end of a run). An ordinary store first brings the
/// line it writes into the cache, so writing an array from memory costs a read of it too;
/// these write past the caches and skip that read.
mod streaming {
    use pulp::Simd;

    /// Arrays at least this large are streamed: beyond what the caches keep from run to run.
    /// Measured here on the example's ∂L/∂A and ∂L/∂B: at 4096 × 4096 (128 MiB) each took 3.7
    /// ms against 4.5–4.9; at 2048 × 2048 (32 MiB) 0.90–0.98 ms against 1.0–1.27, and the
    /// next step, which reads A and B, 1.2 ms against 1.6 (the outputs no longer push them
    /// out of the cache). At 1024 × 1024 (8 MiB) the example's value and gradient took the
    /// same either way (2.2–2.6 ms a call, alternating), and its Hessian-vector product,
    /// which writes four such arrays, 5.1–7.0 ms against 7.0–12.5.
    pub(super) const BYTES: usize = 8 << 20;

    /// Whether the array `dst` (columns of `rows` entries) is worth streaming and can be: large,
    /// and with every column on a 16-byte boundary, as the stores need (the kernel also needs
    /// vectors of an even number of lanes, which it checks).
    pub(super) fn worthwhile(dst: &[f64], rows: usize) -> bool {
        cfg!(target_arch = "x86_64")
            && std::mem::size_of_val(dst) >= BYTES
            && rows.is_multiple_of(2)
            && (dst.as_ptr() as usize).is_multiple_of(16)
    }

    /// Writes the vector `value` to `out` (a vector's worth of entries, 16-byte aligned).
    #[inline(always)]
    pub(super) fn store<S: Simd>(out: &mut [f64], value: S::f64s) {
        let values: &[f64] = pulp::bytemuck::cast_slice(std::slice::from_ref(&value));
        let out = &mut out[..values.len()];
        #[cfg(target_arch = "x86_64")]
        for (pair, dst) in values.chunks_exact(2).zip(out.chunks_exact_mut(2)) {
            use std::arch::x86_64::{_mm_loadu_pd, _mm_stream_pd};
            debug_assert_eq!(dst.as_ptr() as usize % 16, 0);
            // SAFETY: `dst` holds two entries and is 16-byte aligned (`worthwhile` checked the
            // array and the columns; vectors have an even number of lanes); SSE2 is part of
            // x86-64.
            unsafe { _mm_stream_pd(dst.as_mut_ptr(), _mm_loadu_pd(pair.as_ptr())) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        out.copy_from_slice(values);
    }

    /// Orders the streamed stores before whatever the thread does next (they are weakly
    /// ordered; another thread may read the array once this thread's part is done).
    #[inline(always)]
    pub(super) fn fence() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE is part of x86-64.
        unsafe {
            std::arch::x86_64::_mm_sfence()
        }
    }
}
