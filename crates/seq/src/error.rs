//! Errors of the sequence layer. Every variant says which file and, where it applies,
//! which record and position, so a user can find and fix the problem.

use std::path::PathBuf;

/// A problem reading or checking sequence data.
#[derive(Debug, thiserror::Error)]
pub enum SeqError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A folder was given where a file is expected.
    #[error("{file}: is a folder, not a sequence file")]
    Folder {
        /// The path.
        file: PathBuf,
    },
    /// A record (FASTA/FASTQ record or table row) without a single nucleotide.
    #[error("{file}: record {record} ('{id}') has no nucleotides")]
    EmptyRecord {
        /// The file.
        file: PathBuf,
        /// 1-based index of the record (data row of a table).
        record: usize,
        /// The record's identifier.
        id: String,
    },
    /// The file holds no data at all.
    #[error("{file}: the file is empty (no records)")]
    Empty {
        /// The file.
        file: PathBuf,
    },
    /// A FASTA/FASTQ file is malformed or truncated.
    #[error("{file}: record {record} (line {line}): {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// 1-based index of the record being read.
        record: usize,
        /// 1-based line number where the problem was found.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A character that is neither a nucleotide nor an IUPAC ambiguity code.
    #[error(
        "{file}: record {record} ('{id}'), position {position}: invalid character {found:?}; \
         expected A, C, G, T, N or an IUPAC code (R Y S W K M B D H V)"
    )]
    InvalidBase {
        /// The file.
        file: PathBuf,
        /// 1-based index of the record.
        record: usize,
        /// The record's identifier.
        id: String,
        /// 1-based position in the sequence.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// A table (CSV/TSV) is malformed, lacks a column, or has a bad row.
    #[error("{file}: {message}")]
    Table {
        /// The file.
        file: PathBuf,
        /// What is wrong, naming the row or column.
        message: String,
    },
    /// A FASTA header lacks the label it was asked for.
    #[error(
        "{file}: record {record} ('{id}') has no label in its header; write it as 'label=VALUE'"
    )]
    MissingHeaderLabel {
        /// The file.
        file: PathBuf,
        /// 1-based index of the record.
        record: usize,
        /// The record's identifier.
        id: String,
    },
    /// A benchmark task folder is incomplete or inconsistent.
    #[error("{dir}: {message}")]
    Task {
        /// The task folder.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
}

/// Result alias for this crate.
pub type Result<T, E = SeqError> = std::result::Result<T, E>;
