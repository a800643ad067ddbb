//! Errors of the registry: each says which path and what is wrong with it.

use std::path::PathBuf;

use crate::capability::Capability;
use crate::kind::ModelKind;

/// Why a model could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    /// The path is not a model dnalm knows.
    #[error("{path}: {why}")]
    NotAModel {
        /// What the user pointed at.
        path: PathBuf,
        /// What it is instead.
        why: String,
    },
    /// The model lacks what the command needs.
    #[error(
        "`{path}` is a {kind} model; {command} needs {}, which {} models have",
        .capability.describe(),
        kinds_list(.capability)
    )]
    Lacks {
        /// The model.
        path: PathBuf,
        /// Its kind.
        kind: ModelKind,
        /// The command that asked.
        command: String,
        /// What it asked for.
        capability: Capability,
    },
    /// An option that this kind of model does not take.
    #[error("`{path}` is a {kind} model: {option} applies to {applies_to} only")]
    Option {
        /// The model.
        path: PathBuf,
        /// Its kind.
        kind: ModelKind,
        /// The option.
        option: &'static str,
        /// Which models take it.
        applies_to: &'static str,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An n-gram file is damaged.
    #[error(transparent)]
    Ngram(#[from] dnalm_ngram::error::NgramError),
    /// A neural run folder is damaged or does not fit its configuration.
    #[error(transparent)]
    Nn(#[from] dnalm_nn::NnError),
    /// An MxDNA run folder is damaged or does not fit its configuration.
    #[error(transparent)]
    Mxdna(#[from] dnalm_mxdna::MxDnaError),
    /// A tokenizer named for a new model is unknown.
    #[error(transparent)]
    Tokenizer(#[from] dnalm_tokenize::TokenizeError),
    /// Building a new model failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A sizes file is not what the model needs.
    #[error("{path}: {why}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

fn kinds_list(capability: &Capability) -> String {
    capability
        .kinds()
        .iter()
        .map(|kind| kind.tag())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Result alias for this crate.
pub type Result<T, E = ModelsError> = std::result::Result<T, E>;
