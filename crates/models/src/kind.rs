//! Every kind of model dnalm opens: the one vocabulary of the `"model"` tag in a run
//! folder's `config.json` (n-gram files carry their own magic instead), and what each
//! kind can do.

use std::path::Path;

use crate::capability::Capability;
use crate::error::{ModelsError, Result};

/// A kind of model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// An n-gram file of `dnalm ngram train`.
    Ngram,
    /// An LSTM language model of `dnalm train lm --model lstm`.
    Lstm,
    /// A transformer decoder of `dnalm train lm --model gpt`.
    Gpt,
    /// A BERT-style masked LM of `dnalm train mlm`.
    Bert,
    /// An MxDNA masked LM of `dnalm train mxdna`.
    Mxdna,
    /// A fine-tuned BERT-style encoder with a classification head.
    BertClassifier,
    /// The fine-tuned k-mer-count + logistic-regression baseline.
    BagOfTokens,
    /// A fine-tuned MxDNA with a classification head.
    MxdnaClassifier,
}

impl ModelKind {
    /// Every kind, in the order of the README's table.
    pub const ALL: [ModelKind; 8] = [
        ModelKind::Ngram,
        ModelKind::Lstm,
        ModelKind::Gpt,
        ModelKind::Bert,
        ModelKind::Mxdna,
        ModelKind::BertClassifier,
        ModelKind::BagOfTokens,
        ModelKind::MxdnaClassifier,
    ];

    /// The `"model"` tag of its `config.json` (for n-gram files, the name they go by).
    pub fn tag(self) -> &'static str {
        match self {
            ModelKind::Ngram => "ngram",
            ModelKind::Lstm => "lstm",
            ModelKind::Gpt => "gpt",
            ModelKind::Bert => "bert",
            ModelKind::Mxdna => "mxdna",
            ModelKind::BertClassifier => "bert-classifier",
            ModelKind::BagOfTokens => "bag-of-tokens",
            ModelKind::MxdnaClassifier => "mxdna-classifier",
        }
    }

    /// The kind of a run folder's `"model"` tag. Every tag written so far is read.
    pub fn from_tag(tag: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .filter(|kind| *kind != ModelKind::Ngram)
            .find(|kind| kind.tag() == tag)
    }

    /// The kind of a run folder, from the `"model"` field of its `config.json` (an
    /// authors' MxDNA folder, with `"model_type": "mxdna"` instead, is MxDNA).
    pub fn of_run(run: &Path) -> Result<Self> {
        let path = run.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(|source| ModelsError::Io {
            path: path.clone(),
            source,
        })?;
        let config: serde_json::Value =
            serde_json::from_str(&text).map_err(|err| ModelsError::NotAModel {
                path: path.clone(),
                why: format!("not JSON ({err})"),
            })?;
        if config.get("model").is_none() && config["model_type"] == "mxdna" {
            // An authors' (Hugging Face-style) MxDNA checkpoint folder.
            return Ok(ModelKind::Mxdna);
        }
        let tag = config["model"]
            .as_str()
            .ok_or_else(|| ModelsError::NotAModel {
                path: path.clone(),
                why: "no \"model\" field naming the kind of model (nor \"model_type\": \
                      \"mxdna\" of an authors' MxDNA folder)"
                    .into(),
            })?;
        Self::from_tag(tag).ok_or_else(|| ModelsError::NotAModel {
            path,
            why: format!(
                "\"model\": \"{tag}\" is not a kind dnalm knows ({})",
                Self::ALL
                    .iter()
                    .filter(|k| **k != ModelKind::Ngram)
                    .map(|k| k.tag())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }

    /// The kind of whatever `path` is (an n-gram file by its first bytes, a run
    /// folder by its tag), without loading its weights.
    pub fn of_path(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Self::of_run(path);
        }
        let mut head = [0u8; 8];
        let filled = std::fs::File::open(path)
            .and_then(|mut file| {
                use std::io::Read;
                let mut filled = 0;
                while filled < head.len() {
                    match file.read(&mut head[filled..])? {
                        0 => break,
                        n => filled += n,
                    }
                }
                Ok(filled)
            })
            .map_err(|source| ModelsError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if filled == head.len() && &head == dnalm_ngram::format::MAGIC {
            Ok(ModelKind::Ngram)
        } else {
            Err(ModelsError::NotAModel {
                path: path.to_path_buf(),
                why: "not a model dnalm knows (an n-gram file of `dnalm ngram train`, or a run \
                      folder)"
                    .into(),
            })
        }
    }

    /// What models of this kind can do.
    pub fn capabilities(self) -> &'static [Capability] {
        use Capability::*;
        match self {
            ModelKind::Ngram | ModelKind::Lstm | ModelKind::Gpt => {
                &[SequenceScores, VariantScores, PositionScores, Generation]
            }
            ModelKind::Bert => &[
                SequenceScores,
                VariantScores,
                PositionScores,
                Embeddings,
                FineTuning,
            ],
            ModelKind::Mxdna => &[
                SequenceScores,
                VariantScores,
                PositionScores,
                Embeddings,
                LearntTokens,
                FineTuning,
            ],
            ModelKind::BertClassifier => &[Embeddings, Prediction],
            ModelKind::BagOfTokens => &[Prediction],
            ModelKind::MxdnaClassifier => &[Embeddings, Prediction, LearntTokens],
        }
    }

    /// Whether models of this kind can do `capability`.
    pub fn can(self, capability: Capability) -> bool {
        self.capabilities().contains(&capability)
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}
