//! `dnalm ngram ...` and `dnalm eval mutations` end to end on the shipped genes sample.

mod common;

use common::{failure_of as fails, repo, stdout_of as ok};

fn genes() -> String {
    repo("data/sample/genes_300.csv.gz").display().to_string()
}

#[test]
fn train_eval_generate_arpa_and_mutations() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.dnalm-ngram").display().to_string();
    let genes = genes();
    ok(&[
        "ngram", "train", "--order", "5", "--split", "train", "-o", &model, &genes,
    ]);

    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "ngram", "eval", "--json", "-m", &model, "--split", "test", &genes,
    ]))
    .unwrap();
    let kn = json["perplexity"].as_f64().unwrap();
    assert!(kn > 3.5 && kn < 4.2, "KN 5-gram perplexity {kn}");
    // 25 test genes of the sample: nucleotides plus one end each.
    assert_eq!(json["sequences"], 25);
    let laplace: serde_json::Value = serde_json::from_str(&ok(&[
        "ngram",
        "eval",
        "--json",
        "--smoothing",
        "laplace",
        "-m",
        &model,
        "--split",
        "test",
        &genes,
    ]))
    .unwrap();
    assert_eq!(laplace["events"], json["events"]);
    assert_eq!(laplace["model"], "5-gram, Laplace");

    let first = ok(&[
        "ngram",
        "generate",
        "-m",
        &model,
        "--count",
        "3",
        "--seed",
        "7",
        "--prompt",
        "acgt",
        "--max-len",
        "80",
    ]);
    assert_eq!(
        first,
        ok(&[
            "ngram",
            "generate",
            "-m",
            &model,
            "--count",
            "3",
            "--seed",
            "7",
            "--prompt",
            "acgt",
            "--max-len",
            "80"
        ])
    );
    let records: Vec<&str> = first.split('>').filter(|r| !r.is_empty()).collect();
    assert_eq!(records.len(), 3);
    for record in records {
        let seq: String = record.lines().skip(1).collect();
        assert!(seq.starts_with("ACGT") && seq.len() <= 84, "{seq}");
    }
    assert!(fails(&["ngram", "generate", "-m", &model, "--prompt", "AC-GT"]).contains("--prompt"));

    let arpa = dir.path().join("m.arpa").display().to_string();
    ok(&["ngram", "arpa", "-m", &model, "-o", &arpa]);
    assert!(std::fs::read_to_string(&arpa)
        .unwrap()
        .starts_with("\\data\\\nngram 1=7\n"));

    let results = dir.path().join("mutations.json").display().to_string();
    let table = ok(&[
        "eval",
        "mutations",
        "-m",
        &model,
        "--pairs",
        "100",
        "--seeds",
        "0,1",
        "--max-edits",
        "1,10",
        "--split",
        "test",
        "--json",
        &results,
        &genes,
    ]);
    assert!(table.contains("5-gram, Kneser-Ney"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let rows = json["results"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let accuracy = |k: u64| -> f64 {
        rows.iter()
            .filter(|r| r["max_edits"] == k)
            .map(|r| r["accuracy_by_perplexity"].as_f64().unwrap())
            .sum::<f64>()
            / 2.0
    };
    // More edits are easier to detect.
    assert!(
        accuracy(10) > accuracy(1) && accuracy(1) > 0.5,
        "{} vs {}",
        accuracy(10),
        accuracy(1)
    );
}

#[test]
fn bad_models_and_options_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let genes = genes();
    let not_a_model = dir.path().join("model.bin");
    std::fs::write(&not_a_model, b"hello").unwrap();
    let err = fails(&["ngram", "eval", "-m", not_a_model.to_str().unwrap(), &genes]);
    assert!(err.contains("model.bin"), "{err}");
    let err = fails(&[
        "eval",
        "mutations",
        "-m",
        not_a_model.to_str().unwrap(),
        &genes,
    ]);
    assert!(err.contains("model.bin"), "{err}");

    let model = dir.path().join("l.dnalm-ngram").display().to_string();
    ok(&[
        "ngram",
        "train",
        "--order",
        "3",
        "--smoothing",
        "laplace",
        "-o",
        &model,
        &genes,
    ]);
    let err = fails(&["ngram", "generate", "-m", &model, "--temperature", "0"]);
    assert!(err.contains("temperature"), "{err}");
    let err = fails(&["ngram", "train", "--order", "17", "-o", &model, &genes]);
    assert!(err.contains("order"), "{err}");
    let err = fails(&[
        "ngram",
        "train",
        "--split",
        "test",
        "--test-fraction",
        "0.0",
        "-o",
        &model,
        &genes,
    ]);
    assert!(err.contains("no records"), "{err}");
}
