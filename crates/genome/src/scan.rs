//! A per-nucleotide scan of whole sequences or regions: windows from
//! [`ScanWindows`] go to the model a batch at a time, each window's kept values become
//! bedGraph lines (and a line of per-window totals), and the work is checkpointed so
//! that an interrupted scan resumes where its last checkpoint left it.
//!
//! The outputs are written in a work folder beside the bedGraph (`<track>.partial/`:
//! the settings, the progress, and the two files up to the last checkpoint) and moved
//! into place only when the scan is complete, so an output is whole or absent. A
//! rerun with the same settings resumes (the work files are cut back to the last
//! checkpoint and the windows before it skipped, not scored again); other settings are
//! refused while the folder is there.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{GenomeError, Result};
use crate::scan_source::{ScanSequence, ScanSource};
use crate::scan_windows::{ScanWindow, ScanWindows};
use crate::tiling::Tiling;
use crate::track_output::{
    write_bedgraph_lines, write_window_total, CheckpointedFile, WINDOW_TOTALS_HEADER,
};

/// How a model scores windows: for each `(nucleotides, kept range)` the values of the
/// kept nucleotides (natural-log probabilities; NaN where it scores none).
pub type WindowScorer<'a> = dyn FnMut(
        &[(&[u8], Range<usize>)],
    ) -> std::result::Result<Vec<Vec<f64>>, Box<dyn std::error::Error + Send + Sync>>
    + 'a;

/// What a scan calls: the model, a progress display, and the flag that stops it.
pub struct ScanHooks<'a> {
    /// Scores a batch of windows.
    pub score: &'a mut WindowScorer<'a>,
    /// Called after each batch with the nucleotides done and the total.
    pub on_progress: &'a mut dyn FnMut(u64, u64),
    /// Raised (by Ctrl-C), it ends the scan at the next batch with a checkpoint.
    pub stop: &'a AtomicBool,
}

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Windows and the parts of them kept.
    pub tiling: Tiling,
    /// Windows per call of the model.
    pub windows_per_batch: usize,
    /// How often the work is made durable.
    pub checkpoint_every: Duration,
}

/// Where the results go.
#[derive(Debug, Clone)]
pub struct ScanOutputs {
    /// The per-nucleotide bedGraph (gzip when it ends in `.gz`).
    pub track: PathBuf,
    /// The per-window totals (BED3 + log-likelihood, nucleotides, perplexity), if
    /// wanted (gzip when it ends in `.gz`).
    pub window_totals: Option<PathBuf>,
}

/// The bedGraph's `track` line.
#[derive(Debug, Clone)]
pub struct TrackHeader {
    /// Its `name=`.
    pub name: String,
    /// Its `description=`.
    pub description: String,
}

/// What a scan found in one sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceTotal {
    /// The sequence.
    pub sequence: ScanSequence,
    /// Nucleotides scored (its `N` are not).
    pub scored: u64,
    /// The sum of their values.
    pub log_prob: f64,
}

impl SequenceTotal {
    /// Perplexity per scored nucleotide.
    pub fn perplexity(&self) -> f64 {
        (-self.log_prob / self.scored as f64).exp()
    }
}

/// How a scan ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanOutcome {
    /// Every sequence is scored and the outputs are in place.
    Finished {
        /// What each sequence holds.
        totals: Vec<SequenceTotal>,
        /// Nucleotides an earlier, interrupted scan had done (0 for a fresh one).
        resumed_at: u64,
    },
    /// Stopped at a checkpoint after this many nucleotides; the same call resumes.
    Interrupted(u64),
}

/// What the work folder records at each checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Progress {
    windows_done: u64,
    track_bytes: u64,
    totals_bytes: u64,
    totals: Vec<SequenceTotal>,
    complete: bool,
}

/// The work folder of a scan writing `track`.
pub fn work_folder(track: &Path) -> PathBuf {
    PathBuf::from(format!("{}.partial", track.display()))
}

