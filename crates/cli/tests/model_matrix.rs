//! Every command that uses a model, run on one tiny model of every kind trained here
//! from `data/sample`: each cell of the README's command x kind table either works or
//! is refused with the registry's one message shape.

mod common;

use std::path::Path;

use common::{dnalm, failure_of, repo, stdout_of};

/// The README's table: for each command, the kinds it takes (the others are refused).
const TABLE: [(&str, &[&str]); 9] = [
    ("perplexity", &["ngram", "lstm", "gpt", "bert", "mxdna"]),
    ("mutations", &["ngram", "lstm", "gpt", "bert", "mxdna"]),
    ("variants", &["ngram", "lstm", "gpt", "bert", "mxdna"]),
    ("score", &["ngram", "lstm", "gpt", "bert", "mxdna"]),
    ("generate", &["ngram", "lstm", "gpt"]),
    (
        "embed",
        &["bert", "mxdna", "bert-classifier", "mxdna-classifier"],
    ),
    (
        "predict",
        &["bert-classifier", "bag-of-tokens", "mxdna-classifier"],
    ),
    ("tokens", &["mxdna", "mxdna-classifier"]),
    ("finetune", &["bert", "mxdna"]),
];

const KINDS: [&str; 8] = [
    "ngram",
    "lstm",
    "gpt",
    "bert",
    "mxdna",
    "bert-classifier",
    "bag-of-tokens",
    "mxdna-classifier",
];

/// Trains one tiny model of `kind` (the fine-tuned ones from the pretrained runs
/// already in `dir`) and returns its path.
fn train(kind: &str, dir: &Path) -> String {
    let path = |name: &str| dir.join(name).display().to_string();
    let chr20 = repo("data/sample/chr20_200kb.fa.gz").display().to_string();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    let tata = repo("data/sample/prom_core_tata").display().to_string();
    let short = [
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--warmup",
        "1",
        "--eval-every",
        "2",
    ];
    let finetune = |from: &str, out: &str| {
        let out_dir = path(out);
        let mut args = vec!["finetune", "--task", &tata, "--model", from, "-o", &out_dir];
        args.extend(short);
        stdout_of(&args);
        format!("{out_dir}/seed0")
    };
    match kind {
        "ngram" => {
            let out = path("genes3.dnalm-ngram");
            stdout_of(&["ngram", "train", "--order", "3", "-o", &out, &genes]);
            out
        }
        "lstm" | "gpt" => {
            let out = path(kind);
            let mut args = vec![
                "train", "lm", "--model", kind, "--preset", "tiny", "--window", "32", "-o", &out,
            ];
            args.extend(short);
            args.push(&genes);
            stdout_of(&args);
            out
        }
        "bert" | "mxdna" => {
            let out = path(kind);
            let command = if kind == "bert" { "mlm" } else { "mxdna" };
            let mut args = vec![
                "train",
                command,
                "--preset",
                "tiny",
                "--window-nt",
                "120",
                "-o",
                &out,
            ];
            args.extend(short);
            args.push(&chr20);
            stdout_of(&args);
            out
        }
        "bert-classifier" => finetune(&path("bert"), "ft-bert"),
        "mxdna-classifier" => finetune(&path("mxdna"), "ft-mxdna"),
        "bag-of-tokens" => finetune("kmer3-lr", "ft-kmer"),
        other => panic!("unknown kind {other}"),
    }
}

