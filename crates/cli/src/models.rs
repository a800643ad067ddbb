//! Loading any saved language model behind the one scoring interface.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use dnalm_lm::{SequenceGenerator, SequenceModel};
use dnalm_ngram::{NgramModel, Smoothing};
use dnalm_nn::token_lm::TokenLm;

/// Which model to load, for every command that uses one.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// The model: an n-gram file (`dnalm ngram train`) or a run folder (`dnalm train lm`).
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
}

/// A loaded model: scores and generates.
pub trait LanguageModel: SequenceModel + SequenceGenerator {}

impl<T: SequenceModel + SequenceGenerator> LanguageModel for T {}

/// Loads a model; `smoothing` overrides an n-gram model's own.
pub fn load(path: &Path, smoothing: Option<Smoothing>) -> Result<Box<dyn LanguageModel>> {
    if path.is_dir() {
        if smoothing.is_some() {
            bail!(
                "--smoothing applies to n-gram models; {} is a neural run folder",
                path.display()
            );
        }
        let model = TokenLm::load(path, &candle_core::Device::Cpu).map_err(anyhow::Error::msg)?;
        return Ok(Box::new(model));
    }
    let head = std::fs::read(path)
        .map(|bytes| bytes.get(..8).map(<[u8]>::to_vec).unwrap_or_default())
        .with_context(|| format!("cannot read model {}", path.display()))?;
    if head == b"DNALM-NG" {
        return Ok(Box::new(load_ngram(path, smoothing)?));
    }
    bail!(
        "{}: not a model dnalm knows (an n-gram file from `dnalm ngram train`, or a run folder from `dnalm train lm`)",
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
