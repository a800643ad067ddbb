//! Input options shared by every command that reads sequence files, and opening a file
//! with a progress bar.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use dnalm_seq::alphabet::NormalizationReport;
use dnalm_seq::source::{SeqReader, SourceOptions};
use dnalm_seq::split::{Split, SplitFractions};
use dnalm_seq::table::TableColumns;
use dnalm_seq::SeqRecord;

use crate::progress;

/// How to read sequence files (FASTA/FASTQ, plain or gzip; CSV/TSV tables with a
/// header row, recognised by the extension .csv or .tsv, optionally .gz).
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Table column holding the sequence [default: first of sequence, seq,
    /// NucleotideSequence].
    #[arg(long, value_name = "NAME")]
    pub sequence_column: Option<String>,

    /// Table column holding the label [default: label, if present].
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,

    /// Table column holding the record id [default: first of id, name, NCBIGeneID, if
    /// present; else row<N>].
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,

    /// FASTA/FASTQ headers carry the label as `label=VALUE`; a record without one is an
    /// error.
    #[arg(long)]
    pub header_labels: bool,
}

impl InputArgs {
    /// The reader options these flags describe.
    pub fn source_options(&self) -> SourceOptions {
        SourceOptions {
            columns: TableColumns {
                sequence: self.sequence_column.clone(),
                label: self.label_column.clone(),
                id: self.id_column.clone(),
            },
            header_labels: self.header_labels,
        }
    }
}

/// Opens a sequence file whose reading shows a progress bar over the file's bytes.
pub fn open_with_progress(
    path: &Path,
    options: &SourceOptions,
) -> Result<(SeqReader, indicatif::ProgressBar)> {
    let file = dnalm_seq::source::open_file(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress::bytes_bar(size, &path.display().to_string());
    let reader = SeqReader::from_reader(path, bar.wrap_read(file), options)?;
    Ok((reader, bar))
}

/// Warns on standard error about what normalisation changed in a file.
pub fn warn_about(path: &Path, report: NormalizationReport) {
    if report.ambiguous_to_n > 0 {
        eprintln!(
            "warning: {}: {} IUPAC ambiguity codes were read as N",
            path.display(),
            report.ambiguous_to_n
        );
    }
    if report.all_n_records > 0 {
        eprintln!(
            "warning: {}: {} records are all N (nothing to learn or score in them)",
            path.display(),
            report.all_n_records
        );
    }
}

/// Which part of a table to use: rows are assigned to train/dev/test by a seeded hash of
/// their id (for the human-genes CSV, the NCBI gene id), so the split never depends on
/// row order.
#[derive(Debug, Clone, Args)]
pub struct SplitArgs {
    /// Use only this split of the records [default: all records].
    #[arg(long, value_enum)]
    pub split: Option<SplitName>,

    /// Fraction of records in dev.
    #[arg(long, default_value_t = 0.0)]
    pub dev_fraction: f64,

    /// Fraction of records in test.
    #[arg(long, default_value_t = 0.1)]
    pub test_fraction: f64,

    /// Seed of the split hash.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
}

/// The names of the splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitName {
    /// Training records.
    Train,
    /// Validation records.
    Dev,
    /// Test records.
    Test,
}

impl SplitArgs {
    /// Whether a record belongs to the chosen split (always true without `--split`).
    pub fn keeps(&self, record: &SeqRecord) -> Result<bool> {
        let Some(name) = self.split else {
            return Ok(true);
        };
        let fractions = SplitFractions::new(self.dev_fraction, self.test_fraction)?;
        let wanted = match name {
            SplitName::Train => Split::Train,
            SplitName::Dev => Split::Dev,
            SplitName::Test => Split::Test,
        };
        Ok(fractions.by_hash(record.id.as_bytes(), self.split_seed) == wanted)
    }
}

/// Calls `visit` on every record of every file, with a progress bar per file; `visit`
/// returns `false` to stop reading the current file.
pub fn for_each_record(
    files: &[PathBuf],
    input: &InputArgs,
    mut visit: impl FnMut(&Path, SeqRecord) -> Result<bool>,
) -> Result<()> {
    let options = input.source_options();
    for path in files {
        let (mut reader, bar) = open_with_progress(path, &options)?;
        for record in reader.by_ref() {
            if !visit(path, record?)? {
                break;
            }
        }
        bar.finish_and_clear();
        warn_about(path, reader.report());
    }
    Ok(())
}

/// The sequences a model command works on: files, how to read them, which split.
#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    /// Sequence files (FASTA/FASTQ, plain or .gz; CSV/TSV tables).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub split: SplitArgs,
}

impl RecordArgs {
    /// Reads every record of the chosen split.
    pub fn read(&self) -> Result<Vec<SeqRecord>> {
        read_records(&self.files, &self.input, &self.split)
    }
}

/// Reads every record of the chosen split from the files.
pub fn read_records(
    files: &[PathBuf],
    input: &InputArgs,
    split: &SplitArgs,
) -> Result<Vec<SeqRecord>> {
    let mut records = Vec::new();
    for_each_record(files, input, |_, record| {
        if split.keeps(&record)? {
            records.push(record);
        }
        Ok(true)
    })?;
    if records.is_empty() {
        anyhow::bail!("no records were read (check the files and --split)");
    }
    Ok(records)
}
