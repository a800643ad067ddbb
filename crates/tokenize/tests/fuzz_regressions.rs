//! Inputs the fuzzer (fuzz/fuzz_targets/tokenizer_json.rs, run by scripts/fuzz.sh) once
//! crashed dnalm with, kept in tests/data/fuzz/tokenizer_json: each must now be refused
//! when read, or read into a tokenizer that encodes DNA, never panic later.

use std::path::{Path, PathBuf};

use dnalm_tokenize::file::TokenizerFile;

#[test]
fn every_crash_the_fuzzer_found_is_refused_or_works() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz/tokenizer_json");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        if let Ok(tokenizer) = TokenizerFile::from_json(&text, Path::new("tokenizer.json"))
            .and_then(|file| file.into_tokenizer())
        {
            let encoding = tokenizer.encode(b"ACGTNNACGT");
            assert!(!encoding.ids.is_empty());
        }
        seen += 1;
    }
    assert!(seen > 0);
}

#[test]
fn a_bpe_file_whose_unknown_token_is_not_in_its_vocabulary_is_refused() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz/tokenizer_json");
    let path = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
    let err = TokenizerFile::from_json(&text, Path::new("tokenizer.json"))
        .and_then(|file| file.into_tokenizer())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}
