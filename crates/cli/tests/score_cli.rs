//! `dnalm score` against numbers computed without it: an n-gram model's values over
//! each whole stretch between `N`s (the windows' overlap is longer than its context,
//! so windowing must change nothing), an LSTM's over windows as long as the stretch,
//! BED regions that agree with the whole-genome track once past the model's context,
//! and bad settings refused.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{failure_of, repo, stdout_of};
use dnalm_lm::NucleotideLikelihoods;
use dnalm_models::{open, Model, OpenOptions};
use dnalm_seq::source::{read_all, SourceOptions};

/// A 12 kb reference from the shipped chr20 sample with gaps, as contig `20`.
fn reference(dir: &Path) -> (String, Vec<u8>) {
    let records = read_all(
        &repo("data/sample/chr20_200kb.fa.gz"),
        &SourceOptions::default(),
    )
    .unwrap();
    let mut genome = records[0].seq[..12_000].to_vec();
    genome[..50].fill(b'N');
    genome[6_000..6_030].fill(b'N');
    let path = dir.join("ref.fa");
    let mut text = String::from(">20\n");
    for line in genome.chunks(60) {
        text.push_str(std::str::from_utf8(line).unwrap());
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    (path.display().to_string(), genome)
}

/// The bedGraph's values by (contig, position).
fn track(path: &Path) -> BTreeMap<(String, u64), f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut values = BTreeMap::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (start, end): (u64, u64) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        for position in start..end {
            let old = values.insert(
                (fields[0].to_string(), position),
                fields[3].parse().unwrap(),
            );
            assert!(old.is_none(), "position {position} twice");
        }
    }
    values
}

/// What a model gives each nucleotide of each stretch between `N`s, whole.
fn by_stretch(model: &dyn NucleotideLikelihoods, genome: &[u8]) -> BTreeMap<(String, u64), f64> {
    let mut values = BTreeMap::new();
    let mut start = 0;
    while start < genome.len() {
        let len = genome[start..].iter().take_while(|&&b| b != b'N').count();
        if len == 0 {
            start += 1;
            continue;
        }
        let stretch = model
            .nucleotide_log_probs(&[&genome[start..start + len]])
            .unwrap()
            .remove(0);
        for (i, value) in stretch.into_iter().enumerate() {
            values.insert(("20".to_string(), (start + i) as u64), value);
        }
        start += len;
    }
    values
}

fn assert_close(got: &BTreeMap<(String, u64), f64>, want: &BTreeMap<(String, u64), f64>) {
    assert_eq!(got.len(), want.len());
    for (key, value) in want {
        let shown = got[key];
        assert!((shown - value).abs() <= 5e-5, "{key:?}: {shown} vs {value}");
    }
}

fn next_nucleotide(model: &Model) -> &dyn NucleotideLikelihoods {
    match model {
        Model::Ngram(model) => model,
        Model::TokenLm(model) => model,
        _ => panic!("not autoregressive"),
    }
}

#[test]
fn an_ngram_track_is_its_values_over_whole_stretches_and_regions_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (fasta, genome) = reference(dir.path());
    let model = dir.path().join("kn5.dnalm-ngram").display().to_string();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    stdout_of(&["ngram", "train", "--order", "5", "-o", &model, &genes]);
    let out = dir.path().join("t.bedgraph");
    let printed = stdout_of(&[
        "score",
        "-m",
        &model,
        "--window",
        "64",
        "--stride",
        "16",
        "--batch-size",
        "7",
        "-o",
        out.to_str().unwrap(),
        &fasta,
    ]);
    assert!(
        printed.contains("20: 11920 of 12000 nt scored"),
        "{printed}"
    );
    let loaded = open(Path::new(&model), &OpenOptions::default()).unwrap();
    let whole = track(&out);
    assert_close(
        &whole,
        &by_stretch(next_nucleotide(loaded.model()), &genome),
    );
    // Regions (chr20 matched to 20): the same values once 4 nt (the context) in.
    let bed = dir.path().join("r.bed");
    std::fs::write(&bed, "chr20\t100\t900\tone\nchr20\t5990\t6100\n").unwrap();
    let regional = dir.path().join("r.bedgraph");
    stdout_of(&[
        "score",
        "-m",
        &model,
        "--regions",
        bed.to_str().unwrap(),
        "-o",
        regional.to_str().unwrap(),
        &fasta,
    ]);
    let regional = track(&regional);
    assert_eq!(regional.len(), 800 + 110 - 30);
    for ((contig, position), value) in &regional {
        // Three stretches: 100..900, 5990..6000 (then N) and 6030..6100.
        let from_start = match position {
            0..900 => position - 100,
            900..6000 => position - 5990,
            _ => position - 6030,
        };
        if from_start >= 4 {
            assert_eq!(*value, whole[&(contig.clone(), *position)], "{position}");
        }
    }
}

#[test]
fn an_lstm_track_over_one_window_per_stretch_is_its_values_over_the_stretch() {
    let dir = tempfile::tempdir().unwrap();
    let (fasta, genome) = reference(dir.path());
    let run = dir.path().join("lstm").display().to_string();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    stdout_of(&[
        "train",
        "lm",
        "--model",
        "lstm",
        "--preset",
        "tiny",
        "--window",
        "32",
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--warmup",
        "1",
        "--eval-every",
        "2",
        "-o",
        &run,
        &genes,
    ]);
    let out = dir.path().join("t.bedgraph.gz");
    let totals = dir.path().join("w.bed");
    stdout_of(&[
        "score",
        "-m",
        &run,
        "--window",
        "6000",
        "-o",
        out.to_str().unwrap(),
        "--window-totals",
        totals.to_str().unwrap(),
        &fasta,
    ]);
    let plain = dir.path().join("t.bedgraph");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&out).unwrap()),
        &mut text,
    )
    .unwrap();
    std::fs::write(&plain, text).unwrap();
    let loaded = open(Path::new(&run), &OpenOptions::default()).unwrap();
    assert_close(
        &track(&plain),
        &by_stretch(next_nucleotide(loaded.model()), &genome),
    );
    // One window per stretch: two rows of totals.
    let rows = std::fs::read_to_string(&totals).unwrap();
    assert_eq!(rows.lines().count(), 3, "{rows}");
}

#[test]
fn bad_settings_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (fasta, _) = reference(dir.path());
    let model = dir.path().join("kn3.dnalm-ngram").display().to_string();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    stdout_of(&["ngram", "train", "--order", "3", "-o", &model, &genes]);
    let out = dir.path().join("t.bedgraph").display().to_string();
    for (extra, needle) in [
        (
            vec!["--mask-spacing", "7"],
            "--mask-spacing is for masked models",
        ),
        (vec!["--window", "10", "--stride", "11"], "--stride 11"),
        (vec!["--window", "0"], "0 is not in 1..="),
        (vec!["--batch-size", "0"], "0 is not in 1..="),
    ] {
        let mut args = vec!["score", "-m", &model, "-o", &out];
        args.extend(extra);
        args.push(&fasta);
        let output = common::dnalm(&args);
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && err.contains(needle),
            "{args:?}: {err}"
        );
        assert!(!Path::new(&out).exists());
    }
    let bed = dir.path().join("r.bed");
    std::fs::write(&bed, "20\t10\t20000\n").unwrap();
    let err = failure_of(&[
        "score",
        "-m",
        &model,
        "--regions",
        bed.to_str().unwrap(),
        "-o",
        &out,
        &fasta,
    ]);
    assert!(
        err.contains("line 1: ends at 20000 but 20 has 12000 nt"),
        "{err}"
    );
}
