//! Tokenizers for DNA.
//!
//! One trait, [`Tokenizer`], with three families behind it: single nucleotide
//! ([`NucleotideTokenizer`]), overlapping and non-overlapping k-mers
//! ([`KmerTokenizer`]), and BPE trained with Hugging Face `tokenizers`
//! ([`BpeTokenizer`]). All share the special tokens `[PAD] [UNK] [CLS] [SEP] [MASK]` at
//! ids 0..5, report for each token the nucleotides it covers, and save to / load from a
//! `tokenizer.json` ([`file`]). The learnt tokenization of MxDNA lives in the model,
//! not here.

pub mod bpe;
pub mod encoding;
pub mod error;
pub mod file;
pub mod kmer;
pub mod named;
pub mod nucleotide;
pub mod special;
pub mod stats;
pub mod tokenizer;

pub use bpe::{BpeTokenizer, BpeTrainingConfig};
pub use encoding::Encoding;
pub use error::{Result, TokenizeError};
pub use file::{load, save, TokenizerFile};
pub use kmer::KmerTokenizer;
pub use named::by_name;
pub use nucleotide::NucleotideTokenizer;
pub use stats::TokenStats;
pub use tokenizer::Tokenizer;
