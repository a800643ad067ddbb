//! Errors of the neural models: each variant says what went wrong and where.

use std::path::PathBuf;

/// A problem building, loading, saving or running a neural model.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A run folder could not be written.
    #[error(transparent)]
    Run(#[from] dnalm_run::RunError),
    /// The data cannot be used (windows of a bad size, ...).
    #[error(transparent)]
    Data(#[from] dnalm_seq::SeqError),
    /// A run folder's tokenizer could not be read or written.
    #[error(transparent)]
    Tokenizer(#[from] dnalm_tokenize::TokenizeError),
    /// A file of a run folder is missing, unreadable or does not fit the model.
    #[error("{file}: {message}")]
    RunFile {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The device asked for cannot be used (it says why).
    #[error("{0}")]
    Device(String),
    /// The model cannot do what was asked of it (it says why).
    #[error("{0}")]
    Unsupported(String),
    /// A label that the model's objective cannot take.
    #[error("label '{label}' {problem}")]
    Label {
        /// The label as written.
        label: String,
        /// Why it cannot be used.
        problem: &'static str,
    },
}

impl NnError {
    /// The error of a run-folder file, from anything that can be displayed.
    pub fn run_file(file: PathBuf, message: impl std::fmt::Display) -> Self {
        Self::RunFile {
            file,
            message: message.to_string(),
        }
    }
}

/// Result alias for this crate's fallible model-level operations (layers return
/// `candle_core::Result`).
pub type Result<T, E = NnError> = std::result::Result<T, E>;
