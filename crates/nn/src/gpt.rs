//! A transformer decoder language model (the generative transformer of arXiv
//! 2307.10634, in today's form): a stack of [`TransformerLayer`]s (pre-LayerNorm,
//! RoPE, SwiGLU, no biases) under a causal mask, then a final LayerNorm and a linear
//! head.
//!
//! Parameter names: `embedding.weight`; per layer `layers.N.` and the block's names
//! (see [`crate::transformer_layer`]); `norm.{weight,bias}`, `head.weight`.

use candle_core::{Device, Result, Tensor};

use crate::layer_norm::LayerNorm;
use crate::linear_op::linear;
use crate::params::ParamStore;
use crate::rope::Rope;
use crate::transformer_layer::{AttentionMask, TransformerConfig, TransformerLayer};

/// Sizes of a decoder.
pub type GptConfig = TransformerConfig;

/// The decoder.
pub struct Gpt {
    config: GptConfig,
    params: ParamStore,
    embedding: Tensor,
    layers: Vec<TransformerLayer>,
    norm: LayerNorm,
    head: Tensor,
}

impl Gpt {
    /// A freshly initialised decoder: weights N(0, 0.02), the projections that write
    /// into the residual stream scaled by `1/sqrt(2 layers)` (GPT-2), norms at identity.
    pub fn new(config: GptConfig, seed: u64, device: &Device) -> Result<Self> {
        Self::on(config, ParamStore::new(seed, device))
    }

    /// The network on `params`: fresh, or a frozen store of given weights (see
    /// [`ParamStore::frozen`]).
    pub fn on(config: GptConfig, mut params: ParamStore) -> Result<Self> {
        config.check().map_err(candle_core::Error::Msg)?;
        let GptConfig {
            vocab_size,
            d_model,
            num_layers,
            norm_eps,
            ..
        } = config;
        let std = 0.02;
        let residual_std = std / (2.0 * num_layers as f64).sqrt();
        let embedding = params.normal("embedding.weight", &[vocab_size, d_model], std)?;
        let layers = (0..num_layers)
            .map(|layer| {
                TransformerLayer::new(
                    &mut params,
                    &format!("layers.{layer}."),
                    config.layer_sizes(),
                    std,
                    residual_std,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let norm = LayerNorm::new(&mut params, "norm", d_model, norm_eps)?;
        let head = params.normal("head.weight", &[vocab_size, d_model], std)?;
        Ok(Self {
            config,
            params,
            embedding,
            layers,
            norm,
            head,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// Next-token logits `(B, T, V)` for token ids `(B, T)` (u32); position t sees
    /// tokens 0..=t only.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (batch, steps) = ids.dims2()?;
        let GptConfig {
            d_model,
            vocab_size,
            rope_theta,
            ..
        } = self.config;
        let rope = Rope::new(
            steps,
            self.config.layer_sizes().head_dim(),
            rope_theta,
            ids.device(),
        )?;
        let mask = AttentionMask {
            causal: true,
            lengths: None,
        };
        let mut x = self
            .embedding
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((batch, steps, d_model))?;
        for layer in &self.layers {
            x = layer.forward(&x, &rope, mask)?;
        }
        let logits = linear(&self.norm.forward(&x)?, &self.head)?;
        logits.reshape((batch, steps, vocab_size))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::DType;

    use super::*;
    use crate::loss::masked_cross_entropy;

    fn tiny() -> Gpt {
        let config = GptConfig {
            vocab_size: 9,
            d_model: 8,
            num_layers: 2,
            num_heads: 2,
            ffn_dim: 12,
            rope_theta: 10000.0,
            norm_eps: 1e-5,
        };
        Gpt::new(config, 7, &Device::Cpu).unwrap()
    }

    fn ids(values: &[u32]) -> Tensor {
        Tensor::new(values, &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap()
    }

    #[test]
    fn positions_only_see_the_past() {
        let model = tiny();
        let a = model.forward(&ids(&[2, 5, 6, 7, 8, 5])).unwrap();
        let b = model.forward(&ids(&[2, 5, 6, 8, 8, 6])).unwrap();
        let first = |t: &Tensor| {
            t.narrow(1, 0, 3)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        assert_eq!(
            first(&a),
            first(&b),
            "changing position 3 leaves positions 0..3 alone"
        );
        let later = |t: &Tensor| {
            t.narrow(1, 3, 1)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        assert_ne!(later(&a), later(&b));
    }

    #[test]
    fn every_parameter_gets_a_gradient_matching_finite_differences() {
        // Larger weights than the 0.02 initialisation, so every path matters.
        let model = tiny();
        for (_, var) in model.params().named_vars() {
            let scaled = (var.as_tensor() * 3.0).unwrap();
            let values: Vec<f32> = scaled.flatten_all().unwrap().to_vec1().unwrap();
            let noisy: Vec<f32> = values
                .iter()
                .enumerate()
                .map(|(i, v)| v + ((i * 13 % 7) as f32 - 3.0) * 0.05)
                .collect();
            var.set(&Tensor::from_vec(noisy, var.shape(), &Device::Cpu).unwrap())
                .unwrap();
        }
        let input = ids(&[2, 5, 6, 7, 8, 5, 6]);
        let targets = Tensor::new(&[5u32, 6, 7, 8, 5, 6, 3], &Device::Cpu).unwrap();
        let mask = Tensor::ones(7, DType::F32, &Device::Cpu).unwrap();
        let loss = || {
            let logits = model.forward(&input).unwrap().squeeze(0).unwrap();
            masked_cross_entropy(&logits, &targets, &mask).unwrap().0
        };
        let grads = loss().backward().unwrap();
        for (name, var) in model.params().named_vars() {
            let grad = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("{name} has no gradient"));
            let analytic: Vec<f32> = grad.flatten_all().unwrap().to_vec1().unwrap();
            let values: Vec<f32> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
            let index = (0..analytic.len())
                .max_by(|&a, &b| analytic[a].abs().total_cmp(&analytic[b].abs()))
                .unwrap();
            assert!(analytic[index].abs() > 1e-6, "{name}: all-zero gradient");
            let eps = 3e-3f32;
            let at = |delta: f32| {
                let mut copy = values.clone();
                copy[index] += delta;
                var.set(&Tensor::from_vec(copy, var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                let value = loss().to_scalar::<f32>().unwrap();
                var.set(&Tensor::from_vec(values.clone(), var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                value
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            let relative = (numeric - analytic[index]).abs() / analytic[index].abs().max(1e-3);
            assert!(
                relative < 0.03,
                "{name}[{index}]: numeric {numeric}, analytic {}",
                analytic[index]
            );
        }
    }
}
