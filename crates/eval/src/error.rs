//! Errors of the evaluations.

/// Why an evaluation could not be run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The data do not allow it (no sequence long enough to mutate, ...).
    #[error(transparent)]
    Data(#[from] dnalm_seq::SeqError),
    /// The model failed to score a sequence.
    #[error("sequence {index}: {source}")]
    Score {
        /// The sequence's place in the input.
        index: usize,
        /// The model's error.
        source: dnalm_lm::ScoreError,
    },
}

/// Result alias for this crate.
pub type Result<T, E = EvalError> = std::result::Result<T, E>;
