//! `dnalm score`: a score for every nucleotide of whole chromosomes, or of the regions
//! of a BED file, from any language model: `ln p(x_i | x_<i)` from an autoregressive
//! model, the masked conditional `ln p(x_i | the rest)` from a masked one. Output: a
//! bedGraph (one line per nucleotide, or per run of nucleotides whose values print the
//! same) and, if asked, a BED of totals per window. The genome is streamed in
//! overlapping windows (memory does not grow with the chromosome), `N` runs are not
//! scored, and Ctrl-C stops at a checkpoint that the same command resumes from.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use dnalm_genome::bed::read_bed;
use dnalm_genome::reference::ReferenceGenome;
use dnalm_genome::scan::{
    scan, ScanHooks, ScanOptions, ScanOutcome, ScanOutputs, SequenceTotal, TrackHeader,
};
use dnalm_genome::scan_source::{FastaStream, RegionSource, ScanSource};
use dnalm_genome::tiling::{Tiling, MAX_WINDOW};
use dnalm_models::position_scoring::PositionScoring;
use dnalm_nn::masked_scoring::Masking;

use crate::interrupt::{stop_flag, Interrupted};
use crate::model_args::ModelArgs;
use crate::progress;

/// Sequences listed by name in the report.
const SHOWN_SEQUENCES: usize = 20;

/// Arguments of `dnalm score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// The per-nucleotide bedGraph (`.gz`: gzip). It appears when the scan is complete;
    /// until then the work is in `<FILE>.partial/`.
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,

    /// Also write the totals per window: BED3 + log-likelihood, nucleotides scored,
    /// perplexity (`.gz`: gzip).
    #[arg(long, value_name = "FILE")]
    window_totals: Option<PathBuf>,

    /// Score only these regions (BED: contig, start, end[, name]). The FASTA is then
    /// read through its index (a plain FASTA is indexed when its .fai is missing; a
    /// bgzipped one needs its .fai and .gzi).
    #[arg(long, value_name = "BED")]
    regions: Option<PathBuf>,

    /// Nucleotides the model reads at a time.
    #[arg(long, default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..=MAX_WINDOW as i64))]
    window: u32,

    /// Nucleotides between window starts (1..=window; default half the window). The
    /// rest of each window is context: the nucleotides before a kept part for
    /// autoregressive models, both sides of it for masked models.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_WINDOW as i64))]
    stride: Option<u32>,

    /// Masked models: hide tokens K apart together (K rows per window) instead of one
    /// token per row (the exact conditionals: one row per nucleotide kept, far
    /// slower). K = 7 hides about 15%, as pretraining does.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=4096))]
    mask_spacing: Option<u32>,

    /// Windows per call of the model.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    batch_size: u32,

    /// The genome: FASTA, plain or gzip (bgzip with its index for --regions).
    #[arg(value_name = "FASTA")]
    input: PathBuf,
}

