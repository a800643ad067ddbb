//! The `config.json` of fine-tuned runs other than MxDNA's: `"model":
//! "bert-classifier"` or `"bag-of-tokens"`, beside `tokenizer.json` and
//! `model.safetensors` (each model loads its own kind).

use serde::{Deserialize, Serialize};

use crate::bag_of_tokens::BagOfTokensConfig;
use crate::sequence_classifier::ClassifierConfig;

/// What `config.json` of a fine-tuned run holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum PredictorConfig {
    /// An encoder with a classification head.
    BertClassifier(ClassifierConfig),
    /// Token counts + a linear model.
    BagOfTokens(BagOfTokensConfig),
}
