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
    /// The loss, the gradient or the evaluation became NaN or infinite; the weights of
    /// that step were not applied and the last checkpoint is kept.
    #[error(
        "step {step}: the {what} is {value}; training stopped, the last checkpoint (before \
         step {step}) is kept (a lower learning rate, or the data, may be the cause)"
    )]
    NonFinite {
        /// The step that produced it (1-based).
        step: u64,
        /// What: the loss, the gradient norm, the evaluation loss.
        what: &'static str,
        /// The value.
        value: f64,
    },
    /// A parameter is out of range.
    #[error("invalid training parameter: {0}")]
    InvalidParameter(String),
}

/// Result alias for this crate.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
