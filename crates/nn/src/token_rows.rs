//! Encoder inputs: sequences as right-padded rows of token ids, `[CLS] tokens [SEP]`
//! then `[PAD]`s, as wide as the longest encoding (up to a cap).

use dnalm_tokenize::{special, Tokenizer};

/// Rows of token ids, all `width` wide, flattened row after row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRows {
    /// The ids, `rows * width` of them.
    pub ids: Vec<u32>,
    /// Tokens per row, `[CLS]`, `[SEP]` and padding included.
    pub width: usize,
}

impl TokenRows {
    /// Encodes `sequences`; rows are as wide as the longest encoding but at most
    /// `max_width` tokens (longer encodings are cut to `max_width - 1` tokens and
    /// closed by `[SEP]`).
    pub fn encode<'a>(
        tokenizer: &dyn Tokenizer,
        sequences: impl Iterator<Item = &'a [u8]>,
        max_width: usize,
    ) -> Self {
        let encoded: Vec<Vec<u32>> = sequences
            .map(|seq| tokenizer.encode_with_special(seq).ids)
            .collect();
        let longest = encoded.iter().map(Vec::len).max().unwrap_or(0);
        let width = longest.min(max_width.max(2));
        let mut ids = Vec::with_capacity(encoded.len() * width);
        for mut row in encoded {
            if row.len() > width {
                row.truncate(width - 1);
                row.push(special::SEP);
            }
            row.resize(width, special::PAD);
            ids.extend(row);
        }
        Self { ids, width }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len().checked_div(self.width).unwrap_or(0)
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use dnalm_tokenize::NucleotideTokenizer;

    use super::*;

    #[test]
    fn rows_are_wrapped_padded_and_cut() {
        let seqs = [&b"ACG"[..], b"ACGTACGT"];
        let cut = TokenRows::encode(&NucleotideTokenizer, seqs.into_iter(), 6);
        assert_eq!(cut.width, 6);
        assert_eq!(cut.ids, vec![2, 5, 6, 7, 3, 0, 2, 5, 6, 7, 8, 3]);
        let fitted = TokenRows::encode(&NucleotideTokenizer, seqs.into_iter(), 100);
        assert_eq!(fitted.width, 10);
        assert_eq!(fitted.len(), 2);
        assert_eq!(&fitted.ids[..10], &[2, 5, 6, 7, 3, 0, 0, 0, 0, 0]);
    }
}
