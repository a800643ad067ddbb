//! Per-nucleotide scores of any model that has them: `ln p(x_i | x_<i)` from an
//! autoregressive model (n-gram, LSTM, decoder), or the masked conditional
//! `ln p(x_i | the rest)` with `x_i`'s token hidden from a masked model (BERT-style
//! encoders over their tokens, MxDNA at nucleotide resolution). A track of these over a
//! genome shows where a model finds the sequence expected and where surprising.

use std::ops::Range;

use dnalm_lm::{NucleotideLikelihoods, ScoreError};
use dnalm_nn::masked_scoring::{
    masked_nucleotide_log_probs, MaskedPredictor, Masking, MASKED_ROWS_PER_PASS,
};

/// How a model scores single nucleotides.
#[derive(Clone, Copy)]
pub enum PositionScoring<'a> {
    /// `ln p(x_i | x_<i)`: only what comes before a nucleotide is its context.
    NextNucleotide(&'a dyn NucleotideLikelihoods),
    /// `ln p(x_i | the rest)`, the token over `x_i` hidden: both sides are context.
    Masked(&'a dyn MaskedPredictor),
}

impl PositionScoring<'_> {
    /// What the values are, as reports name them.
    pub fn method(&self, masking: Masking) -> String {
        match (self, masking) {
            (PositionScoring::NextNucleotide(_), _) => "ln p(nucleotide | the ones before)".into(),
            (PositionScoring::Masked(_), Masking::OnePerRow) => {
                "ln p(nucleotide | the rest), its token masked alone".into()
            }
            (PositionScoring::Masked(_), Masking::Spaced(k)) => {
                format!("ln p(nucleotide | the rest), tokens {k} apart masked together")
            }
        }
    }

    /// Whether a nucleotide's score depends on the nucleotides after it too.
    pub fn sees_both_sides(&self) -> bool {
        matches!(self, PositionScoring::Masked(_))
    }

    /// For each `(window, range)` the values of the nucleotides in `range` (NaN where
    /// the model scores none), each with the whole window as its context. `masking`
    /// matters to masked models only.
    pub fn score(
        &self,
        windows: &[(&[u8], Range<usize>)],
        masking: Masking,
    ) -> Result<Vec<Vec<f64>>, ScoreError> {
        match self {
            PositionScoring::NextNucleotide(model) => {
                let seqs: Vec<&[u8]> = windows.iter().map(|(seq, _)| *seq).collect();
                let values = model.nucleotide_log_probs(&seqs)?;
                Ok(values
                    .into_iter()
                    .zip(windows)
                    .map(|(values, (_, range))| values[range.clone()].to_vec())
                    .collect())
            }
            PositionScoring::Masked(model) => {
                masked_nucleotide_log_probs(*model, windows, masking, MASKED_ROWS_PER_PASS)
                    .map_err(ScoreError::new)
            }
        }
    }
}
