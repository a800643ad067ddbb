//! Loading any saved language model behind the one scoring interface.

use std::path::Path;

use anyhow::{bail, Context, Result};
use dnalm_lm::{SequenceGenerator, SequenceModel};
use dnalm_ngram::{NgramModel, Smoothing};

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
