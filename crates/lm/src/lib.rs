//! The one interface every dnalm language model implements, so that perplexity,
//! mutation detection, variant-effect scores and generation are written once.
//!
//! Models score *normalised* sequences (`ACGTN`). A score counts its predicted events:
//! every scored nucleotide, plus the end of the sequence for models that predict it
//! (as arXiv 2307.10634 does: `L + 1` events for `L` nucleotides). Perplexity is always
//! per event in nucleotide units, whatever the model's tokenizer.

use rand::RngCore;
use serde::Serialize;

/// How a model's score relates to the sequence's probability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    /// The exact log-probability of the sequence (autoregressive models, n-grams).
    Exact,
    /// A masked pseudo-log-likelihood (encoders such as BERT and MxDNA).
    PseudoLikelihood,
}

/// The score of one sequence.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct SequenceScore {
    /// Natural-log probability (or pseudo-log-likelihood); `-inf` when the model gives
    /// some event probability zero.
    pub log_prob: f64,
    /// Number of predicted events (scored nucleotides, plus the end if predicted).
    pub events: usize,
}

impl SequenceScore {
    /// Perplexity per event: `exp(-log_prob / events)`.
    pub fn perplexity(&self) -> f64 {
        (-self.log_prob / self.events as f64).exp()
    }
}

impl std::ops::Add for SequenceScore {
    type Output = SequenceScore;

    /// The score of two pieces scored one after the other.
    fn add(self, other: SequenceScore) -> SequenceScore {
        SequenceScore {
            log_prob: self.log_prob + other.log_prob,
            events: self.events + other.events,
        }
    }
}

/// Adds up scores over a data set; perplexity is over all events together (not a mean
/// of per-sequence perplexities).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PerplexityTotal {
    /// Sequences scored.
    pub sequences: usize,
    /// Sum of log-probabilities (natural log).
    pub log_prob: f64,
    /// Sum of events.
    pub events: usize,
}

impl PerplexityTotal {
    /// Adds one sequence's score.
    pub fn add(&mut self, score: SequenceScore) {
        self.sequences += 1;
        self.log_prob += score.log_prob;
        self.events += score.events;
    }

    /// Adds another total.
    pub fn merge(mut self, other: PerplexityTotal) -> Self {
        self.sequences += other.sequences;
        self.log_prob += other.log_prob;
        self.events += other.events;
        self
    }

    /// Mean negative log-likelihood per event, in nats (the log of the perplexity;
    /// what training minimises).
    pub fn nats_per_event(&self) -> f64 {
        -self.log_prob / self.events as f64
    }

    /// Perplexity per event.
    pub fn perplexity(&self) -> f64 {
        self.nats_per_event().exp()
    }

    /// Bits per event (log2 of the perplexity).
    pub fn bits_per_event(&self) -> f64 {
        self.nats_per_event() / std::f64::consts::LN_2
    }
}

/// A model failed to score a sequence (a tensor operation failed, or the sequence is
/// one the model cannot score); the message says why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScoreError(Box<dyn std::error::Error + Send + Sync>);

impl ScoreError {
    /// Wraps the model's own error.
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(source.into())
    }
}

/// A model that scores whole sequences.
pub trait SequenceModel: Send + Sync {
    /// A short description, e.g. `8-gram, Kneser-Ney`.
    fn describe(&self) -> String;

    /// Whether scores are exact log-probabilities or pseudo-likelihoods.
    fn score_kind(&self) -> ScoreKind;

    /// Scores a normalised sequence.
    fn score(&self, seq: &[u8]) -> Result<SequenceScore, ScoreError>;

    /// Scores many sequences, in order. Neural models run them through the network
    /// together (padded, equal to scoring each alone); the default scores them one at a
    /// time in parallel.
    fn score_batch(&self, seqs: &[&[u8]]) -> Result<Vec<SequenceScore>, ScoreError> {
        use rayon::prelude::*;
        seqs.par_iter().map(|seq| self.score(seq)).collect()
    }
}

/// A model that gives every nucleotide the log-probability of it after the ones before
/// it (autoregressive models): what a per-position track of a genome shows.
pub trait NucleotideLikelihoods: Send + Sync {
    /// For each normalised sequence, `ln p(x_i | x_<i)` for every nucleotide `i`, in
    /// order (the end of the sequence is not scored). A token of several nucleotides
    /// spreads its log-probability evenly over the nucleotides it adds; a nucleotide the
    /// model does not score (`N` for the n-gram models) is NaN. Summed, with the end's
    /// event, the values are [`SequenceModel::score`]'s.
    fn nucleotide_log_probs(&self, seqs: &[&[u8]]) -> Result<Vec<Vec<f64>>, ScoreError>;
}

/// Sequences scored per [`SequenceModel::score_batch`] call by the evaluations.
pub const SCORE_BATCH: usize = 64;

/// A model that can write new sequences.
pub trait SequenceGenerator: Send + Sync {
    /// Continues `prompt` (normalised, may be empty) until the model ends the sequence
    /// or `max_len` nucleotides are generated; the result includes the prompt. Each
    /// step samples from the model's distribution raised to `1 / temperature`.
    fn generate(
        &self,
        prompt: &[u8],
        max_len: usize,
        temperature: f64,
        rng: &mut dyn RngCore,
    ) -> Vec<u8>;
}

/// Draws an index with probability proportional to its (non-negative) weight; `None`
/// when all weights are zero. The one sampling step every generator shares.
pub fn draw_weighted(weights: &[f64], rng: &mut dyn RngCore) -> Option<usize> {
    use rand::Rng;
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let mut draw = rng.random::<f64>() * total;
    for (index, &weight) in weights.iter().enumerate() {
        if draw < weight {
            return Some(index);
        }
        draw -= weight;
    }
    weights.iter().rposition(|&w| w > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_draws_follow_the_weights() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[draw_weighted(&[1.0, 0.0, 3.0], &mut rng).unwrap()] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(
            (counts[2] as f64 / counts[0] as f64 - 3.0).abs() < 0.15,
            "{counts:?}"
        );
        assert_eq!(draw_weighted(&[0.0, 0.0], &mut rng), None);
    }

    #[test]
    fn perplexity_of_a_uniform_model_is_the_alphabet_size() {
        let mut total = PerplexityTotal::default();
        total.add(SequenceScore {
            log_prob: 10.0 * (0.25f64).ln(),
            events: 10,
        });
        total.add(SequenceScore {
            log_prob: 6.0 * (0.25f64).ln(),
            events: 6,
        });
        assert!((total.perplexity() - 4.0).abs() < 1e-12);
        assert!((total.bits_per_event() - 2.0).abs() < 1e-12);
        assert_eq!(total.sequences, 2);
    }
}
