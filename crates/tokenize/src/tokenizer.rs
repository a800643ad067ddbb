//! The one interface every tokenizer implements.

use crate::encoding::Encoding;
use crate::error::Result;
use crate::file::TokenizerFile;

/// Turns a normalised nucleotide sequence (`ACGTN`) into token ids and back.
///
/// Special tokens have the same ids in every tokenizer (see [`crate::special`]).
pub trait Tokenizer: Send + Sync {
    /// A short human description, e.g. `6-mer (overlapping)`.
    fn describe(&self) -> String;

    /// Number of tokens in the vocabulary, special tokens included.
    fn vocab_size(&self) -> usize;

    /// The string of a token id.
    fn id_to_token(&self, id: u32) -> Option<String>;

    /// The id of a token string.
    fn token_to_id(&self, token: &str) -> Option<u32>;

    /// Tokenizes without special tokens.
    fn encode(&self, seq: &[u8]) -> Encoding;

    /// Turns ids back into nucleotides; special tokens other than `[UNK]` are dropped.
    fn decode(&self, ids: &[u32]) -> Result<Vec<u8>>;

    /// What `tokenizer.json` holds for this tokenizer.
    fn to_file(&self) -> TokenizerFile;

    /// How many consecutive tokens masked-LM pretraining hides together, so that a
    /// hidden nucleotide cannot be read off the neighbouring tokens: `k` for
    /// overlapping k-mers (DNABERT), 1 otherwise.
    fn masking_span(&self) -> usize {
        1
    }

    /// Tokenizes and wraps in `[CLS] ... [SEP]`.
    fn encode_with_special(&self, seq: &[u8]) -> Encoding {
        self.encode(seq).with_cls_sep(seq.len())
    }
}
