//! MxDNA embeddings: the final states over the learnt tokens (mean or `[CLS]`), or
//! the nucleotide-level states the tokenization layer starts from.

use candle_core::Tensor;
use dnalm_nn::embedding::{EmbedOptions, EmbeddingStates};
use dnalm_nn::heads::pool;

use crate::encoder_input::EncoderInput;
use crate::model::MxDnaEncoder;

impl MxDnaEncoder {
    /// Embeddings `(B, hidden_size)` of normalised sequences: `Tokens` pools the final
    /// token states (after the final LayerNorm) over each sequence's learnt tokens,
    /// `[CLS]` and `[SEP]` included as the reference's token sequence has them;
    /// `Nucleotides` pools the states after the nucleotide layers over `[CLS]`,
    /// nucleotides and `[SEP]`.
    pub fn embed_sequences(
        &self,
        sequences: &[&[u8]],
        options: &EmbedOptions,
    ) -> candle_core::Result<Tensor> {
        let input = EncoderInput::from_sequences(sequences, options.max_tokens, self.device())?;
        let encoded = self.encode(&input.ids, &input.lengths, &input.special, None)?;
        match options.states {
            EmbeddingStates::Tokens => pool(
                &encoded.token_states,
                &encoded.tokenized.token_lengths,
                options.pooling,
            ),
            EmbeddingStates::Nucleotides => {
                pool(&encoded.nucleotide_states, &input.lengths, options.pooling)
            }
        }
    }
}
