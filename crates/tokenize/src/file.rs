//! `tokenizer.json`: saving and loading any dnalm tokenizer.
//!
//! BPE tokenizers are stored as the Hugging Face file itself (it loads in Python's
//! `tokenizers`). The fixed tokenizers need no learnt state; their file names the kind
//! and its parameters:
//!
//! ```json
//! {"dnalm_tokenizer": 1, "kind": "kmer", "k": 6, "overlapping": true,
//!  "special_tokens": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]}
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bpe::BpeTokenizer;
use crate::error::{Result, TokenizeError};
use crate::kmer::KmerTokenizer;
use crate::nucleotide::NucleotideTokenizer;
use crate::special;
use crate::tokenizer::Tokenizer;

/// Version of the fixed-tokenizer file layout.
const FORMAT_VERSION: u32 = 1;

/// Everything a `tokenizer.json` describes.
#[derive(Debug, Clone)]
pub enum TokenizerFile {
    /// Single nucleotides.
    Nucleotide,
    /// k-mers.
    Kmer {
        /// The k.
        k: usize,
        /// Overlapping (DNABERT) or tiled (Nucleotide Transformer).
        overlapping: bool,
    },
    /// A trained BPE tokenizer.
    Bpe(Box<BpeTokenizer>),
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum FixedKind {
    Nucleotide,
    Kmer { k: usize, overlapping: bool },
}

#[derive(Serialize, Deserialize)]
struct FixedFile {
    dnalm_tokenizer: u32,
    #[serde(flatten)]
    kind: FixedKind,
    special_tokens: Vec<String>,
}

impl TokenizerFile {
    /// The tokenizer this file describes.
    pub fn into_tokenizer(self) -> Result<Box<dyn Tokenizer>> {
        Ok(match self {
            TokenizerFile::Nucleotide => Box::new(NucleotideTokenizer),
            TokenizerFile::Kmer { k, overlapping } => Box::new(KmerTokenizer::new(k, overlapping)?),
            TokenizerFile::Bpe(bpe) => bpe,
        })
    }

    /// The file's JSON text.
    pub fn to_json(&self) -> Result<String> {
        let fixed = |kind| FixedFile {
            dnalm_tokenizer: FORMAT_VERSION,
            kind,
            special_tokens: special::NAMES.iter().map(|s| s.to_string()).collect(),
        };
        let file = match self {
            TokenizerFile::Bpe(bpe) => return bpe.to_json(),
            TokenizerFile::Nucleotide => fixed(FixedKind::Nucleotide),
            TokenizerFile::Kmer { k, overlapping } => fixed(FixedKind::Kmer {
                k: *k,
                overlapping: *overlapping,
            }),
        };
        Ok(serde_json::to_string_pretty(&file).expect("plain struct serialises"))
    }

    /// Parses a file's JSON text; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self> {
        let format_error = |message: String| TokenizeError::Format {
            file: path.to_path_buf(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|err| format_error(err.to_string()))?;
        if value.get("dnalm_tokenizer").is_some() {
            let file: FixedFile =
                serde_json::from_value(value).map_err(|err| format_error(err.to_string()))?;
            if file.dnalm_tokenizer != FORMAT_VERSION {
                return Err(format_error(format!(
                    "format version {} is not supported (this dnalm reads {FORMAT_VERSION})",
                    file.dnalm_tokenizer
                )));
            }
            if file.special_tokens != special::NAMES {
                return Err(format_error(format!(
                    "special tokens must be {:?}",
                    special::NAMES
                )));
            }
            return Ok(match file.kind {
                FixedKind::Nucleotide => TokenizerFile::Nucleotide,
                FixedKind::Kmer { k, overlapping } => TokenizerFile::Kmer { k, overlapping },
            });
        }
        if value.pointer("/model/type").and_then(|t| t.as_str()) == Some("BPE") {
            let bpe = BpeTokenizer::from_json(text).map_err(|err| format_error(err.to_string()))?;
            return Ok(TokenizerFile::Bpe(Box::new(bpe)));
        }
        Err(format_error(
            "expected a dnalm fixed tokenizer (key 'dnalm_tokenizer') or a Hugging Face BPE tokenizer".into(),
        ))
    }
}

/// Writes a tokenizer's `tokenizer.json` atomically.
pub fn save(tokenizer: &dyn Tokenizer, path: &Path) -> Result<()> {
    let json = tokenizer.to_file().to_json()?;
    dnalm_seq::atomic::write_atomic(path, |out| out.write_all(json.as_bytes())).map_err(|source| {
        TokenizeError::Io {
            file: path.to_path_buf(),
            source,
        }
    })
}

/// Loads any dnalm `tokenizer.json`.
pub fn load(path: &Path) -> Result<Box<dyn Tokenizer>> {
    let text = std::fs::read_to_string(path).map_err(|source| TokenizeError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    TokenizerFile::from_json(&text, path)?.into_tokenizer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_tokenizers_round_trip_through_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        for tok in [
            Box::new(NucleotideTokenizer) as Box<dyn Tokenizer>,
            Box::new(KmerTokenizer::new(6, true).unwrap()),
            Box::new(KmerTokenizer::new(6, false).unwrap()),
        ] {
            save(tok.as_ref(), &path).unwrap();
            let loaded = load(&path).unwrap();
            assert_eq!(loaded.describe(), tok.describe());
            assert_eq!(loaded.encode(b"ACGTACGTNACG"), tok.encode(b"ACGTACGTNACG"));
        }
    }

    #[test]
    fn bad_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        for text in [
            "not json",
            "{}",
            r#"{"dnalm_tokenizer": 2, "kind": "nucleotide", "special_tokens": []}"#,
            r#"{"dnalm_tokenizer": 1, "kind": "kmer", "k": 12, "overlapping": true, "special_tokens": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]}"#,
        ] {
            std::fs::write(&path, text).unwrap();
            let err = load(&path).err().expect("must fail").to_string();
            assert!(
                err.contains("tokenizer.json") || err.contains("k must be"),
                "{text}: {err}"
            );
        }
        assert!(load(&dir.path().join("missing.json")).is_err());
    }
}
