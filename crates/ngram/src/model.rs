//! The n-gram language model: counts, discounts and a smoothing method.

use dnalm_lm::{
    draw_weighted, NucleotideLikelihoods, ScoreError, ScoreKind, SequenceGenerator, SequenceModel,
    SequenceScore,
};
use rand::RngCore;
use rayon::prelude::*;

use crate::counting::{count, NgramCounts};
use crate::error::{NgramError, Result};
use crate::history::{for_each_event, mask, History, END, OUTCOMES};
use crate::smoothing::{Discounts, Smoothing};
use crate::tuning::tune_discounts;

/// Sequences longer than this are scored in parallel chunks.
const PARALLEL_SCORE_CHUNK: usize = 1 << 18;

/// An n-gram model over `A C G T` with an explicit end of sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct NgramModel {
    counts: NgramCounts,
    discounts: Vec<Discounts>,
    smoothing: Smoothing,
}

impl NgramModel {
    /// Counts `sequences` (normalised) and builds a model of `order` (1..=16).
    pub fn train(sequences: &[&[u8]], order: usize, smoothing: Smoothing) -> Result<Self> {
        Ok(Self::from_counts(count(sequences, order)?, smoothing))
    }

    /// Counts `fit`, tunes the Kneser-Ney discounts on `held_out`
    /// ([`crate::tuning`]), then counts `fit` and `held_out` together and keeps the tuned
    /// discounts. Returns the held-out perplexity with estimated and tuned discounts.
    pub fn train_tuned(
        fit: &[&[u8]],
        held_out: &[&[u8]],
        order: usize,
        smoothing: Smoothing,
    ) -> Result<(Self, f64, f64)> {
        if held_out.is_empty() {
            return Err(NgramError::InvalidParameter(
                "tuning the discounts needs held-out sequences".into(),
            ));
        }
        let first = Self::train(fit, order, Smoothing::KneserNey)?;
        let (discounts, before, after) = tune_discounts(&first, held_out);
        drop(first);
        let all: Vec<&[u8]> = fit.iter().chain(held_out).copied().collect();
        let model = Self::train(&all, order, smoothing)?.with_discounts(discounts);
        Ok((model, before, after))
    }

    /// A model over existing counts; the Kneser-Ney discounts are estimated from them.
    pub fn from_counts(counts: NgramCounts, smoothing: Smoothing) -> Self {
        let discounts = counts.orders.iter().map(Discounts::estimate).collect();
        Self {
            counts,
            discounts,
            smoothing,
        }
    }

    /// The same counts with other Kneser-Ney discounts (one per order).
    pub fn with_discounts(mut self, discounts: Vec<Discounts>) -> Self {
        assert_eq!(
            discounts.len(),
            self.counts.order,
            "one set of discounts per order"
        );
        self.discounts = discounts;
        self
    }

    /// The same counts under another smoothing method.
    pub fn with_smoothing(mut self, smoothing: Smoothing) -> Self {
        self.smoothing = smoothing;
        self
    }

    /// The order n.
    pub fn order(&self) -> usize {
        self.counts.order
    }

    /// The smoothing method.
    pub fn smoothing(&self) -> Smoothing {
        self.smoothing
    }

    /// The counts.
    pub fn counts(&self) -> &NgramCounts {
        &self.counts
    }

    /// The Kneser-Ney discounts of orders 1..=n.
    pub fn discounts(&self) -> &[Discounts] {
        &self.discounts
    }

    fn context_len(&self) -> usize {
        self.counts.order - 1
    }

