//! The learnt tokens of a sequence, in sequence coordinates: what an MxDNA encoder
//! (pretrained or inside a fine-tuned classifier) cut it into, and which expert made
//! each unit.

use dnalm_seq::SeqRecord;
use serde::Serialize;

use crate::encoder_input::EncoderInput;
use crate::model::MxDnaEncoder;

/// One learnt token of a sequence, in sequence coordinates (0 = first nucleotide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LearntToken {
    /// First nucleotide of the unit.
    pub start: usize,
    /// One past its last nucleotide.
    pub end: usize,
    /// The expert that made it (its unit length is the expert's kernel size).
    pub expert: usize,
}

/// A sequence's learnt tokens and the nucleotides no unit covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LearntTokens {
    /// Units in order.
    pub tokens: Vec<LearntToken>,
    /// Nucleotides left outside every unit.
    pub uncovered: usize,
}

/// A model with an MxDNA encoder, which learns its own tokens.
pub trait LearntTokenizer: Sync {
    /// The encoder.
    fn mxdna_encoder(&self) -> &MxDnaEncoder;

    /// The learnt tokens of each normalised sequence (no masking, no router noise);
    /// sequences longer than `max_width - 2` nucleotides are cut.
    fn learnt_tokens(
        &self,
        sequences: &[&[u8]],
        max_width: usize,
    ) -> candle_core::Result<Vec<LearntTokens>> {
        let encoder = self.mxdna_encoder();
        let input = EncoderInput::from_sequences(sequences, max_width, encoder.device())?;
        let width = input.ids.dim(1)?;
        let encoded = encoder.encode(&input.ids, &input.lengths, &input.special, None)?;
        let units = &encoded.tokenized.units;
        let kernels = &encoder.config().expert_kernel_sizes;
        Ok(input
            .lengths
            .iter()
            .enumerate()
            .map(|(b, &length)| {
                let row = b * width;
                let tokens: Vec<LearntToken> = (1..length.saturating_sub(1))
                    .filter(|&p| units.centre[row + p] >= 0)
                    .map(|p| {
                        let expert = units.centre[row + p] as usize;
                        let k = kernels[expert];
                        // Row position p is nucleotide p - 1 (after [CLS]).
                        let start = p - k / 2 - 1;
                        LearntToken {
                            start,
                            end: start + k,
                            expert,
                        }
                    })
                    .collect();
                let covered: usize = tokens.iter().map(|t| t.end - t.start).sum();
                LearntTokens {
                    uncovered: length.saturating_sub(2) - covered,
                    tokens,
                }
            })
            .collect())
    }
}

/// One window of a record and its learnt tokens.
pub struct TokenizedWindow {
    /// The record id, with the window's 1-based span when the record was cut.
    pub name: String,
    /// Its nucleotides.
    pub sequence: Vec<u8>,
    /// What the model made of them.
    pub learnt: LearntTokens,
}

/// Cuts the records into windows of `window_nt` nucleotides end to end (the first
/// `max_windows`, 0 for all), each tokenized as the model was trained, `batch_size`
/// windows per forward pass; `on_progress(n, total)` after each batch of `n` of the
/// `total` windows.
pub fn tokenize_windows(
    model: &dyn LearntTokenizer,
    records: &[SeqRecord],
    window_nt: usize,
    batch_size: usize,
    max_windows: usize,
    on_progress: &dyn Fn(u64, u64),
) -> candle_core::Result<Vec<TokenizedWindow>> {
    let window_nt = window_nt.max(1);
    let mut pieces: Vec<(String, &[u8])> = Vec::new();
    for record in records {
        for (i, piece) in record.seq.chunks(window_nt).enumerate() {
            let name = if record.seq.len() > window_nt {
                format!(
                    "{}:{}-{}",
                    record.id,
                    i * window_nt + 1,
                    i * window_nt + piece.len()
                )
            } else {
                record.id.clone()
            };
            pieces.push((name, piece));
        }
    }
    if max_windows > 0 {
        pieces.truncate(max_windows);
    }
    let mut windows = Vec::with_capacity(pieces.len());
    for batch in pieces.chunks(batch_size.max(1)) {
        let sequences: Vec<&[u8]> = batch.iter().map(|(_, s)| *s).collect();
        let learnt = model.learnt_tokens(&sequences, window_nt + 2)?;
        for ((name, sequence), learnt) in batch.iter().zip(learnt) {
            windows.push(TokenizedWindow {
                name: name.clone(),
                sequence: sequence.to_vec(),
                learnt,
            });
        }
        on_progress(batch.len() as u64, pieces.len() as u64);
    }
    Ok(windows)
}

/// Learnt tokens by length over the windows (index = length in nucleotides, from 0 to
/// the model's longest unit).
pub fn length_counts(model: &dyn LearntTokenizer, windows: &[TokenizedWindow]) -> Vec<u64> {
    let longest = model
        .mxdna_encoder()
        .config()
        .expert_kernel_sizes
        .iter()
        .copied()
        .max()
        .unwrap_or(1);
    let mut counts = vec![0u64; longest + 1];
    for window in windows {
        for token in &window.learnt.tokens {
            counts[token.end - token.start] += 1;
        }
    }
    counts
}
