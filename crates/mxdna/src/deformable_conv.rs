//! MxDNA's deformable convolution block over the token sequence:
//! `x + DeformConv(LN(x))`, where a `Conv1d(d, K, kernel K, padding K/2)` predicts each
//! tap's offset, another (through `2 sigmoid`) its modulation, both starting at zero
//! weights (so the block starts as a regular convolution with modulation 1); the input
//! to the sampling is the normalised states with special tokens and padding zeroed, and
//! the sampled taps meet the regular weight `(d, d, K, 1)` (no bias).
//!
//! The two predicting convolutions are an im2col (the sampling op with zero offsets)
//! times their weights; candle's `conv1d` has a wrong input gradient for batch > 1.
//!
//! Names under the block's prefix (the reference's `deform_conv.`):
//! `input_layernorm.norm.{weight,bias}`, `offset_conv.{weight,bias}`,
//! `modulator_conv.{weight,bias}`, `regular_conv.weight`.

use candle_core::{Result, Tensor};
use dnalm_nn::layer_norm::LayerNorm;
use dnalm_nn::params::ParamStore;

use crate::deform_sample_op::deform_sample;

/// The block.
pub struct DeformableConvBlock {
    taps: usize,
    norm: LayerNorm,
    offset_weight: Tensor,
    offset_bias: Tensor,
    modulator_weight: Tensor,
    modulator_bias: Tensor,
    regular_weight: Tensor,
}

/// `(C_out, C_in, K, ...)` conv weight as the `(K * C_in, C_out)` matrix that multiplies
/// im2col rows laid out tap-major.
fn as_matrix(weight: &Tensor, taps: usize) -> Result<Tensor> {
    let (outputs, inputs) = (weight.dim(0)?, weight.dim(1)?);
    weight
        .reshape((outputs, inputs, taps))?
        .permute((2, 1, 0))?
        .reshape((taps * inputs, outputs))
}

impl DeformableConvBlock {
    /// A new block of `taps` taps (odd) for width `d_model`; the regular weight is
    /// N(0, `std`), the predicting convolutions zero.
    pub fn new(
        params: &mut ParamStore,
        prefix: &str,
        d_model: usize,
        taps: usize,
        norm_eps: f64,
        std: f64,
    ) -> Result<Self> {
        if taps.is_multiple_of(2) {
            candle_core::bail!("the deformable convolution needs an odd kernel, got {taps}");
        }
        let name = |suffix: &str| format!("{prefix}{suffix}");
        Ok(Self {
            taps,
            norm: LayerNorm::new(params, &name("input_layernorm.norm"), d_model, norm_eps)?,
            offset_weight: params.zeros(&name("offset_conv.weight"), &[taps, d_model, taps])?,
            offset_bias: params.zeros(&name("offset_conv.bias"), &[taps])?,
            modulator_weight: params
                .zeros(&name("modulator_conv.weight"), &[taps, d_model, taps])?,
            modulator_bias: params.zeros(&name("modulator_conv.bias"), &[taps])?,
            regular_weight: params.normal(
                &name("regular_conv.weight"),
                &[d_model, d_model, taps, 1],
                std,
            )?,
        })
    }

    /// The block on tokens `(B, T, d)` whose first `lengths[b]` rows are real and
    /// `special` `(B, T)` marks `[CLS]`/`[SEP]` (1) among them.
    pub fn forward(&self, x: &Tensor, lengths: &[usize], special: &Tensor) -> Result<Tensor> {
        let (batch, steps, d_model) = x.dims3()?;
        let k = self.taps;
        let device = x.device();
        let h = self.norm.forward(x)?;
        let zeros = Tensor::zeros((batch, steps, k), h.dtype(), device)?;
        let ones = Tensor::ones((batch, steps, k), h.dtype(), device)?;
        let windows = deform_sample(&h, &zeros, &ones)?.reshape((batch * steps, k * d_model))?;
        let predict = |weight: &Tensor, bias: &Tensor| -> Result<Tensor> {
            windows
                .matmul(&as_matrix(weight, k)?)?
                .broadcast_add(bias)?
                .reshape((batch, steps, k))
        };
        let offsets = predict(&self.offset_weight, &self.offset_bias)?;
        let modulation =
            (candle_nn::ops::sigmoid(&predict(&self.modulator_weight, &self.modulator_bias)?)?
                * 2.0)?;
        let mut keep = vec![0f32; batch * steps];
        for (b, &length) in lengths.iter().enumerate() {
            keep[b * steps..b * steps + length].fill(1.0);
        }
        let keep = (Tensor::from_vec(keep, (batch, steps), device)?.to_dtype(h.dtype())?
            * (1.0 - special.to_dtype(h.dtype())?)?)?;
        let masked = h.broadcast_mul(&keep.unsqueeze(2)?)?;
        let sampled =
            deform_sample(&masked, &offsets, &modulation)?.reshape((batch * steps, k * d_model))?;
        let out = sampled
            .matmul(&as_matrix(&self.regular_weight, k)?)?
            .reshape((batch, steps, d_model))?;
        out + x
    }
}

