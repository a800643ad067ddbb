//! A `paper`-size MxDNA checkpoint folder (the authors' layout, ~100M parameters) on
//! the CPU: load time, resident memory, and one inference forward pass (masked-LM
//! logits at every position) over 8 windows of 1,000 nt of a FASTA file.
//!
//! Usage: `cargo bench -p dnalm-mxdna --bench paper_checkpoint -- FOLDER FASTA [ROUNDS]`
//! (benches/paper_checkpoint.sh makes the folder with the reference code and runs this
//! beside the reference PyTorch model). Prints one line per measurement.

use std::sync::Arc;
use std::time::Instant;

use candle_core::Device;
use dnalm_mxdna::encoder_input::EncoderInput;
use dnalm_mxdna::pretrained::MxDnaLm;
use dnalm_seq::source::{read_all, SourceOptions};

#[global_allocator]
static ALLOCATOR: dnalm_nn::allocator::Allocator = dnalm_nn::allocator::Allocator;

const BATCH: usize = 8;
const NUCLEOTIDES: usize = 1000;

/// Peak and current resident memory in MiB (Linux `/proc/self/status`).
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn main() {
    dnalm_nn::allocator::configure();
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [folder, fasta, rest @ ..] = args.as_slice() else {
        panic!("usage: paper_checkpoint FOLDER FASTA [ROUNDS]");
    };
    let rounds: usize = rest
        .first()
        .map_or(3, |r| r.parse().expect("ROUNDS is a number"));
    let started = Instant::now();
    let model = MxDnaLm::open_for_inference(folder.as_ref(), &Device::Cpu).expect("load");
    let load = started.elapsed().as_secs_f64();
    let (peak, now) = memory();
    println!(
        "dnalm load: {load:.2} s, {} parameters, peak RSS {peak:.0} MiB, RSS {now:.0} MiB",
        model.parameter_count()
    );
    let records = read_all(fasta.as_ref(), &SourceOptions::default()).expect("FASTA");
    let windows: Vec<&[u8]> = records
        .iter()
        .flat_map(|r| r.seq.chunks_exact(NUCLEOTIDES))
        .filter(|w| !w.contains(&b'N'))
        .take(BATCH)
        .collect();
    assert_eq!(
        windows.len(),
        BATCH,
        "the FASTA holds fewer than 8 windows of 1,000 nt"
    );
    let input =
        EncoderInput::from_sequences(&windows, NUCLEOTIDES + 2, &Device::Cpu).expect("input");
    let width = NUCLEOTIDES + 2;
    let positions = Arc::new((0..(BATCH * width) as u32).collect::<Vec<_>>());
    for round in 0..rounds {
        let started = Instant::now();
        let encoded = model
            .network()
            .encoder()
            .encode(&input.ids, &input.lengths, &input.special, None)
            .expect("encode");
        let logits = model
            .network()
            .logits_at(&encoded, &positions)
            .expect("logits");
        let seconds = started.elapsed().as_secs_f64();
        let (peak, _) = memory();
        println!(
            "dnalm forward {round}: {seconds:.3} s for {BATCH} x {NUCLEOTIDES} nt ({:.0} nt/s), logits {:?}, peak RSS {peak:.0} MiB",
            (BATCH * NUCLEOTIDES) as f64 / seconds,
            logits.dims()
        );
    }
}
