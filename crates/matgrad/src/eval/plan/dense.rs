//! The dense kernels a gradient spends its time in, written for the shapes that occur:
//! matrix–vector products (`A x`, `Aᵀ w`) and thin updates (`dst += [a c e] [b d f]ᵀ`).
//!
//! faer's general product pays a setup cost that dominates at these shapes (a 64×64
//! matrix–vector product took 0.53 µs through faer, 0.15 µs here); these loops are simple
//! enough for the compiler to vectorise, and run under `pulp`'s runtime dispatch so they
//! get AVX2 and FMA where the CPU has them. Large ones are split in two halves for two
//! threads.

use pulp::{Arch, Simd, WithSimd};

/// Matrices with at least this many entries are processed by two threads (the callers
/// decide, with this). Measured on this machine (2 cores, inside the thread pool): two
/// threads win from about 128×128 on (matrix–vector 3.8 µs against 4.3 at 128, 11 against
/// 17 at 256) and lose below (1.8 µs against 0.9 at 64).
pub(super) const PARALLEL_ENTRIES: usize = 1 << 15;

/// A column-major `rows × cols` matrix: column `j` is `data[j·rows..(j + 1)·rows]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Columns<'a> {
    pub data: &'a [f64],
    pub rows: usize,
    pub cols: usize,
}

impl<'a> Columns<'a> {
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
            let (left, right) = a.data.split_at(half * a.rows);
            let left = Columns { data: left, rows: a.rows, cols: half };
            let right = Columns { data: right, rows: a.rows, cols: a.cols - half };
            let partial = &mut partial[..a.rows];
            rayon::join(
                || Arch::new().dispatch(AxpyColumns { y: &mut *y, accumulate, alpha, a: left, x: &x[..half] }),
                || Arch::new().dispatch(AxpyColumns { y: partial, accumulate: false, alpha, a: right, x: &x[half..] }),
            );
            for (yi, pi) in y.iter_mut().zip(partial.iter()) {
                *yi += pi;
            }
        }
        None => Arch::new().dispatch(AxpyColumns { y, accumulate, alpha, a, x }),
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
        let (left, right) = y.split_at_mut(half);
        rayon::join(
            || Arch::new().dispatch(DotColumns { y: left, accumulate, alpha, a, first_col: 0, x }),
            || Arch::new().dispatch(DotColumns { y: right, accumulate, alpha, a, first_col: half, x }),
        );
    } else {
        Arch::new().dispatch(DotColumns { y, accumulate, alpha, a, first_col: 0, x });
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
    let run = |dst: &mut [f64], first_col: usize| {
        macro_rules! rank {
            ($r:literal) => {
                Arch::new().dispatch(RankColumns::<$r> { dst, rows, accumulate, left, right, first_col })
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
// for the CPU's instruction set, and `#[inline(always)]` pulls the loops into it. (A closure
// would not do: it is compiled on its own, for the baseline instruction set.)

/// α A x, eight columns at a time, so that y is read and written once per eight columns.
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
    fn with_simd<S: Simd>(self, _: S) {
        let AxpyColumns { y, accumulate, alpha, a, x } = self;
        let rows = y.len();
        if !accumulate {
            y.fill(0.0);
        }
        let part = |j: usize| a.column(j);
        let mut j = 0;
        while j + 8 <= a.cols {
            let c: [f64; 8] = std::array::from_fn(|t| alpha * x[j + t]);
            let cols: [&[f64]; 8] = std::array::from_fn(|t| part(j + t));
            for i in 0..rows {
                let low =
                    c[0].mul_add(cols[0][i], c[1].mul_add(cols[1][i], c[2].mul_add(cols[2][i], c[3] * cols[3][i])));
                let high =
                    c[4].mul_add(cols[4][i], c[5].mul_add(cols[5][i], c[6].mul_add(cols[6][i], c[7] * cols[7][i])));
                y[i] += low + high;
            }
            j += 8;
        }
        while j < a.cols {
            let (c, col) = (alpha * x[j], part(j));
            for (yi, &aij) in y.iter_mut().zip(col) {
                *yi = c.mul_add(aij, *yi);
            }
            j += 1;
        }
    }
}

/// Entries `first_col..first_col + y.len()` of α Aᵀ x: four columns at a time, each dot
/// product in eight lanes.
struct DotColumns<'a> {
    y: &'a mut [f64],
    accumulate: bool,
    alpha: f64,
    a: Columns<'a>,
    first_col: usize,
    x: &'a [f64],
}

impl WithSimd for DotColumns<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let DotColumns { y, accumulate, alpha, a, first_col, x } = self;
        let x = &x[..a.rows];
        let chunks = a.rows / 8;
        let dot = |lane: &[f64; 8], col: &[f64]| {
            let tail: f64 = (chunks * 8..a.rows).map(|i| col[i] * x[i]).sum();
            ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7])) + tail
        };
        let count = y.len();
        let mut store = |k: usize, dot: f64| {
            let value = alpha * dot;
            y[k] = if accumulate { y[k] + value } else { value };
        };
        let mut k = 0;
        while k + 4 <= count {
            let cols: [&[f64]; 4] = std::array::from_fn(|t| a.column(first_col + k + t));
            let mut lanes = [[0.0f64; 8]; 4];
            for chunk in 0..chunks {
                let xs = &x[chunk * 8..chunk * 8 + 8];
                for (lane, col) in lanes.iter_mut().zip(&cols) {
                    let cs = &col[chunk * 8..chunk * 8 + 8];
                    for l in 0..8 {
                        lane[l] = cs[l].mul_add(xs[l], lane[l]);
                    }
                }
            }
            for (t, (lane, col)) in lanes.iter().zip(&cols).enumerate() {
                store(k + t, dot(lane, col));
            }
            k += 4;
        }
        while k < count {
            let col = a.column(first_col + k);
            let mut lane = [0.0f64; 8];
            for chunk in 0..chunks {
                for l in 0..8 {
                    lane[l] = col[chunk * 8 + l].mul_add(x[chunk * 8 + l], lane[l]);
                }
            }
            store(k, dot(&lane, col));
            k += 1;
        }
    }
}

/// Columns `first_col..` of L R into `dst` (whole columns of `rows` entries), for rank R.
struct RankColumns<'a, const R: usize> {
    dst: &'a mut [f64],
    rows: usize,
    accumulate: bool,
    left: &'a [f64],
    right: &'a [f64],
    first_col: usize,
}

impl<const R: usize> WithSimd for RankColumns<'_, R> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let RankColumns { dst, rows, accumulate, left, right, first_col } = self;
        let l: [&[f64]; R] = std::array::from_fn(|t| &left[t * rows..(t + 1) * rows]);
        for (j, column) in dst.chunks_exact_mut(rows).enumerate() {
            let c: [f64; R] = std::array::from_fn(|t| right[(first_col + j) * R + t]);
            for i in 0..rows {
                let mut sum = if accumulate { column[i] } else { 0.0 };
                for t in 0..R {
                    sum = c[t].mul_add(l[t][i], sum);
                }
                column[i] = sum;
            }
        }
    }
}
