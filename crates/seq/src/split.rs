//! Deterministic train/dev/test splits: by position along a genome (no window crosses
//! from one split into another), or by a hash of a key for tables (the same key always
//! lands in the same split, whatever the file order).

use std::ops::Range;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::error::{Result, SeqError};
use crate::record::SeqRecord;

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

/// Sets aside a held-out part of training records, for tuning: with at least 10
/// records, whole records chosen by a seeded hash of their id; with fewer (a genome of a
/// few chromosomes), the last `fraction` of every record. Returns `(fit, held_out)`.
pub fn hold_out(records: &[SeqRecord], fraction: f64, seed: u64) -> (Vec<&[u8]>, Vec<&[u8]>) {
    let by_hash = SplitFractions {
        dev: fraction,
        test: 0.0,
    };
    if records.len() >= 10 {
        records
            .iter()
            .map(|record| (record, by_hash.by_hash(record.id.as_bytes(), seed)))
            .fold(
                (Vec::new(), Vec::new()),
                |(mut fit, mut held), (record, split)| {
                    match split {
                        Split::Train => fit.push(record.seq.as_slice()),
                        _ => held.push(record.seq.as_slice()),
                    }
                    (fit, held)
                },
            )
    } else {
        records
            .iter()
            .map(|record| {
                let cut = by_hash.position_range(record.seq.len(), Split::Train).end;
                (&record.seq[..cut], &record.seq[cut..])
            })
            .unzip()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_out_by_record_or_by_position() {
        let record = |id: &str, seq: &[u8]| SeqRecord {
            id: id.into(),
            seq: seq.to_vec(),
            label: None,
        };
        let genome = [record("chr1", &[b'A'; 100]), record("chr2", &[b'C'; 50])];
        let (fit, held) = hold_out(&genome, 0.1, 0);
        assert_eq!(fit.iter().map(|s| s.len()).collect::<Vec<_>>(), [90, 45]);
        assert_eq!(held.iter().map(|s| s.len()).collect::<Vec<_>>(), [10, 5]);
        let genes: Vec<SeqRecord> = (0..1000).map(|i| record(&i.to_string(), b"ACGT")).collect();
        let (fit, held) = hold_out(&genes, 0.1, 0);
        assert_eq!(fit.len() + held.len(), 1000);
        assert!((60..140).contains(&held.len()), "{}", held.len());
    }

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
