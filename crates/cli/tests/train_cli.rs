//! `dnalm train lm` end to end on the shipped genes sample: a run folder that resumes,
//! and that `eval perplexity` / `eval mutations` score like any other model.

mod common;

use common::{dnalm, failure_of, repo, stdout_of};

#[test]
fn train_resume_and_evaluate_an_lstm() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("lstm").display().to_string();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    let train = |steps: &str| {
        let output = dnalm(&[
            "train",
            "lm",
            "--preset",
            "tiny",
            "--steps",
            steps,
            "--window",
            "64",
            "--batch-size",
            "4",
            "--warmup",
            "2",
            "--eval-every",
            "4",
            "--checkpoint-every",
            "4",
            "--split",
            "train",
            "-o",
            &run,
            &genes,
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stderr).unwrap()
    };
    train("4");
    let log = train("8");
    assert!(log.contains("resuming"), "{log}");
    let metrics = std::fs::read_to_string(dir.path().join("lstm/metrics.jsonl")).unwrap();
    let steps: Vec<u64> = metrics
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(steps, (1..=8).collect::<Vec<u64>>());

    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "eval",
        "perplexity",
        "--json",
        "-m",
        &run,
        "--split",
        "test",
        &genes,
    ]))
    .unwrap();
    let perplexity = json["perplexity"].as_f64().unwrap();
    assert!(perplexity > 3.0 && perplexity < 9.0, "{perplexity}");
    assert!(json["model"].as_str().unwrap().starts_with("LSTM 1x128"));
    let table = stdout_of(&[
        "eval",
        "mutations",
        "-m",
        &run,
        "--pairs",
        "20",
        "--seeds",
        "0",
        "--max-edits",
        "5",
        "--split",
        "test",
        &genes,
    ]);
    assert!(table.contains("LSTM"), "{table}");

    let err = failure_of(&[
        "eval",
        "perplexity",
        "-m",
        &run,
        "--smoothing",
        "kn",
        &genes,
    ]);
    assert!(err.contains("n-gram"), "{err}");
}

#[test]
fn train_and_score_a_decoder() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("gpt").display().to_string();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    let output = dnalm(&[
        "train",
        "lm",
        "--model",
        "gpt",
        "--preset",
        "tiny",
        "--steps",
        "6",
        "--window",
        "64",
        "--batch-size",
        "4",
        "--warmup",
        "2",
        "--eval-every",
        "3",
        "--split",
        "train",
        "-o",
        &run,
        &genes,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "eval",
        "perplexity",
        "--json",
        "-m",
        &run,
        "--split",
        "test",
        &genes,
    ]))
    .unwrap();
    assert!(
        json["model"].as_str().unwrap().starts_with("GPT 2x64"),
        "{}",
        json["model"]
    );
    let perplexity = json["perplexity"].as_f64().unwrap();
    assert!(perplexity > 3.0 && perplexity < 9.5, "{perplexity}");
    let fasta = stdout_of(&[
        "generate",
        "-m",
        &run,
        "--count",
        "1",
        "--max-len",
        "20",
        "--seed",
        "1",
    ]);
    assert!(fasta.starts_with(">generated_1"), "{fasta}");
}

#[test]
fn network_sizes_from_a_toml_file() {
    let dir = tempfile::tempdir().unwrap();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    let config = dir.path().join("gpt.toml");
    std::fs::write(&config, "d_model = 16\nnum_layers = 1\nnum_heads = 2\nffn_dim = 24\nrope_theta = 10000.0\nnorm_eps = 1e-5\n").unwrap();
    let run = dir.path().join("run").display().to_string();
    stdout_of(&[
        "train",
        "lm",
        "--model",
        "gpt",
        "--config",
        config.to_str().unwrap(),
        "--steps",
        "2",
        "--window",
        "32",
        "--batch-size",
        "2",
        "--eval-every",
        "0",
        "-o",
        &run,
        &genes,
    ]);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run/config.json")).unwrap())
            .unwrap();
    assert_eq!(
        (
            saved["model"].as_str(),
            saved["d_model"].as_u64(),
            saved["vocab_size"].as_u64()
        ),
        (Some("gpt"), Some(16), Some(9))
    );

    std::fs::write(&config, "d_model = 16\n").unwrap();
    let other = dir.path().join("other").display().to_string();
    let err = failure_of(&[
        "train",
        "lm",
        "--model",
        "gpt",
        "--config",
        config.to_str().unwrap(),
        "-o",
        &other,
        &genes,
    ]);
    assert!(
        err.contains("gpt.toml") && err.contains("not a gpt configuration"),
        "{err}"
    );
}
