//! KenLM itself, reading the ARPA file dnalm exported, gives the same sequence scores as
//! dnalm's model (fixture made by `tests/data/kenlm/check_with_kenlm.py`).
//!
//! The model is rebuilt here exactly as `dnalm ngram train --order 4 --split train`
//! builds it on the shipped genes sample (deterministic), and its ARPA export must equal
//! the committed file that KenLM read.

use std::path::PathBuf;

use dnalm_ngram::{NgramModel, Smoothing};
use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_seq::split::{hold_out, Split, SplitFractions};

fn path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn kenlm_scores_our_arpa_like_our_model() {
    let records = read_all(
        &path("../../data/sample/genes_300.csv.gz"),
        &SourceOptions::default(),
    )
    .unwrap();
    let fractions = SplitFractions::new(0.0, 0.1).unwrap();
    let (train, test): (Vec<_>, Vec<_>) = records
        .into_iter()
        .partition(|r| fractions.by_hash(r.id.as_bytes(), 0) == Split::Train);
    let (fit, held_out) = hold_out(&train, 0.1, 1);
    let (model, _, _) = NgramModel::train_tuned(&fit, &held_out, 4, Smoothing::KneserNey).unwrap();

    let mut arpa = Vec::new();
    model.write_arpa(&mut arpa).unwrap();
    let committed = std::fs::read(path("tests/data/kenlm/genes_sample_4gram.arpa")).unwrap();
    assert!(
        arpa == committed,
        "the export differs from the file KenLM read"
    );

    let kenlm: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(path("tests/data/kenlm/kenlm_scores.json")).unwrap(),
    )
    .unwrap();
    let scores = kenlm["scores"].as_array().unwrap();
    assert_eq!(scores.len(), test.len());
    for (record, expected) in test.iter().zip(scores) {
        assert_eq!(expected["id"].as_str().unwrap(), record.id);
        let kenlm_log10 = expected["log10_prob"].as_f64().unwrap();
        let ours = model.log_likelihood(&record.seq).log_prob / std::f64::consts::LN_10;
        // KenLM sums in single precision from 7-decimal ARPA entries.
        let tolerance = 1e-3 + 1e-5 * ours.abs();
        assert!(
            (kenlm_log10 - ours).abs() < tolerance,
            "{}: KenLM {kenlm_log10} vs dnalm {ours}",
            record.id
        );
    }
}
