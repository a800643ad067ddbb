//! The training core of dnalm's neural models, on candle: AdamW with decoupled weight
//! decay and parameter groups ([`optimizer`]), warmup + cosine learning rates
//! ([`schedule`]), global-norm gradient clipping ([`clip`]), and crash-safe run folders
//! with resumable checkpoints ([`checkpoint`]). Gradient accumulation needs nothing of
//! its own: `GradStore::extend` sums micro-batch gradients.

pub mod checkpoint;
pub mod clip;
pub mod error;
pub mod optimizer;
pub mod schedule;

pub use error::{Result, TrainError};
