//! A BERT-style encoder over any fixed tokenizer: token embedding, a stack of
//! [`TransformerLayer`]s (pre-LayerNorm, RoPE, SwiGLU, no biases: the block MxDNA uses)
//! attending in both directions with padding masked out, and a final LayerNorm.
//!
//! Sequences in a batch are right-padded; `lengths` gives the real tokens of each, so
//! padded keys are never attended to and real positions do not depend on the padding.
//!
//! Parameter names: `embedding.weight`, `layers.N.` + the block's names, `norm.{weight,bias}`.

use candle_core::{Device, Result, Tensor};

use dnalm_tokenize::Tokenizer;

use crate::embedding::{EmbedOptions, EmbeddingStates};
use crate::error::NnError;
use crate::heads::{pool, Pooling};
use crate::layer_norm::LayerNorm;
use crate::masked_lm::row_lengths;
use crate::params::ParamStore;
use crate::rope::Rope;
use crate::token_rows::TokenRows;
use crate::transformer_layer::{AttentionMask, TransformerConfig, TransformerLayer};

/// Sizes of a encoder.
pub type EncoderConfig = TransformerConfig;

/// The encoder.
pub struct Encoder {
    config: EncoderConfig,
    embedding: Tensor,
    layers: Vec<TransformerLayer>,
    norm: LayerNorm,
}

impl Encoder {
    /// A freshly initialised encoder, its parameters registered in `params`: weights
    /// N(0, 0.02), residual-stream projections scaled by `1/sqrt(2 layers)`.
    pub fn new(config: EncoderConfig, params: &mut ParamStore) -> Result<Self> {
        config.check().map_err(candle_core::Error::Msg)?;
        let std = 0.02;
        let residual_std = std / (2.0 * config.num_layers as f64).sqrt();
        let embedding = params.normal(
            "embedding.weight",
            &[config.vocab_size, config.d_model],
            std,
        )?;
        let layers = (0..config.num_layers)
            .map(|layer| {
                TransformerLayer::new(
                    params,
                    &format!("layers.{layer}."),
                    config.layer_sizes(),
                    std,
                    residual_std,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let norm = LayerNorm::new(params, "norm", config.d_model, config.norm_eps)?;
        Ok(Self {
            config,
            embedding,
            layers,
            norm,
        })
    }

    /// The sizes.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// Hidden states `(B, T, d_model)` for right-padded token ids `(B, T)` (u32) whose
    /// real lengths are `lengths`.
    pub fn forward(&self, ids: &Tensor, lengths: &[usize]) -> Result<Tensor> {
        let (batch, steps) = ids.dims2()?;
        let device: &Device = ids.device();
        let rope = Rope::new(
            steps,
            self.config.layer_sizes().head_dim(),
            self.config.rope_theta,
            device,
        )?;
        let mask = AttentionMask {
            causal: false,
            lengths: Some(lengths),
        };
        let mut x = self
            .embedding
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((batch, steps, self.config.d_model))?;
        for layer in &self.layers {
            x = layer.forward(&x, &rope, mask)?;
        }
        self.norm.forward(&x)
    }

    /// One vector per sequence `(B, d_model)`: the final states pooled (the `[CLS]`
    /// state, or the mean over the real tokens).
    pub fn embed(&self, ids: &Tensor, lengths: &[usize], pooling: Pooling) -> Result<Tensor> {
        pool(&self.forward(ids, lengths)?, lengths, pooling)
    }

    /// Embeddings of normalised sequences under `tokenizer` (what
    /// [`crate::embedding::SequenceEmbedder`] asks of a BERT-style model); the encoder
    /// has token states only.
    pub fn embed_sequences(
        &self,
        tokenizer: &dyn Tokenizer,
        sequences: &[&[u8]],
        options: &EmbedOptions,
    ) -> crate::Result<Tensor> {
        if options.states != EmbeddingStates::Tokens {
            return Err(NnError::Unsupported(
                "a BERT-style encoder has token states only (nucleotide-level states are \
                 MxDNA's)"
                    .into(),
            ));
        }
        let rows = TokenRows::encode(tokenizer, sequences.iter().copied(), options.max_tokens);
        let device = self.embedding.device();
        let ids = Tensor::from_vec(rows.ids, (sequences.len(), rows.width), device)?;
        let lengths = row_lengths(&ids)?;
        Ok(self.embed(&ids, &lengths, options.pooling)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> (Encoder, ParamStore) {
        let config = EncoderConfig {
            vocab_size: 9,
            d_model: 8,
            num_layers: 2,
            num_heads: 2,
            ffn_dim: 12,
            rope_theta: 10000.0,
            norm_eps: 1e-5,
        };
        let mut params = ParamStore::new(3, &Device::Cpu);
        (Encoder::new(config, &mut params).unwrap(), params)
    }

    #[test]
    fn padding_does_not_change_real_positions() {
        let (encoder, _) = tiny();
        let short = Tensor::new(&[[2u32, 5, 6, 7, 3]], &Device::Cpu).unwrap();
        let padded = Tensor::new(
            &[[2u32, 5, 6, 7, 3, 0, 0], [2, 8, 8, 5, 6, 7, 3]],
            &Device::Cpu,
        )
        .unwrap();
        let alone = encoder.forward(&short, &[5]).unwrap();
        let batched = encoder.forward(&padded, &[5, 7]).unwrap();
        let a: Vec<f32> = alone.flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = batched
            .get(0)
            .unwrap()
            .narrow(0, 0, 5)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-5, "padding changed real positions by {worst}");
    }

    #[test]
    fn every_position_sees_the_whole_sequence() {
        let (encoder, _) = tiny();
        let a = Tensor::new(&[[2u32, 5, 6, 7, 3]], &Device::Cpu).unwrap();
        let b = Tensor::new(&[[2u32, 5, 6, 8, 3]], &Device::Cpu).unwrap();
        let first = |t: &Tensor| -> Vec<f32> {
            let out = encoder.forward(t, &[5]).unwrap();
            out.get(0).unwrap().get(0).unwrap().to_vec1().unwrap()
        };
        assert_ne!(first(&a), first(&b), "position 0 must see position 3");
    }
}
