//! Rotary position embeddings (RoPE) in the "rotate half" layout of GPT-NeoX, LLaMA and
//! the MxDNA reference: the two halves of each head are rotated as pairs,
//! `(x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin)`, by angle `position * theta^(-2i/d)`.
//! Attention applies it as it splits a projection into heads
//! ([`Rope::split_heads`]: on the CPU one fused op with a hand-written backward, in
//! `rope_op.rs`).

use std::sync::Arc;

use candle_core::{DType, Device, Result, Tensor, D};

use crate::kernels::fused_kernel_for;
use crate::rope_op::RopeHeads;

/// Cosine and sine tables for positions `0..steps`, each `(steps, head_dim / 2)`.
pub struct Rope {
    cos: Tensor,
    sin: Tensor,
    /// The same tables in host memory, for the fused op.
    host_cos: Arc<[f32]>,
    host_sin: Arc<[f32]>,
}

/// A projection `(B, T, heads * head_dim)` split into `(B, heads, T, head_dim)`,
/// contiguous, without rotation (the values of attention).
pub fn split_heads(x: &Tensor, heads: usize) -> Result<Tensor> {
    let (batch, steps, width) = x.dims3()?;
    x.reshape((batch, steps, heads, width / heads))?
        .transpose(1, 2)?
        .contiguous()
}

impl Rope {
    /// Tables for `steps` positions of heads of size `head_dim` (even).
    pub fn new(steps: usize, head_dim: usize, theta: f64, device: &Device) -> Result<Self> {
        let half = head_dim / 2;
        let inverse: Vec<f32> = (0..half)
            .map(|i| (1.0 / theta.powf(2.0 * i as f64 / head_dim as f64)) as f32)
            .collect();
        let inverse = Tensor::from_vec(inverse, (1, half), device)?;
        let positions = Tensor::arange(0u32, steps as u32, device)?
            .to_dtype(DType::F32)?
            .reshape((steps, 1))?;
        let angles = positions.broadcast_mul(&inverse)?;
        let (cos, sin) = (angles.cos()?, angles.sin()?);
        let host = |table: &Tensor| -> Result<Arc<[f32]>> {
            Ok(table.flatten_all()?.to_vec1::<f32>()?.into())
        };
        Ok(Self {
            host_cos: host(&cos)?,
            host_sin: host(&sin)?,
            cos,
            sin,
        })
    }

    /// A projection `(B, T, heads * head_dim)` split into `(B, heads, T, head_dim)` and
    /// rotated: the fused op on the CPU, [`Rope::split_heads_composed`] elsewhere.
    pub fn split_heads(&self, x: &Tensor, heads: usize) -> Result<Tensor> {
        if !fused_kernel_for(x) {
            return self.split_heads_composed(x, heads);
        }
        x.contiguous()?.apply_op1(RopeHeads {
            heads,
            cos: self.host_cos.clone(),
            sin: self.host_sin.clone(),
        })
    }

    /// [`Rope::split_heads`] from candle's differentiable ops: the portable path, and
    /// the reference the tests compare the fused op with.
    pub fn split_heads_composed(&self, x: &Tensor, heads: usize) -> Result<Tensor> {
        self.apply(&split_heads(x, heads)?)
    }

    /// Rotates `(B, H, T, head_dim)` by position (T at most the tables' length).
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        let steps = x.dim(2)?;
        let half = x.dim(D::Minus1)? / 2;
        let cos = self.cos.narrow(0, 0, steps)?.to_dtype(x.dtype())?;
        let sin = self.sin.narrow(0, 0, steps)?.to_dtype(x.dtype())?;
        let x1 = x.narrow(D::Minus1, 0, half)?;
        let x2 = x.narrow(D::Minus1, half, half)?;
        let rotated_1 = (x1.broadcast_mul(&cos)? - x2.broadcast_mul(&sin)?)?;
        let rotated_2 = (x2.broadcast_mul(&cos)? + x1.broadcast_mul(&sin)?)?;
        Tensor::cat(&[rotated_1, rotated_2], D::Minus1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_preserves_norms_and_depends_on_relative_positions() {
        let rope = Rope::new(5, 4, 10000.0, &Device::Cpu).unwrap();
        let x = Tensor::new(&[1.0f32, 2.0, -0.5, 0.25], &Device::Cpu)
            .unwrap()
            .reshape((1, 1, 1, 4))
            .unwrap()
            .repeat((1, 1, 5, 1))
            .unwrap();
        let rotated = rope.apply(&x).unwrap();
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
        let dot = |a: usize, b: usize| {
            let row = |i: usize| rotated.get(0).unwrap().get(0).unwrap().get(i).unwrap();
            (row(a) * row(b))
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        assert!((dot(0, 2) - dot(2, 4)).abs() < 1e-4);
        // Position 1, first pair: angle 1 radian.
        let first: Vec<f32> = rotated
            .get(0)
            .unwrap()
            .get(0)
            .unwrap()
            .get(1)
            .unwrap()
            .to_vec1()
            .unwrap();
        let expected = 1.0f32 * 1f32.cos() - (-0.5f32) * 1f32.sin();
        assert!((first[0] - expected).abs() < 1e-6);
    }
}
