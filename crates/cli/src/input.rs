//! Input options shared by every command that reads sequence files, and opening a file
//! with a progress bar.

use std::path::Path;

use anyhow::{Context, Result};
use clap::Args;
use dnalm_seq::alphabet::NormalizationReport;
use dnalm_seq::source::{SeqReader, SourceOptions};
use dnalm_seq::table::TableColumns;

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
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
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
}
