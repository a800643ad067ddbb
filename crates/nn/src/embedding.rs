//! One vector per sequence from any encoder (the BERT-style encoders, MxDNA, and the
//! encoders inside fine-tuned models), written once against [`SequenceEmbedder`].

use candle_core::Tensor;

use crate::error::Result;
use crate::heads::Pooling;

/// Which states an embedding pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingStates {
    /// The encoder's final states over its tokens (for MxDNA: the learnt tokens).
    Tokens,
    /// MxDNA's nucleotide-level states, before its learnt tokenization.
    Nucleotides,
}

/// How to embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbedOptions {
    /// `[CLS]` state or mean over the real positions.
    pub pooling: Pooling,
    /// Which states are pooled.
    pub states: EmbeddingStates,
    /// Longest input in tokens, `[CLS]` and `[SEP]` included (longer ones are cut).
    pub max_tokens: usize,
}

/// An encoder that embeds sequences.
pub trait SequenceEmbedder: Sync {
    /// Values per embedding.
    fn embedding_dim(&self) -> usize;

    /// Embeddings `(B, embedding_dim)` (f32) of normalised sequences, one forward pass.
    fn embed_batch(&self, sequences: &[&[u8]], options: &EmbedOptions) -> Result<Tensor>;
}

/// Embeddings `(N, embedding_dim)` of all `sequences`, `batch_size` per forward pass;
/// `on_progress(n)` after each batch of `n`.
pub fn embed_all(
    model: &dyn SequenceEmbedder,
    sequences: &[&[u8]],
    options: &EmbedOptions,
    batch_size: usize,
    on_progress: &dyn Fn(u64),
) -> Result<Tensor> {
    let mut parts = Vec::with_capacity(sequences.len().div_ceil(batch_size.max(1)));
    for chunk in sequences.chunks(batch_size.max(1)) {
        parts.push(model.embed_batch(chunk, options)?);
        on_progress(chunk.len() as u64);
    }
    if parts.is_empty() {
        return Ok(Tensor::zeros(
            (0, model.embedding_dim()),
            candle_core::DType::F32,
            &candle_core::Device::Cpu,
        )?);
    }
    Ok(Tensor::cat(&parts, 0)?)
}