/// Scans every sequence of `source`; `settings` (what the caller's results depend on:
/// model, method, input) must be the same to resume.
pub fn scan<S: ScanSource>(
    source: S,
    options: &ScanOptions,
    outputs: &ScanOutputs,
    settings: &serde_json::Value,
    header: &TrackHeader,
    hooks: ScanHooks<'_>,
) -> Result<ScanOutcome> {
    let ScanHooks {
        score,
        on_progress,
        stop,
    } = hooks;
    if options.windows_per_batch == 0 {
        return Err(GenomeError::Setting(
            "windows per batch must be at least 1".into(),
        ));
    }
    let work = WorkFolder::new(&outputs.track);
    let settings = serde_json::json!({
        "caller": settings,
        "window": options.tiling.window(),
        "stride": options.tiling.stride(),
        "window_totals": outputs.window_totals.is_some(),
        "sequences": source.sequences(),
    });
    let mut progress = work.start(outputs, &settings, source.sequences(), header)?;
    let total: u64 = source.sequences().iter().map(|s| s.length).sum();
    if progress.complete {
        work.finish(outputs)?;
        return Ok(ScanOutcome::Finished {
            totals: progress.totals,
            resumed_at: total,
        });
    }
    let gzip = |path: &Path| path.extension().is_some_and(|e| e == "gz");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| GenomeError::Io { path, source }
    };
    let mut track =
        CheckpointedFile::open(&work.track(), progress.track_bytes, gzip(&outputs.track))
            .map_err(io(&work.track()))?;
    let mut totals = match &outputs.window_totals {
        Some(path) => Some(
            CheckpointedFile::open(&work.totals(), progress.totals_bytes, gzip(path))
                .map_err(io(&work.totals()))?,
        ),
        None => None,
    };
    let starts: Vec<u64> = source
        .sequences()
        .iter()
        .scan(0, |done, s| {
            let start = *done;
            *done += s.length;
            Some(start)
        })
        .collect();
    let sequences = source.sequences().to_vec();
    let mut windows = ScanWindows::new(source, options.tiling)?;
    let mut resumed_at = 0;
    for _ in 0..progress.windows_done {
        if let Some(done) = windows.next_window()? {
            resumed_at = starts[done.sequence] + done.offset + done.keep.end as u64;
        }
    }
    let mut last_checkpoint = Instant::now();
    loop {
        let mut batch: Vec<ScanWindow> = Vec::with_capacity(options.windows_per_batch);
        while batch.len() < options.windows_per_batch {
            match windows.next_window()? {
                Some(window) => batch.push(window),
                None => break,
            }
        }
        if batch.is_empty() {
            break;
        }
        let items: Vec<(&[u8], Range<usize>)> = batch
            .iter()
            .map(|w| (&w.bases[..], w.keep.clone()))
            .collect();
        let values = score(&items).map_err(|err| {
            let first = &batch[0];
            let sequence = &sequences[first.sequence];
            let start = sequence.start + first.offset;
            GenomeError::Score {
                contig: sequence.contig.clone(),
                start,
                end: start + first.bases.len() as u64,
                message: err.to_string(),
            }
        })?;
        for (window, values) in batch.iter().zip(&values) {
            let sequence = &sequences[window.sequence];
            let first = sequence.start + window.offset + window.keep.start as u64;
            // A window holds only ACGT, each of which a model scores: NaN is a failure.
            if let Some(at) = values.iter().position(|v| v.is_nan()) {
                let start = sequence.start + window.offset;
                return Err(GenomeError::Score {
                    contig: sequence.contig.clone(),
                    start,
                    end: start + window.bases.len() as u64,
                    message: format!(
                        "the model gave NaN for the nucleotide at {} (0-based)",
                        first + at as u64
                    ),
                });
            }
            write_bedgraph_lines(
                track.writer().map_err(io(&work.track()))?,
                &sequence.contig,
                first,
                values,
            )
            .map_err(io(&work.track()))?;
            if let Some(totals) = &mut totals {
                write_window_total(
                    totals.writer().map_err(io(&work.totals()))?,
                    &sequence.contig,
                    first,
                    values,
                )
                .map_err(io(&work.totals()))?;
            }
            let total_of = &mut progress.totals[window.sequence];
            for value in values.iter().filter(|v| !v.is_nan()) {
                total_of.scored += 1;
                total_of.log_prob += value;
            }
        }
        progress.windows_done += batch.len() as u64;
        let last = batch.last().expect("a batch has windows");
        let done = starts[last.sequence] + last.offset + last.keep.end as u64;
        on_progress(done, total);
        let stopping = stop.load(Ordering::SeqCst);
        if stopping || last_checkpoint.elapsed() >= options.checkpoint_every {
            work.checkpoint(&mut progress, &mut track, totals.as_mut())?;
            last_checkpoint = Instant::now();
        }
        if stopping {
            return Ok(ScanOutcome::Interrupted(done));
        }
    }
    progress.complete = true;
    work.checkpoint(&mut progress, &mut track, totals.as_mut())?;
    drop((track, totals));
    work.finish(outputs)?;
    on_progress(total, total);
    Ok(ScanOutcome::Finished {
        totals: progress.totals,
        resumed_at,
    })
}

/// The work folder: settings, progress and the outputs up to the last checkpoint.
struct WorkFolder {
    path: PathBuf,
}

impl WorkFolder {
    fn new(track: &Path) -> Self {
        Self {
            path: work_folder(track),
        }
    }

    fn track(&self) -> PathBuf {
        self.path.join("track")
    }

