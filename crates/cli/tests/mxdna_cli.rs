//! `dnalm train mxdna`, `dnalm tokens`, and fine-tuning MxDNA, end to end on the shipped
//! samples.

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
        "--spans",
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
    // Every printed window spells its 120 nucleotides between the separators, and its
    // spans (START-END:EXPERT) tile what the units cover, each as long as its text.
    let lines: Vec<&str> = printed.lines().take(6).collect();
    for window in lines.chunks(3) {
        let (spelled, spans) = (window[1], window[2]);
        assert_eq!(
            spelled.chars().filter(|c| *c != '|').count(),
            120,
            "{spelled}"
        );
        let units: Vec<&str> = spelled
            .split('|')
            .filter(|unit| unit.chars().all(|c| c.is_ascii_uppercase()))
            .collect();
        let lengths: Vec<usize> = spans
            .split(' ')
            .map(|span| {
                let (range, _expert) = span.split_once(':').unwrap();
                let (start, end) = range.split_once('-').unwrap();
                end.parse::<usize>().unwrap() + 1 - start.parse::<usize>().unwrap()
            })
            .collect();
        assert_eq!(lengths, units.iter().map(|u| u.len()).collect::<Vec<_>>());
    }
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("class=\"t\""));

    // Fine-tuned on the promoter sample from the pretrained run, then predicting.
    let tata = repo("data/sample/prom_core_tata").display().to_string();
    let out = dir.path().join("ft").display().to_string();
    let printed = stdout_of(&[
        "finetune",
        "--task",
        &tata,
        "--model",
        &run,
        "--steps",
        "4",
        "--eval-every",
        "2",
        "--batch-size",
        "8",
        "-o",
        &out,
    ]);
    assert!(printed.contains("test mcc:"), "{printed}");
    let seed = dir.path().join("ft/seed0");
    let config = std::fs::read_to_string(seed.join("config.json")).unwrap();
    assert!(config.contains("mxdna-classifier"), "{config}");
    let predictions = stdout_of(&[
        "predict",
        "-m",
        &seed.display().to_string(),
        &format!("{tata}/test.csv.gz"),
    ]);
    assert_eq!(predictions.lines().count(), 101);

    // A run of another kind is refused with the file named.
    let lm = dir.path().join("lm");
    std::fs::create_dir_all(&lm).unwrap();
    std::fs::write(lm.join("config.json"), r#"{"model": "bert"}"#).unwrap();
    let err = failure_of(&["tokens", "-m", &lm.display().to_string(), &chr20]);
    assert!(err.contains("config.json"), "{err}");
}

#[test]
fn demo_pretrains_and_shows_the_learnt_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let sample = repo("data/sample").display().to_string();
    let demo = || stdout_of(&["demo", "--steps", "2", "--sample", &sample, "--out", &out]);
    let printed = demo();
    // The six promoters, each spelled whole between the separators (70 nt in GUE's
    // prom_core_tata).
    let spelled: Vec<&str> = printed
        .lines()
        .skip_while(|l| !l.starts_with("== learnt tokens"))
        .skip(1)
        .take(12)
        .collect();
    assert_eq!(spelled.iter().filter(|l| l.starts_with('>')).count(), 6);
    for line in spelled.iter().filter(|l| !l.starts_with('>')) {
        assert_eq!(line.chars().filter(|c| *c != '|').count(), 70, "{line}");
    }
    assert!(printed.contains("394 windows, 200000 nt"), "{printed}");
    assert!(printed.contains("held-out masked-LM loss"), "{printed}");
    assert!(dir.path().join("mxdna/model.safetensors").is_file());
    assert!(
        std::fs::read_to_string(dir.path().join("token_lengths.svg"))
            .unwrap()
            .contains("<svg")
    );
    assert!(std::fs::read_to_string(dir.path().join("tokens.html"))
        .unwrap()
        .contains("class=\"t\""));
    // Run again: the finished run is read back, not trained again.
    let metrics = || std::fs::read_to_string(dir.path().join("mxdna/metrics.jsonl")).unwrap();
    let before = metrics();
    assert_eq!(demo(), printed);
    assert_eq!(metrics(), before);
}
