//! Deterministic train/dev/test splits: by position along a genome (no window crosses
//! from one split into another), or by a hash of a key for tables (the same key always
//! lands in the same split, whatever the file order).

use std::ops::Range;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::error::{Result, SeqError};

/// One of the three splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training data.
    Train,
    /// Validation data.
    Dev,
    /// Held-out test data.
    Test,
}

/// The fractions of data given to dev and test; train gets the rest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitFractions {
    /// Fraction for dev.
    pub dev: f64,
    /// Fraction for test.
    pub test: f64,
}

impl SplitFractions {
    /// Checks that both are in `0..=1` and sum to at most 1.
    pub fn new(dev: f64, test: f64) -> Result<Self> {
        let valid = (0.0..=1.0).contains(&dev) && (0.0..=1.0).contains(&test) && dev + test <= 1.0;
        if !valid {
            return Err(SeqError::InvalidParameter(format!(
                "split fractions dev={dev}, test={test} must lie in 0..=1 and sum to at most 1"
            )));
        }
        Ok(Self { dev, test })
    }

    /// The split of a table row, from a seeded 64-bit xxh3 hash of its key (for
    /// example a gene id): the hash, scaled to `[0, 1)`, below `1 - dev - test` is
    /// train, then dev, then test.
    pub fn by_hash(&self, key: &[u8], seed: u64) -> Split {
        let unit = (xxh3_64_with_seed(key, seed) >> 11) as f64 / (1u64 << 53) as f64;
        if unit < 1.0 - self.dev - self.test {
            Split::Train
        } else if unit < 1.0 - self.test {
            Split::Dev
        } else {
            Split::Test
        }
    }

    /// The positions of a sequence of `len` nucleotides that belong to `split`: train
    /// is the first `1 - dev - test` of it, dev the next part, test the end.
    pub fn position_range(&self, len: usize, split: Split) -> Range<usize> {
        let dev_start = ((1.0 - self.dev - self.test) * len as f64).round() as usize;
        let test_start = ((1.0 - self.test) * len as f64).round() as usize;
        match split {
            Split::Train => 0..dev_start,
            Split::Dev => dev_start..test_start,
            Split::Test => test_start..len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_ranges_tile_the_sequence() {
        let fractions = SplitFractions::new(0.1, 0.1).unwrap();
        assert_eq!(fractions.position_range(1000, Split::Train), 0..800);
        assert_eq!(fractions.position_range(1000, Split::Dev), 800..900);
        assert_eq!(fractions.position_range(1000, Split::Test), 900..1000);
        assert!(SplitFractions::new(0.6, 0.5).is_err());
    }

    #[test]
    fn hash_split_is_stable_and_near_the_fractions() {
        let fractions = SplitFractions::new(0.1, 0.0).unwrap();
        let splits: Vec<Split> = (0..10_000)
            .map(|i| fractions.by_hash(i.to_string().as_bytes(), 7))
            .collect();
        let dev = splits.iter().filter(|s| **s == Split::Dev).count();
        assert!((900..1100).contains(&dev), "dev got {dev} of 10000");
        assert!(!splits.contains(&Split::Test));
        // Pinned against Python's independent `xxhash` package
        // (xxhash.xxh3_64_intdigest(b"108251792", seed=...)): splits never change
        // between versions or platforms.
        assert_eq!(xxh3_64_with_seed(b"108251792", 0), 0x738b_2a54_0969_6a2c);
        assert_eq!(xxh3_64_with_seed(b"108251792", 7), 0x9181_507d_c747_60d3);
    }
}
