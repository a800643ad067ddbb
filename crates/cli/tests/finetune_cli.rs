//! Fine-tuning, benchmarks, embeddings and variant scores end to end on the shipped
//! samples (prom_core_tata and splice-junction cuts), with a tiny encoder pretrained here.

mod common;

use common::{dnalm, failure_of, repo, stdout_of};

fn as_args(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn pretrain_finetune_bench_embed_and_score_variants() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let chr20 = repo("data/sample/chr20_200kb.fa.gz").display().to_string();
    let tata = repo("data/sample/prom_core_tata").display().to_string();
    let splice = repo("data/sample/splice_200.csv.gz").display().to_string();
    let variants = repo("data/sample/splice_variants.csv")
        .display()
        .to_string();
    let mlm = path("mlm");
    stdout_of(&[
        "train",
        "mlm",
        "--preset",
        "tiny",
        "--tokenizer",
        "kmer6",
        "--window-nt",
        "120",
        "--steps",
        "4",
        "--batch-size",
        "4",
        "--eval-every",
        "2",
        "--warmup",
        "1",
        "-o",
        &mlm,
        &chr20,
    ]);

    // Two seeds of the pretrained encoder on a GUE-style folder.
    let out = path("ft");
    let finetune = |steps: &'static str| -> Vec<String> {
        [
            "finetune",
            "--task",
            &tata,
            "--model",
            &mlm,
            "--steps",
            steps,
            "--eval-every",
            "3",
            "--batch-size",
            "8",
            "--seeds",
            "0,1",
            "--pooling",
            "mean",
            "-o",
            &out,
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    let printed = stdout_of(&as_args(&finetune("6")));
    assert!(printed.contains("test mcc:"), "{printed}");
    let results = json(&dir.path().join("ft/results.json"));
    assert_eq!(results["seeds"].as_array().unwrap().len(), 2);
    for metric in ["accuracy", "macro_f1", "mcc", "auroc"] {
        let mean = results["test"][metric]["mean"].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&mean), "{metric} {mean}");
    }
    // A finished seed is read back, not redone: the same numbers come out.
    assert_eq!(printed, stdout_of(&as_args(&finetune("6"))));
    // Other settings in the same folder would mix old and new seeds: refused.
    let err = failure_of(&as_args(&finetune("7")));
    assert!(err.contains("other settings"), "{err}");

    // A three-class single table with a split column; the k-mer baseline and a
    // from-scratch encoder side by side.
    let bench = path("bench");
    let table = stdout_of(&[
        "bench",
        "--tasks",
        &splice,
        "--models",
        "kmer3-lr,scratch:nucleotide",
        "--steps",
        "6",
        "--eval-every",
        "3",
        "--batch-size",
        "8",
        "-o",
        &bench,
    ]);
    assert!(table.contains("| kmer3-lr |"), "{table}");
    assert!(table.contains("| scratch-nucleotide |"), "{table}");
    let results = json(&dir.path().join("bench/results.json"));
    assert_eq!(results.as_array().unwrap().len(), 2);
    assert_eq!(results[0]["task"], "splice_200");
    let seed_dir = dir.path().join("bench/splice_200/scratch-nucleotide/seed0");
    let config = json(&seed_dir.join("config.json"));
    assert_eq!(
        config["objective"]["labels"],
        serde_json::json!(["ei", "ie", "n"])
    );

    // The fine-tuned seed predicts new sequences.
    let predictions = stdout_of(&["predict", "-m", &seed_dir.display().to_string(), &splice]);
    let mut lines = predictions.lines();
    assert_eq!(lines.next(), Some("id,predicted,p_ei,p_ie,p_n"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 200);
    for row in rows {
        let fields: Vec<&str> = row.split(',').collect();
        let total: f64 = fields[2..].iter().map(|p| p.parse::<f64>().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-4, "{row}");
        assert!(["ei", "ie", "n"].contains(&fields[1]));
    }

    // Embeddings from the pretrained run and from the fine-tuned one.
    let npy = path("tata.npy");
    stdout_of(&[
        "embed",
        "-m",
        &mlm,
        "-o",
        &npy,
        &format!("{tata}/test.csv.gz"),
    ]);
    let bytes = std::fs::read(&npy).unwrap();
    let header = String::from_utf8_lossy(&bytes[..128]).to_string();
    assert!(header.contains("'shape': (100, 64)"), "{header}");
    let ids = std::fs::read_to_string(format!("{npy}.ids.txt")).unwrap();
    assert_eq!(ids.lines().count(), 100);
    let tensors = path("splice.safetensors");
    stdout_of(&[
        "embed",
        "-m",
        &seed_dir.display().to_string(),
        "--pooling",
        "cls",
        "-o",
        &tensors,
        &splice,
    ]);
    assert!(std::fs::metadata(&tensors).unwrap().len() > 200 * 64 * 4);

    // Zero-shot variant scores: masked marginal and labels -> AUROC.
    let scores = path("scores.csv");
    let report = stdout_of(&["eval", "variants", "-m", &mlm, "-o", &scores, &variants]);
    assert!(report.contains("AUROC of -score for label 1"), "{report}");
    assert_eq!(
        std::fs::read_to_string(&scores).unwrap().lines().count(),
        175
    );
}

#[test]
fn bad_task_inputs_fail_with_the_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("task.csv");
    std::fs::write(
        &table,
        "sequence,label,split\nACGTACGT,1,train\nACGTTT,0,later\n",
    )
    .unwrap();
    let err = failure_of(&[
        "finetune",
        "--task",
        &table.display().to_string(),
        "--model",
        "kmer3-lr",
        "-o",
        &dir.path().join("out").display().to_string(),
    ]);
    assert!(err.contains("task.csv") && err.contains("'later'"), "{err}");
    // A bad model spec is a usage error (clap's exit code 2), named in the message.
    let output = dnalm(&[
        "finetune",
        "--task",
        &table.display().to_string(),
        "--model",
        "kmerx-lr",
        "-o",
        &dir.path().join("out").display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("kmer<k>-lr"), "{err}");
    let regression = dir.path().join("values.csv");
    std::fs::write(
        &regression,
        "sequence,label,split\nACGTACGT,1.5,train\nACGTTT,high,dev\nACGA,2,test\n",
    )
    .unwrap();
    let err = failure_of(&[
        "finetune",
        "--task",
        &regression.display().to_string(),
        "--regression",
        "--model",
        "kmer3-lr",
        "-o",
        &dir.path().join("out2").display().to_string(),
    ]);
    assert!(err.contains("dev row") && err.contains("'high'"), "{err}");
}
