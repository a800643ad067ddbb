//! Variant-effect scores of any model that has them: the exact log-likelihood ratio
//! `log P(alt) - log P(ref)` of an autoregressive model, or the masked marginal of a
//! masked model (BERT-style encoders over their tokens, MxDNA at nucleotide
//! resolution through its own LM head).

use dnalm_lm::{ScoreError, SequenceModel};
use dnalm_nn::masked_scoring::{
    masked_marginal, masked_marginals, MaskedPredictor, MASKED_ROWS_PER_PASS,
};

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

    /// The scores of many variants `(reference, alternate)`, in order, run through the
    /// network together: an autoregressive model scores all alleles in batches, a
    /// masked model runs the masked rows [`MASKED_ROWS_PER_PASS`] at a time.
    pub fn score_batch(&self, variants: &[(&[u8], &[u8])]) -> Result<Vec<f64>, ScoreError> {
        match self {
            VariantScoring::LikelihoodRatio(model) => {
                let alleles: Vec<&[u8]> = variants.iter().flat_map(|(r, a)| [*r, *a]).collect();
                let scores = model.score_batch(&alleles)?;
                Ok(scores
                    .chunks_exact(2)
                    .map(|pair| pair[1].log_prob - pair[0].log_prob)
                    .collect())
            }
            VariantScoring::MaskedMarginal(model) => {
                masked_marginals(*model, variants, MASKED_ROWS_PER_PASS).map_err(ScoreError::new)
            }
        }
    }
}
