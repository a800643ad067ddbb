//! Masked-LM pretraining data from genome records: windows cut end to end, the last 2%
//! held out for the evaluation loss, each side encoded as rows of one width.

use dnalm_seq::window::{slice_windows, WindowSpec};
use dnalm_seq::SeqRecord;
use dnalm_tokenize::Tokenizer;

use crate::error::{NnError, Result};
use crate::token_rows::TokenRows;

/// The training and held-out rows.
pub struct PretrainingRows {
    /// Rows to train on.
    pub train: TokenRows,
    /// The last 2% of the windows (at least one), as wide as the training rows.
    pub held_out: TokenRows,
}

impl PretrainingRows {
    /// Windows of `window_nt` nucleotides cut end to end from the records (those with a
    /// larger share of N than `max_n_fraction` skipped), encoded by `tokenizer` into
    /// rows at most `max_width` tokens wide.
    pub fn from_genome(
        records: &[SeqRecord],
        window_nt: usize,
        max_n_fraction: f64,
        tokenizer: &dyn Tokenizer,
        max_width: usize,
    ) -> Result<Self> {
        let spec = WindowSpec {
            len: window_nt,
            stride: window_nt,
            max_n_fraction,
        };
        let windows = slice_windows(records.iter().map(|r| &r.seq[..]), &spec)?;
        let held_out_count = (windows.len() / 50).max(1);
        if windows.len() <= held_out_count {
            return Err(NnError::Unsupported(format!(
                "only {} windows of {window_nt} nt: too little data to hold out 2% for \
                 evaluation",
                windows.len()
            )));
        }
        let (fit, held_out) = windows.split_at(windows.len() - held_out_count);
        let train = TokenRows::encode(tokenizer, fit.iter().copied(), max_width);
        let held_out = TokenRows::encode(tokenizer, held_out.iter().copied(), train.width);
        Ok(Self { train, held_out })
    }
}
