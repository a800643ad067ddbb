//! What every trainable dnalm model stands on, below the models and the training loop:
//! run folders with crash-safe checkpoints ([`run_dir`]) and the traits a model
//! implements so that the loop can train it ([`trainable`]). Models depend on this
//! crate, not on the trainer.

pub mod error;
pub mod run_dir;
pub mod trainable;

pub use error::{Result, RunError};
pub use run_dir::{Checkpoint, RunDir, TrainerState};
pub use trainable::{Parameters, Trainable};
