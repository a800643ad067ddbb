//! k-mer tokens, k in 1..=8.
//!
//! - Overlapping (DNABERT): one token per position `i` for the k-mer `i..i+k`, so a
//!   sequence of `L` nucleotides gives `L - k + 1` tokens (none if `L < k`); a k-mer
//!   holding `N` is `[UNK]`.
//! - Non-overlapping (Nucleotide Transformer): left to right, a full k-mer of `ACGT`
//!   is one token; otherwise (an `N` within the next k, or a tail shorter than k) the
//!   next nucleotide is a single-nucleotide token. The vocabulary is the 4^k k-mers
//!   followed by the single nucleotides `A C G T N` (only `N` when k = 1).
//!
//! k-mer ids follow lexicographic order (`A < C < G < T`) after the special tokens.

use crate::encoding::Encoding;
use crate::error::{Result, TokenizeError};
use crate::file::TokenizerFile;
use crate::special;
use crate::tokenizer::Tokenizer;

const BASES: [u8; 4] = *b"ACGT";
/// The largest supported k (4^8 = 65,536 k-mers).
pub const MAX_K: usize = 8;

/// A k-mer tokenizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KmerTokenizer {
    k: usize,
    overlapping: bool,
}

fn base_code(symbol: u8) -> Option<u32> {
    match symbol {
        b'A' => Some(0),
        b'C' => Some(1),
        b'G' => Some(2),
        b'T' => Some(3),
        _ => None,
    }
}

impl KmerTokenizer {
    /// A k-mer tokenizer; `k` must be in `1..=8`.
    pub fn new(k: usize, overlapping: bool) -> Result<Self> {
        if !(1..=MAX_K).contains(&k) {
            return Err(TokenizeError::InvalidParameter(format!(
                "k must be in 1..={MAX_K}, got {k}"
            )));
        }
        Ok(Self { k, overlapping })
    }

    /// The k.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Whether tokens overlap (DNABERT) or tile the sequence (Nucleotide Transformer).
    pub fn overlapping(&self) -> bool {
        self.overlapping
    }

    fn kmer_count(&self) -> u32 {
        1 << (2 * self.k)
    }

    /// Single-nucleotide tokens of the non-overlapping vocabulary.
    fn singles(&self) -> &'static [u8] {
        match (self.overlapping, self.k) {
            (true, _) => b"",
            (false, 1) => b"N",
            (false, _) => b"ACGTN",
        }
    }

    fn single_id(&self, symbol: u8) -> u32 {
        if self.k == 1 {
            if let Some(code) = base_code(symbol) {
                return special::COUNT + code;
            }
        }
        let offset = self
            .singles()
            .iter()
            .position(|&s| s == symbol)
            .expect("normalised symbol") as u32;
        special::COUNT + self.kmer_count() + offset
    }

    fn encode_overlapping(&self, seq: &[u8]) -> Encoding {
        let k = self.k;
        let count = seq.len().saturating_sub(k - 1);
        let mut out = Encoding {
            ids: Vec::with_capacity(count),
            spans: Vec::with_capacity(count),
        };
        let mask = self.kmer_count() - 1;
        let mut value = 0u32;
        let mut valid_run = 0usize;
        for (end, &symbol) in seq.iter().enumerate() {
            match base_code(symbol) {
                Some(code) => {
                    value = ((value << 2) | code) & mask;
                    valid_run += 1;
                }
                None => valid_run = 0,
            }
            if end + 1 >= k {
                let id = if valid_run >= k {
                    special::COUNT + value
                } else {
                    special::UNK
                };
                out.push(id, end + 1 - k..end + 1);
            }
        }
        out
    }

    fn encode_tiled(&self, seq: &[u8]) -> Encoding {
        let k = self.k;
        let mut out = Encoding::default();
        let mut start = 0;
        while start < seq.len() {
            let kmer = seq.get(start..start + k).and_then(|window| {
                window.iter().try_fold(0u32, |value, &symbol| {
                    Some((value << 2) | base_code(symbol)?)
                })
            });
            match kmer {
                Some(value) => {
                    out.push(special::COUNT + value, start..start + k);
                    start += k;
                }
                None => {
                    out.push(self.single_id(seq[start]), start..start + 1);
                    start += 1;
                }
            }
        }
        out
    }

    fn kmer_string(&self, value: u32) -> String {
        (0..self.k)
            .rev()
            .map(|i| BASES[((value >> (2 * i)) & 3) as usize] as char)
            .collect()
    }
}

impl Tokenizer for KmerTokenizer {
    fn masking_span(&self) -> usize {
        if self.overlapping {
            self.k
        } else {
            1
        }
    }

    fn describe(&self) -> String {
        let layout = if self.overlapping {
            "overlapping"
        } else {
            "non-overlapping"
        };
        format!("{}-mer ({layout})", self.k)
    }

