//! Inputs the fuzzer (fuzz/fuzz_targets/tokenizer_json.rs, run by scripts/fuzz.sh) once
//! crashed dnalm with, kept in tests/data/fuzz/tokenizer_json: each must now be refused
//! when read, or read into a tokenizer that encodes DNA, never panic later.

use std::path::{Path, PathBuf};

use dnalm_tokenize::file::TokenizerFile;

#[test]
fn every_crash_the_fuzzer_found_is_refused_or_works() {
    // crash-afff..: encoding failed on an unknown token the model lacks ("[typeUNK]");
    // crash-bc9d..: a post-processor template naming a second sequence panicked inside
    // `tokenizers`. Files are now checked by encoding every symbol, and a file's
    // post-processor is replaced by dnalm's.
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
