//! Errors of run folders.

use std::path::PathBuf;

/// A problem reading or writing a run folder.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A run folder file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A run folder or checkpoint is incomplete or damaged.
    #[error("{dir}: {message}")]
    Checkpoint {
        /// The run folder or checkpoint file.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value could not be serialised.
    #[error("cannot serialise {what}: {message}")]
    Serialise {
        /// What was being written.
        what: &'static str,
        /// Why it failed.
        message: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = RunError> = std::result::Result<T, E>;
