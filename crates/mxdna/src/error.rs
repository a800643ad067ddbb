//! Errors of the MxDNA model: each variant says what went wrong and where.

/// A problem building, loading or running MxDNA.
#[derive(Debug, thiserror::Error)]
pub enum MxDnaError {
    /// The run folder or a shared neural layer failed.
    #[error(transparent)]
    Nn(#[from] dnalm_nn::NnError),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A checkpoint folder (the authors' layout) is not what it should be.
    #[error("{path}: {message}")]
    Checkpoint {
        /// The folder or file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The configuration does not describe a model that can be built.
    #[error("MxDNA configuration: {0}")]
    Config(String),
}

/// Result alias for this crate's model-level operations (layers return
/// `candle_core::Result`).
pub type Result<T, E = MxDnaError> = std::result::Result<T, E>;
