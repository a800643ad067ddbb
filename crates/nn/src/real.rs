//! The float types the hand-written kernels run on (f32 for training, f64 for
//! finite-difference checks).

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

/// A float the kernels support.
pub trait Real:
    Copy
    + Default
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + PartialOrd
{
    /// 1.
    fn one() -> Self;
    /// The nearest value to an f64.
    fn from_f64(value: f64) -> Self;
    /// The value as an f64.
    fn to_f64(self) -> f64;
    /// Negative infinity.
    fn neg_infinity() -> Self;
    /// `e^x` (for f32 a branch-free approximation that vectorises; 0 at -inf).
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Hyperbolic tangent (for f32 a branch-free approximation that vectorises).
    fn tanh(self) -> Self;
    /// Logistic sigmoid, `(1 + tanh(x / 2)) / 2`.
    fn sigmoid(self) -> Self;
}

/// Eigen's (and TensorFlow's) rational approximation of tanh for f32: a 13/6-degree
/// ratio of odd/even polynomials on `[-9, 9]`, clamped outside, within a few f32 ulps
/// of the exact value. Pure arithmetic, so loops over it vectorise.
#[inline(always)]
fn tanh_f32(x: f32) -> f32 {
    const ALPHA: [f32; 7] = [
        4.893_524_6e-3,
        6.372_619_3e-4,
        1.485_722_4e-5,
        5.122_297e-8,
        -8.604_672e-11,
        2.000_188e-13,
        -2.760_768_5e-16,
    ];
    const BETA: [f32; 4] = [4.893_525e-3, 2.268_434_6e-3, 1.185_347_1e-4, 1.198_258_4e-6];
    let x = x.clamp(-9.0, 9.0);
    let x2 = x * x;
    let mut p = ALPHA[6];
    for &a in ALPHA[..6].iter().rev() {
        p = p * x2 + a;
    }
    let q = ((BETA[3] * x2 + BETA[2]) * x2 + BETA[1]) * x2 + BETA[0];
    x * p / q
}

/// The constants of [`exp_f32`], shared with the intrinsic form in
/// [`crate::softmax_exp`].
pub(crate) mod exp_constants {
    /// log2(e).
    pub const LOG2E: f32 = std::f32::consts::LOG2_E;
    /// ln 2 split in two for an exact `n ln 2`: the high part...
    pub const LN2_HI: f32 = 0.693_359_4;
    /// ...and the rest.
    pub const LN2_LO: f32 = -2.121_944_4e-4;
    /// The polynomial for `(e^r - 1 - r) / r^2`, highest degree first.
    pub const P: [f32; 6] = [
        1.987_569_1e-4,
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        5e-1,
    ];
    /// Inputs below this give 0.
    pub const LOWEST: f32 = -87.3;
    /// Inputs above this are clamped to it.
    pub const HIGHEST: f32 = 88.3;
    /// 1.5 * 2^23: adding and removing it rounds to the nearest integer (exact for
    /// |x log2 e| < 2^22), and the sum's low mantissa bits hold that integer.
    pub const ROUNDER: f32 = 12_582_912.0;
}

/// `e^x` for f32 in the style of Cephes' `expf`: `x = n ln 2 + r` with `|r| <= ln 2 / 2`,
/// a degree-6 polynomial for `e^r`, and `2^n` put straight into the exponent bits.
/// Within 2 f32 ulps; inputs below -87.3 (including -inf) give 0, above 88.3 clamp.
/// Pure arithmetic, so loops over it vectorise.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    use exp_constants::*;
    let underflow = x < LOWEST;
    let x = x.clamp(LOWEST, HIGHEST);
    // Round to nearest through ROUNDER: plain arithmetic, where `round` is a libm call
    // that stops the loop vectorising. The shifted value's low mantissa bits hold `n`
    // itself, read as an integer: `n as i32` would be a saturating conversion, which
    // compiles to scalar code.
    let shifted = x * LOG2E + ROUNDER;
    let n = shifted - ROUNDER;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = P[0];
    for &c in &P[1..] {
        p = p * r + c;
    }
    let e_r = p * r * r + r + 1.0;
    let exponent = shifted
        .to_bits()
        .wrapping_sub(ROUNDER.to_bits())
        .wrapping_add(127);
    let scale = f32::from_bits(exponent << 23);
    if underflow {
        0.0
    } else {
        e_r * scale
    }
}

