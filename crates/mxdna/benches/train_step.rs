//! One MxDNA masked-LM training step on the CPU benchmark configuration ("cpu-small":
//! width 128, 4 heads, FFN 512, 2 nucleotide layers + the
//! tokenization layer + 4 token layers, experts 1..=10, deformable kernel 3), batch 16
//! x 512 nt plus [CLS]/[SEP], 15% masked, AdamW.
//!
//! Usage: `cargo bench -p dnalm-mxdna --bench train_step -- [STEPS]`; prints the median
//! step time (after 3 warm-up steps) and nucleotides per second.

use std::time::Instant;

use candle_core::{Device, Tensor};
use dnalm_mxdna::config::{MxDnaConfig, MxDnaPreset};
use dnalm_mxdna::model::MxDna;
use dnalm_nn::params::ParamStore;
use dnalm_train::optimizer::{AdamW, AdamWConfig};
use rand::Rng;

#[global_allocator]
static ALLOCATOR: dnalm_nn::allocator::Allocator = dnalm_nn::allocator::Allocator;

const BATCH: usize = 16;
const NUCLEOTIDES: usize = 512;

fn main() {
    dnalm_nn::allocator::configure();
    let steps: usize = std::env::args()
        .skip(1)
        .find(|a| a != "--bench")
        .map_or(10, |a| a.parse().expect("STEPS is a number"));
    let device = Device::Cpu;
    let mut params = ParamStore::new(0, &device);
    let model = MxDna::new(MxDnaConfig::preset(MxDnaPreset::Small), &mut params).expect("model");
    let mut optimizer = AdamW::new(
        params.named_vars(),
        AdamWConfig {
            weight_decay: 0.01,
            ..Default::default()
        },
    )
    .expect("optimizer");
    let mut rng = dnalm_seq::seeded_rng(0);
    let width = NUCLEOTIDES + 2;
    let mut ids = Vec::with_capacity(BATCH * width);
    for _ in 0..BATCH {
        ids.push(dnalm_tokenize::special::CLS);
        ids.extend((0..NUCLEOTIDES).map(|_| rng.random_range(5..9u32)));
        ids.push(dnalm_tokenize::special::SEP);
    }
    let rows = Tensor::from_vec(ids, (BATCH, width), &device).expect("rows");
    let mut times = Vec::new();
    for step in 0..steps + 3 {
        let started = Instant::now();
        let loss = model
            .masked_lm_loss(&rows, step as u64, true)
            .expect("loss");
        optimizer
            .step(&loss.total.backward().expect("backward"), 1e-3)
            .expect("step");
        if step >= 3 {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "dnalm MxDNA cpu-small train step  B={BATCH} L={NUCLEOTIDES}  threads={}  median {:.1} ms  ({:.0} nt/s)",
        rayon::current_num_threads(),
        median * 1e3,
        (BATCH * NUCLEOTIDES) as f64 / median
    );
}
