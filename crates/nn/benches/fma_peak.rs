//! The processor's measured f32 multiply-add peak, against which the kernels' GFLOP/s
//! are read: every thread runs independent chains of fused multiply-adds on
//! registers only (no loads), so the figure is the FMA pipes' throughput at the clock
//! the processor holds under that load, not a clock read from `lscpu`.
//!
//! Usage: `cargo bench -p dnalm-nn --bench fma_peak -- [THREADS]` (default: 1 and the
//! available cores). AVX2 + FMA on 8 lanes, and AVX-512 on 16 where the processor has
//! it; three rounds each.

use std::hint::black_box;
use std::time::Instant;

use dnalm_nn::cpu::{simd_level, SimdLevel};

/// A thread's work: `iterations` steps of every chain; returns a value that depends on
/// all of them.
type Chains = fn(u64) -> f32;

/// Iterations of the inner loop per thread and round.
const ITERATIONS: u64 = 100_000_000;

/// GFLOP/s of `threads` threads each running `chains` on `lanes`-wide registers.
fn measure(threads: usize, lanes: usize, run: Chains, chains: usize) -> f64 {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| black_box(run(black_box(ITERATIONS))));
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    (threads as u64 * ITERATIONS * chains as u64 * lanes as u64 * 2) as f64 / seconds / 1e9
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    /// Independent chains: two FMA pipes of latency 4 need 8 in flight.
    pub const CHAINS: usize = 12;

    /// `CHAINS` chains of `x = x * a + b` on 8 lanes; returns a lane of their sum.
    ///
    /// # Safety
    /// The processor has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn chains_avx2(iterations: u64) -> f32 {
        // Distinct starting values, unknown to the compiler, so it cannot merge chains.
        let start: [__m256; CHAINS] =
            std::array::from_fn(|i| _mm256_set1_ps(black_box(1.0 + i as f32)));
        let (a, b) = (
            _mm256_set1_ps(black_box(0.999_999)),
            _mm256_set1_ps(black_box(1e-7)),
        );
        let mut x = start;
        for _ in 0..iterations {
            for value in &mut x {
                *value = _mm256_fmadd_ps(*value, a, b);
            }
        }
        let sum = x
            .iter()
            .fold(_mm256_setzero_ps(), |s, &v| _mm256_add_ps(s, v));
        _mm256_cvtss_f32(sum)
    }

    /// `CHAINS` chains on 16 lanes.
    ///
    /// # Safety
    /// The processor has AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn chains_avx512(iterations: u64) -> f32 {
        let start: [__m512; CHAINS] =
            std::array::from_fn(|i| _mm512_set1_ps(black_box(1.0 + i as f32)));
        let (a, b) = (
            _mm512_set1_ps(black_box(0.999_999)),
            _mm512_set1_ps(black_box(1e-7)),
        );
        let mut x = start;
        for _ in 0..iterations {
            for value in &mut x {
                *value = _mm512_fmadd_ps(*value, a, b);
            }
        }
        _mm512_reduce_add_ps(
            x.iter()
                .fold(_mm512_setzero_ps(), |s, &v| _mm512_add_ps(s, v)),
        )
    }
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let thread_counts: Vec<usize> = match std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        Some(count) => {
            let count: usize = count.parse().expect("THREADS is a number");
            assert!((1..=1024).contains(&count), "THREADS must be 1 to 1024");
            vec![count]
        }
        None if cores > 1 => vec![1, cores],
        None => vec![1],
    };
    #[cfg(target_arch = "x86_64")]
    {
        let level = simd_level();
        let mut kinds: Vec<(&str, usize, Chains)> = Vec::new();
        if level >= SimdLevel::Avx2Fma {
            // SAFETY: the level says the processor has AVX2 and FMA.
            kinds.push(("AVX2 + FMA", 8, |n| unsafe { x86::chains_avx2(n) }));
        }
        if level >= SimdLevel::Avx512 {
            // SAFETY: the level says the processor has AVX-512F.
            kinds.push(("AVX-512", 16, |n| unsafe { x86::chains_avx512(n) }));
        }
        if kinds.is_empty() {
            println!("no FMA vector level on this processor ({level:?})");
        }
        println!(
            "{:<12} {:>7} {:>28}",
            "instructions", "threads", "GFLOP/s, rounds 1 / 2 / 3"
        );
        for (name, lanes, run) in kinds {
            for &threads in &thread_counts {
                let rounds: Vec<String> = (0..3)
                    .map(|_| format!("{:.1}", measure(threads, lanes, run, x86::CHAINS)))
                    .collect();
                println!("{name:<12} {threads:>7} {:>28}", rounds.join(" / "));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (thread_counts, simd_level(), SimdLevel::Baseline, measure);
        println!("the FMA peak is measured on x86-64 only");
    }
}
