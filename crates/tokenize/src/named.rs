//! Tokenizers by the names the command line and the Python package use.

use std::path::Path;

use crate::error::{Result, TokenizeError};
use crate::{KmerTokenizer, NucleotideTokenizer, Tokenizer};

/// The names [`by_name`] knows besides a tokenizer.json path.
pub const TOKENIZER_NAMES: [&str; 3] = ["nucleotide", "kmer6", "kmer6-tiled"];

/// A tokenizer by name: `nucleotide`, `kmer6` (overlapping 6-mers, DNABERT),
/// `kmer6-tiled` (non-overlapping, Nucleotide Transformer); anything else is read as a
/// tokenizer.json path.
pub fn by_name(spec: &str) -> Result<Box<dyn Tokenizer>> {
    Ok(match spec {
        "nucleotide" => Box::new(NucleotideTokenizer),
        "kmer6" => Box::new(KmerTokenizer::new(6, true)?),
        "kmer6-tiled" => Box::new(KmerTokenizer::new(6, false)?),
        path if Path::new(path).is_file() => crate::load(Path::new(path))?,
        other => {
            return Err(TokenizeError::InvalidParameter(format!(
                "'{other}' is neither a tokenizer name ({}) nor a tokenizer.json file",
                TOKENIZER_NAMES.join(", ")
            )))
        }
    })
}
