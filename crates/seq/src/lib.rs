//! Sequences for dnalm: everything between a file on disk and a tokenizer.
//!
//! - [`alphabet`]: the normalisation policy (`ACGT`, `N`, IUPAC to `N`, errors).
//! - [`fastx`], [`table`], [`source`], [`task`]: streaming FASTA/FASTQ and CSV/TSV
//!   readers, plain or gzip, and GUE-style task folders.
//! - [`packed`]: 2-bit corpora; [`window`]: fixed-length windows; [`split`]:
//!   deterministic train/dev/test splits; [`compression`]: transparent gzip for any
//!   other reader.
//! - [`masking`]: masked-LM corruption; [`mutation`]: the mutation generator of
//!   arXiv 2307.10634; [`stats`]: summary statistics; [`atomic`]: crash-safe file
//!   writes for every output.
//!
//! Every random choice takes an explicit generator; [`seeded_rng`] makes the one we use
//! everywhere, so the same seed gives the same bytes on every platform.

pub mod alphabet;
pub mod atomic;
pub mod compression;
pub mod error;
pub mod fastx;
pub mod masking;
pub mod mutation;
pub mod packed;
pub mod record;
pub mod source;
pub mod split;
pub mod stats;
pub mod table;
pub mod task;
pub mod window;

pub use error::{Result, SeqError};
pub use record::SeqRecord;

/// The random generator used for every seeded choice: ChaCha8, portable and fast.
pub type SeededRng = rand_chacha::ChaCha8Rng;

/// A [`SeededRng`] from a 64-bit seed.
pub fn seeded_rng(seed: u64) -> SeededRng {
    use rand::SeedableRng;
    SeededRng::seed_from_u64(seed)
}
