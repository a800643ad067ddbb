//! Errors of the training core.

use std::path::PathBuf;

/// A problem while training, saving or resuming.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
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
    /// A run folder is incomplete or does not match the model being trained.
    #[error("{dir}: {message}")]
    Checkpoint {
        /// The run folder or checkpoint.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A parameter is out of range.
    #[error("invalid training parameter: {0}")]
    InvalidParameter(String),
}

/// Result alias for this crate.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
