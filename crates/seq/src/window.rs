//! Fixed-length windows over the records of a corpus.

use std::ops::Range;

use crate::error::{Result, SeqError};
use crate::packed::{Corpus, PackedRecord};

/// How to cut windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSpec {
    /// Window length in nucleotides.
    pub len: usize,
    /// Distance between the starts of consecutive windows.
    pub stride: usize,
    /// Windows with a larger fraction of `N` than this are skipped.
    pub max_n_fraction: f64,
}

impl WindowSpec {
    /// Checks that the numbers make sense.
    pub fn validate(&self) -> Result<()> {
        if self.len == 0 || self.stride == 0 {
            return Err(SeqError::InvalidParameter(format!(
                "window length and stride must be positive (got {} and {})",
                self.len, self.stride
            )));
        }
        if !(0.0..=1.0).contains(&self.max_n_fraction) {
            return Err(SeqError::InvalidParameter(format!(
                "max N fraction must be within 0..=1 (got {})",
                self.max_n_fraction
            )));
        }
        Ok(())
    }
}

/// One window: `len` nucleotides of record `record` from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Index of the record in the corpus.
    pub record: usize,
    /// First nucleotide.
    pub start: usize,
    /// Length.
    pub len: usize,
}

impl Window {
    /// The window's positions in its record.
    pub fn range(&self) -> Range<usize> {
        self.start..self.start + self.len
    }
}

/// Every full-length window of `spec` that lies inside `region(record)` of its record
/// and is not mostly `N`. Windows start at `region.start` and advance by `stride`;
/// a tail shorter than `len` yields no window.
pub fn windows(
    corpus: &Corpus,
    spec: &WindowSpec,
    region: impl Fn(&PackedRecord) -> Range<usize>,
) -> Result<Vec<Window>> {
    spec.validate()?;
    let max_n = (spec.max_n_fraction * spec.len as f64).floor() as usize;
    let mut out = Vec::new();
    for (index, record) in corpus.records.iter().enumerate() {
        let allowed = region(record);
        let allowed = allowed.start..allowed.end.min(record.seq.len());
        let mut start = allowed.start;
        while start + spec.len <= allowed.end {
            if record.seq.n_count(start..start + spec.len) <= max_n {
                out.push(Window {
                    record: index,
                    start,
                    len: spec.len,
                });
            }
            start += spec.stride;
        }
    }
    Ok(out)
}

/// Windows of `spec` cut from in-memory sequences (`A C G T N`), skipping those with
/// too many `N`; the same rule as [`windows`], for data not packed into a corpus.
pub fn slice_windows<'a>(
    sequences: impl Iterator<Item = &'a [u8]>,
    spec: &WindowSpec,
) -> Result<Vec<&'a [u8]>> {
    spec.validate()?;
    let max_n = (spec.max_n_fraction * spec.len as f64).floor() as usize;
    let mut out = Vec::new();
    for seq in sequences {
        let mut start = 0;
        while start + spec.len <= seq.len() {
            let window = &seq[start..start + spec.len];
            if window.iter().filter(|&&b| b == b'N').count() <= max_n {
                out.push(window);
            }
            start += spec.stride;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packed::PackedSeq;

    fn corpus(seqs: &[&[u8]]) -> Corpus {
        Corpus {
            records: seqs
                .iter()
                .enumerate()
                .map(|(i, seq)| PackedRecord {
                    id: format!("r{i}"),
                    seq: PackedSeq::from_normalized(seq),
                })
                .collect(),
        }
    }

    #[test]
    fn strided_windows_skip_mostly_n_and_short_tails() {
        let corpus = corpus(&[b"NNNNACGTACGTAC", b"ACG"]);
        let spec = WindowSpec {
            len: 4,
            stride: 2,
            max_n_fraction: 0.5,
        };
        let found = windows(&corpus, &spec, |record| 0..record.seq.len()).unwrap();
        let starts: Vec<usize> = found.iter().map(|w| w.start).collect();
        // 0..4 is all N (skipped); 2..6 is half N (kept); tail 12..14 too short.
        assert_eq!(starts, [2, 4, 6, 8, 10]);
        assert!(found.iter().all(|w| w.record == 0));
    }

    #[test]
    fn windows_stay_inside_the_region() {
        let corpus = corpus(&[b"ACGTACGTACGT"]);
        let spec = WindowSpec {
            len: 3,
            stride: 3,
            max_n_fraction: 0.0,
        };
        let found = windows(&corpus, &spec, |_| 2..9).unwrap();
        assert_eq!(
            found.iter().map(|w| w.range()).collect::<Vec<_>>(),
            [2..5, 5..8]
        );
        let bad = WindowSpec {
            len: 0,
            stride: 1,
            max_n_fraction: 0.0,
        };
        assert!(windows(&corpus, &bad, |_| 0..1).is_err());
    }

    #[test]
    fn slice_windows_skip_n_and_tails() {
        let spec = WindowSpec {
            len: 4,
            stride: 4,
            max_n_fraction: 0.25,
        };
        let seqs: [&[u8]; 2] = [b"ACGTNNACGTAC", b"ACG"];
        let got = slice_windows(seqs.into_iter(), &spec).unwrap();
        assert_eq!(got, vec![&b"ACGT"[..], b"GTAC"]);
    }
}