/// Runs `command` on `model`; `Ok(stdout)` or `Err(stderr)` (never a panic: exit 1).
fn run(command: &str, model: &str, dir: &Path, inputs: &Inputs) -> Result<String, String> {
    let out = |name: &str, extension: &str| {
        dir.join(format!("{name}-{}{extension}", model.replace('/', "_")))
            .display()
            .to_string()
    };
    let (npy, finetuned) = (out("embedding", ".npy"), out("finetuned", ""));
    let track = out("track", ".bedgraph");
    let args: Vec<&str> = match command {
        "perplexity" => vec!["eval", "perplexity", "-m", model, &inputs.fasta],
        "mutations" => vec![
            "eval",
            "mutations",
            "-m",
            model,
            "--pairs",
            "3",
            "--max-edits",
            "2",
            "--seeds",
            "0",
            &inputs.fasta,
        ],
        "variants" => vec!["eval", "variants", "-m", model, &inputs.variants],
        "score" => vec![
            "score",
            "-m",
            model,
            "--window",
            "32",
            "-o",
            &track,
            &inputs.fasta,
        ],
        "generate" => vec!["generate", "-m", model, "--count", "1", "--max-len", "20"],
        "embed" => vec!["embed", "-m", model, "-o", &npy, &inputs.fasta],
        "predict" => vec!["predict", "-m", model, &inputs.fasta],
        "tokens" => vec!["tokens", "-m", model, "--show", "1", &inputs.fasta],
        "finetune" => vec![
            "finetune",
            "--task",
            &inputs.tata,
            "--model",
            model,
            "--steps",
            "1",
            "--eval-every",
            "1",
            "--batch-size",
            "4",
            "-o",
            &finetuned,
        ],
        other => panic!("unknown command {other}"),
    };
    let output = dnalm(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    match output.status.code() {
        Some(0) => Ok(String::from_utf8(output.stdout).unwrap()),
        Some(1) => Err(stderr),
        other => panic!("{args:?} exited with {other:?}: {stderr}"),
    }
}

/// Small real inputs: four 60-nt splice-junction sequences and five of their variants.
struct Inputs {
    fasta: String,
    variants: String,
    tata: String,
}

fn inputs(dir: &Path) -> Inputs {
    let table = std::fs::read_to_string(repo("data/sample/splice_variants.csv")).unwrap();
    let rows: Vec<&str> = table.lines().take(6).collect();
    let fasta = dir.join("junctions.fa");
    let mut text = String::new();
    for (i, row) in rows[1..5].iter().enumerate() {
        text.push_str(&format!(">j{i}\n{}\n", row.split(',').nth(1).unwrap()));
    }
    std::fs::write(&fasta, text).unwrap();
    let variants = dir.join("variants.csv");
    std::fs::write(&variants, rows.join("\n") + "\n").unwrap();
    Inputs {
        fasta: fasta.display().to_string(),
        variants: variants.display().to_string(),
        tata: repo("data/sample/prom_core_tata").display().to_string(),
    }
}

#[test]
fn every_command_takes_exactly_the_kinds_of_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = inputs(dir.path());
    let models: Vec<(&str, String)> = KINDS
        .iter()
        .map(|&kind| (kind, train(kind, dir.path())))
        .collect();
    for (command, takes) in TABLE {
        for (kind, model) in &models {
            let result = run(command, model, dir.path(), &inputs);
            if takes.contains(kind) {
                let printed =
                    result.unwrap_or_else(|err| panic!("{command} on {kind} failed: {err}"));
                assert!(
                    command == "embed" || !printed.is_empty(),
                    "{command} on {kind} printed nothing"
                );
            } else {
                let err = result
                    .err()
                    .unwrap_or_else(|| panic!("{command} on {kind} must be refused"));
                let shape = format!("`{model}` is a {kind} model; dnalm ");
                assert!(
                    err.contains(&shape) && err.contains(" needs ") && err.contains("models have"),
                    "{command} on {kind}: {err}"
                );
            }
        }
    }
}

#[test]
fn nucleotide_level_embeddings_are_mxdna_s_only() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = inputs(dir.path());
    let bert = train("bert", dir.path());
    let npy = dir.path().join("e.npy").display().to_string();
    let err = failure_of(&[
        "embed",
        "-m",
        &bert,
        "--states",
        "nucleotides",
        "-o",
        &npy,
        &inputs.fasta,
    ]);
    assert!(err.contains("token states only"), "{err}");
    assert!(!dir.path().join("e.npy").exists());
    let mxdna = train("mxdna", dir.path());
    stdout_of(&[
        "embed",
        "-m",
        &mxdna,
        "--states",
        "nucleotides",
        "-o",
        &npy,
        &inputs.fasta,
    ]);
    let bytes = std::fs::read(dir.path().join("e.npy")).unwrap();
    // The .npy header names the shape: four sequences of the tiny preset's 64 values.
    let header = String::from_utf8_lossy(&bytes[..128]).into_owned();
    assert!(header.contains("'shape': (4, 64)"), "{header}");
}
