//! The scan driver with a stand-in model whose value for a nucleotide depends on the
//! nucleotide alone: the bedGraph read back position by position is exactly what it
//! should be (each nucleotide once, `N` never), the window totals add up, and a scan
//! stopped by the flag, or failing after unsaved work, resumes to the very bytes of an
//! uninterrupted one; other settings and existing outputs are refused.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dnalm_genome::scan::{
    scan, work_folder, ScanHooks, ScanOptions, ScanOutcome, ScanOutputs, TrackHeader,
};
use dnalm_genome::scan_source::FastaStream;
use dnalm_genome::tiling::Tiling;

const SEQUENCES: [(&str, &str); 3] = [
    ("chrA", "NNACGTTGCAGGTACCATNNNNGATTACAGATTACAGGCCTTAAGGN"),
    ("chrB", "GATTACA"),
    ("chrC", "NNNNN"),
];

fn value_of(base: u8) -> f64 {
    match base {
        b'A' => -1.0,
        b'C' => -1.5,
        b'G' => -2.0,
        _ => -0.25,
    }
}

fn fasta(dir: &Path) -> PathBuf {
    let path = dir.join("g.fa");
    let text: String = SEQUENCES
        .iter()
        .map(|(name, seq)| format!(">{name}\n{seq}\n"))
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn options(checkpoint_every: Duration) -> ScanOptions {
    ScanOptions {
        tiling: Tiling::new(8, 5, true).unwrap(),
        windows_per_batch: 2,
        checkpoint_every,
    }
}

fn header() -> TrackHeader {
    TrackHeader {
        name: "test".into(),
        description: "per base".into(),
    }
}

/// Runs a scan whose scorer calls `on_batch(batch number)` first (to stop or fail).
fn run(
    input: &Path,
    outputs: &ScanOutputs,
    options: &ScanOptions,
    settings: &serde_json::Value,
    on_batch: &dyn Fn(usize, &AtomicBool) -> Result<(), String>,
) -> dnalm_genome::Result<ScanOutcome> {
    counted_run(input, outputs, options, settings, on_batch).0
}

/// [`run`], and how many windows it scored.
fn counted_run(
    input: &Path,
    outputs: &ScanOutputs,
    options: &ScanOptions,
    settings: &serde_json::Value,
    on_batch: &dyn Fn(usize, &AtomicBool) -> Result<(), String>,
) -> (dnalm_genome::Result<ScanOutcome>, usize) {
    let stop = AtomicBool::new(false);
    let (mut batches, mut windows_scored) = (0, 0);
    let mut score = |windows: &[(&[u8], Range<usize>)]| {
        batches += 1;
        windows_scored += windows.len();
        on_batch(batches, &stop)?;
        Ok(windows
            .iter()
            .map(|(bases, keep)| bases[keep.clone()].iter().map(|&b| value_of(b)).collect())
            .collect())
    };
    let hooks = ScanHooks {
        score: &mut score,
        on_progress: &mut |done, total| assert!(done <= total),
        stop: &stop,
    };
    let outcome = scan(
        FastaStream::open(input).unwrap(),
        options,
        outputs,
        settings,
        &header(),
        hooks,
    );
    (outcome, windows_scored)
}

fn outputs(dir: &Path, name: &str) -> ScanOutputs {
    ScanOutputs {
        track: dir.join(format!("{name}.bedgraph")),
        window_totals: Some(dir.join(format!("{name}.bed"))),
    }
}

fn read_text(path: &Path) -> String {
    use std::io::Read;
    let bytes = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

#[test]
fn every_nucleotide_once_and_totals_that_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let input = fasta(dir.path());
    let out = outputs(dir.path(), "whole");
    let settings = serde_json::json!({"model": "stand-in"});
    let ScanOutcome::Finished { totals, resumed_at } = run(
        &input,
        &out,
        &options(Duration::ZERO),
        &settings,
        &|_, _| Ok(()),
    )
    .unwrap() else {
        panic!("not finished")
    };
    assert_eq!(resumed_at, 0);
    let text = read_text(&out.track);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "track type=bedGraph name=\"test\" description=\"per base\""
    );
    let mut seen: BTreeMap<(String, u64), f64> = BTreeMap::new();
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        let (start, end): (u64, u64) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        for position in start..end {
            let old = seen.insert(
                (fields[0].to_string(), position),
                fields[3].parse().unwrap(),
            );
            assert!(old.is_none(), "{line}: position {position} twice");
        }
    }
    let mut expected: BTreeMap<(String, u64), f64> = BTreeMap::new();
    for (name, seq) in SEQUENCES {
        for (position, base) in seq.bytes().enumerate() {
            if base != b'N' {
                expected.insert((name.to_string(), position as u64), value_of(base));
            }
        }
    }
    assert_eq!(seen, expected);
    // Per-sequence totals and per-window rows add up to the same.
    let sum: f64 = expected.values().sum();
    assert_eq!(totals.len(), 3);
    assert_eq!(
        totals.iter().map(|t| t.scored).sum::<u64>(),
        expected.len() as u64
    );
    assert!((totals.iter().map(|t| t.log_prob).sum::<f64>() - sum).abs() < 1e-9);
    assert_eq!(totals[2].scored, 0);
    let rows = read_text(out.window_totals.as_ref().unwrap());
    let mut rows = rows.lines();
    assert!(rows.next().unwrap().starts_with("#chrom\tstart\tend"));
    let row_sum: f64 = rows
        .map(|row| row.split('\t').nth(3).unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((row_sum - sum).abs() < 1e-3);
    assert!(!work_folder(&out.track).exists());
}

