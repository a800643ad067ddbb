//! Deterministic pseudo-random test inputs (for kernels' tests, no RNG state to thread).

/// `n` values spread over `[-amplitude, amplitude)`, a pure function of `(n, seed)`.
pub fn values(n: usize, seed: u64, amplitude: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed;
            let x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            ((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * amplitude
        })
        .collect()
}
