//! Tokenizer throughput on a real chromosome, in Mnt/s, one thread and all threads.
//!
//! Usage: `cargo bench -p dnalm-tokenize --bench tokenize_speed -- PATH/chr20.fa.gz`
//! The sequence is cut into 1,000-nt chunks, as models see it. The BPE tokenizer is
//! first trained (4,096 tokens) on the first 5 Mb of non-N sequence.

use std::path::PathBuf;
use std::time::Instant;

use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_tokenize::{
    BpeTokenizer, BpeTrainingConfig, KmerTokenizer, NucleotideTokenizer, Tokenizer,
};
use rayon::prelude::*;

const CHUNK: usize = 1000;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(path) = args.first().map(PathBuf::from) else {
        eprintln!(
            "usage: cargo bench -p dnalm-tokenize --bench tokenize_speed -- PATH/chr20.fa.gz"
        );
        std::process::exit(2);
    };
    let records = read_all(&path, &SourceOptions::default()).expect("readable FASTA");
    let seq: Vec<u8> = records.into_iter().flat_map(|r| r.seq).collect();
    let clean: Vec<u8> = seq
        .iter()
        .copied()
        .filter(|&b| b != b'N')
        .take(5_000_000)
        .collect();
    let start = Instant::now();
    let config = BpeTrainingConfig::default();
    let bpe = BpeTokenizer::train(std::iter::once(clean.as_slice()), &config).expect("trains");
    println!(
        "BPE training on 5 Mnt (vocab {}): {:.1} s",
        config.vocab_size,
        start.elapsed().as_secs_f64()
    );

    let tokenizers: Vec<Box<dyn Tokenizer>> = vec![
        Box::new(NucleotideTokenizer),
        Box::new(KmerTokenizer::new(6, true).expect("valid k")),
        Box::new(KmerTokenizer::new(6, false).expect("valid k")),
        Box::new(bpe),
    ];
    let threads = rayon::current_num_threads();
    println!("{} Mnt in {CHUNK}-nt chunks", seq.len() as f64 / 1e6);
    println!("tokenizer                  tokens/nt   1 thread Mnt/s   {threads} threads Mnt/s");
    for tokenizer in &tokenizers {
        let start = Instant::now();
        let tokens: usize = seq
            .chunks(CHUNK)
            .map(|chunk| tokenizer.encode(chunk).len())
            .sum();
        let single = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let parallel_tokens: usize = seq
            .par_chunks(CHUNK)
            .map(|chunk| tokenizer.encode(chunk).len())
            .sum();
        let parallel = start.elapsed().as_secs_f64();
        assert_eq!(tokens, parallel_tokens);
        let mnt = seq.len() as f64 / 1e6;
        println!(
            "{:<26} {:>9.4} {:>16.1} {:>18.1}",
            tokenizer.describe(),
            tokens as f64 / seq.len() as f64,
            mnt / single,
            mnt / parallel
        );
    }
}
