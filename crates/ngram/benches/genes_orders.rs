//! Perplexity of n-gram models of orders 1..=MAX on the human-genes data, for MLE,
//! Laplace, and Kneser-Ney with estimated and with tuned discounts.
//!
//! Usage: `cargo bench -p dnalm-ngram --bench genes_orders -- PATH/genes/validation.csv.gz [MAX]`
//!
//! Split (the same as `dnalm ngram ... --split train|test`): genes whose NCBIGeneID
//! hashes (xxh3, seed 0) below 0.9 train, the rest test. Tuning holds out a tenth of
//! the training genes (hash seed 1), then recounts all training genes.

use std::path::PathBuf;
use std::time::Instant;

use dnalm_lm::PerplexityTotal;
use dnalm_ngram::{NgramModel, Smoothing};
use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_seq::split::{hold_out, Split, SplitFractions};

fn perplexity(model: &NgramModel, test: &[&[u8]]) -> f64 {
    test.iter()
        .fold(PerplexityTotal::default(), |mut total, seq| {
            total.add(model.log_likelihood(seq));
            total
        })
        .perplexity()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(path) = args.first().map(PathBuf::from) else {
        eprintln!("usage: cargo bench -p dnalm-ngram --bench genes_orders -- PATH/validation.csv.gz [MAX_ORDER]");
        std::process::exit(2);
    };
    let max_order: usize = args
        .get(1)
        .map(|a| a.parse().expect("MAX_ORDER is a number"))
        .unwrap_or(12);
    let records = read_all(&path, &SourceOptions::default()).expect("readable genes table");
    let fractions = SplitFractions::new(0.0, 0.1).expect("valid fractions");
    let (train, test): (Vec<_>, Vec<_>) = records
        .into_iter()
        .partition(|r| fractions.by_hash(r.id.as_bytes(), 0) == Split::Train);
    let train_seqs: Vec<&[u8]> = train.iter().map(|r| r.seq.as_slice()).collect();
    let test_seqs: Vec<&[u8]> = test.iter().map(|r| r.seq.as_slice()).collect();
    let (fit, held_out) = hold_out(&train, 0.1, 1);
    let nt = |seqs: &[&[u8]]| seqs.iter().map(|s| s.len()).sum::<usize>();
    println!(
        "train {} genes ({} nt), test {} genes ({} nt); perplexity per event (nucleotides + ends)",
        train.len(),
        nt(&train_seqs),
        test.len(),
        nt(&test_seqs)
    );
    println!("order       MLE   Laplace   KN (estimated D)   KN (tuned D)   count s   tune s");
    for order in 1..=max_order {
        let start = Instant::now();
        let model = NgramModel::train(&train_seqs, order, Smoothing::KneserNey).expect("trains");
        let count_seconds = start.elapsed().as_secs_f64();
        let kn_estimated = perplexity(&model, &test_seqs);
        let laplace = perplexity(
            &model.clone().with_smoothing(Smoothing::AddK { k: 1.0 }),
            &test_seqs,
        );
        let mle = perplexity(&model.with_smoothing(Smoothing::Mle), &test_seqs);
        let start = Instant::now();
        let (tuned, _, _) =
            NgramModel::train_tuned(&fit, &held_out, order, Smoothing::KneserNey).expect("trains");
        let tune_seconds = start.elapsed().as_secs_f64();
        let kn_tuned = perplexity(&tuned, &test_seqs);
        println!(
            "{order:>5} {mle:>9.5} {laplace:>9.5} {kn_estimated:>18.5} {kn_tuned:>14.5} {count_seconds:>9.2} {tune_seconds:>8.2}"
        );
    }
}
