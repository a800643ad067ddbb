//! The extrinsic task of arXiv 2307.10634: can the model tell a real sequence from a
//! mutated copy of it?
//!
//! As in the paper's code: each pair draws a real sequence uniformly (with
//! replacement), mutates a copy with 1..=K edits ([`dnalm_seq::mutation`]), and the
//! model is right when the real sequence has the lower perplexity ("by perplexity"), or
//! the higher total probability ("by probability"). Ties count as wrong, and are
//! reported.

use dnalm_lm::SequenceModel;
use dnalm_seq::mutation::mutate;
use dnalm_seq::{seeded_rng, SeqError};

use crate::error::Result;
use crate::perplexity::score_all;
use rand::Rng;
use serde::Serialize;

/// One real sequence and its mutated copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutationPair {
    /// Index of the real sequence in the input.
    pub source: usize,
    /// The mutated copy.
    pub mutated: Vec<u8>,
}

/// Draws `pairs` real/mutated pairs with up to `max_edits` edits each, seeded.
/// Sequences shorter than 2 nucleotides cannot be mutated and are never drawn.
pub fn make_pairs(
    sequences: &[&[u8]],
    max_edits: usize,
    pairs: usize,
    seed: u64,
) -> Result<Vec<MutationPair>> {
    let eligible: Vec<usize> = (0..sequences.len())
        .filter(|&i| sequences[i].len() >= 2)
        .collect();
    if eligible.is_empty() {
        return Err(SeqError::InvalidParameter(
            "no sequence of 2 or more nucleotides to mutate".into(),
        )
        .into());
    }
    let mut rng = seeded_rng(seed);
    (0..pairs)
        .map(|_| {
            let source = eligible[rng.random_range(0..eligible.len())];
            let mutated = mutate(sequences[source], max_edits, &mut rng)?.seq;
            Ok(MutationPair { source, mutated })
        })
        .collect()
}

/// Accuracy of one run (one K, one seed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MutationResult {
    /// The K: edits per pair are drawn from 1..=K.
    pub max_edits: usize,
    /// The seed of the pairs.
    pub seed: u64,
    /// Number of pairs.
    pub pairs: usize,
    /// Share of pairs where the real sequence has the lower perplexity.
    pub accuracy_by_perplexity: f64,
    /// Share of pairs where the real sequence has the higher total probability.
    pub accuracy_by_probability: f64,
    /// Pairs with equal perplexity (counted as wrong).
    pub ties_by_perplexity: usize,
    /// Pairs with equal probability (counted as wrong).
    pub ties_by_probability: usize,
}

/// Runs the task for one K and one seed.
pub fn detect_mutations(
    model: &dyn SequenceModel,
    sequences: &[&[u8]],
    max_edits: usize,
    pairs: usize,
    seed: u64,
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<MutationResult> {
    let drawn = make_pairs(sequences, max_edits, pairs, seed)?;
    // Every real and mutated sequence scored in batches: real ones at 2i, copies at 2i+1.
    let scored: Vec<&[u8]> = drawn
        .iter()
        .flat_map(|pair| [sequences[pair.source], &pair.mutated[..]])
        .collect();
    let scores = score_all(model, &scored, &|n| on_progress(n / 2))?;
    let compare = |real: f64, mutated: f64| -> i8 {
        match real.partial_cmp(&mutated) {
            Some(std::cmp::Ordering::Less) => 1,
            Some(std::cmp::Ordering::Equal) => 0,
            _ => -1,
        }
    };
    // Lower perplexity wins; higher probability wins (compare negated).
    let outcomes: Vec<[i8; 2]> = scores
        .chunks_exact(2)
        .map(|pair| {
            let (real, mutated) = (pair[0], pair[1]);
            [
                compare(real.perplexity(), mutated.perplexity()),
                compare(-real.log_prob, -mutated.log_prob),
            ]
        })
        .collect();
    let share = |column: usize, value: i8| outcomes.iter().filter(|o| o[column] == value).count();
    Ok(MutationResult {
        max_edits,
        seed,
        pairs,
        accuracy_by_perplexity: share(0, 1) as f64 / pairs as f64,
        accuracy_by_probability: share(1, 1) as f64 / pairs as f64,
        ties_by_perplexity: share(0, 0),
        ties_by_probability: share(1, 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnalm_lm::{ScoreError, ScoreKind, SequenceScore};

    /// Scores a sequence by its non-`A` nucleotides, with a small cost per length.
    struct CountsA;

    impl SequenceModel for CountsA {
        fn describe(&self) -> String {
            "counts A".into()
        }
        fn score_kind(&self) -> ScoreKind {
            ScoreKind::Exact
        }
        fn score(&self, seq: &[u8]) -> Result<SequenceScore, ScoreError> {
            let others = seq.iter().filter(|&&b| b != b'A').count();
            Ok(SequenceScore {
                log_prob: -(others as f64) - 0.01 * seq.len() as f64,
                events: seq.len() + 1,
            })
        }
    }

    #[test]
    fn pairs_are_seeded_and_differ_from_the_source() {
        let seqs: Vec<&[u8]> = vec![b"ACGTACGTAC", b"A", b"GGGTTTAAACC"];
        let a = make_pairs(&seqs, 5, 50, 9).unwrap();
        assert_eq!(a, make_pairs(&seqs, 5, 50, 9).unwrap());
        assert!(a.iter().all(|pair| pair.source != 1), "too short to mutate");
        assert!(make_pairs(&[b"A"], 1, 5, 0).is_err());
    }

    #[test]
    fn accuracy_counts_wins_and_ties() {
        let poly_a = [b'A'; 40];
        let seqs: Vec<&[u8]> = vec![&poly_a];
        let result = detect_mutations(&CountsA, &seqs, 1, 400, 1, &|_| {}).unwrap();
        // One edit on poly-A: an insertion (of A: longer; of C/G/T: a non-A), a
        // substitution, or a swap (which falls back to substitution) all make the
        // mutant less probable; only a deletion (1/4 of edits) makes it more probable.
        assert!(
            (result.accuracy_by_probability - 0.75).abs() < 0.07,
            "{result:?}"
        );
        assert_eq!(result.ties_by_probability, 0);
        assert_eq!(result.pairs, 400);
    }
}
