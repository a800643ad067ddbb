//! Evaluations written once against [`dnalm_lm::SequenceModel`], so every model (n-gram,
//! LSTM, transformer, encoders) gets them: perplexity over a data set
//! ([`perplexity`]) and the mutation-detection task of arXiv 2307.10634
//! ([`mutations`]), with mean and spread over seeds ([`summary`]); and the metrics of
//! fine-tuned classifiers and regressors ([`classification`]).
//!
//! Long evaluations report progress through a callback (`on_progress(n)` after `n`
//! more sequences), so the caller decides how to show it.

pub mod classification;
pub mod error;
pub mod mutations;
pub mod perplexity;
pub mod summary;

pub use error::{EvalError, Result};
