//! Errors of the training core.

/// A problem while training, saving or resuming.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// The run folder could not be read or written.
    #[error(transparent)]
    Run(#[from] dnalm_run::RunError),
    /// The caller's evaluation failed.
    #[error("evaluation: {0}")]
    Evaluation(String),
    /// A parameter is out of range.
    #[error("invalid training parameter: {0}")]
    InvalidParameter(String),
}

/// Result alias for this crate.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
