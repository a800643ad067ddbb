//! One registry for every model a user can point at: an n-gram file, a `train lm`,
//! `train mlm` or `train mxdna` run folder, a fine-tuned seed folder of any kind.
//! [`open`] reads it and returns a [`LoadedModel`] that says what it can do; a command
//! asks for the [`Capability`] it needs and gets either the model as that capability's
//! trait or one error naming the model's kind and the kinds that have it.
//!
//! [`kind`] is the one vocabulary of `config.json`'s `"model"` tags and the table of
//! capabilities per kind; [`model`] the loaded models and their capabilities;
//! [`variant_scoring`] variant-effect scores of any model that has them;
//! [`position_scoring`] per-nucleotide scores of any model that has them; [`presets`]
//! the named sizes of every trainable model; [`spec`] the models fine-tuning starts
//! from.

pub mod capability;
pub mod error;
pub mod kind;
pub mod model;
pub mod position_scoring;
pub mod presets;
pub mod registry;
pub mod spec;
pub mod variant_scoring;

pub use capability::Capability;
pub use error::{ModelsError, Result};
pub use kind::ModelKind;
pub use model::{LoadedModel, Model};
pub use registry::{open, OpenOptions};
