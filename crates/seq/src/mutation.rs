//! The synthetic mutation generator of arXiv 2307.10634 (GitHub
//! boun-tabi/GenerativeLM-Genes, `syntheticMutationDataset/src/main.py`): a real
//! sequence gets a number of edits drawn uniformly from `1..=max_edits`; each edit is,
//! with equal chance, the insertion of a random nucleotide, the deletion of one, the
//! swap of two adjacent different nucleotides, or the substitution of one by a
//! different nucleotide. Edits apply one after another to the growing result. Two
//! guards keep every edit well defined: a deletion that would leave fewer than two
//! nucleotides becomes a substitution, and so does a swap in a homopolymer.

use rand::Rng;
use serde::Serialize;

use crate::error::{Result, SeqError};

/// The kind of one edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EditKind {
    /// A random nucleotide inserted at a random position (including the end).
    Insertion,
    /// One nucleotide removed.
    Deletion,
    /// Two adjacent, different nucleotides exchanged.
    Swap,
    /// One nucleotide replaced by a different one.
    Substitution,
}

/// One applied edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// What was done.
    pub kind: EditKind,
    /// Where, in the sequence as it was just before this edit.
    pub position: usize,
}

/// A mutated copy and the edits that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutated {
    /// The mutated sequence.
    pub seq: Vec<u8>,
    /// The edits, in the order applied.
    pub edits: Vec<Edit>,
}

const NUCLEOTIDES: [u8; 4] = *b"ACGT";

/// Mutates a normalised sequence of at least 2 nucleotides with `1..=max_edits` edits.
pub fn mutate(seq: &[u8], max_edits: usize, rng: &mut impl Rng) -> Result<Mutated> {
    if max_edits == 0 {
        return Err(SeqError::InvalidParameter(
            "max_edits must be at least 1".into(),
        ));
    }
    if seq.len() < 2 {
        return Err(SeqError::InvalidParameter(format!(
            "a sequence of {} nucleotides is too short to mutate (need at least 2)",
            seq.len()
        )));
    }
    let count = rng.random_range(1..=max_edits);
    let mut current = seq.to_vec();
    let mut edits = Vec::with_capacity(count);
    for _ in 0..count {
        let kind = match rng.random_range(0..4) {
            0 => EditKind::Insertion,
            1 if current.len() > 2 => EditKind::Deletion,
            2 => EditKind::Swap,
            _ => EditKind::Substitution,
        };
        edits.push(apply(&mut current, kind, rng));
    }
    Ok(Mutated {
        seq: current,
        edits,
    })
}

fn apply(seq: &mut Vec<u8>, kind: EditKind, rng: &mut impl Rng) -> Edit {
    match kind {
        EditKind::Insertion => {
            let position = rng.random_range(0..=seq.len());
            seq.insert(position, NUCLEOTIDES[rng.random_range(0..4)]);
            Edit { kind, position }
        }
        EditKind::Deletion => {
            let position = rng.random_range(0..seq.len());
            seq.remove(position);
            Edit { kind, position }
        }
        EditKind::Swap => {
            let candidates: Vec<usize> = (0..seq.len() - 1)
                .filter(|&i| seq[i] != seq[i + 1])
                .collect();
            if candidates.is_empty() {
                // A homopolymer has nothing to swap: substitute instead.
                return apply(seq, EditKind::Substitution, rng);
            }
            let position = candidates[rng.random_range(0..candidates.len())];
            seq.swap(position, position + 1);
            Edit { kind, position }
        }
        EditKind::Substitution => {
            let position = rng.random_range(0..seq.len());
            let others: Vec<u8> = NUCLEOTIDES
                .iter()
                .copied()
                .filter(|&n| n != seq[position])
                .collect();
            seq[position] = others[rng.random_range(0..others.len())];
            Edit { kind, position }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded_rng;

    /// Levenshtein distance (a metric, so edits add up by the triangle inequality).
    fn levenshtein(a: &[u8], b: &[u8]) -> usize {
        let mut previous: Vec<usize> = (0..=b.len()).collect();
        for (i, &x) in a.iter().enumerate() {
            let mut current = vec![i + 1; b.len() + 1];
            for (j, &y) in b.iter().enumerate() {
                current[j + 1] = (previous[j + 1] + 1)
                    .min(current[j] + 1)
                    .min(previous[j] + usize::from(x != y));
            }
            previous = current;
        }
        previous[b.len()]
    }

    #[test]
    fn each_mutant_is_within_k_edits_and_differs_when_one_edit() {
        let real = b"ACGTTGCAACGGTACCATGATTACAGGCT";
        let mut rng = seeded_rng(11);
        let mut kinds = std::collections::HashSet::new();
        for _ in 0..2000 {
            let mutated = mutate(real, 5, &mut rng).unwrap();
            assert!((1..=5).contains(&mutated.edits.len()));
            // A swap is two substitutions in Levenshtein terms; everything else is one.
            let budget: usize = mutated
                .edits
                .iter()
                .map(|e| if e.kind == EditKind::Swap { 2 } else { 1 })
                .sum();
            assert!(levenshtein(real, &mutated.seq) <= budget);
            if mutated.edits.len() == 1 {
                assert_ne!(mutated.seq, real.to_vec(), "{:?}", mutated.edits);
            }
            kinds.extend(mutated.edits.iter().map(|e| e.kind));
        }
        assert_eq!(kinds.len(), 4, "all four edit kinds occur");
    }

    #[test]
    fn seeded_and_rejects_bad_input() {
        let a = mutate(b"ACGTACGT", 10, &mut seeded_rng(5)).unwrap();
        let b = mutate(b"ACGTACGT", 10, &mut seeded_rng(5)).unwrap();
        assert_eq!(a, b);
        assert!(mutate(b"A", 1, &mut seeded_rng(5)).is_err());
        assert!(mutate(b"ACGT", 0, &mut seeded_rng(5)).is_err());
        // A homopolymer can still be mutated (swap falls back to substitution).
        let m = mutate(b"AAAAAAAA", 1, &mut seeded_rng(2)).unwrap();
        assert_ne!(m.seq, b"AAAAAAAA");
    }
}
