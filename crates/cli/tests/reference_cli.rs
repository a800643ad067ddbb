//! An authors' MxDNA checkpoint folder (made by the reference code:
//! crates/mxdna/tests/data/checkpoints) is a model like any other: tokens, embed, eval
//! variants and finetune run on it, and export writes one back.

mod common;

use common::{failure_of, repo, stdout_of};

#[test]
fn commands_take_an_authors_folder_and_export_writes_one() {
    let dir = tempfile::tempdir().unwrap();
    let folder = repo("crates/mxdna/tests/data/checkpoints/full_model_bin")
        .display()
        .to_string();
    let tata = repo("data/sample/prom_core_tata").display().to_string();
    let test_rows = repo("data/sample/prom_core_tata/test.csv.gz")
        .display()
        .to_string();
    let variants = repo("data/sample/splice_variants.csv")
        .display()
        .to_string();
    let tokens = stdout_of(&["tokens", "-m", &folder, "--show", "1", &test_rows]);
    assert!(tokens.contains("learnt tokens"), "{tokens}");
    let npy = dir.path().join("e.npy").display().to_string();
    stdout_of(&["embed", "-m", &folder, "-o", &npy, &test_rows]);
    let header = String::from_utf8_lossy(&std::fs::read(&npy).unwrap()[..128]).into_owned();
    assert!(header.contains("'shape': (100, 16)"), "{header}");
    let scored = stdout_of(&["eval", "variants", "-m", &folder, &variants]);
    assert!(
        scored.contains("masked marginal") && scored.contains("AUROC"),
        "{scored}"
    );
    let out = dir.path().join("ft").display().to_string();
    let tuned = stdout_of(&[
        "finetune",
        "--task",
        &tata,
        "--model",
        &folder,
        "--steps",
        "2",
        "--eval-every",
        "2",
        "--batch-size",
        "4",
        "-o",
        &out,
    ]);
    assert!(tuned.contains("test mcc"), "{tuned}");
    let exported = dir.path().join("exported").display().to_string();
    stdout_of(&["export", "-m", &folder, "--naming", "full-model", &exported]);
    let again = stdout_of(&["eval", "variants", "-m", &exported, &variants]);
    let auroc = |text: &str| {
        text.lines()
            .find(|l| l.contains("AUROC"))
            .map(str::to_string)
    };
    assert_eq!(auroc(&again), auroc(&scored));
    let err = failure_of(&["export", "-m", &folder, &exported]);
    assert!(err.contains("already exists"), "{err}");
    let evil = repo("crates/mxdna/tests/data/pickle_unknown_class.bin");
    let hostile = dir.path().join("hostile");
    std::fs::create_dir(&hostile).unwrap();
    std::fs::copy(format!("{folder}/config.json"), hostile.join("config.json")).unwrap();
    std::fs::copy(evil, hostile.join("pytorch_model.bin")).unwrap();
    let err = failure_of(&[
        "embed",
        "-m",
        &hostile.display().to_string(),
        "-o",
        &npy,
        &test_rows,
    ]);
    assert!(err.contains("pytorch_model.bin"), "{err}");
}
