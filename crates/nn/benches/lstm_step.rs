//! One training step of the LSTM language model, beside PyTorch's on the same config
//! (`benches/reference/lstm_step.py`; `bash benches/nn_vs_pytorch.sh` runs both).
//!
//! Usage: `cargo bench -p dnalm-nn --bench lstm_step`
//! vocab 9, embedding 128, hidden 256, 2 layers, sequence 256, batch 32; AdamW;
//! median ms per step over 20 steps after 3 warm-up steps.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use dnalm_nn::loss::masked_cross_entropy;
use dnalm_nn::lstm::{LstmConfig, LstmLm};
use dnalm_train::optimizer::{AdamW, AdamWConfig};
use rand::Rng;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEQ: usize = 256;
const BATCH: usize = 32;

fn main() {
    let config = LstmConfig {
        vocab_size: 9,
        embed_dim: 128,
        hidden_size: 256,
        num_layers: 2,
    };
    let device = Device::Cpu;
    let model = LstmLm::new(config, 0, &device).expect("model");
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
        "dnalm lstm train step: median {:.1} ms ({} threads)",
        times[10],
        rayon::current_num_threads()
    );
}
