//! `--device`: the CPU by default, a clear refusal of CUDA in a build without it (and of
//! a device that does not exist), and the portable path (`DNALM_PORTABLE_OPS=1`, the
//! code a GPU runs) giving the fused kernels' results through a whole command.

mod common;

use std::process::Command;

use common::{dnalm, failure_of, npy_values, repo, stdout_of};

#[test]
fn the_portable_path_embeds_as_the_fused_kernels_do() {
    let dir = tempfile::tempdir().unwrap();
    let folder = repo("crates/mxdna/tests/data/checkpoints/full_model_bin");
    let rows = repo("data/sample/prom_core_tata/test.csv.gz");
    let fused_npy = dir.path().join("fused.npy");
    let portable_npy = dir.path().join("portable.npy");
    let path = |p: &std::path::Path| p.display().to_string();
    stdout_of(&[
        "embed",
        "--pooling",
        "mean",
        "--device",
        "cpu",
        "-m",
        &path(&folder),
        "-o",
        &path(&fused_npy),
        &path(&rows),
    ]);
    let output = Command::new(env!("CARGO_BIN_EXE_dnalm"))
        .args(["embed", "--pooling", "mean", "-m"])
        .arg(&folder)
        .arg("-o")
        .arg(&portable_npy)
        .arg(&rows)
        .env("DNALM_PORTABLE_OPS", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (fused, portable) = (npy_values(&fused_npy), npy_values(&portable_npy));
    assert_eq!(fused.len(), 100 * 16);
    let worst = fused
        .iter()
        .zip(&portable)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst < 1e-4, "embeddings differ by {worst}");
}

#[test]
fn devices_that_cannot_be_used_are_refused_before_anything_is_written() {
    let model = repo("crates/mxdna/tests/data/checkpoints/full_model_bin")
        .display()
        .to_string();
    let rows = repo("data/sample/prom_core_tata/test.csv.gz")
        .display()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.npy").display().to_string();

    let output = dnalm(&["embed", "-m", &model, "--device", "tpu", "-o", &out, &rows]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("'tpu' is not a device: cpu, cuda or cuda:N"),
        "{err}"
    );

    if cfg!(not(feature = "cuda")) {
        let err = failure_of(&["embed", "-m", &model, "--device", "cuda", "-o", &out, &rows]);
        assert!(
            err.contains("cuda:0: this dnalm was built without CUDA"),
            "{err}"
        );
        let run = dir.path().join("run").display().to_string();
        let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
        let err = failure_of(&[
            "train", "lm", "--device", "cuda:1", "--steps", "1", "-o", &run, &genes,
        ]);
        assert!(
            err.contains("cuda:1: this dnalm was built without CUDA"),
            "{err}"
        );
        assert!(!dir.path().join("run").exists(), "no run folder is made");
    }
    assert!(!dir.path().join("e.npy").exists());
}
