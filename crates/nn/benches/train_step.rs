//! One training step of each neural model, beside PyTorch's on the same configs
//! (`benches/reference/lstm_step.py`, `gpt_step.py`; `bash benches/nn_vs_pytorch.sh`
//! runs all four).
//!
//! Usage: `cargo bench -p dnalm-nn --bench train_step -- [lstm|gpt]` (both by default)
//! - LSTM: vocab 9, embedding 128, hidden 256, 2 layers, sequence 256, batch 32;
//! - decoder: vocab 9, width 128, 4 layers, 4 heads, FFN 512, sequence 512, batch 16;
//!
//! AdamW; median ms per step over 20 steps after 3 warm-up steps.

use std::time::Instant;

use candle_core::{DType, Device, Result, Tensor, Var};
use dnalm_nn::gpt::{Gpt, GptConfig};
use dnalm_nn::loss::masked_cross_entropy;
use dnalm_nn::lstm::{LstmConfig, LstmLm};
use dnalm_train::optimizer::{AdamW, AdamWConfig};
use rand::Rng;

#[global_allocator]
static ALLOCATOR: dnalm_nn::allocator::Allocator = dnalm_nn::allocator::Allocator;

/// Median milliseconds of a full train step (forward, loss, backward, AdamW) on random
/// nucleotide tokens.
fn median_step_ms(
    forward: &dyn Fn(&Tensor) -> Result<Tensor>,
    params: Vec<(String, Var)>,
    batch: usize,
    seq: usize,
) -> f64 {
    let device = Device::Cpu;
    let mut optimizer = AdamW::new(
        params,
        AdamWConfig {
            weight_decay: 0.01,
            ..Default::default()
        },
    )
    .expect("optimizer");
    let mut rng = dnalm_seq::seeded_rng(0);
    let tokens: Vec<u32> = (0..batch * (seq + 1))
        .map(|_| rng.random_range(5..9))
        .collect();
    let all = Tensor::from_vec(tokens, (batch, seq + 1), &device).expect("tokens");
    let inputs = all
        .narrow(1, 0, seq)
        .and_then(|t| t.contiguous())
        .expect("inputs");
    let targets = all
        .narrow(1, 1, seq)
        .and_then(|t| t.contiguous()?.flatten_all())
        .expect("targets");
    let mask = Tensor::ones(batch * seq, DType::F32, &device).expect("mask");
    let mut step = || {
        let logits = forward(&inputs)
            .and_then(|l| l.reshape((batch * seq, 9)))
            .expect("forward");
        let (loss, _) = masked_cross_entropy(&logits, &targets, &mask).expect("loss");
        optimizer
            .step(&loss.backward().expect("backward"), 1e-3)
            .expect("step");
    };
    for _ in 0..3 {
        step();
    }
    let mut times: Vec<f64> = (0..20)
        .map(|_| {
            let start = Instant::now();
            step();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[10]
}

fn main() {
    dnalm_nn::allocator::configure();
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let wants = |name: &str| which.is_empty() || which.iter().any(|w| w == name);
    let threads = rayon::current_num_threads();
    if wants("lstm") {
        let config = LstmConfig {
            vocab_size: 9,
            embed_dim: 128,
            hidden_size: 256,
            num_layers: 2,
        };
        let model = LstmLm::new(config, 0, &Device::Cpu).expect("model");
        let ms = median_step_ms(
            &|ids| model.forward(ids),
            model.params().named_vars(),
            32,
            256,
        );
        println!("dnalm lstm train step: median {ms:.1} ms ({threads} threads)");
    }
    if wants("gpt") {
        let config = GptConfig {
            vocab_size: 9,
            d_model: 128,
            num_layers: 4,
            num_heads: 4,
            ffn_dim: 512,
            rope_theta: 10000.0,
            norm_eps: 1e-5,
        };
        let model = Gpt::new(config, 0, &Device::Cpu).expect("model");
        let ms = median_step_ms(
            &|ids| model.forward(ids),
            model.params().named_vars(),
            16,
            512,
        );
        println!("dnalm gpt train step: median {ms:.1} ms ({threads} threads)");
    }
}
