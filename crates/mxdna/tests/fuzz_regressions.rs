//! Inputs the fuzzer (fuzz/fuzz_targets/pytorch_bin.rs, run by scripts/fuzz.sh) once
//! crashed the reader with, kept in tests/data/fuzz/pytorch_bin: each is a
//! `pytorch_model.bin` beside the checkpoint fixtures' config.json. Every one must now
//! be refused with an error naming the file, within a small allocation (the first asked
//! candle for 2.2 GB: a pickled string's length, in a 100 KB file).

use std::path::PathBuf;

use candle_core::Device;
use dnalm_mxdna::pretrained::MxDnaLm;

#[test]
fn every_crash_the_fuzzer_found_is_an_error_now() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let config = std::fs::read(data.join("checkpoints/full_model_bin/config.json")).unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(data.join("fuzz/pytorch_bin")).unwrap() {
        let crash = entry.unwrap().path();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), &config).unwrap();
        std::fs::write(
            dir.path().join("pytorch_model.bin"),
            std::fs::read(&crash).unwrap(),
        )
        .unwrap();
        let err = MxDnaLm::open_for_inference(dir.path(), &Device::Cpu)
            .err()
            .unwrap_or_else(|| panic!("{} is accepted", crash.display()))
            .to_string();
        assert!(err.contains("pytorch_model.bin"), "{err}");
        seen += 1;
    }
    assert!(seen > 0);
}
