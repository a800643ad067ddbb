//! `pytorch_model.bin` (a zip of pickled tensors) in an authors' MxDNA folder with the
//! config.json of the fixtures it is seeded with: candle's pickle reader interprets it (never runs it); a model
//! or a typed error.
#![no_main]
use dnalm_models::{open, OpenOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = dnalm_fuzz::scratch().join("authors");
    let _ = std::fs::create_dir_all(&dir);
    std::fs::write(dir.join("config.json"), CONFIG).unwrap();
    std::fs::write(dir.join("pytorch_model.bin"), data).unwrap();
    let _ = open(&dir, &OpenOptions::default());
});

/// The config.json of the fixtures the corpus is seeded with (a tiny MxDNA saved by the
/// reference code), so that valid seeds open whole.
const CONFIG: &str =
    include_str!("../../crates/mxdna/tests/data/checkpoints/full_model_bin/config.json");
