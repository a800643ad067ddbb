//! One vector per sequence from any encoder (the BERT-style encoders, MxDNA, and the
//! encoders inside fine-tuned models), written once against [`SequenceEmbedder`].

use candle_core::{Device, Tensor};

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
        // Each batch's vectors come to the host at once (a GPU keeps no results).
        parts.push(model.embed_batch(chunk, options)?.to_device(&Device::Cpu)?);
        on_progress(chunk.len() as u64);
    }
    if parts.is_empty() {
        return Ok(Tensor::zeros(
            (0, model.embedding_dim()),
            candle_core::DType::F32,
            &Device::Cpu,
        )?);
    }
    Ok(Tensor::cat(&parts, 0)?)
}

/// Embeddings `(N, embedding_dim)` of sequences of any length: each is cut into
/// consecutive pieces of at most `piece_nt` nucleotides, the pieces are embedded
/// `batch_size` per forward pass, and a sequence's embedding is the mean of its pieces'
/// weighted by their nucleotides (for mean pooling over single-nucleotide tokens, the
/// mean over all its positions but for the pieces' edges). `on_progress(n)` after each
/// batch of `n` pieces.
pub fn embed_in_pieces(
    model: &dyn SequenceEmbedder,
    sequences: &[&[u8]],
    piece_nt: usize,
    options: &EmbedOptions,
    batch_size: usize,
    on_progress: &dyn Fn(u64),
) -> Result<Tensor> {
    let pieces: Vec<(usize, &[u8])> = sequences
        .iter()
        .enumerate()
        .flat_map(|(index, seq)| seq.chunks(piece_nt.max(1)).map(move |piece| (index, piece)))
        .collect();
    let dim = model.embedding_dim();
    let mut sums = vec![0f64; sequences.len() * dim];
    for chunk in pieces.chunks(batch_size.max(1)) {
        let seqs: Vec<&[u8]> = chunk.iter().map(|(_, piece)| *piece).collect();
        let embedded: Vec<Vec<f32>> = model.embed_batch(&seqs, options)?.to_vec2()?;
        for ((index, piece), row) in chunk.iter().zip(embedded) {
            let weight = piece.len() as f64 / sequences[*index].len() as f64;
            for (sum, value) in sums[index * dim..(index + 1) * dim].iter_mut().zip(row) {
                *sum += weight * f64::from(value);
            }
        }
        on_progress(chunk.len() as u64);
    }
    let values: Vec<f32> = sums.into_iter().map(|v| v as f32).collect();
    Ok(Tensor::from_vec(
        values,
        (sequences.len(), dim),
        &Device::Cpu,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An embedder whose vector of a sequence is (its length, the count of `A`) / 10.
    struct Counts;

    impl SequenceEmbedder for Counts {
        fn embedding_dim(&self) -> usize {
            2
        }

        fn embed_batch(&self, sequences: &[&[u8]], _: &EmbedOptions) -> Result<Tensor> {
            let values: Vec<f32> = sequences
                .iter()
                .flat_map(|s| {
                    let a = s.iter().filter(|&&b| b == b'A').count();
                    [s.len() as f32 / 10.0, a as f32 / 10.0]
                })
                .collect();
            Ok(Tensor::from_vec(
                values,
                (sequences.len(), 2),
                &Device::Cpu,
            )?)
        }
    }

    #[test]
    fn long_sequences_are_the_length_weighted_mean_of_their_pieces() {
        let options = EmbedOptions {
            pooling: Pooling::Mean,
            states: EmbeddingStates::Tokens,
            max_tokens: 8,
        };
        // AAAACC | CC: pieces of 6 and 2; the short one is one piece.
        let seqs: [&[u8]; 2] = [b"AAAACCCC", b"GATTA"];
        let got: Vec<Vec<f32>> = embed_in_pieces(&Counts, &seqs, 6, &options, 2, &|_| ())
            .unwrap()
            .to_vec2()
            .unwrap();
        let first = [(6.0 * 0.6 + 2.0 * 0.2) / 8.0, (6.0 * 0.4 + 2.0 * 0.0) / 8.0];
        assert!((got[0][0] - first[0]).abs() < 1e-6 && (got[0][1] - first[1]).abs() < 1e-6);
        assert_eq!(got[1], [0.5, 0.2]);
    }
}
