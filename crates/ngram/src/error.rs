//! Errors of the n-gram crate.

use std::path::PathBuf;

/// A problem building, saving or loading an n-gram model.
#[derive(Debug, thiserror::Error)]
pub enum NgramError {
    /// A parameter is out of range.
    #[error("invalid n-gram parameter: {0}")]
    InvalidParameter(String),
    /// A model file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A model file is not a dnalm n-gram file, is of another version, or is damaged.
    #[error("{file}: not a usable dnalm n-gram model: {message}")]
    Format {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The model cannot be written in the requested format.
    #[error("{0}")]
    Unsupported(String),
}

/// Result alias for this crate.
pub type Result<T, E = NgramError> = std::result::Result<T, E>;
