//! Single-nucleotide tokens: `A C G T` after the special tokens (vocabulary of 9, as in
//! MxDNA and HyenaDNA); `N` becomes `[UNK]`.

use crate::encoding::Encoding;
use crate::error::{Result, TokenizeError};
use crate::file::TokenizerFile;
use crate::special;
use crate::tokenizer::Tokenizer;

const BASES: [u8; 4] = *b"ACGT";

/// One token per nucleotide.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NucleotideTokenizer;

impl NucleotideTokenizer {
    /// The id of a normalised symbol (`N` is `[UNK]`).
    pub fn id_of(symbol: u8) -> u32 {
        match symbol {
            b'A' => special::COUNT,
            b'C' => special::COUNT + 1,
            b'G' => special::COUNT + 2,
            b'T' => special::COUNT + 3,
            _ => special::UNK,
        }
    }
}

impl Tokenizer for NucleotideTokenizer {
    fn describe(&self) -> String {
        "single nucleotide".into()
    }

    fn vocab_size(&self) -> usize {
        special::COUNT as usize + BASES.len()
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        match id.checked_sub(special::COUNT) {
            None => Some(special::NAMES[id as usize].to_string()),
            Some(offset) => BASES.get(offset as usize).map(|&b| (b as char).to_string()),
        }
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        special::id_of(token).or_else(|| match token.as_bytes() {
            [symbol] if BASES.contains(symbol) => Some(Self::id_of(*symbol)),
            _ => None,
        })
    }

    fn encode(&self, seq: &[u8]) -> Encoding {
        Encoding {
            ids: seq.iter().map(|&symbol| Self::id_of(symbol)).collect(),
            spans: (0..seq.len()).map(|i| i..i + 1).collect(),
        }
    }

    fn decode(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            match id {
                special::UNK => out.push(b'N'),
                id if id < special::COUNT => {}
                id => out.push(*BASES.get((id - special::COUNT) as usize).ok_or(
                    TokenizeError::UnknownId {
                        id,
                        vocab_size: self.vocab_size(),
                    },
                )?),
            }
        }
        Ok(out)
    }

    fn to_file(&self) -> TokenizerFile {
        TokenizerFile::Nucleotide
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mxdna_vocabulary_layout() {
        let tok = NucleotideTokenizer;
        assert_eq!(tok.vocab_size(), 9);
        let enc = tok.encode(b"ACGTN");
        assert_eq!(enc.ids, [5, 6, 7, 8, 1]);
        assert_eq!(enc.spans[4], 4..5);
        assert_eq!(tok.encode_with_special(b"AC").ids, [2, 5, 6, 3]);
        assert_eq!(tok.decode(&[2, 5, 1, 8, 3]).unwrap(), b"ANT");
        assert_eq!(tok.id_to_token(7).as_deref(), Some("G"));
        assert_eq!(tok.token_to_id("[MASK]"), Some(4));
        assert!(tok.decode(&[9]).is_err());
    }
}
