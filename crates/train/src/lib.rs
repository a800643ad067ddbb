//! The training core of dnalm's neural models, on candle: AdamW with decoupled weight
//! decay and parameter groups ([`optimizer`]), warmup + cosine learning rates
//! ([`schedule`]), global-norm gradient clipping ([`clip`]), and crash-safe run folders
//! with resumable checkpoints ([`checkpoint`]), language-model windows in a resumable
//! seeded order ([`windows`]), and the loop that ties them together ([`trainer`]).

pub mod checkpoint;
pub mod clip;
pub mod error;
pub mod optimizer;
pub mod schedule;
pub mod trainer;
pub mod windows;

pub use error::{Result, TrainError};
