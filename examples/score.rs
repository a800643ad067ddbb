//! Opens any model dnalm knows and scores the sequences of a FASTA/FASTQ/CSV file with
//! whatever it can do: a log-likelihood (or pseudo-log-likelihood) per sequence, and
//! an embedding's first values where the model is an encoder.
//!
//! `cargo run --release -p dnalm-examples --example score -- MODEL FILE`

use std::path::PathBuf;

use dnalm_models::{open, Capability, OpenOptions};
use dnalm_seq::source::{read_all, SourceOptions};

fn main() {
    if let Err(err) = run() {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(PathBuf::from);
    let (Some(model), Some(file)) = (args.next(), args.next()) else {
        return Err("usage: score MODEL FILE".into());
    };
    let loaded = open(&model, &OpenOptions::default())?;
    let can: Vec<String> = Capability::ALL
        .iter()
        .filter(|c| loaded.model().can(**c))
        .map(|c| format!("{c:?}"))
        .collect();
    println!(
        "{} ({}): {}",
        loaded.describe(),
        loaded.kind(),
        can.join(", ")
    );
    let records = read_all(&file, &SourceOptions::default())?;
    for record in records.iter().take(10) {
        match loaded.sequence_model("the score example") {
            Ok(model) => {
                let score = model.score(&record.seq)?;
                println!(
                    "{}\t{} nt\tlog-likelihood {:.3}\tperplexity {:.3}",
                    record.id,
                    record.len(),
                    score.log_prob,
                    score.perplexity()
                );
            }
            Err(refusal) => {
                println!("{}\t{refusal}", record.id);
                break;
            }
        }
    }
    Ok(())
}
