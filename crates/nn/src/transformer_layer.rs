//! The transformer block every attention model here is built from (the MxDNA encoder
//! layer, also used by the BERT-style encoder and, with a causal mask, the decoder):
//! pre-LayerNorm self-attention under RoPE, then a pre-LayerNorm SwiGLU feed-forward
//! `w2(silu(w1 x) * w3 x)`, each added to the residual stream; no biases in the
//! projections. Attention, LayerNorm and the SwiGLU gate are our fused CPU ops.
//!
//! The same block with cross-attention ([`TransformerLayer::new_cross`]) is MxDNA's
//! decoder layer: queries from one sequence, keys and values from another, both
//! normalised by the one `input_layernorm`, each rotated by its own positions.
//!
//! Parameter names follow the MxDNA reference (`modeling_mxdna.py`), under a prefix:
//! `input_layernorm.norm.{weight,bias}`, `self_attn.projection_{q,k,v,o}.weight` (or
//! `cross_attn.`), `post_attention_layernorm.norm.{weight,bias}`,
//! `ffn.ffn.{w1,w2,w3}.weight`.

use candle_core::{Result, Tensor};
use serde::{Deserialize, Serialize};

use crate::attention_op::attention;
use crate::layer_norm::LayerNorm;
use crate::linear_op::linear;
use crate::params::ParamStore;
use crate::rope::{split_heads, Rope};
use crate::swiglu_op::swiglu;

/// Sizes of a stack of blocks with a token embedding (the decoder's and the
/// encoder's `config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TransformerConfig {
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Model width.
    pub d_model: usize,
    /// Blocks.
    pub num_layers: usize,
    /// Attention heads (`d_model` must split into them, into an even head size).
    pub num_heads: usize,
    /// Hidden width of the SwiGLU feed-forward.
    pub ffn_dim: usize,
    /// RoPE base.
    pub rope_theta: f64,
    /// LayerNorm epsilon.
    pub norm_eps: f64,
}

impl TransformerConfig {
    /// Checks every size against [`crate::size_limits`], the heads, and the parameter
    /// count they make, before anything is allocated.
    pub fn check(&self) -> std::result::Result<(), String> {
        use crate::size_limits::{parameters, size, MAX_LAYERS, MAX_VOCAB, MAX_WIDTH};
        size("vocab_size", self.vocab_size, MAX_VOCAB)?;
        size("d_model", self.d_model, MAX_WIDTH)?;
        size("ffn_dim", self.ffn_dim, MAX_WIDTH)?;
        size("num_layers", self.num_layers, MAX_LAYERS)?;
        self.layer_sizes().check().map_err(|err| err.to_string())?;
        let (v, d, f, l) = (
            self.vocab_size as u128,
            self.d_model as u128,
            self.ffn_dim as u128,
            self.num_layers as u128,
        );
        parameters(
            "the transformer",
            2 * v * d + l * (4 * d * d + 3 * d * f + 4 * d),
        )
    }

    /// Sizes of each block.
    pub fn layer_sizes(&self) -> LayerSizes {
        LayerSizes {
            d_model: self.d_model,
            num_heads: self.num_heads,
            ffn_dim: self.ffn_dim,
            norm_eps: self.norm_eps,
        }
    }
}

/// Sizes of one block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerSizes {
    /// Model width.
    pub d_model: usize,
    /// Attention heads (`d_model` must split into them, into an even head size).
    pub num_heads: usize,
    /// Hidden width of the SwiGLU feed-forward.
    pub ffn_dim: usize,
    /// LayerNorm epsilon.
    pub norm_eps: f64,
}

impl LayerSizes {
    /// Width of one head.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.num_heads
    }

    /// An error unless `d_model` splits into `num_heads` heads of even size.
    pub fn check(&self) -> Result<()> {
        let Self {
            d_model, num_heads, ..
        } = *self;
        if num_heads == 0 || d_model % num_heads != 0 || (d_model / num_heads) % 2 != 0 {
            candle_core::bail!("d_model {d_model} must split into {num_heads} heads of even size");
        }
        Ok(())
    }
}

/// How a block's attention is masked.
#[derive(Debug, Clone, Copy)]
pub struct AttentionMask<'a> {
    /// Each position sees only itself and earlier positions.
    pub causal: bool,
    /// Per sequence, the number of real (not padding) positions at the front.
    pub lengths: Option<&'a [usize]>,
}

/// One block (see the module documentation).
pub struct TransformerLayer {
    sizes: LayerSizes,
    input_layernorm: LayerNorm,
    projection_q: Tensor,
    projection_k: Tensor,
    projection_v: Tensor,
    projection_o: Tensor,
    post_attention_layernorm: LayerNorm,
    w1: Tensor,
    w2: Tensor,
    w3: Tensor,
}

