//! The result of tokenizing one sequence.

use std::ops::Range;

use crate::special;

/// Token ids and, for each token, the nucleotides it covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoding {
    /// Token ids.
    pub ids: Vec<u32>,
    /// Half-open nucleotide span of each token; special tokens get an empty span at the
    /// position where they stand.
    pub spans: Vec<Range<usize>>,
}

impl Encoding {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Appends one token.
    pub fn push(&mut self, id: u32, span: Range<usize>) {
        self.ids.push(id);
        self.spans.push(span);
    }

    /// Wraps the tokens in `[CLS] ... [SEP]`.
    pub fn with_cls_sep(self, seq_len: usize) -> Self {
        let mut out = Encoding {
            ids: Vec::with_capacity(self.ids.len() + 2),
            spans: Vec::with_capacity(self.ids.len() + 2),
        };
        out.push(special::CLS, 0..0);
        out.ids.extend(self.ids);
        out.spans.extend(self.spans);
        out.push(special::SEP, seq_len..seq_len);
        out
    }

    /// Per-nucleotide values of a sequence of `seq_len` nucleotides from per-token ones
    /// (`token_values[i]` for token `i`; NaN where a token has none): each token's value
    /// is spread evenly over the nucleotides it adds to those of the tokens before it
    /// (its whole span for tiled k-mers and BPE, its last nucleotide for overlapping
    /// k-mers), so the values add up to the tokens'. Nucleotides no token adds are NaN.
    pub fn spread_over_nucleotides(&self, token_values: &[f64], seq_len: usize) -> Vec<f64> {
        let mut values = vec![f64::NAN; seq_len];
        let mut covered = 0;
        for (span, &value) in self.spans.iter().zip(token_values) {
            if span.is_empty() || value.is_nan() {
                continue;
            }
            let new = span.start.max(covered)..span.end.min(seq_len);
            if new.is_empty() {
                // Nothing new (a token inside earlier ones): its last nucleotide takes it.
                let last = &mut values[span.end.min(seq_len) - 1];
                *last = if last.is_nan() { value } else { *last + value };
                continue;
            }
            let share = value / new.len() as f64;
            values[new.clone()].fill(share);
            covered = new.end;
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoding(spans: &[Range<usize>]) -> Encoding {
        let mut encoding = Encoding::default();
        for span in spans {
            encoding.push(9, span.clone());
        }
        encoding
    }

    #[test]
    fn values_spread_over_the_nucleotides_each_token_adds() {
        // Tiled: a 3-mer's value over its 3 nucleotides; specials take nothing.
        let tiled = encoding(&[0..0, 0..3, 3..4, 4..4]);
        let values = tiled.spread_over_nucleotides(&[9.0, -3.0, -1.0, 5.0], 4);
        assert_eq!(values, [-1.0, -1.0, -1.0, -1.0]);
        // Overlapping 3-mers: the first token adds 3, each next one its last nucleotide.
        let overlapping = encoding(&[0..3, 1..4, 2..5]);
        let values = overlapping.spread_over_nucleotides(&[-6.0, -2.0, -0.5], 5);
        assert_eq!(values, [-2.0, -2.0, -2.0, -2.0, -0.5]);
        // A token without a value leaves its nucleotides NaN.
        let values = tiled.spread_over_nucleotides(&[0.0, f64::NAN, -1.0, 0.0], 4);
        assert!(values[..3].iter().all(|v| v.is_nan()) && values[3] == -1.0);
    }
}
