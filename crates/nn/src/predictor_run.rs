//! Run folders of fine-tuned models: `config.json` says which model (`"model":
//! "bert-classifier"` or `"bag-of-tokens"`), beside `tokenizer.json` and
//! `model.safetensors`.

use std::path::Path;

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::bag_of_tokens::{BagOfTokens, BagOfTokensConfig};
use crate::run_files::{load_run_weights, read_run};
use crate::sequence_classifier::{ClassifierConfig, SequenceClassifier};
use crate::supervised::SequencePredictor;

/// What `config.json` of a fine-tuned run holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum PredictorConfig {
    /// An encoder with a classification head.
    BertClassifier(ClassifierConfig),
    /// Token counts + a linear model.
    BagOfTokens(BagOfTokensConfig),
}

/// Loads a fine-tuned model from its run folder; errors name the file.
pub fn load_predictor(run: &Path, device: &Device) -> crate::Result<Box<dyn SequencePredictor>> {
    let (config, tokenizer, weights) = read_run::<PredictorConfig>(run, device)?;
    let model: Box<dyn SequencePredictor> = match config {
        PredictorConfig::BertClassifier(config) => {
            Box::new(SequenceClassifier::new(config, tokenizer, 0, device)?)
        }
        PredictorConfig::BagOfTokens(config) => {
            Box::new(BagOfTokens::new(config, tokenizer, device)?)
        }
    };
    load_run_weights(model.parameters(), &weights, run)?;
    Ok(model)
}
