//! Errors of fine-tuning.

use std::path::PathBuf;

/// Why fine-tuning could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum FinetuneError {
    /// The task's data could not be read.
    #[error(transparent)]
    Data(#[from] dnalm_seq::SeqError),
    /// The model could not be built.
    #[error(transparent)]
    Model(#[from] dnalm_models::ModelsError),
    /// The model failed (a label it cannot take, a tensor error).
    #[error(transparent)]
    Nn(#[from] dnalm_nn::NnError),
    /// The training loop failed.
    #[error(transparent)]
    Train(#[from] dnalm_train::TrainError),
    /// The run folder could not be written.
    #[error(transparent)]
    Run(#[from] dnalm_run::RunError),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A file of the output folder could not be read or written.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A labelled row cannot be used.
    #[error("{split} row '{id}': {source}")]
    Row {
        /// train, dev or test.
        split: &'static str,
        /// The record id.
        id: String,
        /// Why.
        source: Box<dnalm_nn::NnError>,
    },
    /// The settings cannot be used.
    #[error("{0}")]
    Settings(String),
    /// The stop flag was raised; the seed saved a checkpoint.
    #[error("interrupted; run the same command to resume ({0})")]
    Interrupted(PathBuf),
}

/// Result alias for this crate.
pub type Result<T, E = FinetuneError> = std::result::Result<T, E>;
