//! Prints the tokens an MxDNA model (a `dnalm train mxdna` run, or a fine-tuned MxDNA)
//! learnt for the first sequences of a file: each unit with its span and the expert
//! (unit length) that made it.
//!
//! `cargo run --release -p dnalm-examples --example learnt_tokens -- MODEL FILE`

use std::path::PathBuf;

use dnalm_models::{open, OpenOptions};
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
        return Err("usage: learnt_tokens MODEL FILE".into());
    };
    let loaded = open(&model, &OpenOptions::default())?;
    let tokenizer = loaded.learnt_tokenizer("the learnt_tokens example")?;
    let records = read_all(&file, &SourceOptions::default())?;
    let shown: Vec<&[u8]> = records.iter().take(3).map(|r| &r.seq[..]).collect();
    for (record, learnt) in records.iter().zip(tokenizer.learnt_tokens(&shown, 512)?) {
        println!(">{} ({} tokens)", record.id, learnt.tokens.len());
        for token in &learnt.tokens {
            println!(
                "  {:>4}-{:<4} {:<10} expert {}",
                token.start + 1,
                token.end,
                String::from_utf8_lossy(&record.seq[token.start..token.end]),
                token.expert
            );
        }
    }
    Ok(())
}
