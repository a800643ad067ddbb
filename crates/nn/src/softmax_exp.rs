//! The exponentials of attention's softmax rows: `x -> e^(scale x - shift)` over every
//! score, once in a forward pass and once more in a backward (which recomputes the
//! probabilities), the largest pass of attention outside its products.
//!
//! For f32 on processors with AVX2 and FMA the pass is written in intrinsics: the same
//! Cephes-style `exp` as [`Real::exp`] (its constants shared) with every multiply-add
//! fused, about 21 vector instructions per 8 scores where the portable loop compiles to
//! about 30 (Rust never fuses `a * b + c` on its own), two vectors a step, the
//! polynomial by Estrin's scheme (1.40x -> 1.46x the portable loop on Zen 3, bench
//! `softmax_exp_speed`). Results differ from the portable loop's in the last bits (its
//! `scale x - shift` is rounded twice).
//! Elsewhere (f64, other processors), the portable loop.

use std::any::TypeId;

use crate::cpu::{simd_level, SimdLevel};
use crate::real::{exp_constants, lane_exp_sum, Real};

/// Replaces every value `x` by `e^(scale x - shift)` and returns their sum.
#[inline(always)]
pub fn exp_shifted_sum<T: Real>(values: &mut [T], scale: T, shift: T) -> T {
    #[cfg(target_arch = "x86_64")]
    if TypeId::of::<T>() == TypeId::of::<f32>() && simd_level() >= SimdLevel::Avx2Fma {
        let len = values.len();
        // SAFETY: T is f32 (checked above), so the slice is one of f32 of the same
        // length, and the two scalars are f32 values.
        let (values, scale, shift) = unsafe {
            (
                std::slice::from_raw_parts_mut(values.as_mut_ptr() as *mut f32, len),
                *(&scale as *const T as *const f32),
                *(&shift as *const T as *const f32),
            )
        };
        // SAFETY: the level says the processor has AVX2 and FMA.
        let sum = unsafe { x86::exp_shifted_sum(values, scale, shift) };
        return T::from_f64(f64::from(sum));
    }
    lane_exp_sum(values, scale, shift)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::exp_constants::*;

    /// `e^x` on 8 lanes, f32's [`crate::real::Real::exp`] with its multiply-adds fused: below
    /// [`LOWEST`] (and -inf) 0, NaN stays NaN.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn exp8(x: __m256) -> __m256 {
        let underflow = _mm256_cmp_ps::<_CMP_LT_OQ>(x, _mm256_set1_ps(LOWEST));
        // max/min return their second operand when either is NaN: x goes second.
        let x = _mm256_max_ps(_mm256_set1_ps(LOWEST), x);
        let x = _mm256_min_ps(_mm256_set1_ps(HIGHEST), x);
        let shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(LOG2E), _mm256_set1_ps(ROUNDER));
        let n = _mm256_sub_ps(shifted, _mm256_set1_ps(ROUNDER));
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), x);
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), r);
        // The polynomial by Estrin's scheme, pairs of terms first: three multiply-adds
        // deep where Horner's rule is five (a shorter chain of dependent instructions;
        // about 4% on the pass on Zen 3).
        let c = |i: usize| _mm256_set1_ps(P[i]);
        let r2 = _mm256_mul_ps(r, r);
        let r4 = _mm256_mul_ps(r2, r2);
        let low = _mm256_fmadd_ps(c(4), r, c(5));
        let middle = _mm256_fmadd_ps(c(2), r, c(3));
        let high = _mm256_fmadd_ps(c(0), r, c(1));
        let p = _mm256_fmadd_ps(high, r4, _mm256_fmadd_ps(middle, r2, low));
        let e_r = _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0));
        // 2^n: n sits in the low mantissa bits of `shifted`; take ROUNDER's bits away,
        // add the exponent bias and move it into the exponent field.
        let bias = ROUNDER.to_bits() as i32 - 127;
        let exponent = _mm256_slli_epi32::<23>(_mm256_sub_epi32(
            _mm256_castps_si256(shifted),
            _mm256_set1_epi32(bias),
        ));
        let value = _mm256_mul_ps(e_r, _mm256_castsi256_ps(exponent));
        _mm256_andnot_ps(underflow, value)
    }

    /// [`super::exp_shifted_sum`] for f32.
    ///
    /// # Safety
    /// The processor has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp_shifted_sum(values: &mut [f32], scale: f32, shift: f32) -> f32 {
        let (scale_v, shift_v) = (_mm256_set1_ps(scale), _mm256_set1_ps(shift));
        let exponentiate = |eight: &mut [f32]| {
            assert_eq!(eight.len(), 8, "a vector's worth of values");
            // SAFETY: `eight` holds 8 values (asserted).
            unsafe {
                let x = _mm256_fmsub_ps(_mm256_loadu_ps(eight.as_ptr()), scale_v, shift_v);
                let e = exp8(x);
                _mm256_storeu_ps(eight.as_mut_ptr(), e);
                e
            }
        };
        let mut sums = [_mm256_setzero_ps(); 2];
        let mut pairs = values.chunks_exact_mut(16);
        for pair in &mut pairs {
            for (half, sum) in pair.chunks_exact_mut(8).zip(sums.iter_mut()) {
                *sum = _mm256_add_ps(*sum, exponentiate(half));
            }
        }
        let mut lanes = [0.0f32; 8];
        // SAFETY: `lanes` holds 8 values.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), _mm256_add_ps(sums[0], sums[1])) };
        let total: f32 = lanes.iter().sum();
        // The last (fewer than 16) values through the same vector code, in a copy.
        let rest = pairs.into_remainder();
        let mut padded = [0.0f32; 16];
        padded[..rest.len()].copy_from_slice(rest);
        padded.chunks_exact_mut(8).for_each(|eight| {
            exponentiate(eight);
        });
        rest.copy_from_slice(&padded[..rest.len()]);
        total + rest.iter().sum::<f32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::with_simd_cap;

    /// Scores from -inf to large, lengths around the vector widths.
    fn scores(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| match i % 23 {
                0 => f32::NEG_INFINITY,
                1 => -500.0,
                _ => ((i * 7919 % 2003) as f32 / 1001.5 - 1.0) * 40.0,
            })
            .collect()
    }

    #[test]
    fn matches_exact_exponentials_within_three_ulps() {
        let (scale, shift) = (0.35f32, 2.5f32);
        for len in [0, 1, 7, 8, 15, 16, 17, 31, 33, 1002] {
            let input = scores(len);
            let mut got = input.clone();
            let sum = exp_shifted_sum(&mut got, scale, shift);
            let mut expected_sum = 0.0f64;
            for (&x, &e) in input.iter().zip(&got) {
                // The argument rounded once to f32, as the fused multiply-subtract
                // gives it.
                let argument =
                    f64::from((f64::from(x) * f64::from(scale) - f64::from(shift)) as f32);
                if argument < -87.3 {
                    assert_eq!(e, 0.0, "e^{argument} (len {len})");
                    continue;
                }
                let exact = argument.exp();
                expected_sum += exact;
                let error = (f64::from(e) - exact).abs() / exact;
                assert!(
                    error < 3.0 * f64::from(f32::EPSILON),
                    "e^{argument}: {e} vs {exact}"
                );
            }
            let sum_error = (f64::from(sum) - expected_sum).abs() / expected_sum.max(1e-30);
            assert!(
                len == 0 || sum_error < 1e-5,
                "len {len}: sum {sum} vs {expected_sum}"
            );
        }
    }

    #[test]
    fn agrees_with_the_portable_loop_and_keeps_nan() {
        let input = scores(1002);
        let (scale, shift) = (0.177f32, -1.25f32);
        let mut widest = input.clone();
        let widest_sum = exp_shifted_sum(&mut widest, scale, shift);
        let mut portable = input.clone();
        let portable_sum = with_simd_cap(SimdLevel::Baseline, || {
            exp_shifted_sum(&mut portable, scale, shift)
        });
        for ((a, b), &x) in widest.iter().zip(&portable).zip(&input) {
            // The portable loop rounds `scale x` before subtracting: its argument may
            // be an ulp of |argument| off, which moves e^argument by |argument| ulps.
            let argument = (x * scale - shift).abs();
            let tolerance = (4.0 + argument) * f32::EPSILON * b.abs();
            assert!(a == b || (a - b).abs() <= tolerance, "{a} vs {b}");
        }
        assert!((widest_sum - portable_sum).abs() <= 1e-5 * portable_sum);
        let mut with_nan = vec![1.0f32; 24];
        with_nan[3] = f32::NAN;
        let sum = exp_shifted_sum(&mut with_nan, 1.0, 0.0);
        assert!(with_nan[3].is_nan() && sum.is_nan());
        assert!((with_nan[4] - std::f32::consts::E).abs() <= 2.0 * f32::EPSILON * 3.0);
    }
}
