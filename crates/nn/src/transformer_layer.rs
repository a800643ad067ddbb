//! The transformer block every attention model here is built from (the MxDNA encoder
//! layer, also used by the BERT-style encoder and, with a causal mask, the decoder):
//! pre-LayerNorm self-attention under RoPE, then a pre-LayerNorm SwiGLU feed-forward
//! `w2(silu(w1 x) * w3 x)`, each added to the residual stream; no biases in the
//! projections. Attention, LayerNorm and the SwiGLU gate are our fused CPU ops.
//!
//! Parameter names follow the MxDNA reference (`modeling_mxdna.py`), under a prefix:
//! `input_layernorm.norm.{weight,bias}`, `self_attn.projection_{q,k,v,o}.weight`,
//! `post_attention_layernorm.norm.{weight,bias}`, `ffn.ffn.{w1,w2,w3}.weight`.

use candle_core::{Result, Tensor};
use serde::{Deserialize, Serialize};

use crate::attention_op::attention;
use crate::layer_norm::LayerNorm;
use crate::params::ParamStore;
use crate::rope::Rope;
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

/// `x W^T` for `x` of any rank.
pub fn linear(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    x.broadcast_matmul(&weight.t()?)
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
            projection_q: params.normal(&name("self_attn.projection_q.weight"), &square, std)?,
            projection_k: params.normal(&name("self_attn.projection_k.weight"), &square, std)?,
            projection_v: params.normal(&name("self_attn.projection_v.weight"), &square, std)?,
            projection_o: params.normal(
                &name("self_attn.projection_o.weight"),
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
        let (batch, steps, d_model) = x.dims3()?;
        let (heads, head_dim) = (self.sizes.num_heads, self.sizes.head_dim());
        let h = self.input_layernorm.forward(x)?;
        let split = |weight: &Tensor| -> Result<Tensor> {
            linear(&h, weight)?
                .reshape((batch, steps, heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = rope.apply(&split(&self.projection_q)?)?;
        let k = rope.apply(&split(&self.projection_k)?)?;
        let v = split(&self.projection_v)?;
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
