//! A loaded model of any kind, and its capabilities as the traits commands use.

use std::path::{Path, PathBuf};

use dnalm_lm::{SequenceGenerator, SequenceModel};
use dnalm_mxdna::classifier::MxDnaClassifier;
use dnalm_mxdna::learnt_tokens::LearntTokenizer;
use dnalm_mxdna::pretrained::MxDnaLm;
use dnalm_ngram::NgramModel;
use dnalm_nn::bag_of_tokens::BagOfTokens;
use dnalm_nn::embedding::SequenceEmbedder;
use dnalm_nn::masked_lm::MaskedLm;
use dnalm_nn::sequence_classifier::SequenceClassifier;
use dnalm_nn::supervised::SequencePredictor;
use dnalm_nn::token_lm::{NetworkConfig, TokenLm};

use crate::capability::Capability;
use crate::error::{ModelsError, Result};
use crate::kind::ModelKind;
use crate::position_scoring::PositionScoring;
use crate::variant_scoring::VariantScoring;

/// A model of any kind (in the manner of `tokenizers`' `ModelWrapper`).
pub enum Model {
    /// An n-gram model.
    Ngram(NgramModel),
    /// An LSTM or transformer-decoder language model.
    TokenLm(TokenLm),
    /// A BERT-style masked LM.
    Bert(MaskedLm),
    /// An MxDNA masked LM.
    Mxdna(MxDnaLm),
    /// A fine-tuned BERT-style classifier.
    BertClassifier(SequenceClassifier),
    /// The fine-tuned bag-of-tokens baseline.
    BagOfTokens(BagOfTokens),
    /// A fine-tuned MxDNA classifier.
    MxdnaClassifier(MxDnaClassifier),
}

impl Model {
    /// Its kind.
    pub fn kind(&self) -> ModelKind {
        match self {
            Model::Ngram(_) => ModelKind::Ngram,
            Model::TokenLm(model) => match model.config() {
                NetworkConfig::Lstm(_) => ModelKind::Lstm,
                NetworkConfig::Gpt(_) => ModelKind::Gpt,
            },
            Model::Bert(_) => ModelKind::Bert,
            Model::Mxdna(_) => ModelKind::Mxdna,
            Model::BertClassifier(_) => ModelKind::BertClassifier,
            Model::BagOfTokens(_) => ModelKind::BagOfTokens,
            Model::MxdnaClassifier(_) => ModelKind::MxdnaClassifier,
        }
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        match self {
            Model::Ngram(model) => model.describe(),
            Model::TokenLm(model) => model.describe(),
            Model::Bert(model) => model.describe(),
            Model::Mxdna(model) => model.describe(),
            Model::BertClassifier(model) => model.describe(),
            Model::BagOfTokens(model) => model.describe(),
            Model::MxdnaClassifier(model) => model.describe(),
        }
    }

    /// Sequence scores: exact for n-gram and `train lm` models, pseudo-likelihoods for
    /// masked models.
    pub fn sequence_model(&self) -> Option<&dyn SequenceModel> {
        match self {
            Model::Ngram(model) => Some(model),
            Model::TokenLm(model) => Some(model),
            Model::Bert(model) => Some(model),
            Model::Mxdna(model) => Some(model),
            _ => None,
        }
    }

