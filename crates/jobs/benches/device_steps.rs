//! One training step (forward, loss, backward, AdamW) of each pretraining model on a
//! device, through the same `Trainable::window_loss` the training jobs call: the CPU
//! with the fused kernels, the CPU on the portable path (`DNALM_PORTABLE_OPS=1`: what
//! the fused kernels are worth), or a CUDA GPU (`--device cuda`, a build with the `cuda`
//! feature; scripts/gpu_check.sh).
//!
//! Usage: `cargo bench -p dnalm-jobs --bench device_steps -- [--device D] [--steps N]
//! [MODEL...]`, models `lstm`, `gpt`, `bert`, `mxdna-small`, `mxdna-paper` (all but
//! `mxdna-paper` by default). Sizes: LSTM 2 x 256 (embedding 128), 32 windows of 256
//! tokens; decoder and BERT width 128, 4 layers, 4 heads, FFN 512, 16 x 512; MxDNA
//! cpu-small 16 x 512 nt; MxDNA paper (~100M parameters) 8 x 1,000 nt. Prints the median
//! step time over N steps (10) after 2 warm-up steps, and tokens per second.

use std::time::Instant;

use candle_core::{Device, Tensor};
use dnalm_models::presets::{
    encoder_config, lm_config, mxdna_config, MxdnaPreset, Network, Preset,
};
use dnalm_mxdna::pretrained::MxDnaLm;
use dnalm_nn::device::DeviceSpec;
use dnalm_nn::kernels::fused_kernel_for;
use dnalm_nn::masked_lm::MaskedLm;
use dnalm_nn::token_lm::TokenLm;
use dnalm_run::Trainable;
use dnalm_tokenize::special::{CLS, SEP};
use dnalm_train::optimizer::{AdamW, AdamWConfig};
use rand::Rng;

#[global_allocator]
static ALLOCATOR: dnalm_nn::allocator::Allocator = dnalm_nn::allocator::Allocator;

const WARM_UP: usize = 2;

/// Random nucleotide tokens `(batch, width)`; `framed` rows are `[CLS] ... [SEP]`.
fn random_rows(batch: usize, width: usize, framed: bool, device: &Device) -> Tensor {
    let mut rng = dnalm_seq::seeded_rng(0);
    let ids: Vec<u32> = (0..batch)
        .flat_map(|_| {
            let mut row: Vec<u32> = (0..width).map(|_| rng.random_range(5..9u32)).collect();
            if framed {
                row[0] = CLS;
                row[width - 1] = SEP;
            }
            row
        })
        .collect();
    Tensor::from_vec(ids, (batch, width), device).expect("rows")
}

/// Median seconds of a step of `model` on `rows`.
fn median_step_seconds(model: &dyn Trainable, rows: &Tensor, steps: usize) -> f64 {
    let device = rows.device();
    let mut optimizer = AdamW::new(model.named_vars(), AdamWConfig::default()).expect("AdamW");
    let mut times = Vec::new();
    for step in 0..steps + WARM_UP {
        let started = Instant::now();
        let (loss, _) = model.window_loss(rows, step as u64).expect("loss");
        let gradients = loss.backward().expect("backward");
        optimizer.step(&gradients, 1e-4).expect("AdamW step");
        device.synchronize().expect("synchronize");
        if step >= WARM_UP {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    dnalm_nn::allocator::configure();
    let mut device = DeviceSpec::Cpu;
    let mut steps = 10;
    let mut models = Vec::new();
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--device" => device = args.next().expect("--device D").parse().expect("device"),
            "--steps" => steps = args.next().expect("--steps N").parse().expect("steps"),
            _ => models.push(arg),
        }
    }
    if models.is_empty() {
        models = ["lstm", "gpt", "bert", "mxdna-small"]
            .map(String::from)
            .to_vec();
    }
    let opened = device.open().unwrap_or_else(|err| panic!("{err}"));
    let probe = Tensor::zeros(1, candle_core::DType::F32, &opened).expect("probe");
    let path = match (opened.is_cpu(), fused_kernel_for(&probe)) {
        (false, _) => "portable ops on the GPU",
        (true, false) => "portable ops on the CPU",
        (true, true) => "fused CPU kernels",
    };
    println!(
        "| model | batch x tokens | median step | tokens/s | device ({path}, {} threads) |",
        rayon::current_num_threads()
    );
    println!("|---|---|---|---|---|");
    for name in &models {
        let nucleotide = || dnalm_tokenize::by_name("nucleotide").expect("tokenizer");
        let (model, rows): (Box<dyn Trainable>, Tensor) = match name.as_str() {
            "lstm" | "gpt" => {
                let network = if name == "lstm" {
                    Network::Lstm
                } else {
                    Network::Gpt
                };
                let config = lm_config(network, Preset::Small, nucleotide().vocab_size());
                let (batch, tokens) = if name == "lstm" { (32, 256) } else { (16, 512) };
                let model = TokenLm::new(config, nucleotide(), 0, &opened).expect("model");
                (
                    Box::new(model),
                    random_rows(batch, tokens + 1, false, &opened),
                )
            }
            "bert" => {
                let model = MaskedLm::new(encoder_config(Preset::Small), nucleotide(), 0, &opened)
                    .expect("model");
                (Box::new(model), random_rows(16, 514, true, &opened))
            }
            "mxdna-small" | "mxdna-paper" => {
                let (preset, batch, nucleotides) = if name == "mxdna-small" {
                    (MxdnaPreset::Small, 16, 512)
                } else {
                    (MxdnaPreset::Paper, 8, 1000)
                };
                let model = MxDnaLm::new(mxdna_config(preset), 0, &opened).expect("model");
                (
                    Box::new(model),
                    random_rows(batch, nucleotides + 2, true, &opened),
                )
            }
            other => panic!("unknown model {other}: lstm, gpt, bert, mxdna-small, mxdna-paper"),
        };
        let seconds = median_step_seconds(model.as_ref(), &rows, steps);
        let (batch, width) = rows.dims2().expect("rows");
        println!(
            "| {name} | {batch} x {width} | {:.1} ms | {:.0} | {device} |",
            seconds * 1e3,
            (batch * width) as f64 / seconds
        );
    }
}
