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
}
