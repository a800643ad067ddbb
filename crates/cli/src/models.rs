//! Loading any saved language model behind the one scoring interface.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use dnalm_lm::{SequenceGenerator, SequenceModel};
use dnalm_ngram::{NgramModel, Smoothing};

/// Which model to load, for every command that uses one.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// The model file.
    #[arg(long, short, value_name = "PATH")]
    pub model: PathBuf,

    /// For n-gram models: use this smoothing (mle, laplace, add-K, kn) instead of the
    /// model's own.
    #[arg(long)]
    pub smoothing: Option<Smoothing>,
}

impl ModelArgs {
    /// Loads the model, whatever its kind.
    pub fn load(&self) -> Result<Box<dyn LanguageModel>> {
        load(&self.model, self.smoothing)
    }

    /// Loads the model, which must be an n-gram model.
    pub fn load_ngram(&self) -> Result<NgramModel> {
        load_ngram(&self.model, self.smoothing)
    }
}

/// A loaded model that can score and generate.
pub trait LanguageModel: SequenceModel + SequenceGenerator {}

impl<T: SequenceModel + SequenceGenerator> LanguageModel for T {}

/// Loads a model file; `smoothing` overrides an n-gram model's own.
pub fn load(path: &Path, smoothing: Option<Smoothing>) -> Result<Box<dyn LanguageModel>> {
    let head = std::fs::read(path)
        .map(|bytes| bytes.get(..8).map(<[u8]>::to_vec).unwrap_or_default())
        .with_context(|| format!("cannot read model {}", path.display()))?;
    if head == b"DNALM-NG" {
        return Ok(Box::new(load_ngram(path, smoothing)?));
    }
    bail!(
        "{}: not a model file dnalm knows (an n-gram model made by `dnalm ngram train`)",
        path.display()
    )
}

/// Loads an n-gram model file, with an optional smoothing override.
pub fn load_ngram(path: &Path, smoothing: Option<Smoothing>) -> Result<NgramModel> {
    let model = dnalm_ngram::format::load(path)?;
    Ok(match smoothing {
        Some(smoothing) => model.with_smoothing(smoothing),
        None => model,
    })
}