    /// The probabilities of `A C G T end` after a history.
    pub fn distribution(&self, history: u64, since_start: usize) -> [f64; OUTCOMES] {
        let context = self.context_len();
        match self.smoothing {
            Smoothing::Mle | Smoothing::AddK { .. } => {
                let counts = if since_start >= context {
                    self.counts.orders[context]
                        .plain
                        .get(history & mask(context))
                } else {
                    self.counts.orders[since_start + 1].anchored(history & mask(since_start))
                };
                let total: u64 = counts.iter().sum();
                match self.smoothing {
                    Smoothing::AddK { k } => {
                        counts.map(|c| (c as f64 + k) / (total as f64 + OUTCOMES as f64 * k))
                    }
                    _ if total == 0 => [0.0; OUTCOMES],
                    _ => counts.map(|c| c as f64 / total as f64),
                }
            }
            Smoothing::KneserNey => {
                self.kneser_ney(history, since_start, self.counts.order.min(since_start + 2))
            }
        }
    }

    /// Interpolated Kneser-Ney probabilities using orders `1..=top` only (ARPA files
    /// list each order's own interpolated probabilities).
    pub fn kneser_ney(&self, history: u64, since_start: usize, top: usize) -> [f64; OUTCOMES] {
        let mut p = [1.0 / OUTCOMES as f64; OUTCOMES];
        for k in 1..=top {
            self.discounts[k - 1].interpolate(self.counts.at(k, history, since_start), &mut p);
        }
        p
    }

    /// The probability of one outcome after a history (what scoring needs; the same
    /// value as `distribution(..)[outcome]`).
    pub fn probability(&self, history: u64, since_start: usize, outcome: u8) -> f64 {
        if self.smoothing != Smoothing::KneserNey {
            return self.distribution(history, since_start)[outcome as usize];
        }
        let mut p = 1.0 / OUTCOMES as f64;
        let top = self.counts.order.min(since_start + 2);
        for k in 1..=top {
            p = self.discounts[k - 1].interpolate_one(
                self.counts.at(k, history, since_start),
                outcome as usize,
                p,
            );
        }
        p
    }

    fn score_range(&self, seq: &[u8], from: usize, to: usize) -> SequenceScore {
        let mut score = SequenceScore::default();
        for_each_event(seq, from, to, self.context_len(), |event| {
            score.log_prob += self
                .probability(event.history, event.since_start, event.symbol)
                .ln();
            score.events += 1;
        });
        score
    }

    /// Checks a sampling temperature.
    pub fn check_temperature(temperature: f64) -> Result<()> {
        if temperature > 0.0 && temperature.is_finite() {
            Ok(())
        } else {
            Err(NgramError::InvalidParameter(format!(
                "temperature must be positive, got {temperature}"
            )))
        }
    }
}

impl SequenceModel for NgramModel {
    fn describe(&self) -> String {
        format!("{}-gram, {}", self.counts.order, self.smoothing)
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::Exact
    }

    fn score(&self, seq: &[u8]) -> Result<SequenceScore, ScoreError> {
        Ok(self.log_likelihood(seq))
    }
}

impl NucleotideLikelihoods for NgramModel {
    /// Each nucleotide's own event; `N` is not an event (NaN) and restarts the context.
    fn nucleotide_log_probs(&self, seqs: &[&[u8]]) -> Result<Vec<Vec<f64>>, ScoreError> {
        Ok(seqs
            .par_iter()
            .map(|seq| {
                let mut values = vec![f64::NAN; seq.len()];
                for_each_event(seq, 0, seq.len(), self.context_len(), |event| {
                    values[event.position] = self
                        .probability(event.history, event.since_start, event.symbol)
                        .ln();
                });
                values
            })
            .collect())
    }
}

impl NgramModel {
    /// The exact log-probability of a normalised sequence and its end (never fails;
    /// long sequences are scored in parallel chunks).
    pub fn log_likelihood(&self, seq: &[u8]) -> SequenceScore {
        let end = seq.len() + 1;
        if end <= PARALLEL_SCORE_CHUNK {
            return self.score_range(seq, 0, end);
        }
        (0..end)
            .into_par_iter()
            .step_by(PARALLEL_SCORE_CHUNK)
            .map(|from| self.score_range(seq, from, (from + PARALLEL_SCORE_CHUNK).min(end)))
            .reduce(SequenceScore::default, |a, b| a + b)
    }
}

