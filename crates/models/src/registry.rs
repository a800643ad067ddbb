//! Opening whatever a user points at.

use std::path::Path;

use candle_core::Device;
use dnalm_mxdna::classifier::MxDnaClassifier;
use dnalm_mxdna::pretrained::MxDnaLm;
use dnalm_ngram::Smoothing;
use dnalm_nn::bag_of_tokens::BagOfTokens;
use dnalm_nn::masked_lm::MaskedLm;
use dnalm_nn::sequence_classifier::SequenceClassifier;
use dnalm_nn::token_lm::TokenLm;

use crate::error::{ModelsError, Result};
use crate::kind::ModelKind;
use crate::model::{LoadedModel, Model};

/// How to open a model.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// For n-gram models: this smoothing instead of the model's own.
    pub smoothing: Option<Smoothing>,
    /// Where neural weights go.
    pub device: Device,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            smoothing: None,
            device: Device::Cpu,
        }
    }
}

/// Opens an n-gram file or a run folder of any kind, for inference: neural weights are
/// frozen (no autograd graph; such models are not trained further).
pub fn open(path: &Path, options: &OpenOptions) -> Result<LoadedModel> {
    let model = if path.is_dir() {
        open_run(path, options)?
    } else {
        open_file(path, options)?
    };
    Ok(LoadedModel::new(path, model))
}

fn open_run(run: &Path, options: &OpenOptions) -> Result<Model> {
    if !run.join("config.json").is_file() {
        let why = if run.join("seed0").is_dir() || run.join("results.json").is_file() {
            "a fine-tuning folder: point at one of its seed folders (e.g. seed0)".to_string()
        } else {
            "a folder without config.json: not a run folder of `dnalm train ...` or \
             `dnalm finetune`"
                .to_string()
        };
        return Err(ModelsError::NotAModel {
            path: run.to_path_buf(),
            why,
        });
    }
    let kind = ModelKind::of_run(run)?;
    if options.smoothing.is_some() {
        return Err(ModelsError::Option {
            path: run.to_path_buf(),
            kind,
            option: "--smoothing",
            applies_to: "n-gram models",
        });
    }
    let device = &options.device;
    Ok(match kind {
        ModelKind::Lstm | ModelKind::Gpt => {
            Model::TokenLm(TokenLm::open_for_inference(run, device)?)
        }
        ModelKind::Bert => Model::Bert(MaskedLm::open_for_inference(run, device)?),
        ModelKind::Mxdna => Model::Mxdna(MxDnaLm::open_for_inference(run, device)?),
        ModelKind::BertClassifier => {
            Model::BertClassifier(SequenceClassifier::open_for_inference(run, device)?)
        }
        ModelKind::BagOfTokens => Model::BagOfTokens(BagOfTokens::open_for_inference(run, device)?),
        ModelKind::MxdnaClassifier => {
            Model::MxdnaClassifier(MxDnaClassifier::open_for_inference(run, device)?)
        }
        ModelKind::Ngram => {
            return Err(ModelsError::NotAModel {
                path: run.to_path_buf(),
                why: "an n-gram model is a file, not a folder".into(),
            })
        }
    })
}

fn open_file(path: &Path, options: &OpenOptions) -> Result<Model> {
    ModelKind::of_path(path)?;
    let model = dnalm_ngram::format::load(path)?;
    Ok(Model::Ngram(match options.smoothing {
        Some(smoothing) => model.with_smoothing(smoothing),
        None => model,
    }))
}
