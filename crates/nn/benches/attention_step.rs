//! The fused attention op alone on the decoder's shape (batch 16, 4 heads, 512
//! positions, head width 32; causal, and without the mask), forward and forward +
//! backward, beside PyTorch's `scaled_dot_product_attention` on the same shapes
//! (`benches/reference/attention_step.py`; `bash benches/attention_vs_pytorch.sh` runs
//! both in alternating rounds): how much of a train step is attention, and whether ours
//! or PyTorch's fused kernel is ahead.
//!
//! Usage: `cargo bench -p dnalm-nn --bench attention_step`; threads from
//! `RAYON_NUM_THREADS`. Median ms over 12 calls after 2 warm-up calls.

use std::time::Instant;

use candle_core::{Device, Result, Tensor, Var};
use dnalm_nn::attention_op::attention;

#[global_allocator]
static ALLOCATOR: dnalm_nn::allocator::Allocator = dnalm_nn::allocator::Allocator;

const BATCH: usize = 16;
const HEADS: usize = 4;
const STEPS: usize = 512;
const HEAD_DIM: usize = 32;

fn main() -> Result<()> {
    dnalm_nn::allocator::configure();
    let shape = (BATCH, HEADS, STEPS, HEAD_DIM);
    let (q, k, v) = (
        Var::from_tensor(&values(shape, 1)?)?,
        Var::from_tensor(&values(shape, 2)?)?,
        Var::from_tensor(&values(shape, 3)?)?,
    );
    let probe = values(shape, 4)?;
    for causal in [true, false] {
        let (mut forward, mut both) = (Vec::new(), Vec::new());
        for call in 0..14 {
            let started = Instant::now();
            let out = attention(&q, &k, &v, causal, None)?;
            let forward_ms = started.elapsed().as_secs_f64() * 1e3;
            (out * &probe)?.sum_all()?.backward()?;
            if call >= 2 {
                forward.push(forward_ms);
                both.push(started.elapsed().as_secs_f64() * 1e3);
            }
        }
        println!(
            "dnalm attention B={BATCH} H={HEADS} T={STEPS} d={HEAD_DIM} causal={causal}: \
             forward {:.1} ms, forward+backward {:.1} ms",
            median(&mut forward),
            median(&mut both)
        );
    }
    Ok(())
}

/// Deterministic values in [-1, 1).
fn values(shape: (usize, usize, usize, usize), seed: u64) -> Result<Tensor> {
    let count = shape.0 * shape.1 * shape.2 * shape.3;
    let data: Vec<f32> = (0..count as u64)
        .map(|i| ((i * 2_654_435_761 + seed * 97) % 2000) as f32 / 1000.0 - 1.0)
        .collect();
    Tensor::from_vec(data, shape, &Device::Cpu)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
