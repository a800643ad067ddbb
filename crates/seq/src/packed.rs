//! Compact 2-bit storage: four nucleotides per byte, with `N` kept as a list of runs
//! (as in UCSC's `.2bit`). Human chromosome 20 (63 Mb) takes about 16 MB.

use std::ops::Range;

use crate::alphabet::{code_of, CODE_N, SYMBOLS};
use crate::error::Result;
use crate::record::SeqRecord;

const BASES_PER_WORD: usize = 32;

/// A normalised sequence packed 2 bits per base; `N` positions are stored as runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackedSeq {
    len: usize,
    words: Vec<u64>,
    /// Sorted, non-overlapping, non-adjacent half-open ranges of `N`.
    n_runs: Vec<Range<usize>>,
}

impl PackedSeq {
    /// Packs a normalised (`ACGTN`) sequence.
    pub fn from_normalized(seq: &[u8]) -> Self {
        let mut n_runs: Vec<Range<usize>> = Vec::new();
        let words = seq
            .chunks(BASES_PER_WORD)
            .enumerate()
            .map(|(word_index, chunk)| {
                let mut packed = 0u64;
                for (offset, &symbol) in chunk.iter().enumerate() {
                    let code = code_of(symbol);
                    if code == CODE_N {
                        let position = word_index * BASES_PER_WORD + offset;
                        match n_runs.last_mut() {
                            Some(run) if run.end == position => run.end += 1,
                            _ => n_runs.push(position..position + 1),
                        }
                    }
                    packed |= u64::from(code & 3) << (2 * offset);
                }
                packed
            })
            .collect();
        n_runs.shrink_to_fit();
        Self {
            len: seq.len(),
            words,
            n_runs,
        }
    }

    /// Number of nucleotides.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the sequence is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The code (0..=3 for `ACGT`, 4 for `N`) at `position`.
    pub fn code(&self, position: usize) -> u8 {
        assert!(
            position < self.len,
            "position {position} beyond length {}",
            self.len
        );
        if self
            .n_runs_overlapping(position..position + 1)
            .next()
            .is_some()
        {
            return CODE_N;
        }
        let word = self.words[position / BASES_PER_WORD];
        ((word >> (2 * (position % BASES_PER_WORD))) & 3) as u8
    }

    /// Appends the symbols of `range` (`ACGTN`) to `out`.
    pub fn extract_into(&self, range: Range<usize>, out: &mut Vec<u8>) {
        assert!(
            range.end <= self.len,
            "range {range:?} beyond length {}",
            self.len
        );
        let first = out.len();
        out.extend(range.clone().map(|position| {
            let word = self.words[position / BASES_PER_WORD];
            SYMBOLS[((word >> (2 * (position % BASES_PER_WORD))) & 3) as usize]
        }));
        for run in self.n_runs_overlapping(range.clone()) {
            let start = run.start.max(range.start) - range.start + first;
            let end = run.end.min(range.end) - range.start + first;
            out[start..end].fill(b'N');
        }
    }

    /// The symbols of `range` as a new vector.
    pub fn extract(&self, range: Range<usize>) -> Vec<u8> {
        let mut out = Vec::with_capacity(range.len());
        self.extract_into(range, &mut out);
        out
    }

    /// Number of `N` in `range`.
    pub fn n_count(&self, range: Range<usize>) -> usize {
        self.n_runs_overlapping(range.clone())
            .map(|run| run.end.min(range.end) - run.start.max(range.start))
            .sum()
    }

    /// Bytes of heap memory this sequence holds.
    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8 + self.n_runs.capacity() * std::mem::size_of::<Range<usize>>()
    }

    fn n_runs_overlapping(&self, range: Range<usize>) -> impl Iterator<Item = &Range<usize>> {
        let first = self.n_runs.partition_point(|run| run.end <= range.start);
        self.n_runs[first..]
            .iter()
            .take_while(move |run| run.start < range.end)
    }
}

/// One packed record of a corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedRecord {
    /// The record's identifier.
    pub id: String,
    /// Its packed sequence.
    pub seq: PackedSeq,
}

/// A whole set of sequences (a genome, a gene set) in 2-bit form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Corpus {
    /// The records, in file order.
    pub records: Vec<PackedRecord>,
}

impl Corpus {
    /// Packs every record of a reader, stopping at the first error.
    pub fn from_records(records: impl IntoIterator<Item = Result<SeqRecord>>) -> Result<Self> {
        let records = records
            .into_iter()
            .map(|record| {
                record.map(|record| PackedRecord {
                    seq: PackedSeq::from_normalized(&record.seq),
                    id: record.id,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { records })
    }

    /// Total number of nucleotides.
    pub fn total_len(&self) -> usize {
        self.records.iter().map(|record| record.seq.len()).sum()
    }

    /// Bytes of heap memory the sequences hold (identifiers excluded).
    pub fn heap_bytes(&self) -> usize {
        self.records
            .iter()
            .map(|record| record.seq.heap_bytes())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_n_runs_across_word_boundaries() {
        let mut seq = Vec::new();
        for i in 0..100 {
            seq.push(if (30..35).contains(&i) || i == 99 || i == 0 {
                b'N'
            } else {
                b"ACGT"[i % 4]
            });
        }
        let packed = PackedSeq::from_normalized(&seq);
        assert_eq!(packed.len(), 100);
        assert_eq!(packed.extract(0..100), seq);
        assert_eq!(packed.extract(31..40), &seq[31..40]);
        assert_eq!(packed.n_count(0..100), 7);
        assert_eq!(packed.n_count(32..36), 3);
        assert_eq!(packed.code(33), CODE_N);
        assert_eq!(packed.code(1), 1);
        assert_eq!(
            packed.heap_bytes(),
            4 * 8 + 3 * std::mem::size_of::<Range<usize>>()
        );
    }
}
