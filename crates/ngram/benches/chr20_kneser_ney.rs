//! A 10-gram Kneser-Ney model of a whole chromosome: training time, peak memory, and
//! scoring speed.
//!
//! Usage: `cargo bench -p dnalm-ngram --bench chr20_kneser_ney -- PATH/chr20.fa.gz [ORDER]`
//!
//! Trains on the first 90% of every record and scores the last 10%, both with the
//! closed-form discounts and with discounts tuned on the last tenth of the training part.

use std::path::PathBuf;
use std::time::Instant;

use dnalm_ngram::{NgramModel, Smoothing};
use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_seq::split::hold_out;
use dnalm_seq::SeqRecord;

/// Peak resident memory of this process so far, from /proc (Linux).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| {
                    value
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(path) = args.first().map(PathBuf::from) else {
        eprintln!("usage: cargo bench -p dnalm-ngram --bench chr20_kneser_ney -- PATH/chr20.fa.gz [ORDER]");
        std::process::exit(2);
    };
    let order: usize = args
        .get(1)
        .map(|a| a.parse().expect("ORDER is a number"))
        .unwrap_or(10);
    let start = Instant::now();
    let records = read_all(&path, &SourceOptions::default()).expect("readable FASTA");
    println!(
        "read {} in {:.2} s",
        path.display(),
        start.elapsed().as_secs_f64()
    );
    let (train, test) = hold_out(&records, 0.1, 0);
    let train_records: Vec<SeqRecord> = train
        .iter()
        .enumerate()
        .map(|(i, seq)| SeqRecord {
            id: i.to_string(),
            seq: seq.to_vec(),
            label: None,
        })
        .collect();
    let train_nt: usize = train.iter().map(|s| s.len()).sum();
    let test_nt: usize = test.iter().map(|s| s.len()).sum();

    let start = Instant::now();
    let estimated = NgramModel::train(&train, order, Smoothing::KneserNey).expect("trains");
    let train_seconds = start.elapsed().as_secs_f64();
    println!(
        "{order}-gram KN (estimated discounts) on {:.1} Mnt: {train_seconds:.2} s, peak RSS {:.0} MB",
        train_nt as f64 / 1e6,
        peak_rss_mb()
    );
    let score = |model: &NgramModel, label: &str| {
        let run = || {
            let start = Instant::now();
            let (log_prob, events) = test.iter().fold((0.0, 0usize), |(lp, n), seq| {
                let score = model.log_likelihood(seq);
                (lp + score.log_prob, n + score.events)
            });
            (start.elapsed().as_secs_f64(), log_prob, events)
        };
        let median_speed = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            let mut speeds: Vec<f64> = (0..3)
                .map(|_| {
                    let (seconds, _, events) = pool.install(run);
                    events as f64 / seconds / 1e6
                })
                .collect();
            speeds.sort_by(f64::total_cmp);
            speeds[1]
        };
        let (_, log_prob, events) = run();
        println!(
            "  {label}: test perplexity {:.4} over {:.1} Mnt; scoring M nt/s (median of 3): {:.1} on 1 thread, {:.1} on 2",
            (-log_prob / events as f64).exp(),
            test_nt as f64 / 1e6,
            median_speed(1),
            median_speed(2)
        );
    };
    score(&estimated, "estimated discounts");
    drop(estimated);

    let (fit, held_out) = hold_out(&train_records, 0.1, 0);
    let start = Instant::now();
    let (tuned, before, after) =
        NgramModel::train_tuned(&fit, &held_out, order, Smoothing::KneserNey).expect("trains");
    println!(
        "{order}-gram KN (tuned discounts): {:.2} s (held-out {before:.4} -> {after:.4}), peak RSS {:.0} MB",
        start.elapsed().as_secs_f64(),
        peak_rss_mb()
    );
    score(&tuned, "tuned discounts");
}
