//! What [`crate::model::MxDnaEncoder::encode`] takes besides its weights: right-padded
//! single-nucleotide ids, each row's real length, and which positions are `[CLS]` or
//! `[SEP]`.

use candle_core::{Device, Result, Tensor};
use dnalm_nn::masked_lm::row_lengths;
use dnalm_nn::token_rows::TokenRows;
use dnalm_tokenize::{special, NucleotideTokenizer};

/// One batch of encoder inputs.
pub struct EncoderInput {
    /// Token ids `(B, L)`: `[CLS] nucleotides [SEP]`, then `[PAD]`.
    pub ids: Tensor,
    /// Real length of each row, `[CLS]` and `[SEP]` included.
    pub lengths: Vec<usize>,
    /// `special[b * L + p]`: position `p` of row `b` is `[CLS]` or `[SEP]`.
    pub special: Vec<bool>,
}

impl EncoderInput {
    /// Inputs from rows of ids `(B, L)` already encoded.
    pub fn from_rows(rows: &Tensor) -> Result<Self> {
        let lengths = row_lengths(rows)?;
        let special = rows
            .flatten_all()?
            .to_vec1::<u32>()?
            .iter()
            .map(|&id| id == special::CLS || id == special::SEP)
            .collect();
        Ok(Self {
            ids: rows.clone(),
            lengths,
            special,
        })
    }

    /// Inputs for normalised sequences, at most `max_width` positions wide (longer ones
    /// are cut and closed by `[SEP]`).
    pub fn from_sequences(sequences: &[&[u8]], max_width: usize, device: &Device) -> Result<Self> {
        let TokenRows { ids, width } =
            TokenRows::encode(&NucleotideTokenizer, sequences.iter().copied(), max_width);
        Self::from_rows(&Tensor::from_vec(ids, (sequences.len(), width), device)?)
    }
}
