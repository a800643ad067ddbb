//! The float types the hand-written kernels run on (f32 for training, f64 for
//! finite-difference checks).

use std::ops::{Add, AddAssign, Mul, Sub};

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
    + AddAssign
{
    /// 1.
    fn one() -> Self;
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

impl Real for f32 {
    fn one() -> Self {
        1.0
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
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    fn sigmoid(self) -> Self {
        1.0 / (1.0 + (-self).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