impl Real for f32 {
    fn one() -> Self {
        1.0
    }
    fn from_f64(value: f64) -> Self {
        value as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn neg_infinity() -> Self {
        f32::NEG_INFINITY
    }
    #[inline(always)]
    fn exp(self) -> Self {
        exp_f32(self)
    }
    fn ln(self) -> Self {
        f32::ln(self)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        tanh_f32(self)
    }
    #[inline(always)]
    fn sigmoid(self) -> Self {
        0.5 + 0.5 * tanh_f32(0.5 * self)
    }
}

impl Real for f64 {
    fn one() -> Self {
        1.0
    }
    fn from_f64(value: f64) -> Self {
        value
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn neg_infinity() -> Self {
        f64::NEG_INFINITY
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    fn sigmoid(self) -> Self {
        1.0 / (1.0 + (-self).exp())
    }
}

/// Lanes of the reductions below: independent partial results the compiler keeps in
/// vector registers (a single running sum is a serial chain it may not reorder).
pub const LANES: usize = 16;

/// The sum of `values`, added in [`LANES`] interleaved partial sums.
#[inline(always)]
pub fn lane_sum<T: Real>(values: &[T]) -> T {
    lane_sum_of(values, |value| value)
}

/// The sum of `term(x)` over `values`, added in [`LANES`] interleaved partial sums.
#[inline(always)]
pub fn lane_sum_of<T: Real>(values: &[T], term: impl Fn(T) -> T) -> T {
    let mut lanes = [T::default(); LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, &value) in lanes.iter_mut().zip(chunk) {
            *lane += term(value);
        }
    }
    let mut total = T::default();
    for &lane in &lanes {
        total += lane;
    }
    for &value in tail {
        total += term(value);
    }
    total
}

/// The sum of `term(a_i, b_i, c_i)` over three slices of one length, in [`LANES`]
/// interleaved partial sums.
#[inline(always)]
pub fn lane_sum_of3<T: Real>(a: &[T], b: &[T], c: &[T], term: impl Fn(T, T, T) -> T) -> T {
    assert!(
        a.len() == b.len() && b.len() == c.len(),
        "slices of different lengths"
    );
    let mut lanes = [T::default(); LANES];
    let (a_chunks, b_chunks, c_chunks) = (
        a.chunks_exact(LANES),
        b.chunks_exact(LANES),
        c.chunks_exact(LANES),
    );
    let tails = (
        a_chunks.remainder(),
        b_chunks.remainder(),
        c_chunks.remainder(),
    );
    for ((a, b), c) in a_chunks.zip(b_chunks).zip(c_chunks) {
        for (lane, ((&a, &b), &c)) in lanes.iter_mut().zip(a.iter().zip(b).zip(c)) {
            *lane += term(a, b, c);
        }
    }
    let mut total = T::default();
    for &lane in &lanes {
        total += lane;
    }
    for ((&a, &b), &c) in tails.0.iter().zip(tails.1).zip(tails.2) {
        total += term(a, b, c);
    }
    total
}

/// Replaces every value `x` by `e^(scale x - shift)` and returns their sum, in one
/// pass with [`LANES`] partial sums (softmax numerators and their denominator).
#[inline(always)]
pub fn lane_exp_sum<T: Real>(values: &mut [T], scale: T, shift: T) -> T {
    let mut lanes = [T::default(); LANES];
    let mut chunks = values.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        for (lane, value) in lanes.iter_mut().zip(chunk) {
            *value = (*value * scale - shift).exp();
            *lane += *value;
        }
    }
    let mut total = T::default();
    for value in chunks.into_remainder() {
        *value = (*value * scale - shift).exp();
        total += *value;
    }
    lanes.iter().fold(total, |sum, &lane| sum + lane)
}

/// The largest of `values` (negative infinity when empty; NaN-free input assumed).
#[inline(always)]
pub fn lane_max<T: Real>(values: &[T]) -> T {
    let larger = |a: T, b: T| if b > a { b } else { a };
    let mut lanes = [T::neg_infinity(); LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, &value) in lanes.iter_mut().zip(chunk) {
            *lane = larger(*lane, value);
        }
    }
    lanes
        .iter()
        .chain(tail)
        .fold(T::neg_infinity(), |a, &b| larger(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exponentiating_sum_matches_plain_loops() {
        for n in [0usize, 3, 16, 37] {
            let values: Vec<f64> = (0..n).map(|i| ((i * 37 % 11) as f64) - 4.5).collect();
            let mut got = values.clone();
            let sum = lane_exp_sum(&mut got, 0.5, 1.25);
            let expected: Vec<f64> = values.iter().map(|x| (0.5 * x - 1.25).exp()).collect();
            assert_eq!(got, expected, "n {n}");
            let total: f64 = expected.iter().sum();
            assert!(
                (sum - total).abs() <= 1e-12 * total.max(1.0),
                "n {n}: {sum} vs {total}"
            );
        }
    }

    #[test]
    fn lane_reductions_match_plain_ones() {
        for n in [0usize, 1, 15, 16, 17, 100] {
            let values: Vec<f64> = (0..n).map(|i| ((i * 37 % 11) as f64) - 4.5).collect();
            assert_eq!(lane_sum(&values), values.iter().sum::<f64>(), "n {n}");
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(lane_max(&values), max, "n {n}");
            // Half-integers squared and products of them are exact in f64: any order
            // of addition gives the same sum.
            let squares: f64 = values.iter().map(|v| (v - 0.5) * (v - 0.5)).sum();
            assert_eq!(
                lane_sum_of(&values, |v| (v - 0.5) * (v - 0.5)),
                squares,
                "n {n}"
            );
            let others: Vec<f64> = values.iter().map(|v| v * 2.0 + 1.0).collect();
            let thirds: Vec<f64> = (0..n).map(|i| (i % 5) as f64).collect();
            let triples: f64 = (0..n).map(|i| values[i] * others[i] - thirds[i]).sum();
            let got = lane_sum_of3(&values, &others, &thirds, |a, b, c| a * b - c);
            assert_eq!(got, triples, "n {n}");
        }
    }

    #[test]
    fn fast_tanh_and_sigmoid_are_close_to_exact() {
        let mut worst = (0.0f64, 0.0f64);
        for i in -20_000..=20_000 {
            let x = i as f32 / 1000.0;
            let tanh_error = (Real::tanh(x) as f64 - (x as f64).tanh()).abs();
            let sigmoid_error = (Real::sigmoid(x) as f64 - 1.0 / (1.0 + (-(x as f64)).exp())).abs();
            worst = (worst.0.max(tanh_error), worst.1.max(sigmoid_error));
        }
        // A few f32 ulps near 1 (ulp 1.19e-7).
        assert!(worst.0 < 5e-7 && worst.1 < 5e-7, "worst errors {worst:?}");
    }

    #[test]
    fn fast_exp_is_within_a_few_ulps() {
        let mut worst = 0.0f64;
        for i in -87_000..=88_000 {
            let x = i as f32 / 1000.0;
            let exact = (x as f64).exp();
            worst = worst.max((Real::exp(x) as f64 - exact).abs() / exact);
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(Real::exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(Real::exp(-100.0f32), 0.0);
        assert_eq!(Real::exp(0.0f32), 1.0);
    }
}