#[test]
fn stopped_or_failed_scans_resume_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let input = fasta(dir.path());
    let settings = serde_json::json!({"model": "stand-in"});
    let whole = outputs(dir.path(), "whole");
    let (outcome, all_windows) = counted_run(
        &input,
        &whole,
        &options(Duration::ZERO),
        &settings,
        &|_, _| Ok(()),
    );
    outcome.unwrap();
    // Stopped by the flag during batch 3: a checkpoint, then the rest on the rerun.
    let stopped = outputs(dir.path(), "stopped");
    let (outcome, before) = counted_run(
        &input,
        &stopped,
        &options(Duration::ZERO),
        &settings,
        &|n, stop| {
            if n == 3 {
                stop.store(true, Ordering::SeqCst);
            }
            Ok(())
        },
    );
    assert!(matches!(outcome.unwrap(), ScanOutcome::Interrupted(done) if done > 0));
    assert!(!stopped.track.exists() && work_folder(&stopped.track).is_dir());
    // The rerun scores only the windows after the checkpoint.
    let (rerun, after) = counted_run(
        &input,
        &stopped,
        &options(Duration::ZERO),
        &settings,
        &|_, _| Ok(()),
    );
    assert!(matches!(rerun.unwrap(), ScanOutcome::Finished { resumed_at, .. } if resumed_at > 0));
    assert_eq!((before, before + after), (6, all_windows));
    // Failing in batch 4 with nothing saved since the start: the lines already in the
    // work files are cut off and written again.
    let failed = outputs(dir.path(), "failed");
    let hour = Duration::from_secs(3600);
    let err = run(&input, &failed, &options(hour), &settings, &|n, _| {
        if n == 4 {
            Err("the model broke".to_string())
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    assert!(err.to_string().contains("the model broke"), "{err}");
    assert!(err.to_string().starts_with("scoring chr"), "{err}");
    run(&input, &failed, &options(hour), &settings, &|_, _| Ok(())).unwrap();
    for out in [&stopped, &failed] {
        assert_eq!(read_text(&out.track), read_text(&whole.track));
        assert_eq!(
            read_text(out.window_totals.as_ref().unwrap()),
            read_text(whole.window_totals.as_ref().unwrap())
        );
    }
}

#[test]
fn other_settings_and_existing_outputs_are_refused_and_gzip_holds_the_same_text() {
    let dir = tempfile::tempdir().unwrap();
    let input = fasta(dir.path());
    let settings = serde_json::json!({"model": "stand-in"});
    let out = outputs(dir.path(), "a");
    run(
        &input,
        &out,
        &options(Duration::ZERO),
        &settings,
        &|n, stop| {
            stop.store(n == 1, Ordering::SeqCst);
            Ok(())
        },
    )
    .unwrap();
    let other = serde_json::json!({"model": "another"});
    let err = run(&input, &out, &options(Duration::ZERO), &other, &|_, _| {
        Ok(())
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("unfinished scan with other settings"), "{err}");
    run(
        &input,
        &out,
        &options(Duration::ZERO),
        &settings,
        &|_, _| Ok(()),
    )
    .unwrap();
    let err = run(
        &input,
        &out,
        &options(Duration::ZERO),
        &settings,
        &|_, _| Ok(()),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("exists (a finished scan?)"), "{err}");
    let zipped = ScanOutputs {
        track: dir.path().join("z.bedgraph.gz"),
        window_totals: Some(dir.path().join("z.bed.gz")),
    };
    run(
        &input,
        &zipped,
        &options(Duration::ZERO),
        &settings,
        &|_, _| Ok(()),
    )
    .unwrap();
    assert_eq!(read_text(&zipped.track), read_text(&out.track));
    assert_eq!(
        read_text(zipped.window_totals.as_ref().unwrap()),
        read_text(out.window_totals.as_ref().unwrap())
    );
}

#[test]
fn a_nan_from_the_model_stops_the_scan_naming_the_nucleotide() {
    let dir = tempfile::tempdir().unwrap();
    let input = fasta(dir.path());
    let out = outputs(dir.path(), "nan");
    let stop = AtomicBool::new(false);
    let mut score = |windows: &[(&[u8], Range<usize>)]| {
        Ok(windows
            .iter()
            .map(|(bases, keep)| {
                bases[keep.clone()]
                    .iter()
                    .map(|&b| if b == b'T' { f64::NAN } else { value_of(b) })
                    .collect()
            })
            .collect())
    };
    let hooks = ScanHooks {
        score: &mut score,
        on_progress: &mut |_, _| {},
        stop: &stop,
    };
    let settings = serde_json::json!({"model": "broken"});
    let err = scan(
        FastaStream::open(&input).unwrap(),
        &options(Duration::ZERO),
        &out,
        &settings,
        &header(),
        hooks,
    )
    .unwrap_err()
    .to_string();
    // chrA: NNACGT...: the first T is at 0-based 5.
    assert!(
        err.contains("the model gave NaN for the nucleotide at 5"),
        "{err}"
    );
    assert!(!out.track.exists());
}
