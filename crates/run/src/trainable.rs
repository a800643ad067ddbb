//! The traits the training loop drives: a model's named parameters ([`Parameters`]) and
//! its loss on a batch ([`Trainable`]). They sit below the models, so that models
//! implement them without depending on the trainer.

use std::collections::HashMap;

use candle_core::{Tensor, Var};
/// A model's named parameters, as the loop and its checkpoints see them.
pub trait Parameters {
    /// Trainable parameters by name.
    fn named_vars(&self) -> Vec<(String, Var)>;
    /// Current weights by name, for checkpoints.
    fn weights(&self) -> HashMap<String, Tensor>;
    /// Overwrites the weights from a checkpoint.
    fn load_weights(&self, weights: &HashMap<String, Tensor>) -> candle_core::Result<()>;
}

/// A model the training loop can train: its parameters and its loss.
pub trait Trainable {
    /// The model's parameters.
    fn parameters(&self) -> &dyn Parameters;
    /// Trainable parameters by name.
    fn named_vars(&self) -> Vec<(String, Var)> {
        self.parameters().named_vars()
    }
    /// Current weights by name, for checkpoints.
    fn weights(&self) -> HashMap<String, Tensor> {
        self.parameters().weights()
    }
    /// Overwrites the weights from a checkpoint.
    fn load_weights(&self, weights: &HashMap<String, Tensor>) -> candle_core::Result<()> {
        self.parameters().load_weights(weights)
    }
    /// Mean loss of a batch of token windows `(B, L)` and the number of predicted
    /// tokens it averaged over. `seed` is a function of the run's seed and the batch's
    /// place in training, for objectives that draw at random (masking, dropout), so a
    /// resumed run draws the same.
    fn window_loss(&self, windows: &Tensor, seed: u64) -> candle_core::Result<(Tensor, f64)>;
}
