//! What a careless user, a script or a scheduler does to a command: flags out of their
//! range are refused before anything runs, a run folder is resumed only as what it is,
//! and SIGTERM (as SIGINT) saves a checkpoint and exits with 130, after which the same
//! command resumes.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{dnalm, failure_of, repo, stdout_of};

#[test]
fn flags_out_of_range_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    let out = dir.path().join("run").display().to_string();
    let train = |extra: &[&str]| {
        let mut args = vec!["train", "lm", "--preset", "tiny", "-o", &out];
        args.extend(extra);
        args.push(&genes);
        dnalm(&args)
    };
    for (flag, value, needle) in [
        ("--lr", "NaN", "NaN is not a finite number > 0"),
        ("--steps", "0", "0 is not in 1..="),
        ("--batch-size", "0", "0 is not in 1..="),
        ("--weight-decay=-1", "", "is not a finite number >= 0"),
        ("--window", "0", "0 is not in 1..="),
    ] {
        let output = if value.is_empty() {
            train(&[flag])
        } else {
            train(&[flag, value])
        };
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {err}");
        let name = flag.split('=').next().unwrap();
        assert!(
            err.contains(name) && err.contains(needle),
            "{flag} {value}: {err}"
        );
    }
    assert!(
        !Path::new(&out).exists(),
        "nothing is written for a refused flag"
    );
    let tata = repo("data/sample/prom_core_tata").display().to_string();
    for (args, needle) in [
        (
            vec![
                "finetune",
                "--task",
                &tata,
                "--model",
                "kmer3-lr",
                "--dropout",
                "NaN",
                "-o",
                &out,
            ],
            "[0, 1)",
        ),
        (
            vec![
                "embed",
                "-m",
                &out,
                "--batch-size",
                "0",
                "-o",
                "x.npy",
                &genes,
            ],
            "1..=",
        ),
        (
            vec![
                "embed",
                "-m",
                &out,
                "--max-tokens",
                "2",
                "-o",
                "x.npy",
                &genes,
            ],
            "3..=",
        ),
        (
            vec!["predict", "-m", &out, "--max-tokens", "1", &genes],
            "3..=",
        ),
        (
            vec!["tokens", "-m", &out, "--window-nt", "0", &genes],
            "1..=",
        ),
    ] {
        let output = dnalm(&args);
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn a_run_folder_resumes_only_as_the_network_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    let out = dir.path().join("run").display().to_string();
    let short = [
        "--preset",
        "tiny",
        "--steps",
        "1",
        "--eval-every",
        "0",
        "--batch-size",
        "2",
    ];
    let mut args = vec!["train", "lm", "--model", "lstm", "-o", &out];
    args.extend(short);
    args.push(&genes);
    stdout_of(&args);
    let mut args = vec!["train", "lm", "--model", "gpt", "-o", &out];
    args.extend(short);
    args.push(&genes);
    let err = failure_of(&args);
    assert!(err.contains("holds a lstm run, not a gpt one"), "{err}");
}

#[test]
fn sigterm_saves_a_checkpoint_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    let out = dir.path().join("run");
    let args = [
        "train",
        "lm",
        "--preset",
        "tiny",
        "--window",
        "32",
        "--batch-size",
        "2",
        "--steps",
        "1000000",
        "--eval-every",
        "0",
        "--checkpoint-every",
        "1000000",
        "-o",
        out.to_str().unwrap(),
        &genes,
    ];
    let child = Command::new(env!("CARGO_BIN_EXE_dnalm"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until training has taken steps (the handler is in place by then).
    let started = Instant::now();
    while std::fs::read_to_string(out.join("metrics.jsonl")).map_or(0, |t| t.lines().count()) < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no training steps"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: a checkpoint is saved"), "{err}");
    let state = std::fs::read_to_string(out.join("checkpoint/trainer_state.json")).unwrap();
    assert!(state.contains("\"step\""), "{state}");
}

#[test]
fn a_task_with_one_class_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("one.csv");
    let mut text = String::from("sequence,label,split\n");
    for (i, split) in ["train", "train", "dev", "test"].iter().enumerate() {
        text.push_str(&format!("ACGTACGTAC{},1,{split}\n", "ACGT".repeat(i + 1)));
    }
    std::fs::write(&table, text).unwrap();
    let out = dir.path().join("ft").display().to_string();
    let err = failure_of(&[
        "finetune",
        "--task",
        table.to_str().unwrap(),
        "--model",
        "kmer3-lr",
        "-o",
        &out,
    ]);
    assert!(
        err.contains("the training split has 1 class(es) (1)"),
        "{err}"
    );
    assert!(!Path::new(&out).exists());
}

#[test]
fn sizes_from_a_config_file_are_checked_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    let sizes = dir.path().join("sizes.json");
    std::fs::write(
        &sizes,
        r#"{"embed_dim": 64, "hidden_size": 1000000000, "num_layers": 1000}"#,
    )
    .unwrap();
    let out = dir.path().join("run").display().to_string();
    let started = Instant::now();
    let err = failure_of(&[
        "train",
        "lm",
        "--model",
        "lstm",
        "--config",
        sizes.to_str().unwrap(),
        "-o",
        &out,
        &genes,
    ]);
    assert!(
        err.contains("hidden_size = 1000000000 is outside 1..=65536"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it must fail before allocating"
    );
    assert!(!Path::new(&out).exists());
    std::fs::write(
        &sizes,
        r#"{"embed_dim": 60000, "hidden_size": 60000, "num_layers": 1000}"#,
    )
    .unwrap();
    let err = failure_of(&[
        "train",
        "lm",
        "--model",
        "lstm",
        "--config",
        sizes.to_str().unwrap(),
        "-o",
        &out,
        &genes,
    ]);
    assert!(
        err.contains("would have") && err.contains("parameters"),
        "{err}"
    );
}
