//! The weighted Gram matrix `α X Diag(w) Xᵀ` of a column-major `d × n` matrix X (samples as
//! columns), the Hessian of a GLM (logistic regression's `X Diag(p ⊙ (1 − p)) Xᵀ`), as its
//! lower triangle.
//!
//! faer's product reads this X with the inner dimension (the samples) across columns, the
//! layout it is slowest in: at d = 256, n = 2048, in blocks of scaled samples, 2.7–3.9 ms on
//! this machine (2 threads), against 1.5 ms for the same product with the samples down the
//! columns. This kernel reads X as it is stored: a tile of X's rows at one sample is
//! contiguous, and so is the weighted row of Xᵀ it multiplies, so each pass over a block of
//! samples packs both without transposing and runs a register tile of 2 vectors × NR
//! accumulators over it: 1.4 ms at d = 256, n = 2048; 93 ms against faer's 121 at d = 1000,
//! n = 10 000; 4.9 against 7.7 at d = 512, n = 2048. Its scratch is one block of weighted
//! panels, [`samples_per_pass`] samples × d: at most half the Hessian, so that a Hessian's
//! plan needs memory within twice the Hessian's own size at every d.

use pulp::{Arch, Simd, WithSimd};

/// Samples per pass at most: a packed tile of X's rows (16 × 128 entries, 16 KiB) stays in
/// the level-1 cache while the weighted panels stream from level 2.
const KC: usize = 128;

/// Samples per pass for a `d × d` result: [`KC`], or fewer where KC samples' weighted panels
/// would outgrow half the result (d < 268). Small results are cheap either way; what a
/// small d must not cost is memory several times the Hessian's.
pub(super) fn samples_per_pass(d: usize) -> usize {
    (d * d / (2 * (d + 12))).clamp(1, KC)
}

/// Columns per register tile: 12 with 32 vector registers (AVX-512: 24 accumulators), 6 with
/// 16 (AVX2).
const fn columns_per_tile(lanes: usize) -> usize {
    if lanes >= 8 {
        12
    } else {
        6
    }
}

/// The scratch the kernel needs for a `d × d` result: one block of weighted panels.
pub(super) fn scratch_len(d: usize) -> usize {
    // Each thread's columns round up to whole panels: at most 11 more than d in all.
    samples_per_pass(d) * (d + 12)
}

/// X, `d × n`: X[i, k] = `data[i · row_step + k · sample_step]`, with one of the steps 1
/// (samples as columns, `X Diag(w) Xᵀ`, or as rows, `Aᵀ Diag(w) A`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Samples<'a> {
    pub data: &'a [f64],
    pub d: usize,
    pub n: usize,
    pub row_step: usize,
    pub sample_step: usize,
}

/// `dst`'s lower triangle (+)= α X Diag(w) Xᵀ (`w[k · w_step]` is sample k's weight); the
/// upper triangle is left as it is, for the caller to mirror. `dst` is `d × d` column-major,
/// `scratch` holds [`scratch_len`] entries.
#[allow(clippy::too_many_arguments)]
pub(super) fn weighted_gram(
    dst: &mut [f64],
    accumulate: bool,
    alpha: f64,
    x: Samples,
    w: &[f64],
    w_step: usize,
    scratch: &mut [f64],
    parallel: bool,
) {
    debug_assert!(x.row_step == 1 || x.sample_step == 1);
    let d = x.d;
    let dst = &mut dst[..d * d];
    let lanes = Arch::new().dispatch(Lanes);
    let nr = columns_per_tile(lanes);
    let panels = d.div_ceil(nr);
    let kc = samples_per_pass(d);
    // Column j's part of the lower triangle has d − j entries: the second thread takes the
    // columns from s on, (d − s)² = d²/2, rounded to whole panels.
    let split = if parallel && panels >= 2 {
        let s = (d as f64 * (1.0 - std::f64::consts::FRAC_1_SQRT_2)) as usize;
        (s.div_ceil(nr) * nr).clamp(nr, (panels - 1) * nr)
    } else {
        d
    };
    let (left, right) = dst.split_at_mut(split * d);
    let (scratch_left, scratch_right) = scratch[..kc * panels * nr].split_at_mut(kc * split.div_ceil(nr) * nr);
    let part = |dst: &mut [f64], scratch: &mut [f64], columns: std::ops::Range<usize>| {
        Arch::new().dispatch(Gram { dst, accumulate, alpha, x, kc, w, w_step, scratch, columns })
    };
    if split < d {
        rayon::join(|| part(left, scratch_left, 0..split), || part(right, scratch_right, split..d));
    } else {
        part(left, scratch_left, 0..d);
    }
}

