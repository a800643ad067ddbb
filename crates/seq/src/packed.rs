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
        let mut words = Vec::with_capacity(seq.len().div_ceil(BASES_PER_WORD));
        let mut n_runs: Vec<Range<usize>> = Vec::new();
        for (word_index, chunk) in seq.chunks(BASES_PER_WORD).enumerate() {
            let (packed, has_n) = pack_word(chunk);
            words.push(packed);
            if has_n {
                let first = word_index * BASES_PER_WORD;
                for (offset, &symbol) in chunk.iter().enumerate() {
                    if code_of(symbol) == CODE_N {
                        let position = first + offset;
                        match n_runs.last_mut() {
                            Some(run) if run.end == position => run.end += 1,
                            _ => n_runs.push(position..position + 1),
                        }
                    }
                }
            }
        }
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

/// Packs up to 32 symbols into one word (`N` as code 0) and says whether any was `N`.
///
/// Full words use a SWAR trick on 8 bytes at a time: for the ASCII letters `A C G T`,
/// `((b >> 1) ^ (b >> 2)) & 3` is exactly 0, 1, 2, 3 (and `N` gives 0).
#[inline]
fn pack_word(chunk: &[u8]) -> (u64, bool) {
    let has_n = chunk.iter().fold(false, |any, &b| any | (b == b'N'));
    if chunk.len() < BASES_PER_WORD {
        let packed = chunk
            .iter()
            .enumerate()
            .fold(0u64, |packed, (offset, &symbol)| {
                packed | (u64::from(code_of(symbol) & 3) << (2 * offset))
            });
        return (packed, has_n);
    }
    let packed = chunk
        .chunks_exact(8)
        .enumerate()
        .fold(0u64, |packed, (lane, bytes)| {
            let eight = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
            packed | (u64::from(pack_eight(eight)) << (16 * lane))
        });
    (packed, has_n)
}

/// 2-bit codes of 8 ASCII nucleotides (little-endian bytes) gathered into 16 bits.
#[inline]
fn pack_eight(bytes: u64) -> u16 {
    let codes = ((bytes >> 1) ^ (bytes >> 2)) & 0x0303_0303_0303_0303;
    let pairs = (codes | (codes >> 6)) & 0x000f_000f_000f_000f;
    let quads = (pairs | (pairs >> 12)) & 0x0000_00ff_0000_00ff;
    ((quads | (quads >> 24)) & 0xffff) as u16
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
    fn swar_codes_match_the_table() {
        for symbol in *b"ACGTN" {
            let eight = u64::from_le_bytes([symbol; 8]);
            let code = u16::from(code_of(symbol) & 3);
            let expected = (0..8).fold(0u16, |acc, i| acc | (code << (2 * i)));
            assert_eq!(pack_eight(eight), expected, "{}", symbol as char);
        }
        assert_eq!(
            pack_eight(u64::from_le_bytes(*b"ACGTTGCA")),
            0b00_01_10_11_11_10_01_00
        );
    }

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
