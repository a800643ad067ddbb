//! Why a training job failed: the underlying library's error, or a setting out of
//! range.

/// A training job's error.
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    /// A setting is out of its range, or the data give nothing to train on.
    #[error("{0}")]
    Settings(String),
    /// Reading sequences failed.
    #[error(transparent)]
    Seq(#[from] dnalm_seq::SeqError),
    /// A tokenizer could not be made.
    #[error(transparent)]
    Tokenize(#[from] dnalm_tokenize::TokenizeError),
    /// A preset or configuration file could not be read.
    #[error(transparent)]
    Models(#[from] dnalm_models::ModelsError),
    /// A neural model failed.
    #[error(transparent)]
    Nn(#[from] dnalm_nn::NnError),
    /// MxDNA failed.
    #[error(transparent)]
    Mxdna(#[from] dnalm_mxdna::MxDnaError),
    /// The run folder could not be read or written.
    #[error(transparent)]
    Run(#[from] dnalm_run::RunError),
    /// The training loop failed.
    #[error(transparent)]
    Train(#[from] dnalm_train::TrainError),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Result alias for this crate.
pub type Result<T, E = JobsError> = std::result::Result<T, E>;
