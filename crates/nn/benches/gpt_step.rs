//! One training step of the transformer decoder, beside PyTorch's on the same config
//! (`benches/reference/gpt_step.py`; `bash benches/nn_vs_pytorch.sh` runs both).
//!
//! Usage: `cargo bench -p dnalm-nn --bench gpt_step`
//! vocab 9, width 128, 4 layers, 4 heads, FFN 512, sequence 512, batch 16; AdamW;
//! median ms per step over 20 steps after 3 warm-up steps.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use dnalm_nn::gpt::{Gpt, GptConfig};
use dnalm_nn::loss::masked_cross_entropy;
use dnalm_train::optimizer::{AdamW, AdamWConfig};
use rand::Rng;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEQ: usize = 512;
const BATCH: usize = 16;

fn main() {
    let config = GptConfig {
        vocab_size: 9,
        d_model: 128,
        num_layers: 4,
        num_heads: 4,
        ffn_dim: 512,
        rope_theta: 10000.0,
        norm_eps: 1e-5,
    };
    let device = Device::Cpu;
    let model = Gpt::new(config, 0, &device).expect("model");
    let mut optimizer = AdamW::new(
        model.params().named_vars(),
        AdamWConfig {
            weight_decay: 0.01,
            ..Default::default()
        },
    )
    .expect("optimizer");
    let mut rng = dnalm_seq::seeded_rng(0);
    let tokens: Vec<u32> = (0..BATCH * (SEQ + 1))
        .map(|_| rng.random_range(5..9))
        .collect();
    let all = Tensor::from_vec(tokens, (BATCH, SEQ + 1), &device).expect("tokens");
    let inputs = all
        .narrow(1, 0, SEQ)
        .expect("inputs")
        .contiguous()
        .expect("contiguous");
    let targets = all
        .narrow(1, 1, SEQ)
        .expect("targets")
        .contiguous()
        .expect("contiguous")
        .flatten_all()
        .expect("flat");
    let mask = Tensor::ones(BATCH * SEQ, DType::F32, &device).expect("mask");
    let mut step = || {
        let logits = model.forward(&inputs).expect("forward");
        let (loss, _) = masked_cross_entropy(
            &logits.reshape((BATCH * SEQ, 9)).expect("reshape"),
            &targets,
            &mask,
        )
        .expect("loss");
        let grads = loss.backward().expect("backward");
        optimizer.step(&grads, 1e-3).expect("step");
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
    println!(
        "dnalm gpt train step: median {:.1} ms ({} threads)",
        times[10],
        rayon::current_num_threads()
    );
}