    fn vocab_size(&self) -> usize {
        (special::COUNT + self.kmer_count()) as usize + self.singles().len()
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        if id < special::COUNT {
            return Some(special::NAMES[id as usize].to_string());
        }
        let offset = id - special::COUNT;
        if offset < self.kmer_count() {
            return Some(self.kmer_string(offset));
        }
        let single = (offset - self.kmer_count()) as usize;
        self.singles().get(single).map(|&s| (s as char).to_string())
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        if let Some(id) = special::id_of(token) {
            return Some(id);
        }
        let bytes = token.as_bytes();
        if bytes.len() == self.k {
            if let Some(value) = bytes
                .iter()
                .try_fold(0u32, |v, &s| Some((v << 2) | base_code(s)?))
            {
                return Some(special::COUNT + value);
            }
        }
        match bytes {
            [symbol] if self.singles().contains(symbol) => Some(self.single_id(*symbol)),
            _ => None,
        }
    }

    fn encode(&self, seq: &[u8]) -> Encoding {
        if self.overlapping {
            self.encode_overlapping(seq)
        } else {
            self.encode_tiled(seq)
        }
    }

    /// Overlapping tokens are stitched together (each token after the first adds its
    /// last nucleotide); an `[UNK]` stands for `N`s where it contributes.
    fn decode(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut first = true;
        for &id in ids {
            let token = match id {
                special::UNK => "N".repeat(if self.overlapping { self.k } else { 1 }),
                id if id < special::COUNT => continue,
                id => self.id_to_token(id).ok_or(TokenizeError::UnknownId {
                    id,
                    vocab_size: self.vocab_size(),
                })?,
            };
            if self.overlapping && !first {
                out.push(*token.as_bytes().last().expect("non-empty token"));
            } else {
                out.extend_from_slice(token.as_bytes());
            }
            first = false;
        }
        Ok(out)
    }

    fn to_file(&self) -> TokenizerFile {
        TokenizerFile::Kmer {
            k: self.k,
            overlapping: self.overlapping,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_3mers_by_hand() {
        let tok = KmerTokenizer::new(3, true).unwrap();
        assert_eq!(tok.vocab_size(), 5 + 64);
        let enc = tok.encode(b"ACGTNAC");
        // ACG = 0*16+1*4+2 = 6; CGT = 16+8+3 = 27; then GTN, TNA, NAC hold N.
        assert_eq!(enc.ids, [5 + 6, 5 + 27, 1, 1, 1]);
        assert_eq!(enc.spans, [0..3, 1..4, 2..5, 3..6, 4..7]);
        assert_eq!(tok.id_to_token(5 + 27).as_deref(), Some("CGT"));
        assert_eq!(tok.token_to_id("CGT"), Some(32));
        assert_eq!(tok.decode(&tok.encode(b"GATTACA").ids).unwrap(), b"GATTACA");
        assert!(tok.encode(b"AC").is_empty());
    }

    #[test]
    fn non_overlapping_falls_back_to_single_nucleotides() {
        let tok = KmerTokenizer::new(2, false).unwrap();
        assert_eq!(tok.vocab_size(), 5 + 16 + 5);
        let enc = tok.encode(b"ACNGTAC");
        // AC | N | GT | AC
        assert_eq!(enc.spans, [0..2, 2..3, 3..5, 5..7]);
        assert_eq!(enc.ids[0], 5 + 1);
        assert_eq!(tok.id_to_token(enc.ids[1]).as_deref(), Some("N"));
        assert_eq!(tok.decode(&enc.ids).unwrap(), b"ACNGTAC");
        let tail = tok.encode(b"ACG");
        assert_eq!(tok.id_to_token(tail.ids[1]).as_deref(), Some("G"));
    }

    #[test]
    fn every_k_round_trips_ids_and_strings() {
        for k in 1..=MAX_K {
            for overlapping in [true, false] {
                let tok = KmerTokenizer::new(k, overlapping).unwrap();
                for id in 0..tok.vocab_size() as u32 {
                    let token = tok.id_to_token(id).unwrap();
                    assert_eq!(tok.token_to_id(&token), Some(id), "k={k} {token}");
                }
                assert_eq!(tok.id_to_token(tok.vocab_size() as u32), None);
                // Overlapping [UNK]s cannot say which of their nucleotides were N, so
                // only the tiled layout round-trips N.
                let seq: &[u8] = if overlapping {
                    b"ACGTTGCAACGTAGGCTAGCTAGGATCCA"
                } else {
                    b"ACGTTGCANNACGTAGGCTAGCTAGGATCCA"
                };
                let decoded = tok.decode(&tok.encode(seq).ids).unwrap();
                assert_eq!(decoded, seq, "k={k} overlapping={overlapping}");
            }
        }
        assert!(KmerTokenizer::new(0, true).is_err());
        assert!(KmerTokenizer::new(9, false).is_err());
    }
}