struct Lanes;

impl WithSimd for Lanes {
    type Output = usize;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> usize {
        S::F64_LANES
    }
}

/// The columns `columns` of the result (`dst` holds just those).
struct Gram<'a> {
    dst: &'a mut [f64],
    accumulate: bool,
    alpha: f64,
    x: Samples<'a>,
    /// Samples per pass, at most [`KC`].
    kc: usize,
    w: &'a [f64],
    w_step: usize,
    scratch: &'a mut [f64],
    columns: std::ops::Range<usize>,
}

impl WithSimd for Gram<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        if S::F64_LANES >= 8 {
            self.run::<S, 12>(simd);
        } else {
            self.run::<S, 6>(simd);
        }
    }
}

impl Gram<'_> {
    #[inline(always)]
    fn run<S: Simd, const NR: usize>(self, simd: S) {
        let Gram { dst, accumulate, alpha, x, kc, w, w_step, scratch, columns } = self;
        let (d, n) = (x.d, x.n);
        let lanes = S::F64_LANES;
        let mr = 2 * lanes;
        let first_col = columns.start;
        let panels = columns.len().div_ceil(NR);
        // A tile of rows of X over a block of samples, `mr` entries per sample.
        let mut rows_tile = [0.0; 16 * KC];
        // Rows from the tile that holds the first column's diagonal entry.
        let first_row = first_col / mr * mr;
        for (block, start) in (0..n).step_by(kc).enumerate() {
            let samples = start..kc.min(n - start) + start;
            // The weighted panels: panel p holds, for each sample k, α w_k X[j, k] for its NR
            // columns j (zeros past the last).
            for p in 0..panels {
                let panel = &mut scratch[p * kc * NR..][..samples.len() * NR];
                let j0 = first_col + p * NR;
                let weight = |k: usize| alpha * w[k * w_step];
                pack(panel, NR, x, j0..d.min(j0 + NR), samples.clone(), weight);
            }
            let add = accumulate || block > 0;
            for i0 in (first_row..d).step_by(mr) {
                let height = mr.min(d - i0);
                let tile = &mut rows_tile[..samples.len() * mr];
                pack(tile, mr, x, i0..i0 + height, samples.clone(), |_| 1.0);
                // The panels whose columns start left of the tile's last row.
                let last = panels.min((i0 + mr).saturating_sub(first_col).div_ceil(NR));
                for p in 0..last {
                    let panel = &scratch[p * kc * NR..][..samples.len() * NR];
                    let sums = product::<S, NR>(simd, tile, panel);
                    let j0 = first_col + p * NR;
                    let width = NR.min(d - j0);
                    store_tile::<S, NR>(dst, d, i0, j0 - first_col, height, width, add, sums);
                }
            }
        }
    }
}

/// Packs X's `rows` at `samples` sample by sample, `width` entries each:
/// `out[k · width + r] = scale(sample) · X[rows.start + r, sample]` for the k-th sample, and
/// zeros past the rows' end.
#[inline(always)]
fn pack(
    out: &mut [f64],
    width: usize,
    x: Samples,
    rows: std::ops::Range<usize>,
    samples: std::ops::Range<usize>,
    scale: impl Fn(usize) -> f64,
) {
    let height = rows.len();
    if x.row_step == 1 {
        // A sample's rows are contiguous.
        for (entries, k) in out.chunks_exact_mut(width).zip(samples) {
            let (s, column) = (scale(k), &x.data[k * x.sample_step + rows.start..][..height]);
            entries.iter_mut().zip(column).for_each(|(e, &v)| *e = s * v);
            entries[height..].fill(0.0);
        }
    } else {
        // A row's samples are contiguous: read along each row, write across.
        for (r, i) in rows.enumerate() {
            let row = &x.data[i * x.row_step + samples.start..][..samples.len()];
            for ((entries, &v), k) in out.chunks_exact_mut(width).zip(row).zip(samples.clone()) {
                entries[r] = scale(k) * v;
            }
        }
        out.chunks_exact_mut(width).for_each(|entries| entries[height..].fill(0.0));
    }
}

