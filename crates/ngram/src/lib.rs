//! Nucleotide n-gram language models, orders 1..=16, with no ML framework.
//!
//! Outcomes are `A C G T` and the end of the sequence; every sequence starts at a
//! begin-of-sequence mark, and `N` restarts the context ([`history`]). Counts are keyed
//! by packed 2-bit contexts, dense for short contexts and hashed for long ones
//! ([`table`]), counted in parallel over chunks ([`counting`]). One set of counts
//! serves three smoothing methods ([`smoothing`]): MLE, add-k (Laplace) and interpolated
//! modified Kneser-Ney, whose discounts are estimated in closed form or tuned on
//! held-out data ([`tuning`]). Models save to a versioned binary file ([`format`]) and export
//! to ARPA ([`arpa`]) for KenLM-style tools.

pub mod arpa;
pub mod counting;
pub mod error;
pub mod format;
pub mod history;
pub mod model;
pub mod smoothing;
pub mod table;
pub mod tuning;

pub use error::{NgramError, Result};
pub use model::NgramModel;
pub use smoothing::Smoothing;
