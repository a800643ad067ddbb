//! One convolution expert of MxDNA's sparse mixture: `Linear(d, 2d)` -> GLU -> grouped
//! `Conv1d(d, d, kernel = stride = k)` -> LayerNorm (eps a config field) -> SiLU -> `Linear(d, d)`,
//! no biases. The input is the nucleotides of the units this expert won, unit after
//! unit (each exactly `k` rows), so the strided convolution turns each unit into one
//! vector.
//!
//! The grouped convolution (groups = the factor of `d` closest to `k`, as the
//! reference's `find_closest_factor`) is a batched matmul per group: candle's `conv1d`
//! has a wrong input gradient for batch > 1 (DESIGN.md, candle traps).
//!
//! Parameter names (under the expert's prefix, as in the reference at ad3808d):
//! `pointwise_conv_pre.weight` `(2d, d)`, `depthwise_conv.weight` `(d, d/groups, k)`,
//! `norm.norm.{weight,bias}`, `pointwise_conv_post.weight` `(d, d)`.

use candle_core::{Result, Tensor, D};
use dnalm_nn::layer_norm::LayerNorm;
use dnalm_nn::linear_op::linear;
use dnalm_nn::params::ParamStore;

/// The factor of `n` closest to `m`; among equally close factors the first met when
/// trying `d = 1, 2, ..` up to `sqrt(n)`, each as `d` then `n / d` (the reference's
/// `find_closest_factor`).
pub fn closest_factor(n: usize, m: usize) -> usize {
    let mut best = (usize::MAX, 1);
    let mut d = 1;
    while d * d <= n {
        if n.is_multiple_of(d) {
            for factor in [d, n / d] {
                let difference = factor.abs_diff(m);
                if difference < best.0 {
                    best = (difference, factor);
                }
            }
        }
        d += 1;
    }
    best.1
}

/// One expert.
pub struct ConvExpert {
    kernel: usize,
    groups: usize,
    pointwise_pre: Tensor,
    conv: Tensor,
    norm: LayerNorm,
    pointwise_post: Tensor,
}

impl ConvExpert {
    /// A new expert of kernel size `kernel` for width `d_model`, its LayerNorm epsilon
    /// `norm_eps`, weights N(0, `std`), its parameters named under `prefix` (with its
    /// trailing dot).
    pub fn new(
        params: &mut ParamStore,
        prefix: &str,
        d_model: usize,
        kernel: usize,
        norm_eps: f64,
        std: f64,
    ) -> Result<Self> {
        let groups = closest_factor(d_model, kernel);
        Ok(Self {
            kernel,
            groups,
            pointwise_pre: params.normal(
                &format!("{prefix}pointwise_conv_pre.weight"),
                &[2 * d_model, d_model],
                std,
            )?,
            conv: params.normal(
                &format!("{prefix}depthwise_conv.weight"),
                &[d_model, d_model / groups, kernel],
                std,
            )?,
            norm: LayerNorm::new(params, &format!("{prefix}norm.norm"), d_model, norm_eps)?,
            pointwise_post: params.normal(
                &format!("{prefix}pointwise_conv_post.weight"),
                &[d_model, d_model],
                std,
            )?,
        })
    }

    /// The unit length.
    pub fn kernel(&self) -> usize {
        self.kernel
    }

    /// One vector per unit `(n, d)` from the units' nucleotides `(n * k, d)`.
    pub fn forward(&self, rows: &Tensor) -> Result<Tensor> {
        let (count, d_model) = rows.dims2()?;
        let (k, groups) = (self.kernel, self.groups);
        if !count.is_multiple_of(k) {
            candle_core::bail!("expert of kernel {k}: {count} rows are not whole units");
        }
        let units = count / k;
        let per_group = d_model / groups;
        let doubled = linear(rows, &self.pointwise_pre)?;
        let gated = (doubled.narrow(D::Minus1, 0, d_model)?
            * candle_nn::ops::sigmoid(&doubled.narrow(D::Minus1, d_model, d_model)?)?)?;
        // (n*k, d) -> (groups, n, per_group * k) with (channel, tap) flattened as in
        // the weight's (in-channel, tap) layout.
        let grouped = gated
            .reshape((units, k, groups, per_group))?
            .permute((2, 0, 3, 1))?
            .contiguous()?
            .reshape((groups, units, per_group * k))?;
        let weight = self
            .conv
            .reshape((groups, per_group, per_group * k))?
            .transpose(1, 2)?;
        let convolved = grouped
            .matmul(&weight.contiguous()?)?
            .permute((1, 0, 2))?
            .reshape((units, d_model))?;
        let h = self.norm.forward(&convolved)?.silu()?;
        linear(&h, &self.pointwise_post)
    }
}

