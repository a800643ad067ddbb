//! Byte-pair encoding over nucleotides, trained and run by Hugging Face's `tokenizers`
//! crate, so the `tokenizer.json` we write loads unchanged in Python's `tokenizers`.
//!
//! The pipeline: no normaliser (input is already normalised), a pre-tokenizer that
//! isolates every `N` (merges never cross or absorb unknown bases), a BPE model with
//! `[UNK]`, a template post-processor adding `[CLS]`/`[SEP]` (used by Python callers;
//! our own code adds them itself), and a fuse decoder (tokens concatenate back into the
//! sequence).

use std::collections::HashSet;

use tokenizers::decoders::fuse::Fuse;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::TrainerWrapper;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, SplitDelimiterBehavior};

use crate::encoding::Encoding;
use crate::error::{Result, TokenizeError};
use crate::file::TokenizerFile;
use crate::special;
use crate::tokenizer::Tokenizer;

type HfTokenizer = tokenizers::Tokenizer;

/// How to train a BPE vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpeTrainingConfig {
    /// Final vocabulary size, special tokens and the 5 symbols included.
    pub vocab_size: usize,
    /// Pairs seen fewer times than this are never merged.
    pub min_frequency: u64,
    /// Training text is cut into pieces of at most this many nucleotides (tokens never
    /// cross a piece boundary). Keeps training memory bounded on whole chromosomes.
    pub max_piece_len: usize,
}

impl Default for BpeTrainingConfig {
    fn default() -> Self {
        Self {
            vocab_size: 4096,
            min_frequency: 2,
            max_piece_len: 1000,
        }
    }
}

/// A BPE tokenizer (DNABERT-2 style).
#[derive(Clone)]
pub struct BpeTokenizer {
    inner: HfTokenizer,
}

impl std::fmt::Debug for BpeTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BpeTokenizer(vocab {})", self.vocab_size())
    }
}

fn bpe_error(err: impl std::fmt::Display) -> TokenizeError {
    TokenizeError::Bpe(err.to_string())
}

fn empty_pipeline() -> Result<HfTokenizer> {
    let model = BPE::builder()
        .unk_token(special::NAMES[special::UNK as usize].into())
        .build()
        .map_err(bpe_error)?;
    let mut tokenizer = HfTokenizer::new(model);
    let isolate_n = Split::new(
        SplitPattern::String("N".into()),
        SplitDelimiterBehavior::Isolated,
        false,
    )
    .map_err(bpe_error)?;
    tokenizer.with_pre_tokenizer(Some(isolate_n));
    tokenizer.with_post_processor(Some(cls_sep_template()?));
    tokenizer.with_decoder(Some(Fuse::new()));
    Ok(tokenizer)
}

/// `[CLS] $A [SEP]` (and `[CLS] $A [SEP] $B [SEP]` for pairs): the post-processor of every
/// BPE file dnalm writes, so that Python's `tokenizers` adds the special tokens as dnalm
/// does (dnalm itself wraps sequences without it).
fn cls_sep_template() -> Result<TemplateProcessing> {
    let cls = special::NAMES[special::CLS as usize];
    let sep = special::NAMES[special::SEP as usize];
    TemplateProcessing::builder()
        .try_single(format!("{cls} $A {sep}"))
        .map_err(bpe_error)?
        .try_pair(format!("{cls} $A {sep} $B {sep}"))
        .map_err(bpe_error)?
        .special_tokens(vec![(cls, special::CLS), (sep, special::SEP)])
        .build()
        .map_err(bpe_error)
}

/// Cuts a normalised sequence into training pieces: runs of `ACGT` between `N`s, each
/// cut into pieces of at most `max_len`.
pub fn training_pieces(seq: &[u8], max_len: usize) -> impl Iterator<Item = &str> {
    seq.split(|&symbol| symbol == b'N')
        .filter(|run| !run.is_empty())
        .flat_map(move |run| run.chunks(max_len.max(1)))
        .map(|piece| std::str::from_utf8(piece).expect("normalised sequences are ASCII"))
}

/// Every symbol a normalised sequence holds, each alone and together.
const PROBE: &str = "ACGTN A C G T N";

