//! Summary statistics of a set of sequences: lengths, composition, `N`, duplicates.

use std::collections::HashSet;

use serde::Serialize;
use xxhash_rust::xxh3::xxh3_128;

use crate::alphabet::{code_of, NormalizationReport};
use crate::record::SeqRecord;

/// Accumulates statistics record by record.
#[derive(Debug, Default)]
pub struct StatsAccumulator {
    lengths: Vec<usize>,
    base_counts: [u64; 5],
    seen: HashSet<u128>,
    duplicates: u64,
    report: NormalizationReport,
}

/// Length distribution.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LengthSummary {
    /// Shortest.
    pub min: usize,
    /// 5th percentile.
    pub p5: usize,
    /// Median.
    pub median: usize,
    /// Mean.
    pub mean: f64,
    /// 95th percentile.
    pub p95: usize,
    /// Longest.
    pub max: usize,
    /// N50: the length such that records at least this long hold half the nucleotides.
    pub n50: usize,
}

/// The finished statistics.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SeqStats {
    /// Number of records.
    pub records: usize,
    /// Number of nucleotides.
    pub nucleotides: u64,
    /// Length distribution (absent when there are no records).
    pub length: Option<LengthSummary>,
    /// Fractions of A, C, G, T, N among all nucleotides.
    pub composition: [f64; 5],
    /// GC fraction among the non-`N` nucleotides.
    pub gc_fraction: f64,
    /// Fraction of `N`.
    pub n_fraction: f64,
    /// Records whose sequence repeats an earlier record's exactly.
    pub duplicate_records: u64,
    /// What normalisation changed.
    pub normalization: NormalizationReport,
}

impl StatsAccumulator {
    /// Adds one record.
    pub fn add(&mut self, record: &SeqRecord) {
        self.lengths.push(record.seq.len());
        for &symbol in &record.seq {
            self.base_counts[code_of(symbol) as usize] += 1;
        }
        if !self.seen.insert(xxh3_128(&record.seq)) {
            self.duplicates += 1;
        }
    }

    /// Adds what normalisation reported for the records added.
    pub fn add_report(&mut self, report: NormalizationReport) {
        self.report.merge(report);
    }

    /// The statistics of everything added.
    pub fn finish(mut self) -> SeqStats {
        let nucleotides: u64 = self.base_counts.iter().sum();
        let fraction = |count: u64| {
            if nucleotides == 0 {
                0.0
            } else {
                count as f64 / nucleotides as f64
            }
        };
        let called = nucleotides - self.base_counts[4];
        let gc = self.base_counts[1] + self.base_counts[2];
        self.lengths.sort_unstable();
        SeqStats {
            records: self.lengths.len(),
            nucleotides,
            length: length_summary(&self.lengths),
            composition: self.base_counts.map(fraction),
            gc_fraction: if called == 0 {
                0.0
            } else {
                gc as f64 / called as f64
            },
            n_fraction: fraction(self.base_counts[4]),
            duplicate_records: self.duplicates,
            normalization: self.report,
        }
    }
}

fn length_summary(sorted: &[usize]) -> Option<LengthSummary> {
    let (&min, &max) = (sorted.first()?, sorted.last()?);
    let quantile = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let total: usize = sorted.iter().sum();
    let mut running = 0;
    let n50 = sorted
        .iter()
        .rev()
        .find(|&&len| {
            running += len;
            2 * running >= total
        })
        .copied()
        .unwrap_or(0);
    Some(LengthSummary {
        min,
        p5: quantile(0.05),
        median: quantile(0.5),
        mean: total as f64 / sorted.len() as f64,
        p95: quantile(0.95),
        max,
        n50,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: &[u8]) -> SeqRecord {
        SeqRecord {
            seq: seq.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn by_hand() {
        let mut acc = StatsAccumulator::default();
        for seq in [&b"ACGTNN"[..], b"GGCC", b"ACGTNN", b"A"] {
            acc.add(&record(seq));
        }
        let stats = acc.finish();
        assert_eq!(stats.records, 4);
        assert_eq!(stats.nucleotides, 17);
        assert_eq!(stats.duplicate_records, 1);
        assert!((stats.n_fraction - 4.0 / 17.0).abs() < 1e-12);
        // non-N: A3 C4 G4 T2 = 13; GC = 8
        assert!((stats.gc_fraction - 8.0 / 13.0).abs() < 1e-12);
        let length = stats.length.unwrap();
        assert_eq!((length.min, length.max, length.median), (1, 6, 6));
        // sorted desc 6,6,4,1 (total 17): 6+6 >= 8.5, so N50 = 6
        assert_eq!(length.n50, 6);
    }

    #[test]
    fn empty_input_has_no_length_summary() {
        let stats = StatsAccumulator::default().finish();
        assert_eq!(stats.records, 0);
        assert!(stats.length.is_none());
    }
}
