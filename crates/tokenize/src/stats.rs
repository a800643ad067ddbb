//! How a tokenizer cuts a set of sequences: tokens per nucleotide and the histogram of
//! token lengths (in nucleotides).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::encoding::Encoding;
use crate::special;

/// Accumulated tokenization statistics.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TokenStats {
    /// Sequences tokenized.
    pub sequences: u64,
    /// Nucleotides tokenized.
    pub nucleotides: u64,
    /// Tokens produced (no special tokens).
    pub tokens: u64,
    /// `[UNK]` tokens among them.
    pub unknown_tokens: u64,
    /// Number of tokens of each length in nucleotides.
    pub length_histogram: BTreeMap<usize, u64>,
}

impl TokenStats {
    /// Adds the encoding of one sequence of `seq_len` nucleotides.
    pub fn add(&mut self, encoding: &Encoding, seq_len: usize) {
        self.sequences += 1;
        self.nucleotides += seq_len as u64;
        self.tokens += encoding.len() as u64;
        self.unknown_tokens += encoding
            .ids
            .iter()
            .filter(|&&id| id == special::UNK)
            .count() as u64;
        for span in &encoding.spans {
            *self.length_histogram.entry(span.len()).or_default() += 1;
        }
    }

    /// Adds another accumulator's counts.
    pub fn merge(&mut self, other: &TokenStats) {
        self.sequences += other.sequences;
        self.nucleotides += other.nucleotides;
        self.tokens += other.tokens;
        self.unknown_tokens += other.unknown_tokens;
        for (&len, &count) in &other.length_histogram {
            *self.length_histogram.entry(len).or_default() += count;
        }
    }

    /// Tokens per nucleotide (1.0 for single nucleotides, about 1/k for tiled k-mers).
    pub fn tokens_per_nucleotide(&self) -> f64 {
        if self.nucleotides == 0 {
            0.0
        } else {
            self.tokens as f64 / self.nucleotides as f64
        }
    }

    /// Mean token length in nucleotides.
    pub fn mean_token_length(&self) -> f64 {
        let total: u64 = self
            .length_histogram
            .iter()
            .map(|(&len, &count)| len as u64 * count)
            .sum();
        if self.tokens == 0 {
            0.0
        } else {
            total as f64 / self.tokens as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmer::KmerTokenizer;
    use crate::tokenizer::Tokenizer;

    #[test]
    fn tiled_3mers_by_hand() {
        let tok = KmerTokenizer::new(3, false).unwrap();
        let mut stats = TokenStats::default();
        let seq = b"ACGTACGNAC"; // ACG TAC G N A C
        stats.add(&tok.encode(seq), seq.len());
        assert_eq!(stats.tokens, 6);
        assert_eq!(stats.length_histogram, BTreeMap::from([(1, 4), (3, 2)]));
        assert!((stats.tokens_per_nucleotide() - 0.6).abs() < 1e-12);
        assert!((stats.mean_token_length() - 10.0 / 6.0).abs() < 1e-12);
    }
}
