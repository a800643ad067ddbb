//! The learnt tokens of a sequence, in sequence coordinates: what an MxDNA encoder
//! (pretrained or inside a fine-tuned classifier) cut it into, and which expert made
//! each unit.

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