impl SequenceGenerator for NgramModel {
    fn generate(
        &self,
        prompt: &[u8],
        max_len: usize,
        temperature: f64,
        rng: &mut dyn RngCore,
    ) -> Vec<u8> {
        let mut history = History::start(self.context_len());
        let mut out = prompt.to_vec();
        prompt.iter().for_each(|&symbol| history.push(symbol));
        while out.len() < prompt.len() + max_len {
            let weights = self
                .distribution(history.packed, history.since_start)
                .map(|p| p.powf(1.0 / temperature));
            // None: MLE after an unseen context, where nothing can follow.
            let Some(symbol) = draw_weighted(&weights, rng) else {
                break;
            };
            if symbol as u8 == END {
                break;
            }
            let nucleotide = b"ACGT"[symbol];
            out.push(nucleotide);
            history.push(nucleotide);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnalm_seq::seeded_rng;
    use rand::Rng;

    fn corpus() -> Vec<Vec<u8>> {
        let mut rng = seeded_rng(3);
        (0..200)
            .map(|i| {
                let len = 20 + (i % 50);
                (0..len)
                    .map(|j| {
                        // A biased, context-dependent source so higher orders matter.
                        let r: f64 = rng.random();
                        if r < 0.5 {
                            b"ACGT"[(j * 7 + i) % 4]
                        } else {
                            b"ACGT"[rng.random_range(0..4)]
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn nucleotide_log_probs_by_hand() {
        // Bigram MLE of AC and AG: p(A | <s>) = 1, p(C | A) = p(G | A) = 1/2.
        let model = NgramModel::train(&[b"AC", b"AG"], 2, Smoothing::Mle).unwrap();
        let values = model.nucleotide_log_probs(&[b"ACNAG"]).unwrap().remove(0);
        let half = 0.5f64.ln();
        assert_eq!(values[0], 0.0);
        assert!((values[1] - half).abs() < 1e-12);
        assert!(values[2].is_nan(), "N is not an event");
        assert_eq!(values[3], 0.0, "after N the context restarts at <s>");
        assert!((values[4] - half).abs() < 1e-12);
        // With the end's event they add up to the sequence score.
        let data = corpus();
        let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        let model = NgramModel::train(&refs, 5, Smoothing::KneserNey).unwrap();
        let seq = &data[7][..];
        let values = model.nucleotide_log_probs(&[seq]).unwrap().remove(0);
        let end = model.score_range(seq, seq.len(), seq.len() + 1).log_prob;
        let total = model.log_likelihood(seq).log_prob;
        assert!((values.iter().sum::<f64>() + end - total).abs() < 1e-9);
    }

    #[test]
    fn every_distribution_sums_to_one() {
        let data = corpus();
        let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        for order in [1, 2, 3, 5, 8, 12, 16] {
            for smoothing in [
                Smoothing::KneserNey,
                Smoothing::AddK { k: 1.0 },
                Smoothing::AddK { k: 0.01 },
            ] {
                let model = NgramModel::train(&refs, order, smoothing).unwrap();
                let context = order - 1;
                // Seen and unseen histories, anchored and not.
                for (history, since_start) in [
                    (0u64, 0usize),
                    (0b1110, 2),
                    (0x3fff_ffff, 15),
                    (12345, 15),
                    (7, 3),
                ] {
                    let since_start = since_start.min(context);
                    let p =
                        model.distribution(history & mask(since_start.max(context)), since_start);
                    let sum: f64 = p.iter().sum();
                    assert!(
                        (sum - 1.0).abs() < 1e-12,
                        "order {order} {smoothing}: sum {sum}"
                    );
                    assert!(p.iter().all(|&x| x > 0.0), "{smoothing} never gives zero");
                    for (outcome, &expected) in p.iter().enumerate() {
                        let single = model.probability(
                            history & mask(since_start.max(context)),
                            since_start,
                            outcome as u8,
                        );
                        assert!((single - expected).abs() < 1e-14);
                    }
                }
            }
        }
    }

    #[test]
    fn mle_by_hand_and_zero_for_unseen() {
        let model = NgramModel::train(&[b"AC", b"AA"], 2, Smoothing::Mle).unwrap();
        // After A (plain context 0): A, C, end once each.
        let p = model.distribution(0, 1);
        assert_eq!(p, [1.0 / 3.0, 1.0 / 3.0, 0.0, 0.0, 1.0 / 3.0]);
        // log P("AC") = ln P(A|<s>) + ln P(C|A) + ln P(end|C) = 0 + ln(1/3) + 0
        let score = model.log_likelihood(b"AC");
        assert_eq!(score.events, 3);
        assert!((score.log_prob - (1.0f64 / 3.0).ln()).abs() < 1e-12);
        assert_eq!(model.log_likelihood(b"GA").log_prob, f64::NEG_INFINITY);
    }

    #[test]
    fn kneser_ney_bigram_by_hand() {
        // Corpus "AC", "AA" (see counting tests).
        let model = NgramModel::train(&[b"AC", b"AA"], 2, Smoothing::KneserNey).unwrap();
        let d1 = model.discounts()[0];
        let d2 = model.discounts()[1];
        // Unigram continuation counts [2, 1, 0, 0, 2] (total 5) over a uniform 0.2.
        let mut unigram = [0.2; 5];
        d1.interpolate(&[2, 1, 0, 0, 2], &mut unigram);
        // Bigram after A: raw counts [1, 1, 0, 0, 1].
        let mut after_a = unigram;
        d2.interpolate(&[1, 1, 0, 0, 1], &mut after_a);
        let p = model.distribution(0, 1);
        for (got, want) in p.iter().zip(after_a) {
            assert!((got - want).abs() < 1e-15);
        }
        // Discounts by hand. Unigram counts [2, 1, 0, 0, 2]: n3 = n4 = 0, so the
        // fallback (0.5, 1, 1.5); bigram entries <s>->A 2, after A 1, 1, 1, after C 1:
        // n3 = 0, the fallback again.
        assert_eq!((d1, d2), (Discounts::FALLBACK, Discounts::FALLBACK));
        // unigram A = (2 - 1)/5 + ((1 + 0.5 + 1)/5) * 0.2 = 0.2 + 0.1
        assert!((unigram[0] - 0.3).abs() < 1e-15);
        // after A: A = (1 - 0.5)/3 + (1.5/3) * 0.3
        assert!((p[0] - (0.5 / 3.0 + 0.15)).abs() < 1e-15);
    }

    #[test]
    fn chunked_scoring_equals_sequential() {
        let seq: Vec<u8> = (0..(PARALLEL_SCORE_CHUNK * 2 + 100))
            .map(|i| b"ACGTN"[(i * i / 3 + i) % 5])
            .collect();
        let model = NgramModel::train(&[&seq[..5000]], 4, Smoothing::KneserNey).unwrap();
        let parallel = model.log_likelihood(&seq);
        let sequential = model.score_range(&seq, 0, seq.len() + 1);
        assert_eq!(parallel.events, sequential.events);
        assert!((parallel.log_prob - sequential.log_prob).abs() < 1e-6 * sequential.log_prob.abs());
    }

    #[test]
    fn generation_is_seeded_and_follows_the_model() {
        let data: Vec<Vec<u8>> = (0..100).map(|_| b"GATTACA".to_vec()).collect();
        let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        let model = NgramModel::train(&refs, 3, Smoothing::Mle).unwrap();
        // MLE trigram on one repeated string reproduces it exactly, then ends.
        assert_eq!(
            model.generate(b"", 100, 1.0, &mut seeded_rng(1)),
            b"GATTACA"
        );
        let kn = model.clone().with_smoothing(Smoothing::KneserNey);
        let a = kn.generate(b"GA", 50, 0.7, &mut seeded_rng(2));
        let b = kn.generate(b"GA", 50, 0.7, &mut seeded_rng(2));
        assert_eq!(a, b);
        assert!(a.starts_with(b"GA") && a.len() <= 52);
        assert!(NgramModel::check_temperature(0.0).is_err());
    }
}
