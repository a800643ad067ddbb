//! `dnalm data ...`: looking at sequence files.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use dnalm_seq::stats::{SeqStats, StatsAccumulator};

use crate::input::{open_with_progress, warn_about, InputArgs};

/// Data subcommands.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Per-file statistics: records, length distribution, base composition, N
    /// fraction, exact duplicate sequences.
    Stats(StatsArgs),
}

/// Arguments of `dnalm data stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Sequence files (FASTA/FASTQ, plain or .gz; CSV/TSV tables).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    #[command(flatten)]
    input: InputArgs,

    /// Print JSON (one object per file) instead of a text summary.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct FileStats {
    file: String,
    #[serde(flatten)]
    stats: SeqStats,
}

impl DataCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<()> {
        match self {
            DataCommand::Stats(args) => stats(args),
        }
    }
}

fn stats(args: StatsArgs) -> Result<()> {
    let options = args.input.source_options();
    let mut all = Vec::new();
    for path in &args.files {
        let (mut reader, bar) = open_with_progress(path, &options)?;
        let mut accumulator = StatsAccumulator::default();
        for record in reader.by_ref() {
            accumulator.add(&record?);
        }
        bar.finish_and_clear();
        warn_about(path, reader.report());
        accumulator.add_report(reader.report());
        all.push(FileStats {
            file: path.display().to_string(),
            stats: accumulator.finish(),
        });
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &all)?;
        writeln!(out)?;
    } else {
        for file in &all {
            print_stats(&mut out, file)?;
        }
    }
    Ok(())
}

fn print_stats(out: &mut impl Write, file: &FileStats) -> std::io::Result<()> {
    let stats = &file.stats;
    writeln!(out, "{}", file.file)?;
    writeln!(out, "  records            {}", stats.records)?;
    writeln!(out, "  nucleotides        {}", stats.nucleotides)?;
    if let Some(length) = &stats.length {
        writeln!(
            out,
            "  length             min {}  p5 {}  median {}  mean {:.1}  p95 {}  max {}  N50 {}",
            length.min, length.p5, length.median, length.mean, length.p95, length.max, length.n50
        )?;
    }
    let [a, c, g, t, n] = stats.composition;
    writeln!(
        out,
        "  composition        A {a:.4}  C {c:.4}  G {g:.4}  T {t:.4}  N {n:.4}"
    )?;
    writeln!(out, "  GC (of non-N)      {:.4}", stats.gc_fraction)?;
    writeln!(out, "  N fraction         {:.4}", stats.n_fraction)?;
    writeln!(out, "  duplicate records  {}", stats.duplicate_records)?;
    writeln!(
        out,
        "  normalised         {} IUPAC codes to N, {} soft-masked bases upper-cased",
        stats.normalization.ambiguous_to_n, stats.normalization.soft_masked
    )
}
