//! Variant-effect scores of any model that has them: the exact log-likelihood ratio
//! `log P(alt) - log P(ref)` of an autoregressive model, or the masked marginal of a
//! masked model (BERT-style encoders over their tokens, MxDNA at nucleotide
//! resolution through its own LM head).

use dnalm_lm::{ScoreError, SequenceModel};
use dnalm_nn::masked_scoring::{masked_marginal, MaskedPredictor};

/// How a model scores variants.
#[derive(Clone, Copy)]
pub enum VariantScoring<'a> {
    /// `log P(alt) - log P(ref)` from exact sequence log-likelihoods.
    LikelihoodRatio(&'a dyn SequenceModel),
    /// The masked marginal at the changed positions of each allele.
    MaskedMarginal(&'a dyn MaskedPredictor),
}

impl VariantScoring<'_> {
    /// The method, as reports name it.
    pub fn method(&self) -> &'static str {
        match self {
            VariantScoring::LikelihoodRatio(_) => "exact log-likelihood ratio",
            VariantScoring::MaskedMarginal(_) => "masked marginal",
        }
    }

    /// The score of `alternate` against `reference` (normalised sequences); negative
    /// means the model finds the alternate less likely.
    pub fn score(&self, reference: &[u8], alternate: &[u8]) -> Result<f64, ScoreError> {
        match self {
            VariantScoring::LikelihoodRatio(model) => {
                Ok(model.score(alternate)?.log_prob - model.score(reference)?.log_prob)
            }
            VariantScoring::MaskedMarginal(model) => {
                masked_marginal(*model, reference, alternate).map_err(ScoreError::new)
            }
        }
    }
}
