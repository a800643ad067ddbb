//! `dnalm train mxdna` and `dnalm tokens` end to end on the shipped chr20 sample.

mod common;

use common::{failure_of, repo, stdout_of};

#[test]
fn pretrain_resume_and_inspect_the_learnt_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("mxdna").display().to_string();
    let chr20 = repo("data/sample/chr20_200kb.fa.gz").display().to_string();
    let train = |steps: &str| {
        stdout_of(&[
            "train",
            "mxdna",
            "--preset",
            "tiny",
            "--window-nt",
            "120",
            "--steps",
            steps,
            "--batch-size",
            "4",
            "--warmup",
            "1",
            "--eval-every",
            "2",
            "--checkpoint-every",
            "2",
            "-o",
            &run,
            &chr20,
        ])
    };
    train("2");
    train("4");
    let metrics = std::fs::read_to_string(dir.path().join("mxdna/metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 4);
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("mxdna/config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config["model"], "mxdna");
    assert_eq!(
        config["expert_kernel_sizes"],
        serde_json::json!([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    );

    let svg = dir.path().join("lengths.svg");
    let html = dir.path().join("tokens.html");
    let printed = stdout_of(&[
        "tokens",
        "-m",
        &run,
        "--show",
        "2",
        "--window-nt",
        "120",
        "--max-windows",
        "6",
        "--histogram",
        &svg.display().to_string(),
        "--html",
        &html.display().to_string(),
        &chr20,
    ]);
    assert!(
        printed.contains(">chr20:30000001-30150000:1-120"),
        "{printed}"
    );
    assert!(printed.contains("6 windows, 720 nt"), "{printed}");
    // Every printed window spells its 120 nucleotides between the separators.
    let spelled: Vec<&str> = printed
        .lines()
        .filter(|l| !l.starts_with('>'))
        .take(2)
        .collect();
    for line in spelled {
        assert_eq!(line.chars().filter(|c| *c != '|').count(), 120, "{line}");
    }
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("class=\"t\""));

    // A run of another kind is refused with the file named.
    let lm = dir.path().join("lm");
    std::fs::create_dir_all(&lm).unwrap();
    std::fs::write(lm.join("config.json"), r#"{"model": "bert"}"#).unwrap();
    let err = failure_of(&["tokens", "-m", &lm.display().to_string(), &chr20]);
    assert!(err.contains("config.json"), "{err}");
}
