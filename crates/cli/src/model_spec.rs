//! Which model a fine-tuning run starts from, as written on the command line:
//! a pretraining run folder (`dnalm train mlm` or `dnalm train mxdna`),
//! `scratch:<tokenizer>` or `scratch:mxdna`, or `kmer<k>-lr` (the k-mer-count +
//! logistic-regression baseline); and loading a fine-tuned model of any of them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candle_core::Device;
use dnalm_mxdna::classifier::{MxDnaClassifier, MxDnaClassifierConfig};
use dnalm_mxdna::config::{MxDnaConfig, MxDnaPreset};
use dnalm_nn::bag_of_tokens::{BagOfTokens, BagOfTokensConfig};
use dnalm_nn::heads::Pooling;
use dnalm_nn::predictor_run::load_predictor;
use dnalm_nn::sequence_classifier::{ClassifierConfig, SequenceClassifier};
use dnalm_nn::supervised::{Objective, SequencePredictor};
use dnalm_tokenize::KmerTokenizer;

use crate::commands::train::{encoder_preset, tokenizer_of, Preset};

/// A model to fine-tune.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSpec {
    /// The encoder of a `dnalm train mlm` or `dnalm train mxdna` run folder.
    Pretrained(PathBuf),
    /// A freshly initialised encoder over this tokenizer (`nucleotide`, `kmer6`,
    /// `kmer6-tiled` or a tokenizer.json), or a fresh MxDNA (`mxdna`).
    Scratch(String),
    /// Overlapping k-mer counts + logistic regression.
    KmerBaseline(usize),
}

/// How the head and a fresh encoder are built.
#[derive(Debug, Clone, Copy)]
pub struct HeadOptions {
    /// Pooling of the classification head.
    pub pooling: Pooling,
    /// Head dropout while training.
    pub dropout: f64,
    /// Encoder size for `scratch:` models.
    pub preset: Preset,
}

/// The `"model"` field of a run folder's `config.json`.
pub fn run_kind(run: &Path) -> Result<String> {
    let path = run.join("config.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let config: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    config["model"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{}: no \"model\" field", path.display()))
}

/// Loads a fine-tuned model (a `dnalm finetune` seed folder) of any kind.
pub fn load_fine_tuned(run: &Path, device: &Device) -> Result<Box<dyn SequencePredictor>> {
    if run_kind(run)? == "mxdna-classifier" {
        return Ok(Box::new(
            MxDnaClassifier::load(run, device).map_err(anyhow::Error::msg)?,
        ));
    }
    load_predictor(run, device).map_err(anyhow::Error::msg)
}

impl std::str::FromStr for ModelSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if let Some(tokenizer) = text.strip_prefix("scratch:") {
            return Ok(ModelSpec::Scratch(tokenizer.to_string()));
        }
        if let Some(k) = text
            .strip_prefix("kmer")
            .and_then(|rest| rest.strip_suffix("-lr"))
        {
            let k: usize = k
                .parse()
                .map_err(|_| format!("'{text}': expected kmer<k>-lr, e.g. kmer5-lr"))?;
            return Ok(ModelSpec::KmerBaseline(k));
        }
        let path = PathBuf::from(text);
        if path.join("config.json").is_file() {
            Ok(ModelSpec::Pretrained(path))
        } else {
            Err(format!(
                "'{text}' is not a run folder with config.json, scratch:<tokenizer> or \
                 kmer<k>-lr"
            ))
        }
    }
}

impl ModelSpec {
    /// A short name for folders and tables.
    pub fn name(&self) -> String {
        match self {
            ModelSpec::Pretrained(path) => format!(
                "pretrained-{}",
                path.file_name()
                    .map_or("run".into(), |name| name.to_string_lossy().into_owned())
            ),
            ModelSpec::Scratch(tokenizer) => format!(
                "scratch-{}",
                std::path::Path::new(tokenizer)
                    .file_stem()
                    .map_or(tokenizer.clone(), |stem| stem
                        .to_string_lossy()
                        .into_owned())
            ),
            ModelSpec::KmerBaseline(k) => format!("kmer{k}-lr"),
        }
    }

    /// Whether this is the linear baseline (it trains with its own learning rate).
    pub fn is_linear(&self) -> bool {
        matches!(self, ModelSpec::KmerBaseline(_))
    }

    /// Builds the model for `objective`, its new weights drawn from `seed`.
    pub fn build(
        &self,
        objective: Objective,
        head: HeadOptions,
        seed: u64,
        device: &Device,
    ) -> Result<Box<dyn SequencePredictor>> {
        Ok(match self {
            ModelSpec::Pretrained(run) if run_kind(run)? == "mxdna" => Box::new(
                MxDnaClassifier::from_pretrained(run, objective, head.dropout, seed, device)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("pretrained model {}", run.display()))?,
            ),
            ModelSpec::Pretrained(run) => Box::new(
                SequenceClassifier::from_pretrained(
                    run,
                    objective,
                    head.pooling,
                    head.dropout,
                    seed,
                    device,
                )
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("pretrained model {}", run.display()))?,
            ),
            ModelSpec::Scratch(tokenizer) if tokenizer == "mxdna" => {
                let mxdna = MxDnaConfig::preset(match head.preset {
                    Preset::Tiny => MxDnaPreset::Tiny,
                    Preset::Small => MxDnaPreset::Small,
                });
                let config = MxDnaClassifierConfig {
                    mxdna,
                    dropout: head.dropout,
                    objective,
                };
                Box::new(MxDnaClassifier::new(config, seed, device)?)
            }
            ModelSpec::Scratch(tokenizer) => {
                let config = ClassifierConfig {
                    encoder: encoder_preset(head.preset),
                    pooling: head.pooling,
                    dropout: head.dropout,
                    objective,
                };
                Box::new(SequenceClassifier::new(
                    config,
                    tokenizer_of(tokenizer)?,
                    seed,
                    device,
                )?)
            }
            ModelSpec::KmerBaseline(k) => Box::new(BagOfTokens::new(
                BagOfTokensConfig { objective },
                Box::new(KmerTokenizer::new(*k, true)?),
                device,
            )?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_name_themselves() {
        let scratch: ModelSpec = "scratch:kmer6".parse().unwrap();
        assert_eq!(scratch, ModelSpec::Scratch("kmer6".into()));
        assert_eq!(scratch.name(), "scratch-kmer6");
        let baseline: ModelSpec = "kmer5-lr".parse().unwrap();
        assert_eq!(baseline, ModelSpec::KmerBaseline(5));
        assert!("kmerx-lr".parse::<ModelSpec>().is_err());
        let err = "/no/such/run".parse::<ModelSpec>().unwrap_err();
        assert!(err.contains("/no/such/run"), "{err}");
    }
}