impl ScoreArgs {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let loaded = self.model.open()?;
        let scoring = loaded.position_scoring("dnalm score")?;
        let masking = match (self.mask_spacing, scoring) {
            (None, _) => Masking::OnePerRow,
            (Some(k), PositionScoring::Masked(_)) => Masking::Spaced(k as usize),
            (Some(_), PositionScoring::NextNucleotide(_)) => bail!(
                "--mask-spacing is for masked models; `{}` is a {} model, which reads left \
                 to right",
                loaded.path().display(),
                loaded.kind()
            ),
        };
        let window = self.window as usize;
        let stride = self.stride.map_or((window / 2).max(1), |s| s as usize);
        let options = ScanOptions {
            tiling: Tiling::new(window, stride, scoring.sees_both_sides())?,
            windows_per_batch: self.batch_size as usize,
            checkpoint_every: Duration::from_secs(10),
        };
        let outputs = ScanOutputs {
            track: self.out.clone(),
            window_totals: self.window_totals.clone(),
        };
        let method = scoring.method(masking);
        let settings = serde_json::json!({
            "model": file_identity(loaded.path())?,
            "model_description": loaded.describe(),
            "smoothing": self.model.smoothing.map(|s| s.to_string()),
            "method": method,
            "input": file_identity(&self.input)?,
            "regions": self.regions.as_deref().map(file_identity).transpose()?,
        });
        let header = TrackHeader {
            name: format!("dnalm {}", loaded.describe()),
            description: method.clone(),
        };
        let job = ScanJob {
            scoring,
            masking,
            options: &options,
            outputs: &outputs,
            settings: &settings,
            header: &header,
        };
        let started = Instant::now();
        let outcome = match &self.regions {
            Some(bed) => {
                let genome = ReferenceGenome::open(&self.input)?;
                job.run(RegionSource::new(genome, &read_bed(bed)?, bed)?)?
            }
            None => {
                let spinner = progress::spinner("reading the FASTA's records");
                let source = FastaStream::open(&self.input)?;
                spinner.finish_and_clear();
                job.run(source)?
            }
        };
        let (totals, resumed_at) = match outcome {
            ScanOutcome::Finished { totals, resumed_at } => (totals, resumed_at),
            ScanOutcome::Interrupted(done) => {
                return Err(Interrupted(format!(
                    "{done} nt done and saved in {}; run the same command to resume",
                    dnalm_genome::scan::work_folder(&self.out).display()
                ))
                .into())
            }
        };
        report(
            &loaded.describe(),
            &method,
            &totals,
            resumed_at,
            started.elapsed(),
        );
        eprintln!(
            "wrote {}{}",
            self.out.display(),
            self.window_totals
                .as_ref()
                .map_or(String::new(), |p| format!(" and {}", p.display()))
        );
        Ok(())
    }
}

/// One scan's settings, whatever the source.
struct ScanJob<'a> {
    scoring: PositionScoring<'a>,
    masking: Masking,
    options: &'a ScanOptions,
    outputs: &'a ScanOutputs,
    settings: &'a serde_json::Value,
    header: &'a TrackHeader,
}

impl ScanJob<'_> {
    fn run<S: ScanSource>(&self, source: S) -> Result<ScanOutcome> {
        let total: u64 = source.sequences().iter().map(|s| s.length).sum();
        let bar = progress::nucleotide_bar(total, "scoring");
        let mut score = |windows: &[(&[u8], std::ops::Range<usize>)]| {
            self.scoring
                .score(windows, self.masking)
                .map_err(|err| err.into())
        };
        let hooks = ScanHooks {
            score: &mut score,
            on_progress: &mut |done, _| bar.set_position(done),
            stop: stop_flag(),
        };
        let outcome = scan(
            source,
            self.options,
            self.outputs,
            self.settings,
            self.header,
            hooks,
        )?;
        bar.finish_and_clear();
        Ok(outcome)
    }
}

/// A file as a resumed scan must find it again: its full path, size and modification
/// time.
fn file_identity(path: &Path) -> Result<serde_json::Value> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    Ok(serde_json::json!({
        "path": std::fs::canonicalize(path)?.display().to_string(),
        "bytes": metadata.len(),
        "modified": modified,
    }))
}

/// What was scored, per sequence and in all, and how fast.
fn report(model: &str, method: &str, totals: &[SequenceTotal], resumed_at: u64, elapsed: Duration) {
    let length: u64 = totals.iter().map(|t| t.sequence.length).sum();
    let scored: u64 = totals.iter().map(|t| t.scored).sum();
    let log_prob: f64 = totals.iter().map(|t| t.log_prob).sum();
    println!("model: {model}");
    println!("values: {method}");
    for total in totals.iter().take(SHOWN_SEQUENCES) {
        println!(
            "{}: {} of {} nt scored, ln p {:.1}, perplexity {:.4}",
            total.sequence.label,
            total.scored,
            total.sequence.length,
            total.log_prob,
            total.perplexity()
        );
    }
    if totals.len() > SHOWN_SEQUENCES {
        println!("... and {} more", totals.len() - SHOWN_SEQUENCES);
    }
    println!(
        "all: {scored} of {length} nt scored in {} sequence(s) (N not scored), ln p {log_prob:.1}, \
         perplexity {:.4}",
        totals.len(),
        (-log_prob / scored as f64).exp()
    );
    let seconds = elapsed.as_secs_f64();
    println!(
        "{:.1} s, {:.0} nt/s{}",
        seconds,
        (length - resumed_at) as f64 / seconds,
        if resumed_at > 0 {
            format!(" (resumed after {resumed_at} nt)")
        } else {
            String::new()
        }
    );
}
