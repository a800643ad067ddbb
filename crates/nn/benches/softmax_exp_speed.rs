//! The exponentials of a block of attention scores (64 query rows x 1,002 keys, the
//! BERT and MxDNA embeddings' shape): [`exp_shifted_sum`]'s AVX2 + FMA intrinsics
//! against the portable loop it replaced, compiled for the same AVX2 + FMA level,
//! alternating rounds on one thread.
//!
//! Usage: `cargo bench -p dnalm-nn --bench softmax_exp_speed -- [ROUNDS]` (default 6).

use std::time::Instant;

use dnalm_nn::cpu::{simd_level, SimdLevel};
use dnalm_nn::real::lane_exp_sum;
use dnalm_nn::softmax_exp::exp_shifted_sum;

/// Keys of a row and rows of a block.
const KEYS: usize = 1002;
const ROWS: usize = 64;
/// Blocks a round.
const REPEATS: usize = 400;

/// The portable loop as the AVX2 copy of the attention kernel compiled it.
///
/// # Safety
/// The processor has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn portable_avx2(block: &mut [f32], scale: f32, shift: f32) -> f32 {
    block
        .chunks_exact_mut(KEYS)
        .map(|row| lane_exp_sum(row, scale, shift))
        .sum()
}

#[cfg(target_arch = "x86_64")]
fn intrinsic(block: &mut [f32], scale: f32, shift: f32) -> f32 {
    block
        .chunks_exact_mut(KEYS)
        .map(|row| exp_shifted_sum(row, scale, shift))
        .sum()
}

/// Microseconds a block of `run`, over [`REPEATS`] blocks from the same scores.
#[cfg(target_arch = "x86_64")]
fn microseconds(scores: &[f32], run: &mut dyn FnMut(&mut [f32]) -> f32) -> f64 {
    let mut block = scores.to_vec();
    let started = Instant::now();
    let mut total = 0.0;
    for _ in 0..REPEATS {
        block.copy_from_slice(scores);
        total += run(&mut block);
    }
    std::hint::black_box(total);
    started.elapsed().as_secs_f64() * 1e6 / REPEATS as f64
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map_or(6, |r| r.parse().expect("ROUNDS is a number"));
    if simd_level() < SimdLevel::Avx2Fma {
        println!(
            "no AVX2 + FMA here ({:?}): nothing to compare",
            simd_level()
        );
        return;
    }
    #[cfg(target_arch = "x86_64")]
    compare(rounds);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = rounds;
}

/// Prints `rounds` alternating rounds and the median ratio.
#[cfg(target_arch = "x86_64")]
fn compare(rounds: usize) {
    // Raw scores of about the spread attention sees, scaled by 1/sqrt(32).
    let scores: Vec<f32> = (0..ROWS * KEYS)
        .map(|i| ((i * 7919 % 2003) as f32 / 1001.5 - 1.0) * 12.0)
        .collect();
    let (scale, shift) = (1.0 / 32f32.sqrt(), 1.5);
    println!("64 x 1,002 scores a block, including a copy of the block (the same on both sides)");
    println!(
        "{:>5} {:>13} {:>13} {:>7}",
        "round", "portable µs", "intrinsic µs", "ratio"
    );
    let mut ratios = Vec::new();
    for round in 1..=rounds {
        // SAFETY: the level above says the processor has AVX2 and FMA.
        let portable = microseconds(&scores, &mut |b| unsafe { portable_avx2(b, scale, shift) });
        let ours = microseconds(&scores, &mut |b| intrinsic(b, scale, shift));
        ratios.push(portable / ours);
        println!(
            "{round:>5} {portable:>13.1} {ours:>13.1} {:>6.2}x",
            portable / ours
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!("median {:.2}x", ratios[ratios.len() / 2]);
}