    /// Variant scores.
    pub fn variant_scoring(&self) -> Option<VariantScoring<'_>> {
        match self {
            Model::Ngram(model) => Some(VariantScoring::LikelihoodRatio(model)),
            Model::TokenLm(model) => Some(VariantScoring::LikelihoodRatio(model)),
            Model::Bert(model) => Some(VariantScoring::MaskedMarginal(model)),
            Model::Mxdna(model) => Some(VariantScoring::MaskedMarginal(model)),
            _ => None,
        }
    }

    /// Scores per nucleotide.
    pub fn position_scoring(&self) -> Option<PositionScoring<'_>> {
        match self {
            Model::Ngram(model) => Some(PositionScoring::NextNucleotide(model)),
            Model::TokenLm(model) => Some(PositionScoring::NextNucleotide(model)),
            Model::Bert(model) => Some(PositionScoring::Masked(model)),
            Model::Mxdna(model) => Some(PositionScoring::Masked(model)),
            _ => None,
        }
    }

    /// Embeddings.
    pub fn embedder(&self) -> Option<&dyn SequenceEmbedder> {
        match self {
            Model::Bert(model) => Some(model),
            Model::Mxdna(model) => Some(model),
            Model::BertClassifier(model) => Some(model),
            Model::MxdnaClassifier(model) => Some(model),
            _ => None,
        }
    }

    /// Predictions of a fine-tuned model.
    pub fn predictor(&self) -> Option<&dyn SequencePredictor> {
        match self {
            Model::BertClassifier(model) => Some(model),
            Model::BagOfTokens(model) => Some(model),
            Model::MxdnaClassifier(model) => Some(model),
            _ => None,
        }
    }

    /// Learnt tokens.
    pub fn learnt_tokenizer(&self) -> Option<&dyn LearntTokenizer> {
        match self {
            Model::Mxdna(model) => Some(model),
            Model::MxdnaClassifier(model) => Some(model),
            _ => None,
        }
    }

    /// Generation.
    pub fn generator(&self) -> Option<&dyn SequenceGenerator> {
        match self {
            Model::Ngram(model) => Some(model),
            Model::TokenLm(model) => Some(model),
            _ => None,
        }
    }

    /// Whether this model has `capability` (what the accessors above return).
    pub fn can(&self, capability: Capability) -> bool {
        match capability {
            Capability::SequenceScores => self.sequence_model().is_some(),
            Capability::VariantScores => self.variant_scoring().is_some(),
            Capability::PositionScores => self.position_scoring().is_some(),
            Capability::Embeddings => self.embedder().is_some(),
            Capability::Prediction => self.predictor().is_some(),
            Capability::LearntTokens => self.learnt_tokenizer().is_some(),
            Capability::Generation => self.generator().is_some(),
            Capability::FineTuning => matches!(self, Model::Bert(_) | Model::Mxdna(_)),
        }
    }
}

/// A model and the path it was opened from; each capability is asked for by the
/// command that needs it, and a model without it is refused with one message shape.
pub struct LoadedModel {
    path: PathBuf,
    model: Model,
    warnings: Vec<String>,
}

impl LoadedModel {
    /// A model opened from `path`.
    pub fn new(path: &Path, model: Model) -> Self {
        let warnings = match &model {
            Model::Mxdna(mxdna) if !mxdna.unknown_config_fields().is_empty() => vec![format!(
                "{}: config.json fields dnalm does not know (kept, not used): {}",
                path.display(),
                mxdna.unknown_config_fields().join(", ")
            )],
            _ => Vec::new(),
        };
        Self {
            path: path.to_path_buf(),
            model,
            warnings,
        }
    }

    /// What the user should know about how it was read.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Where it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Its kind.
    pub fn kind(&self) -> ModelKind {
        self.model.kind()
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        self.model.describe()
    }

    fn require<T>(&self, command: &str, capability: Capability, found: Option<T>) -> Result<T> {
        found.ok_or_else(|| ModelsError::Lacks {
            path: self.path.clone(),
            kind: self.kind(),
            command: command.to_string(),
            capability,
        })
    }

    /// Sequence scores, for `command`.
    pub fn sequence_model(&self, command: &str) -> Result<&dyn SequenceModel> {
        self.require(
            command,
            Capability::SequenceScores,
            self.model.sequence_model(),
        )
    }

    /// Variant scores, for `command`.
    pub fn variant_scoring(&self, command: &str) -> Result<VariantScoring<'_>> {
        self.require(
            command,
            Capability::VariantScores,
            self.model.variant_scoring(),
        )
    }

    /// Scores per nucleotide, for `command`.
    pub fn position_scoring(&self, command: &str) -> Result<PositionScoring<'_>> {
        self.require(
            command,
            Capability::PositionScores,
            self.model.position_scoring(),
        )
    }

    /// Embeddings, for `command`.
    pub fn embedder(&self, command: &str) -> Result<&dyn SequenceEmbedder> {
        self.require(command, Capability::Embeddings, self.model.embedder())
    }

    /// Predictions, for `command`.
    pub fn predictor(&self, command: &str) -> Result<&dyn SequencePredictor> {
        self.require(command, Capability::Prediction, self.model.predictor())
    }

    /// Learnt tokens, for `command`.
    pub fn learnt_tokenizer(&self, command: &str) -> Result<&dyn LearntTokenizer> {
        self.require(
            command,
            Capability::LearntTokens,
            self.model.learnt_tokenizer(),
        )
    }

    /// Generation, for `command` (with scores, to report each sample's perplexity).
    pub fn generator(&self, command: &str) -> Result<(&dyn SequenceGenerator, &dyn SequenceModel)> {
        let generator = self.require(command, Capability::Generation, self.model.generator())?;
        let scorer = self.sequence_model(command)?;
        Ok((generator, scorer))
    }
}
