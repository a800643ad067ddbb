//! Inputs the fuzzer (fuzz/fuzz_targets/ngram_file.rs, run by scripts/fuzz.sh) once
//! crashed the reader with, kept in tests/data/fuzz/ngram_file: each is a file body that
//! the target completes with the magic bytes and a correct checksum. Every one must now
//! be refused with an error, not a panic.

use std::path::PathBuf;

use dnalm_ngram::format::{from_bytes, MAGIC};

#[test]
fn every_crash_the_fuzzer_found_is_an_error_now() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz/ngram_file");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = MAGIC.to_vec();
        bytes.extend(std::fs::read(&path).unwrap());
        let checksum = xxhash_rust::xxh3::xxh3_64(&bytes);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        let err = from_bytes(&bytes).err();
        assert!(err.is_some(), "{} is accepted", path.display());
        seen += 1;
    }
    assert!(seen > 0, "no fuzz regressions in {}", dir.display());
}

#[test]
fn repeated_contexts_are_refused_instead_of_summed() {
    // The first crash: one context listed twice with counts whose sum overflows.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz/ngram_file");
    let path = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = MAGIC.to_vec();
    bytes.extend(std::fs::read(&path).unwrap());
    let checksum = xxhash_rust::xxh3::xxh3_64(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    let err = from_bytes(&bytes).unwrap_err();
    assert!(
        err.contains("out of order") || err.contains("more than any corpus gives"),
        "{err}"
    );
}
