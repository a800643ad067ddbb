//! A transformer decoder language model (the generative transformer of arXiv
//! 2307.10634, in today's form): pre-LayerNorm blocks with causal self-attention under
//! rotary position embeddings (RoPE) and a SwiGLU feed-forward, no biases in the
//! projections. Every piece is a composition of differentiable candle ops: the fused
//! layer-norm and softmax kernels have no backward (DESIGN.md, "candle traps").
//!
//! Parameter names: `embedding.weight`; per layer `layers.N.attention_norm.{weight,bias}`,
//! `layers.N.attention.{q,k,v,o}_proj.weight`, `layers.N.ffn_norm.{weight,bias}`,
//! `layers.N.feed_forward.{w1,w2,w3}.weight`; `norm.{weight,bias}`, `head.weight`.

use candle_core::{DType, Device, Result, Tensor, D};
use serde::{Deserialize, Serialize};

use crate::params::ParamStore;

/// Sizes of a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GptConfig {
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Model width.
    pub d_model: usize,
    /// Decoder blocks.
    pub num_layers: usize,
    /// Attention heads (`d_model` must divide by it, into an even head size).
    pub num_heads: usize,
    /// Hidden width of the SwiGLU feed-forward.
    pub ffn_dim: usize,
    /// RoPE base.
    pub rope_theta: f64,
    /// LayerNorm epsilon.
    pub norm_eps: f64,
}

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    fn new(params: &mut ParamStore, name: &str, width: usize, eps: f64) -> Result<Self> {
        Ok(Self {
            weight: params.ones(&format!("{name}.weight"), &[width])?,
            bias: params.zeros(&format!("{name}.bias"), &[width])?,
            eps,
        })
    }

    /// `(x - mean) / sqrt(var + eps) * weight + bias` over the last dimension.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let centred = x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?;
        let variance = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(variance + self.eps)?.sqrt()?)?;
        normed
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

struct Block {
    attention_norm: LayerNorm,
    q_proj: Tensor,
    k_proj: Tensor,
    v_proj: Tensor,
    o_proj: Tensor,
    ffn_norm: LayerNorm,
    w1: Tensor,
    w2: Tensor,
    w3: Tensor,
}

/// The decoder.
pub struct Gpt {
    config: GptConfig,
    params: ParamStore,
    embedding: Tensor,
    blocks: Vec<Block>,
    norm: LayerNorm,
    head: Tensor,
}

/// `x W^T` for `x` of any rank.
fn linear(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    x.broadcast_matmul(&weight.t()?)
}

/// Softmax over the last dimension, composed (the shift by the maximum is a constant
/// and carries no gradient).
fn softmax(x: &Tensor) -> Result<Tensor> {
    let shifted = x.broadcast_sub(&x.max_keepdim(D::Minus1)?.detach())?;
    let exp = shifted.exp()?;
    exp.broadcast_div(&exp.sum_keepdim(D::Minus1)?)
}