impl TransformerLayer {
    /// A new block under `prefix` (with its trailing dot): weights N(0, `std`), the two
    /// projections that write into the residual stream (`projection_o`, `w2`) N(0,
    /// `residual_std`), norms at identity.
    pub fn new(
        params: &mut ParamStore,
        prefix: &str,
        sizes: LayerSizes,
        std: f64,
        residual_std: f64,
    ) -> Result<Self> {
        Self::build(params, prefix, "self_attn", sizes, (std, residual_std))
    }

    /// A new cross-attention block: as [`TransformerLayer::new`] with the attention
    /// projections under `cross_attn.`.
    pub fn new_cross(
        params: &mut ParamStore,
        prefix: &str,
        sizes: LayerSizes,
        std: f64,
        residual_std: f64,
    ) -> Result<Self> {
        Self::build(params, prefix, "cross_attn", sizes, (std, residual_std))
    }

    fn build(
        params: &mut ParamStore,
        prefix: &str,
        attention_name: &str,
        sizes: LayerSizes,
        (std, residual_std): (f64, f64),
    ) -> Result<Self> {
        sizes.check()?;
        let LayerSizes {
            d_model,
            ffn_dim,
            norm_eps,
            ..
        } = sizes;
        let name = |part: &str| format!("{prefix}{part}");
        let square = [d_model, d_model];
        Ok(Self {
            sizes,
            input_layernorm: LayerNorm::new(
                params,
                &name("input_layernorm.norm"),
                d_model,
                norm_eps,
            )?,
            projection_q: params.normal(
                &name(&format!("{attention_name}.projection_q.weight")),
                &square,
                std,
            )?,
            projection_k: params.normal(
                &name(&format!("{attention_name}.projection_k.weight")),
                &square,
                std,
            )?,
            projection_v: params.normal(
                &name(&format!("{attention_name}.projection_v.weight")),
                &square,
                std,
            )?,
            projection_o: params.normal(
                &name(&format!("{attention_name}.projection_o.weight")),
                &square,
                residual_std,
            )?,
            post_attention_layernorm: LayerNorm::new(
                params,
                &name("post_attention_layernorm.norm"),
                d_model,
                norm_eps,
            )?,
            w1: params.normal(&name("ffn.ffn.w1.weight"), &[ffn_dim, d_model], std)?,
            w2: params.normal(
                &name("ffn.ffn.w2.weight"),
                &[d_model, ffn_dim],
                residual_std,
            )?,
            w3: params.normal(&name("ffn.ffn.w3.weight"), &[ffn_dim, d_model], std)?,
        })
    }

    /// The block applied to `x` `(B, T, d_model)`.
    pub fn forward(&self, x: &Tensor, rope: &Rope, mask: AttentionMask<'_>) -> Result<Tensor> {
        let h = self.input_layernorm.forward(x)?;
        self.attend_then_feed_forward(x, (&h, rope), (&h, rope), mask)
    }

    /// The cross-attention block: `queries` `(B, Tq, d)` (the residual stream) attend
    /// to `keys` `(B, Tk, d)`, whose first `key_lengths[b]` rows are real; each side is
    /// rotated by its own positions `0..T` (`rope` covers the longer).
    pub fn forward_cross(
        &self,
        queries: &Tensor,
        keys: &Tensor,
        rope: &Rope,
        key_lengths: &[usize],
    ) -> Result<Tensor> {
        let hq = self.input_layernorm.forward(queries)?;
        let hk = self.input_layernorm.forward(keys)?;
        let mask = AttentionMask {
            causal: false,
            lengths: Some(key_lengths),
        };
        self.attend_then_feed_forward(queries, (&hq, rope), (&hk, rope), mask)
    }

    /// Attention of the normalised queries over the normalised keys, added to `x`, then
    /// the feed-forward half.
    fn attend_then_feed_forward(
        &self,
        x: &Tensor,
        (queries, query_rope): (&Tensor, &Rope),
        (keys, key_rope): (&Tensor, &Rope),
        mask: AttentionMask<'_>,
    ) -> Result<Tensor> {
        let (batch, steps, d_model) = x.dims3()?;
        let heads = self.sizes.num_heads;
        let q = query_rope.split_heads(&linear(queries, &self.projection_q)?, heads)?;
        let k = key_rope.split_heads(&linear(keys, &self.projection_k)?, heads)?;
        let v = split_heads(&linear(keys, &self.projection_v)?, heads)?;
        let attended = attention(&q, &k, &v, mask.causal, mask.lengths)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((batch, steps, d_model))?;
        let x = (x + linear(&attended, &self.projection_o)?)?;
        let h = self.post_attention_layernorm.forward(&x)?;
        let gated = swiglu(&linear(&h, &self.w1)?, &linear(&h, &self.w3)?)?;
        x + linear(&gated, &self.w2)?
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Var};

