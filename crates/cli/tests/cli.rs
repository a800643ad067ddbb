//! The `dnalm` binary end to end on the shipped sample: outputs, and clear errors
//! (exit code 1, a message naming the file) instead of panics on bad input.

mod common;

use std::path::Path;

use common::{dnalm, failure_of, repo, stdout_of};

#[test]
fn data_stats_json_on_the_sample() {
    let chr20 = repo("data/sample/chr20_200kb.fa.gz");
    let text = stdout_of(&["data", "stats", "--json", chr20.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let stats = &json[0];
    assert_eq!(stats["records"], 2);
    assert_eq!(stats["nucleotides"], 200_000);
    // 32,915 N: the second record's tail, counted in scripts/make_sample.py's comment.
    let n = stats["n_fraction"].as_f64().unwrap();
    assert!((n - 32_915.0 / 200_000.0).abs() < 1e-12, "{n}");
    assert_eq!(stats["length"]["n50"], 150_000);
}

#[test]
fn tokenizer_train_encode_stats() {
    let dir = tempfile::tempdir().unwrap();
    let tokenizer = dir.path().join("tokenizer.json");
    let tokenizer = tokenizer.to_str().unwrap();
    let chr20 = repo("data/sample/chr20_200kb.fa.gz");
    let dev = repo("data/sample/prom_core_tata/dev.csv.gz");
    let output = dnalm(&[
        "tokenizer",
        "train",
        "--kind",
        "bpe",
        "--vocab-size",
        "128",
        "--out",
        tokenizer,
        chr20.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let lines = stdout_of(&[
        "tokenizer",
        "encode",
        "-t",
        tokenizer,
        "--format",
        "jsonl",
        "--limit",
        "3",
        dev.to_str().unwrap(),
    ]);
    let rows: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    let tokens: String = rows[0]["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tokens.len(), 70, "tokens concatenate to the 70 bp promoter");

    let kmer = dir.path().join("k3.json");
    stdout_of(&[
        "tokenizer",
        "train",
        "--kind",
        "kmer",
        "--k",
        "3",
        "--non-overlapping",
        "--out",
        kmer.to_str().unwrap(),
    ]);
    let text = stdout_of(&[
        "tokenizer",
        "stats",
        "--json",
        "-t",
        kmer.to_str().unwrap(),
        dev.to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    // 70 = 23 tiled 3-mers + 1 single nucleotide: 24 tokens per row, 100 rows.
    assert_eq!(json[0]["stats"]["tokens"], 2400);
    assert_eq!(json[0]["stats"]["length_histogram"]["1"], 100);
}

#[test]
fn bad_input_fails_cleanly_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.fa");
    let err = failure_of(&["data", "stats", missing.to_str().unwrap()]);
    assert!(err.contains("missing.fa"), "{err}");

    let bad = dir.path().join("bad.fa");
    std::fs::write(&bad, ">r1\nACGT\n>r2\nAC?T\n").unwrap();
    let err = failure_of(&["data", "stats", bad.to_str().unwrap()]);
    assert!(
        err.contains("bad.fa") && err.contains("record 2") && err.contains("position 3"),
        "{err}"
    );

    let table = dir.path().join("t.csv");
    std::fs::write(&table, "dna,label\nACGT,1\n").unwrap();
    let err = failure_of(&["data", "stats", table.to_str().unwrap()]);
    assert!(
        err.contains("t.csv") && err.contains("no sequence column"),
        "{err}"
    );

    let not_tokenizer = dir.path().join("tok.json");
    std::fs::write(&not_tokenizer, "{\"hello\": 1}").unwrap();
    let err = failure_of(&[
        "tokenizer",
        "encode",
        "-t",
        not_tokenizer.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert!(err.contains("tok.json"), "{err}");
}

#[test]
fn failed_write_leaves_no_partial_tokenizer() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-such-dir").join("tokenizer.json");
    let err = failure_of(&[
        "tokenizer",
        "train",
        "--kind",
        "nucleotide",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(err.contains("tokenizer.json"), "{err}");
    assert!(!Path::new(&out).exists());
}