/// Σ_k tile[k] panel[k]ᵀ: a `2 lanes × NR` block, in registers.
#[inline(always)]
fn product<S: Simd, const NR: usize>(simd: S, tile: &[f64], panel: &[f64]) -> [[S::f64s; 2]; NR] {
    let lanes = S::F64_LANES;
    let mut sums = [[simd.splat_f64s(0.0); 2]; NR];
    for (rows, entries) in tile.chunks_exact(2 * lanes).zip(panel.chunks_exact(NR)) {
        let (a, _) = S::as_simd_f64s(rows);
        let (a0, a1) = (a[0], a[1]);
        for c in 0..NR {
            let b = simd.splat_f64s(entries[c]);
            sums[c][0] = simd.mul_add_f64s(a0, b, sums[c][0]);
            sums[c][1] = simd.mul_add_f64s(a1, b, sums[c][1]);
        }
    }
    sums
}

/// Writes (`add`: adds) the `height × width` top-left part of `sums` at row `i0`, column
/// `j0` of the column-major `dst` of `d` rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn store_tile<S: Simd, const NR: usize>(
    dst: &mut [f64],
    d: usize,
    i0: usize,
    j0: usize,
    height: usize,
    width: usize,
    add: bool,
    sums: [[S::f64s; 2]; NR],
) {
    for (c, pair) in sums.iter().enumerate().take(width) {
        let column = &mut dst[(j0 + c) * d + i0..][..height];
        let values: &[f64] = pulp::bytemuck::cast_slice(pair.as_slice());
        if add {
            column.iter_mut().zip(values).for_each(|(e, &v)| *e += v);
        } else {
            column.copy_from_slice(&values[..height]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tile edge (d around multiples of 6, 12 and 16; n around multiples of the pass
    /// lengths), both layouts, one and two threads, accumulating into a result and strided
    /// weights, against the plain sum.
    #[test]
    fn the_lower_triangle_is_the_weighted_sum_of_outer_products() {
        for d in [1, 2, 5, 11, 12, 13, 16, 17, 24, 25, 40, 100, 300] {
            for n in [1, 3, 127, 128, 129, 300] {
                let entry = |i: usize, k: usize| (((k * d + i) * 7919) % 1013) as f64 / 1013.0 - 0.5;
                let by_columns: Vec<f64> = (0..d * n).map(|at| entry(at % d, at / d)).collect();
                let by_rows: Vec<f64> = (0..d * n).map(|at| entry(at / n, at % n)).collect();
                let layouts = [
                    Samples { data: &by_columns, d, n, row_step: 1, sample_step: d },
                    Samples { data: &by_rows, d, n, row_step: n, sample_step: 1 },
                ];
                let w: Vec<f64> = (0..2 * n).map(|i| (i % 7) as f64 / 7.0 - 0.3).collect();
                for x in layouts {
                    for (parallel, accumulate) in [(false, false), (true, false), (false, true), (true, true)] {
                        let mut dst = vec![0.5; d * d];
                        let mut scratch = vec![f64::NAN; scratch_len(d)];
                        weighted_gram(&mut dst, accumulate, 1.5, x, &w, 2, &mut scratch, parallel);
                        for j in 0..d {
                            for i in j..d {
                                let sum: f64 = (0..n).map(|k| entry(i, k) * w[2 * k] * entry(j, k)).sum();
                                let expected = if accumulate { 0.5 } else { 0.0 } + 1.5 * sum;
                                let got = dst[j * d + i];
                                let layout = x.row_step;
                                assert!(
                                    (got - expected).abs() < 1e-12,
                                    "d = {d}, n = {n}, row step {layout}, ({i}, {j}): {got} ≠ {expected}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