    use super::*;

    fn sizes() -> LayerSizes {
        TransformerConfig {
            vocab_size: 0,
            d_model: 8,
            num_layers: 1,
            num_heads: 2,
            ffn_dim: 16,
            rope_theta: 10000.0,
            norm_eps: 1e-5,
        }
        .layer_sizes()
    }

    fn states(batch: usize, steps: usize, seed: usize) -> Tensor {
        let values: Vec<f32> = (0..batch * steps * 8)
            .map(|i| (((i + seed) * 7 % 23) as f32 - 11.0) / 6.0)
            .collect();
        Tensor::from_vec(values, (batch, steps, 8), &Device::Cpu).unwrap()
    }

    #[test]
    fn cross_attention_to_itself_is_self_attention_and_ignores_padded_keys() {
        let device = Device::Cpu;
        let own =
            TransformerLayer::new(&mut ParamStore::new(4, &device), "", sizes(), 0.3, 0.3).unwrap();
        let cross =
            TransformerLayer::new_cross(&mut ParamStore::new(4, &device), "", sizes(), 0.3, 0.3)
                .unwrap();
        let rope = Rope::new(12, 4, 10000.0, &device).unwrap();
        let x = states(2, 9, 0);
        let mask = AttentionMask {
            causal: false,
            lengths: Some(&[9, 6]),
        };
        let by_self: Vec<f32> = own
            .forward(&x, &rope, mask)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let by_cross: Vec<f32> = cross
            .forward_cross(&x, &x, &rope, &[9, 6])
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        for (a, b) in by_self.iter().zip(&by_cross) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // 12 queries over 5 keys of which 3 are real: the padded keys do not matter.
        let queries = states(1, 12, 1);
        let keys = states(1, 5, 2);
        let mut changed = keys.to_vec3::<f32>().unwrap();
        changed[0][3] = vec![9.0; 8];
        changed[0][4] = vec![-9.0; 8];
        let changed = Tensor::new(changed, &device).unwrap();
        let a: Vec<f32> = cross
            .forward_cross(&queries, &keys, &rope, &[3])
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let b: Vec<f32> = cross
            .forward_cross(&queries, &changed, &rope, &[3])
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            cross
                .forward_cross(&queries, &keys, &rope, &[3])
                .unwrap()
                .dims3()
                .unwrap(),
            (1, 12, 8)
        );
    }

    #[test]
    fn key_gradients_match_finite_differences() {
        let device = Device::Cpu;
        let cross =
            TransformerLayer::new_cross(&mut ParamStore::new(5, &device), "", sizes(), 0.4, 0.4)
                .unwrap();
        let rope = Rope::new(7, 4, 10000.0, &device).unwrap();
        let queries = Var::from_tensor(&states(2, 7, 3)).unwrap();
        let keys = Var::from_tensor(&states(2, 4, 4)).unwrap();
        let probe = states(2, 7, 5);
        let loss = || {
            (cross
                .forward_cross(&queries, &keys, &rope, &[4, 2])
                .unwrap()
                * &probe)
                .unwrap()
                .sum_all()
                .unwrap()
        };
        let grads = loss().backward().unwrap();
        for var in [&queries, &keys] {
            let analytic: Vec<f32> = grads
                .get(var)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let values: Vec<f32> = var.flatten_all().unwrap().to_vec1().unwrap();
            for index in [0, 5, 17, 29] {
                let at = |delta: f32| {
                    let mut copy = values.clone();
                    copy[index] += delta;
                    var.set(&Tensor::from_vec(copy, var.shape(), &device).unwrap())
                        .unwrap();
                    let value = loss()
                        .to_dtype(DType::F64)
                        .unwrap()
                        .to_scalar::<f64>()
                        .unwrap();
                    var.set(&Tensor::from_vec(values.clone(), var.shape(), &device).unwrap())
                        .unwrap();
                    value
                };
                let numeric = (at(1e-2) - at(-1e-2)) / 2e-2;
                let analytic = f64::from(analytic[index]);
                assert!(
                    (numeric - analytic).abs() < 2e-2 * analytic.abs().max(0.05),
                    "[{index}]: numeric {numeric}, analytic {analytic}"
                );
            }
        }
        // Keys of the second sequence past its length get no gradient.
        let key_grad: Vec<Vec<Vec<f32>>> = grads.get(&keys).unwrap().to_vec3().unwrap();
        assert!(key_grad[1][2..].iter().flatten().all(|&g| g == 0.0));
    }
}
