//! Errors of the tokenizer layer.

use std::path::PathBuf;

/// A problem building, training, saving or loading a tokenizer.
#[derive(Debug, thiserror::Error)]
pub enum TokenizeError {
    /// A tokenizer file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A tokenizer file is not one we understand.
    #[error("{file}: not a dnalm tokenizer.json: {message}")]
    Format {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A parameter is out of range.
    #[error("invalid tokenizer parameter: {0}")]
    InvalidParameter(String),
    /// An id outside the vocabulary.
    #[error("token id {id} is outside the vocabulary of {vocab_size} tokens")]
    UnknownId {
        /// The id.
        id: u32,
        /// The vocabulary size.
        vocab_size: usize,
    },
    /// The Hugging Face tokenizers library reported an error.
    #[error("BPE: {0}")]
    Bpe(String),
}

/// Result alias for this crate.
pub type Result<T, E = TokenizeError> = std::result::Result<T, E>;
