//! Reading speed: dnalm's reader (normalise + pack into a 2-bit corpus) beside the
//! plain needletail loop on the same file, gzip and uncompressed.
//!
//! Usage: `cargo bench -p dnalm-seq --bench read_speed -- PATH/chr20.fa.gz [REPEATS]`
//! The uncompressed copy is written to a temporary file first.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use dnalm_seq::fastx::FastxRecords;
use dnalm_seq::packed::Corpus;

fn needletail_loop(path: &Path) -> usize {
    let mut reader = needletail::parse_fastx_file(path).expect("readable");
    let mut total = 0;
    while let Some(record) = reader.next() {
        total += record.expect("valid record").seq().len();
    }
    total
}

fn dnalm_records(path: &Path) -> usize {
    FastxRecords::open(path, false)
        .expect("readable")
        .map(|record| record.expect("valid record").len())
        .sum()
}

fn dnalm_corpus(path: &Path) -> usize {
    let corpus =
        Corpus::from_records(FastxRecords::open(path, false).expect("readable")).expect("valid");
    corpus.total_len()
}

fn median_seconds(repeats: usize, mut run: impl FnMut() -> usize) -> (f64, usize) {
    let mut times = Vec::new();
    let mut bases = 0;
    for _ in 0..repeats {
        let start = Instant::now();
        bases = std::hint::black_box(run());
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], bases)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(gz) = args.first().map(PathBuf::from) else {
        eprintln!(
            "usage: cargo bench -p dnalm-seq --bench read_speed -- PATH/chr20.fa.gz [REPEATS]"
        );
        std::process::exit(2);
    };
    let repeats: usize = args
        .get(1)
        .map(|r| r.parse().expect("REPEATS is a number"))
        .unwrap_or(5);
    let dir = tempfile::tempdir().expect("temporary directory");
    let plain = dir.path().join("plain.fa");
    {
        let mut input =
            flate2::read::MultiGzDecoder::new(std::fs::File::open(&gz).expect("readable"));
        let mut output = std::fs::File::create(&plain).expect("writable");
        std::io::copy(&mut input, &mut output).expect("decompresses");
        output.flush().expect("flushed");
    }
    let corpus =
        Corpus::from_records(FastxRecords::open(&gz, false).expect("readable")).expect("valid");
    println!(
        "2-bit corpus: {} nt in {:.1} MB of heap\n",
        corpus.total_len(),
        corpus.heap_bytes() as f64 / 1e6
    );
    drop(corpus);
    println!("file                         reader                 median s    MB/s (file)   Mnt/s   vs needletail");
    for (label, path) in [("gzip", gz.as_path()), ("uncompressed", plain.as_path())] {
        let file_mb = std::fs::metadata(path).expect("exists").len() as f64 / 1e6;
        let (base_time, base_nt) = median_seconds(repeats, || needletail_loop(path));
        let rows: [(&str, f64, usize); 3] = [
            ("needletail loop", base_time, base_nt),
            {
                let (t, n) = median_seconds(repeats, || dnalm_records(path));
                ("dnalm records", t, n)
            },
            {
                let (t, n) = median_seconds(repeats, || dnalm_corpus(path));
                ("dnalm 2-bit corpus", t, n)
            },
        ];
        for (reader, time, nt) in rows {
            assert_eq!(nt, base_nt, "every reader sees the same nucleotides");
            println!(
                "{label:<28} {reader:<22} {time:>8.3} {:>12.1} {:>8.1} {:>10.2}x",
                file_mb / time,
                nt as f64 / 1e6 / time,
                time / base_time
            );
        }
    }
}
