//! What a model can do, as commands ask for it.

use crate::kind::ModelKind;

/// One thing a model can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// A score per sequence: the exact log-likelihood (autoregressive models) or a
    /// pseudo-log-likelihood (masked models). Perplexity and mutation detection.
    SequenceScores,
    /// Zero-shot variant-effect scores: exact log-likelihood ratio or masked marginal.
    VariantScores,
    /// A score per nucleotide: `ln p(x_i | x_<i)` (autoregressive models) or the masked
    /// conditional (masked models). Genome tracks.
    PositionScores,
    /// One vector per sequence from an encoder.
    Embeddings,
    /// Class probabilities or a value from a fine-tuned model.
    Prediction,
    /// The model's own tokens of a sequence (MxDNA).
    LearntTokens,
    /// Sampling new sequences.
    Generation,
    /// A pretrained encoder a classifier can be fine-tuned from.
    FineTuning,
}

impl Capability {
    /// Every capability, in the order of the README's table.
    pub const ALL: [Capability; 8] = [
        Capability::SequenceScores,
        Capability::VariantScores,
        Capability::PositionScores,
        Capability::Embeddings,
        Capability::Prediction,
        Capability::LearntTokens,
        Capability::Generation,
        Capability::FineTuning,
    ];

    /// What it is, as an error message names it.
    pub fn describe(self) -> &'static str {
        match self {
            Capability::SequenceScores => {
                "sequence scores (a log-likelihood or pseudo-log-likelihood)"
            }
            Capability::VariantScores => {
                "variant scores (a log-likelihood ratio or masked marginal)"
            }
            Capability::PositionScores => {
                "scores per nucleotide (a language model: next-nucleotide or masked)"
            }
            Capability::Embeddings => "embeddings (an encoder)",
            Capability::Prediction => "predictions (a fine-tuned model)",
            Capability::LearntTokens => "learnt tokens (an MxDNA encoder)",
            Capability::Generation => "generation (an autoregressive model)",
            Capability::FineTuning => "a pretrained encoder to fine-tune",
        }
    }

    /// The kinds of model that have it.
    pub fn kinds(self) -> Vec<ModelKind> {
        ModelKind::ALL
            .into_iter()
            .filter(|kind| kind.capabilities().contains(&self))
            .collect()
    }
}
