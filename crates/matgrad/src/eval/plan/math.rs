//! `exp`, `tanh`, `σ` and softplus written without branches or calls, so that a loop over them
//! vectorises (libm's are one call per entry: `tanh` alone was a third of the time of the
//! MLP benchmark). Each stays within a few ulp of libm (checked in the tests below); the
//! interpreter keeps libm, and the plan's tests compare the two.

/// 1.5 · 2⁵²: `x + SHIFT` rounds x to an integer held in the low bits of the sum.
const SHIFT: f64 = 6_755_399_441_055_744.0;

/// 2ᵏ for an integer-valued `k` in [−1022, 1023], built from its exponent bits.
#[inline(always)]
fn power_of_two(k: f64) -> f64 {
    let bits = (k + SHIFT).to_bits().wrapping_sub(SHIFT.to_bits()).wrapping_add(1023);
    f64::from_bits(bits << 52)
}

/// eˣ: x = k ln 2 + r with |r| ≤ ln 2 / 2 (Cody–Waite, ln 2 in two parts), eʳ by its Taylor
/// series to degree 13 (truncation below 3·10⁻¹⁷), times 2ᵏ in two factors so that results
/// down to the subnormals and up to overflow come out right.
#[inline(always)]
pub(super) fn exp(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // Beyond these, eˣ is 0 or ∞ in f64; NaN passes through `clamp`.
    let x = x.clamp(-746.0, 710.0);
    let k = (x * std::f64::consts::LOG2_E + SHIFT) - SHIFT;
    let r = (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, x));
    let mut p: f64 = 1.0 / 6_227_020_800.0;
    for factorial in
        [479_001_600.0, 39_916_800.0, 3_628_800.0, 362_880.0, 40_320.0, 5_040.0, 720.0, 120.0, 24.0, 6.0, 2.0, 1.0, 1.0]
    {
        p = p.mul_add(r, 1.0 / factorial);
    }
    let half = (k * 0.5).floor();
    p * power_of_two(half) * power_of_two(k - half)
}

/// tanh x: x + x³ P(x²)/Q(x²) for |x| ≤ 0.625 (Cephes' rational approximation), else
/// ±(1 − 2/(e^{2|x|} + 1)); both are computed and one is chosen, which vectorises.
#[inline(always)]
pub(super) fn tanh(x: f64) -> f64 {
    const P: [f64; 3] = [-9.643_991_794_250_523e-1, -9.928_772_310_019_185e1, -1.614_687_684_417_084_5e3];
    const Q: [f64; 3] = [1.128_116_784_916_329_3e2, 2.235_488_390_601_004_5e3, 4.844_063_053_251_255e3];
    let a = x.abs();
    // (e^{2|x|} − 1)/(e^{2|x|} + 1) for the large branch; tanh 22 rounds to 1, and the clamp
    // keeps the exponential finite (`min` ignores NaN: the small branch carries it).
    let e = exp(2.0 * a.min(22.0));
    let z = x * x;
    let p = P[0].mul_add(z, P[1]).mul_add(z, P[2]);
    let q = (z + Q[0]).mul_add(z, Q[1]).mul_add(z, Q[2]);
    // One division for whichever branch applies: x + x z p / q = (x q + x z p) / q.
    let large = a > 0.625;
    let numerator = if large { (e - 1.0).copysign(x) } else { x.mul_add(q, x * z * p) };
    let denominator = if large { e + 1.0 } else { q };
    numerator / denominator
}

/// σ(x) = 1/(1 + e⁻ˣ) for x ≥ 0, eˣ/(1 + eˣ) below, as the interpreter computes it.
#[inline(always)]
pub(super) fn sigmoid(x: f64) -> f64 {
    let e = exp(-x.abs());
    if x >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

/// log(1 + e) for e in [0, 1]: u = 1 + e is reduced to m = u or u/2 in [1/√2, √2], where
/// log m = 2 atanh s = 2(s + s³/3 + s⁵/5 + …) with s = (m − 1)/(m + 1), |s| ≤ 0.172 (twelve
/// terms reach the last bit); then e/(u − 1) corrects for the rounding of 1 + e.
#[inline(always)]
fn log1p_unit(e: f64) -> f64 {
    let u = 1.0 + e;
    let high = u > std::f64::consts::SQRT_2;
    let m = if high { 0.5 * u } else { u };
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    let mut series: f64 = 1.0 / 25.0;
    for odd in [23.0, 21.0, 19.0, 17.0, 15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0, 1.0] {
        series = series.mul_add(z, 1.0 / odd);
    }
    let log_u = if high { std::f64::consts::LN_2 } else { 0.0 } + 2.0 * s * series;
    if u == 1.0 {
        e
    } else {
        log_u * (e / (u - 1.0))
    }
}

/// log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|), as the interpreter computes it.
#[inline(always)]
pub(super) fn softplus(x: f64) -> f64 {
    x.max(0.0) + log1p_unit(exp(-x.abs()))
}

#[cfg(test)]
mod tests {
    /// The largest relative difference from libm over a sweep of `range`.
    fn worst(f: fn(f64) -> f64, reference: fn(f64) -> f64, range: (f64, f64)) -> f64 {
        let steps = 200_000;
        (0..=steps)
            .map(|i| range.0 + (range.1 - range.0) * i as f64 / steps as f64)
            .map(|x| {
                let (a, b) = (f(x), reference(x));
                if a == b {
                    0.0
                } else {
                    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
                }
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn exp_agrees_with_libm_to_a_few_ulp() {
        assert!(worst(super::exp, f64::exp, (-700.0, 700.0)) < 4e-16);
        assert!(worst(super::exp, f64::exp, (-1.0, 1.0)) < 4e-16);
        assert_eq!(super::exp(710.0), f64::INFINITY);
        assert_eq!(super::exp(-800.0), 0.0);
        assert!(super::exp(f64::NAN).is_nan());
        // Subnormal results keep their leading digits.
        assert!((super::exp(-740.0) / (-740.0f64).exp() - 1.0).abs() < 1e-10);
    }

    #[test]
    fn tanh_agrees_with_libm_to_a_few_ulp() {
        assert!(worst(super::tanh, f64::tanh, (-30.0, 30.0)) < 6e-16);
        assert!(worst(super::tanh, f64::tanh, (-0.7, 0.7)) < 6e-16);
        assert!(worst(super::tanh, f64::tanh, (-1e-6, 1e-6)) < 6e-16);
        assert_eq!(super::tanh(f64::INFINITY), 1.0);
        assert_eq!(super::tanh(f64::NEG_INFINITY), -1.0);
        assert!(super::tanh(f64::NAN).is_nan());
    }

    #[test]
    fn softplus_agrees_with_the_interpreter() {
        let reference = crate::ir::func::softplus;
        assert!(worst(super::softplus, reference, (-745.0, 50.0)) < 1e-15);
        assert!(worst(super::softplus, reference, (-1.0, 1.0)) < 1e-15);
        assert!(worst(super::log1p_unit, f64::ln_1p, (0.0, 1.0)) < 1e-15);
        assert!(worst(super::log1p_unit, f64::ln_1p, (0.0, 1e-12)) < 1e-15);
    }

    #[test]
    fn sigmoid_agrees_with_the_interpreter() {
        assert!(worst(super::sigmoid, crate::ir::func::sigmoid, (-50.0, 50.0)) < 6e-16);
    }
}