    fn totals(&self) -> PathBuf {
        self.path.join("window_totals")
    }

    fn io(&self, path: PathBuf) -> impl FnOnce(std::io::Error) -> GenomeError {
        move |source| GenomeError::Io { path, source }
    }

    /// The progress to go on from: a new folder (its outputs' headers written), or the
    /// one a scan with the same settings left.
    fn start(
        &self,
        outputs: &ScanOutputs,
        settings: &serde_json::Value,
        sequences: &[ScanSequence],
        header: &TrackHeader,
    ) -> Result<Progress> {
        let settings_path = self.path.join("settings.json");
        if self.path.is_dir() {
            let text =
                std::fs::read_to_string(&settings_path).map_err(self.io(settings_path.clone()))?;
            let saved: serde_json::Value =
                serde_json::from_str(&text).map_err(|err| GenomeError::Format {
                    path: settings_path.clone(),
                    message: err.to_string(),
                })?;
            if &saved != settings {
                return Err(GenomeError::Setting(format!(
                    "{} holds an unfinished scan with other settings (model, method, window, \
                     stride, outputs or input); rerun it as it was started to resume, or \
                     remove the folder to start again",
                    self.path.display()
                )));
            }
            let progress_path = self.path.join("progress.json");
            let text =
                std::fs::read_to_string(&progress_path).map_err(self.io(progress_path.clone()))?;
            return serde_json::from_str(&text).map_err(|err| GenomeError::Format {
                path: progress_path,
                message: err.to_string(),
            });
        }
        for path in std::iter::once(&outputs.track).chain(&outputs.window_totals) {
            if path.exists() {
                return Err(GenomeError::Setting(format!(
                    "{} exists (a finished scan?); remove it or choose another name",
                    path.display()
                )));
            }
        }
        std::fs::create_dir_all(&self.path).map_err(self.io(self.path.clone()))?;
        dnalm_seq::atomic::write_atomic(&settings_path, |file| {
            file.write_all(serde_json::to_string_pretty(settings)?.as_bytes())
        })
        .map_err(self.io(settings_path))?;
        let mut progress = Progress {
            windows_done: 0,
            track_bytes: 0,
            totals_bytes: 0,
            totals: sequences
                .iter()
                .map(|sequence| SequenceTotal {
                    sequence: sequence.clone(),
                    scored: 0,
                    log_prob: 0.0,
                })
                .collect(),
            complete: false,
        };
        let gzip = |path: &Path| path.extension().is_some_and(|e| e == "gz");
        let mut track = CheckpointedFile::open(&self.track(), 0, gzip(&outputs.track))
            .map_err(self.io(self.track()))?;
        let quote = |text: &str| text.replace('"', "'");
        writeln!(
            track.writer().map_err(self.io(self.track()))?,
            "track type=bedGraph name=\"{}\" description=\"{}\"",
            quote(&header.name),
            quote(&header.description)
        )
        .map_err(self.io(self.track()))?;
        let mut totals = match &outputs.window_totals {
            Some(path) => {
                let mut file = CheckpointedFile::open(&self.totals(), 0, gzip(path))
                    .map_err(self.io(self.totals()))?;
                writeln!(
                    file.writer().map_err(self.io(self.totals()))?,
                    "{WINDOW_TOTALS_HEADER}"
                )
                .map_err(self.io(self.totals()))?;
                Some(file)
            }
            None => None,
        };
        self.checkpoint(&mut progress, &mut track, totals.as_mut())?;
        Ok(progress)
    }

    /// Makes both outputs durable and records how far they go.
    fn checkpoint(
        &self,
        progress: &mut Progress,
        track: &mut CheckpointedFile,
        totals: Option<&mut CheckpointedFile>,
    ) -> Result<()> {
        progress.track_bytes = track.checkpoint().map_err(self.io(self.track()))?;
        if let Some(totals) = totals {
            progress.totals_bytes = totals.checkpoint().map_err(self.io(self.totals()))?;
        }
        let path = self.path.join("progress.json");
        dnalm_seq::atomic::write_atomic(&path, |file| {
            file.write_all(serde_json::to_string(progress)?.as_bytes())
        })
        .map_err(self.io(path))
    }

    /// Moves the outputs into place (those a crash left unmoved) and removes the folder.
    fn finish(&self, outputs: &ScanOutputs) -> Result<()> {
        let moves = std::iter::once((self.track(), &outputs.track)).chain(
            outputs
                .window_totals
                .iter()
                .map(|path| (self.totals(), path)),
        );
        for (from, to) in moves {
            if from.exists() {
                std::fs::rename(&from, to).map_err(self.io(to.clone()))?;
            }
        }
        std::fs::remove_dir_all(&self.path).map_err(self.io(self.path.clone()))
    }
}
