//! Errors of genome inputs: each names the file and, where there is one, the record.

use std::path::PathBuf;

/// Why a reference genome or a VCF could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GenomeError {
    /// A file could not be read (or an index not written).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file is not what it should be.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A line of a text file (a BED file) is not what it should be.
    #[error("{path}: line {line}: {message}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A setting is out of its range.
    #[error("{0}")]
    Setting(String),
    /// The model failed on a window.
    #[error("scoring {contig}:{start}-{end} failed: {message}")]
    Score {
        /// The window's contig.
        contig: String,
        /// Its 0-based start.
        start: u64,
        /// Its end.
        end: u64,
        /// What the model said.
        message: String,
    },
    /// A record cannot be scored and `--strict` asked for errors.
    #[error("{path}: record {record} ({chrom}:{pos}): {problem}")]
    Record {
        /// The VCF.
        path: PathBuf,
        /// 1-based data-line number.
        record: usize,
        /// Its contig as written.
        chrom: String,
        /// Its 1-based position.
        pos: usize,
        /// Why it cannot be scored.
        problem: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = GenomeError> = std::result::Result<T, E>;