impl Gpt {
    /// A freshly initialised decoder: weights N(0, 0.02), the projections that write
    /// into the residual stream (`o_proj`, `w2`) scaled by `1/sqrt(2 layers)` (GPT-2),
    /// norms at identity.
    pub fn new(config: GptConfig, seed: u64, device: &Device) -> Result<Self> {
        let GptConfig {
            vocab_size,
            d_model,
            num_layers,
            num_heads,
            ffn_dim,
            norm_eps,
            ..
        } = config;
        if num_heads == 0 || d_model % num_heads != 0 || (d_model / num_heads) % 2 != 0 {
            candle_core::bail!("d_model {d_model} must split into {num_heads} heads of even size");
        }
        let mut params = ParamStore::new(seed, device);
        let std = 0.02;
        let residual_std = std / (2.0 * num_layers as f64).sqrt();
        let embedding = params.normal("embedding.weight", &[vocab_size, d_model], std)?;
        let mut blocks = Vec::with_capacity(num_layers);
        for layer in 0..num_layers {
            let name = |part: &str| format!("layers.{layer}.{part}");
            blocks.push(Block {
                attention_norm: LayerNorm::new(
                    &mut params,
                    &name("attention_norm"),
                    d_model,
                    norm_eps,
                )?,
                q_proj: params.normal(
                    &name("attention.q_proj.weight"),
                    &[d_model, d_model],
                    std,
                )?,
                k_proj: params.normal(
                    &name("attention.k_proj.weight"),
                    &[d_model, d_model],
                    std,
                )?,
                v_proj: params.normal(
                    &name("attention.v_proj.weight"),
                    &[d_model, d_model],
                    std,
                )?,
                o_proj: params.normal(
                    &name("attention.o_proj.weight"),
                    &[d_model, d_model],
                    residual_std,
                )?,
                ffn_norm: LayerNorm::new(&mut params, &name("ffn_norm"), d_model, norm_eps)?,
                w1: params.normal(&name("feed_forward.w1.weight"), &[ffn_dim, d_model], std)?,
                w2: params.normal(
                    &name("feed_forward.w2.weight"),
                    &[d_model, ffn_dim],
                    residual_std,
                )?,
                w3: params.normal(&name("feed_forward.w3.weight"), &[ffn_dim, d_model], std)?,
            });
        }
        let norm = LayerNorm::new(&mut params, "norm", d_model, norm_eps)?;
        let head = params.normal("head.weight", &[vocab_size, d_model], std)?;
        Ok(Self {
            config,
            params,
            embedding,
            blocks,
            norm,
            head,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// RoPE tables `(T, head_dim / 2)` of cosines and sines for positions `0..steps`.
    fn rope_tables(&self, steps: usize, device: &Device) -> Result<(Tensor, Tensor)> {
        let half = self.config.d_model / self.config.num_heads / 2;
        let inverse: Vec<f32> = (0..half)
            .map(|i| {
                (1.0 / self
                    .config
                    .rope_theta
                    .powf(2.0 * i as f64 / (2 * half) as f64)) as f32
            })
            .collect();
        let inverse = Tensor::from_vec(inverse, (1, half), device)?;
        let positions = Tensor::arange(0u32, steps as u32, device)?
            .to_dtype(DType::F32)?
            .reshape((steps, 1))?;
        let angles = positions.broadcast_mul(&inverse)?;
        Ok((angles.cos()?, angles.sin()?))
    }

    /// Rotates `(B, H, T, hd)` by position: the two halves of each head are rotated as
    /// pairs `(x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin)`.
    fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        let half = x.dim(D::Minus1)? / 2;
        let x1 = x.narrow(D::Minus1, 0, half)?;
        let x2 = x.narrow(D::Minus1, half, half)?;
        let rotated_1 = (x1.broadcast_mul(cos)? - x2.broadcast_mul(sin)?)?;
        let rotated_2 = (x2.broadcast_mul(cos)? + x1.broadcast_mul(sin)?)?;
        Tensor::cat(&[rotated_1, rotated_2], D::Minus1)
    }

    /// Next-token logits `(B, T, V)` for token ids `(B, T)` (u32); position t sees
    /// tokens 0..=t only.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (batch, steps) = ids.dims2()?;
        let device = ids.device();
        let GptConfig {
            d_model,
            num_heads,
            vocab_size,
            ..
        } = self.config;
        let head_dim = d_model / num_heads;
        let (cos, sin) = self.rope_tables(steps, device)?;
        let mask: Vec<f32> = (0..steps * steps)
            .map(|k| {
                if k % steps > k / steps {
                    f32::NEG_INFINITY
                } else {
                    0.0
                }
            })
            .collect();
        let mask = Tensor::from_vec(mask, (steps, steps), device)?;
        let mut x = self
            .embedding
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((batch, steps, d_model))?;
        for block in &self.blocks {
            let h = block.attention_norm.forward(&x)?;
            let heads = |weight: &Tensor| -> Result<Tensor> {
                linear(&h, weight)?
                    .reshape((batch, steps, num_heads, head_dim))?
                    .transpose(1, 2)?
                    .contiguous()
            };
            let q = Self::rope(&heads(&block.q_proj)?, &cos, &sin)?;
            let k = Self::rope(&heads(&block.k_proj)?, &cos, &sin)?;
            let v = heads(&block.v_proj)?;
            let scores = (q.matmul(&k.t()?.contiguous()?)? / (head_dim as f64).sqrt())?
                .broadcast_add(&mask)?;
            let attended = softmax(&scores)?.matmul(&v)?;
            let merged = attended
                .transpose(1, 2)?
                .contiguous()?
                .reshape((batch, steps, d_model))?;
            x = (x + linear(&merged, &block.o_proj)?)?;
            let h = block.ffn_norm.forward(&x)?;
            let gated = (linear(&h, &block.w1)?.silu()? * linear(&h, &block.w3)?)?;
            x = (x + linear(&gated, &block.w2)?)?;
        }
        let logits = linear(&self.norm.forward(&x)?, &self.head)?;
        logits.reshape((batch, steps, vocab_size))
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn rope_rotation_preserves_norms_and_relative_positions() {
        let model = tiny();
        let (cos, sin) = model.rope_tables(5, &Device::Cpu).unwrap();
        let x = Tensor::new(&[1.0f32, 2.0, -0.5, 0.25], &Device::Cpu)
            .unwrap()
            .reshape((1, 1, 1, 4))
            .unwrap()
            .repeat((1, 1, 5, 1))
            .unwrap();
        let rotated = Gpt::rope(&x, &cos, &sin).unwrap();
        let norms: Vec<f32> = rotated
            .sqr()
            .unwrap()
            .sum(D::Minus1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!(norms.iter().all(|n| (n - 5.3125).abs() < 1e-4), "{norms:?}");
        // q·k depends only on the distance between positions.
        let dot = |a: usize, b: usize| {
            let qa = rotated.get(0).unwrap().get(0).unwrap().get(a).unwrap();
            let kb = rotated.get(0).unwrap().get(0).unwrap().get(b).unwrap();
            (qa * kb)
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        assert!((dot(0, 2) - dot(2, 4)).abs() < 1e-4);
    }
}
