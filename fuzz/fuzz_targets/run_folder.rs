//! Run folders: `config.json` (any model kind's, sizes included) and
//! `model.safetensors`, both from the input (its first two bytes say where the config
//! ends), opened through the registry: a model or a typed error, within the allocation
//! budget whatever sizes the config claims.
#![no_main]
use dnalm_models::{open, OpenOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let split = (u16::from_le_bytes([data[0], data[1]]) as usize).min(data.len() - 2);
    let (config, weights) = data[2..].split_at(split);
    let dir = dnalm_fuzz::scratch().join("run");
    let _ = std::fs::create_dir_all(&dir);
    std::fs::write(dir.join("config.json"), config).unwrap();
    std::fs::write(dir.join("model.safetensors"), weights).unwrap();
    std::fs::write(dir.join("tokenizer.json"), NUCLEOTIDE).unwrap();
    let _ = open(&dir, &OpenOptions::default());
});

/// A valid tokenizer.json, so that the config and the weights are what is fuzzed.
const NUCLEOTIDE: &str = r#"{"dnalm_tokenizer":1,"kind":"nucleotide","special_tokens":["[PAD]","[UNK]","[CLS]","[SEP]","[MASK]"]}"#;