impl BpeTokenizer {
    /// Learns merges from normalised sequences.
    pub fn train<'a>(
        sequences: impl Iterator<Item = &'a [u8]> + Send,
        config: &BpeTrainingConfig,
    ) -> Result<Self> {
        let minimum = special::COUNT as usize + 5;
        if config.vocab_size < minimum {
            return Err(TokenizeError::InvalidParameter(format!(
                "BPE vocabulary size must be at least {minimum} (special tokens and A C G T N), got {}",
                config.vocab_size
            )));
        }
        let mut tokenizer = empty_pipeline()?;
        let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
            .vocab_size(config.vocab_size)
            .min_frequency(config.min_frequency)
            .show_progress(false)
            .special_tokens(
                special::NAMES
                    .iter()
                    .map(|name| AddedToken::from(*name, true))
                    .collect(),
            )
            .initial_alphabet(HashSet::from(['A', 'C', 'G', 'T', 'N']))
            .build()
            .into();
        let max_len = config.max_piece_len;
        tokenizer
            .train(
                &mut trainer,
                sequences.flat_map(|seq| training_pieces(seq, max_len)),
            )
            .map_err(bpe_error)?;
        Ok(Self { inner: tokenizer })
    }

    /// Reads a Hugging Face `tokenizer.json` text, checking the special-token layout
    /// and that it encodes every symbol; its post-processor becomes dnalm's.
    pub fn from_json(json: &str) -> Result<Self> {
        let mut inner: HfTokenizer = json.parse().map_err(bpe_error)?;
        // A file's own post-processor is replaced by dnalm's (a template naming a second
        // sequence where there is one, for instance, panics inside `tokenizers`).
        inner.with_post_processor(Some(cls_sep_template()?));
        for (id, name) in special::NAMES.iter().enumerate() {
            if inner.token_to_id(name) != Some(id as u32) {
                return Err(TokenizeError::InvalidParameter(format!(
                    "BPE tokenizer must have {name} at id {id} (found {:?})",
                    inner.token_to_id(name)
                )));
            }
        }
        // Each symbol must encode (merges only join tokens it knows, so then every
        // sequence does); a file whose unknown token is not in its vocabulary fails here.
        if let Err(err) = inner.encode(PROBE, false) {
            return Err(TokenizeError::InvalidParameter(format!(
                "this BPE tokenizer cannot encode DNA ({PROBE}): {err}"
            )));
        }
        Ok(Self { inner })
    }

    /// The Hugging Face `tokenizer.json` text.
    pub fn to_json(&self) -> Result<String> {
        self.inner.to_string(true).map_err(bpe_error)
    }
}

impl Tokenizer for BpeTokenizer {
    fn describe(&self) -> String {
        "BPE".into()
    }

    fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    fn encode(&self, seq: &[u8]) -> Encoding {
        let text = std::str::from_utf8(seq).expect("normalised sequences are ASCII");
        let encoded = self
            .inner
            .encode(text, false)
            .expect("a BPE model with [UNK] encodes any ASCII input");
        Encoding {
            ids: encoded.get_ids().to_vec(),
            spans: encoded
                .get_offsets()
                .iter()
                .map(|&(start, end)| start..end)
                .collect(),
        }
    }

    fn decode(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for &id in ids {
            match id {
                special::UNK => out.push(b'N'),
                id if id < special::COUNT => {}
                id => out.extend_from_slice(
                    self.inner
                        .id_to_token(id)
                        .ok_or(TokenizeError::UnknownId {
                            id,
                            vocab_size: self.vocab_size(),
                        })?
                        .as_bytes(),
                ),
            }
        }
        Ok(out)
    }

    fn to_file(&self) -> TokenizerFile {
        TokenizerFile::Bpe(Box::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_split_at_n_and_length() {
        let pieces: Vec<&str> = training_pieces(b"ACGTNNACGTACNA", 4).collect();
        assert_eq!(pieces, ["ACGT", "ACGT", "AC", "A"]);
    }

    #[test]
    fn learns_the_repeat_and_keeps_special_ids() {
        let corpus: Vec<Vec<u8>> = (0..50).map(|_| b"GATTACAGATTACAGATTACA".to_vec()).collect();
        let config = BpeTrainingConfig {
            vocab_size: 20,
            min_frequency: 2,
            max_piece_len: 1000,
        };
        let tok = BpeTokenizer::train(corpus.iter().map(|s| s.as_slice()), &config).unwrap();
        assert!(tok.vocab_size() <= 20);
        assert_eq!(tok.token_to_id("[MASK]"), Some(4));
        let enc = tok.encode(b"GATTACANGATTACA");
        assert!(enc.len() < 15, "merges shorten the sequence: {:?}", enc.ids);
        assert_eq!(tok.decode(&enc.ids).unwrap(), b"GATTACANGATTACA");
        let covered: usize = enc.spans.iter().map(|span| span.len()).sum();
        assert_eq!(covered, 15);
        assert_eq!(
            enc.spans.iter().find(|s| s.start == 7),
            Some(&(7..8)),
            "N stands alone"
        );
    }
}