#[cfg(test)]
mod tests {
    use crate::gradient_check::{check_largest_gradients, Tolerance};
    use candle_core::{DType, Device, Var};

    use super::*;

    /// A special-token mask `(B, T)` as f32 from per-row flags.
    fn special_mask(
        flags: &[bool],
        batch: usize,
        steps: usize,
        device: &candle_core::Device,
    ) -> Result<Tensor> {
        let values: Vec<f32> = flags.iter().map(|&f| f32::from(u8::from(f))).collect();
        Tensor::from_vec(values, (batch, steps), device)?.to_dtype(DType::F32)
    }

    fn block(params: &mut ParamStore, d: usize) -> DeformableConvBlock {
        DeformableConvBlock::new(params, "deform_conv.", d, 3, 1e-5, 0.3).unwrap()
    }

    #[test]
    fn starts_as_a_regular_convolution_over_the_kept_tokens() {
        let device = Device::Cpu;
        let (b, t, d) = (1, 5, 2);
        let mut params = ParamStore::new(3, &device);
        let block = block(&mut params, d);
        let values: Vec<f32> = (0..b * t * d)
            .map(|i| ((i * 3 % 7) as f32 - 3.0) / 2.0)
            .collect();
        let x = Tensor::from_vec(values, (b, t, d), &device).unwrap();
        // [CLS] a b [SEP] pad
        let special = special_mask(&[true, false, false, true, false], b, t, &device).unwrap();
        let out: Vec<Vec<f32>> = block
            .forward(&x, &[4], &special)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec2()
            .unwrap();
        let h: Vec<Vec<f32>> = block
            .norm
            .forward(&x)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec2()
            .unwrap();
        let kept = [false, true, true, false, false];
        // regular_conv.weight (out, in, tap, 1), flattened.
        let w: Vec<f32> = block
            .regular_weight
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let x: Vec<Vec<f32>> = x.squeeze(0).unwrap().to_vec2().unwrap();
        for pos in 0..t {
            for o in 0..d {
                let mut expected = x[pos][o];
                for i in 0..3 {
                    let source = pos as i64 - 1 + i as i64;
                    if (0..t as i64).contains(&source) && kept[source as usize] {
                        for c in 0..d {
                            expected += w[(o * d + c) * 3 + i] * h[source as usize][c];
                        }
                    }
                }
                assert!((out[pos][o] - expected).abs() < 1e-5, "{pos} {o}");
            }
        }
    }

    #[test]
    fn every_parameter_gets_a_gradient_matching_finite_differences() {
        let device = Device::Cpu;
        let (b, t, d) = (2, 6, 3);
        let mut params = ParamStore::new(5, &device);
        let block = block(&mut params, d);
        // Move the predictors off zero so offsets and modulation vary.
        for (n, (name, var)) in params.named_vars().into_iter().enumerate() {
            if name.contains("offset_conv") || name.contains("modulator_conv") {
                let values: Vec<f32> = (0..var.elem_count())
                    .map(|i| (((i + n) * 7 % 11) as f32 - 5.0) * 0.08)
                    .collect();
                var.set(&Tensor::from_vec(values, var.shape(), &device).unwrap())
                    .unwrap();
            }
        }
        let values: Vec<f32> = (0..b * t * d)
            .map(|i| ((i * 5 % 13) as f32 - 6.0) / 4.0)
            .collect();
        let x = Var::from_vec(values, (b, t, d), &device).unwrap();
        let special = special_mask(
            &[
                true, false, false, false, true, false, true, false, false, false, false, true,
            ],
            b,
            t,
            &device,
        )
        .unwrap();
        let probe: Vec<f32> = (0..b * t * d).map(|i| (i as f32 * 0.61).cos()).collect();
        let probe = Tensor::from_vec(probe, (b, t, d), &device).unwrap();
        let loss = || {
            (block.forward(x.as_tensor(), &[5, 6], &special).unwrap() * &probe)
                .unwrap()
                .sum_all()
                .unwrap()
        };
        let grads = loss().backward().unwrap();
        let mut vars = params.named_vars();
        vars.push(("input".into(), x.clone()));
        // A small step: sample points move with every weight before the offsets, and
        // linear interpolation has kinks at whole positions.
        check_largest_gradients(
            vars,
            &grads,
            &loss,
            Tolerance {
                step: 1e-3,
                relative: 3e-2,
                floor: 1e-2,
            },
            &|_| false,
        );
    }
}
