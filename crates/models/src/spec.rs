//! Which model a fine-tuning run starts from, as written on the command line: a
//! pretraining run folder (`dnalm train mlm` or `dnalm train mxdna`),
//! `scratch:<tokenizer>` or `scratch:mxdna`, or `kmer<k>-lr` (the k-mer-count +
//! logistic-regression baseline).

use std::path::{Path, PathBuf};

use candle_core::Device;
use dnalm_mxdna::classifier::{MxDnaClassifier, MxDnaClassifierConfig};
use dnalm_nn::bag_of_tokens::{BagOfTokens, BagOfTokensConfig};
use dnalm_nn::heads::Pooling;
use dnalm_nn::sequence_classifier::{ClassifierConfig, SequenceClassifier};
use dnalm_nn::supervised::{Objective, SequencePredictor};
use dnalm_tokenize::KmerTokenizer;

use crate::capability::Capability;
use crate::error::{ModelsError, Result};
use crate::kind::ModelKind;
use crate::presets::{encoder_config, mxdna_config, MxdnaPreset, Preset};

/// A model to fine-tune.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSpec {
    /// The encoder of a `dnalm train mlm` or `dnalm train mxdna` run folder (any other
    /// model is refused when built).
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
    /// Pooling of the classification head (MxDNA always uses `[CLS]`).
    pub pooling: Pooling,
    /// Head dropout while training.
    pub dropout: f64,
    /// Encoder size for `scratch:` models.
    pub preset: Preset,
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
        if path.exists() {
            Ok(ModelSpec::Pretrained(path))
        } else {
            Err(format!(
                "'{text}' is not a run folder, scratch:<tokenizer> or kmer<k>-lr"
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
                Path::new(tokenizer)
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

    /// Refuses a pretrained path that holds no encoder to fine-tune, before anything
    /// is written for it.
    pub fn check(&self) -> Result<()> {
        if let ModelSpec::Pretrained(path) = self {
            let kind = ModelKind::of_path(path)?;
            if !kind.can(Capability::FineTuning) {
                return Err(not_fine_tunable(path, kind));
            }
        }
        Ok(())
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
            ModelSpec::Pretrained(run) => match ModelKind::of_path(run)? {
                ModelKind::Mxdna => Box::new(MxDnaClassifier::from_pretrained(
                    run,
                    objective,
                    head.dropout,
                    seed,
                    device,
                )?),
                ModelKind::Bert => Box::new(SequenceClassifier::from_pretrained(
                    run,
                    objective,
                    head.pooling,
                    head.dropout,
                    seed,
                    device,
                )?),
                kind => return Err(not_fine_tunable(run, kind)),
            },
            ModelSpec::Scratch(tokenizer) if tokenizer == "mxdna" => {
                let mxdna = mxdna_config(match head.preset {
                    Preset::Tiny => MxdnaPreset::Tiny,
                    Preset::Small => MxdnaPreset::Small,
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
                    encoder: encoder_config(head.preset),
                    pooling: head.pooling,
                    dropout: head.dropout,
                    objective,
                };
                Box::new(SequenceClassifier::new(
                    config,
                    dnalm_tokenize::by_name(tokenizer)?,
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

/// The refusal of a model that holds no encoder to fine-tune.
fn not_fine_tunable(path: &Path, kind: ModelKind) -> ModelsError {
    ModelsError::Lacks {
        path: path.to_path_buf(),
        kind,
        command: "dnalm finetune".into(),
        capability: Capability::FineTuning,
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
