//! The training core of dnalm's neural models, on candle: AdamW with decoupled weight
//! decay and parameter groups ([`optimizer`]), warmup + cosine learning rates
//! ([`schedule`]), global-norm gradient clipping ([`clip`]), language-model windows in a
//! resumable seeded order ([`windows`]), and the loop that ties them together
//! ([`trainer`]). Run folders and the traits a model implements to be trained live
//! below, in `dnalm-run`.

pub mod adamw_kernel;
pub mod clip;
pub mod error;
pub mod optimizer;
pub mod schedule;
pub mod trainer;
pub mod windows;

pub use error::{Result, TrainError};