#[cfg(test)]
mod tests {
    use crate::gradient_check::{check_largest_gradients, Tolerance};
    use candle_core::{Device, Var};

    use super::*;

    #[test]
    fn closest_factor_follows_the_reference() {
        // 128 and 6: 4 and 8 are both 2 away; 4 is met first (d = 4 before d = 8).
        assert_eq!(closest_factor(128, 6), 4);
        assert_eq!(closest_factor(128, 1), 1);
        assert_eq!(closest_factor(128, 10), 8);
        assert_eq!(closest_factor(512, 3), 2);
        assert_eq!(closest_factor(512, 7), 8);
        assert_eq!(closest_factor(64, 5), 4);
    }

    /// The grouped strided convolution written as loops over the weight.
    #[test]
    fn grouped_convolution_by_hand() {
        let device = Device::Cpu;
        let (d, k) = (6, 3); // groups = 3 (closest factor of 6 to 3), 2 channels each
        let mut params = ParamStore::new(1, &device);
        let expert = ConvExpert::new(&mut params, "e.", d, k, 1e-6, 0.5).unwrap();
        assert_eq!(expert.groups, 3);
        let units = 2;
        let rows: Vec<f32> = (0..units * k * d)
            .map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0)
            .collect();
        let rows = Tensor::from_vec(rows, (units * k, d), &device).unwrap();
        // The gated rows, then the convolution by hand.
        let doubled = linear(&rows, &expert.pointwise_pre).unwrap();
        let a = doubled.narrow(1, 0, d).unwrap();
        let b = doubled.narrow(1, d, d).unwrap();
        let gated: Vec<Vec<f32>> = (a * candle_nn::ops::sigmoid(&b).unwrap())
            .unwrap()
            .to_vec2()
            .unwrap();
        let w: Vec<Vec<Vec<f32>>> = expert.conv.to_vec3().unwrap();
        let per_group = d / expert.groups;
        let mut by_hand = vec![0f32; units * d];
        for u in 0..units {
            for o in 0..d {
                let group = o / per_group;
                for c in 0..per_group {
                    for t in 0..k {
                        by_hand[u * d + o] += w[o][c][t] * gated[u * k + t][group * per_group + c];
                    }
                }
            }
        }
        let by_hand = Tensor::from_vec(by_hand, (units, d), &device).unwrap();
        let expected = linear(
            &expert.norm.forward(&by_hand).unwrap().silu().unwrap(),
            &expert.pointwise_post,
        )
        .unwrap();
        let diff = (expert.forward(&rows).unwrap() - expected)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-5, "{diff}");
        assert!(expert.forward(&rows.narrow(0, 0, 4).unwrap()).is_err());
    }

    #[test]
    fn every_weight_and_the_input_get_gradients_matching_finite_differences() {
        let device = Device::Cpu;
        let (d, k, units) = (4, 2, 3);
        let mut params = ParamStore::new(2, &device);
        let expert = ConvExpert::new(&mut params, "e.", d, k, 1e-6, 0.5).unwrap();
        let values: Vec<f32> = (0..units * k * d)
            .map(|i| ((i * 5 % 13) as f32 - 6.0) / 6.0)
            .collect();
        let x = Var::from_vec(values, (units * k, d), &device).unwrap();
        let probe: Vec<f32> = (0..units * d).map(|i| (i as f32 * 0.37).sin()).collect();
        let probe = Tensor::from_vec(probe, (units, d), &device).unwrap();
        let loss = || -> Tensor {
            (expert.forward(x.as_tensor()).unwrap() * &probe)
                .unwrap()
                .sum_all()
                .unwrap()
        };
        let grads = loss().backward().unwrap();
        let mut vars = params.named_vars();
        vars.push(("input".into(), x.clone()));
        check_largest_gradients(
            vars,
            &grads,
            &loss,
            Tolerance {
                step: 1e-2,
                relative: 2e-2,
                floor: 1e-2,
            },
            &|_| false,
        );
    }
}
