//! Heads on top of an encoder's hidden states.
//!
//! - [`MlmHead`], ESM/RoBERTa style as in the MxDNA reference: `dense` (with bias) ->
//!   GELU (erf) -> LayerNorm -> `decoder` (no bias) + `bias`. Names under `lm_head.`.
//! - [`ClassifierHead`], as MxDNA's classification head: LayerNorm, pooling (`[CLS]` or
//!   the mean over real tokens), dropout -> `dense` -> tanh -> dropout -> `out_proj`.
//!   Names under `classifier.`.

use candle_core::{Result, Tensor};
use serde::{Deserialize, Serialize};

use crate::dropout::dropout;
use crate::layer_norm::LayerNorm;
use crate::linear_op::linear;
use crate::params::ParamStore;

/// The masked-LM head: vocabulary logits from hidden states.
pub struct MlmHead {
    dense_weight: Tensor,
    dense_bias: Tensor,
    layer_norm: LayerNorm,
    decoder: Tensor,
    bias: Tensor,
}

impl MlmHead {
    /// A new head for width `d_model` and `vocab_size` outputs.
    pub fn new(
        params: &mut ParamStore,
        d_model: usize,
        vocab_size: usize,
        norm_eps: f64,
    ) -> Result<Self> {
        Ok(Self {
            dense_weight: params.normal("lm_head.dense.weight", &[d_model, d_model], 0.02)?,
            dense_bias: params.zeros("lm_head.dense.bias", &[d_model])?,
            layer_norm: LayerNorm::new(params, "lm_head.layer_norm", d_model, norm_eps)?,
            decoder: params.normal("lm_head.decoder.weight", &[vocab_size, d_model], 0.02)?,
            bias: params.zeros("lm_head.bias", &[vocab_size])?,
        })
    }

    /// Logits `(.., V)` for hidden states `(.., d_model)`.
    pub fn forward(&self, hidden: &Tensor) -> Result<Tensor> {
        let h = linear(hidden, &self.dense_weight)?
            .broadcast_add(&self.dense_bias)?
            .gelu_erf()?;
        linear(&self.layer_norm.forward(&h)?, &self.decoder)?.broadcast_add(&self.bias)
    }
}

/// How a classifier turns token states into one vector per sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The state of the first token, `[CLS]`.
    Cls,
    /// The mean of the states of the real (not padding) tokens.
    Mean,
}

/// The sequence classification (or regression) head.
pub struct ClassifierHead {
    norm: LayerNorm,
    dense_weight: Tensor,
    dense_bias: Tensor,
    out_weight: Tensor,
    out_bias: Tensor,
    pooling: Pooling,
    dropout: f64,
}

impl ClassifierHead {
    /// A new head with `outputs` outputs (classes, or 1 for regression).
    pub fn new(
        params: &mut ParamStore,
        d_model: usize,
        outputs: usize,
        pooling: Pooling,
        dropout: f64,
        norm_eps: f64,
    ) -> Result<Self> {
        Ok(Self {
            norm: LayerNorm::new(params, "classifier.norm", d_model, norm_eps)?,
            dense_weight: params.normal("classifier.dense.weight", &[d_model, d_model], 0.02)?,
            dense_bias: params.zeros("classifier.dense.bias", &[d_model])?,
            out_weight: params.normal("classifier.out_proj.weight", &[outputs, d_model], 0.02)?,
            out_bias: params.zeros("classifier.out_proj.bias", &[outputs])?,
            pooling,
            dropout,
        })
    }

    /// One vector per sequence `(B, d_model)` from states `(B, T, d_model)`.
    pub fn pool(&self, hidden: &Tensor, lengths: &[usize]) -> Result<Tensor> {
        let hidden = self.norm.forward(hidden)?;
        pool(&hidden, lengths, self.pooling)
    }

    /// Outputs `(B, outputs)`; dropout is applied when `dropout_seed` is given
    /// (training).
    pub fn forward(
        &self,
        hidden: &Tensor,
        lengths: &[usize],
        dropout_seed: Option<u64>,
    ) -> Result<Tensor> {
        let drop = |x: Tensor, salt: u64| match dropout_seed {
            Some(seed) if self.dropout > 0.0 => dropout(&x, self.dropout, seed ^ salt),
            _ => Ok(x),
        };
        let pooled = drop(self.pool(hidden, lengths)?, 0)?;
        let h = linear(&pooled, &self.dense_weight)?
            .broadcast_add(&self.dense_bias)?
            .tanh()?;
        let h = drop(h, 0x9E37_79B9)?;
        linear(&h, &self.out_weight)?.broadcast_add(&self.out_bias)
    }
}

/// Pools `(B, T, d)` states into `(B, d)`: the first token, or the mean over the first
/// `lengths[b]` tokens.
pub fn pool(hidden: &Tensor, lengths: &[usize], pooling: Pooling) -> Result<Tensor> {
    let (batch, steps, _) = hidden.dims3()?;
    match pooling {
        Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1),
        Pooling::Mean => {
            let mut weights = vec![0f32; batch * steps];
            for (b, &length) in lengths.iter().enumerate() {
                let share = 1.0 / length.max(1) as f32;
                weights[b * steps..b * steps + length].fill(share);
            }
            let weights = Tensor::from_vec(weights, (batch, 1, steps), hidden.device())?
                .to_dtype(hidden.dtype())?;
            weights.matmul(hidden)?.squeeze(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};

    use super::*;

    #[test]
    fn mean_pooling_ignores_padding() {
        let hidden = Tensor::new(
            &[
                [[1.0f32, 2.0], [3.0, 4.0], [100.0, 100.0]],
                [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]],
            ],
            &Device::Cpu,
        )
        .unwrap();
        let mean: Vec<Vec<f32>> = pool(&hidden, &[2, 3], Pooling::Mean)
            .unwrap()
            .to_vec2()
            .unwrap();
        assert_eq!(mean, vec![vec![2.0, 3.0], vec![2.0, 2.0]]);
        let cls: Vec<Vec<f32>> = pool(&hidden, &[2, 3], Pooling::Cls)
            .unwrap()
            .to_vec2()
            .unwrap();
        assert_eq!(cls, vec![vec![1.0, 2.0], vec![1.0, 1.0]]);
    }

    #[test]
    fn head_gradients_match_finite_differences() {
        let device = Device::Cpu;
        let mut params = ParamStore::new(5, &device);
        let mlm = MlmHead::new(&mut params, 6, 4, 1e-5).unwrap();
        let classifier = ClassifierHead::new(&mut params, 6, 3, Pooling::Mean, 0.0, 1e-5).unwrap();
        let hidden = Tensor::from_vec(
            crate::test_values::values(2 * 3 * 6, 9, 2.0)
                .iter()
                .map(|&v| v as f32)
                .collect::<Vec<_>>(),
            (2, 3, 6),
            &device,
        )
        .unwrap();
        for (_, var) in params.named_vars() {
            let n = var.elem_count();
            let noisy: Vec<f32> = crate::test_values::values(n, n as u64, 0.5)
                .iter()
                .zip(var.flatten_all().unwrap().to_vec1::<f32>().unwrap())
                .map(|(&r, v)| v + r as f32)
                .collect();
            var.set(&Tensor::from_vec(noisy, var.shape(), &device).unwrap())
                .unwrap();
        }
        let loss = || {
            let a = mlm
                .forward(&hidden)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap();
            let b = classifier
                .forward(&hidden, &[2, 3], None)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap();
            (a + b).unwrap()
        };
        let grads = loss().backward().unwrap();
        for (name, var) in params.named_vars() {
            let analytic: Vec<f32> = grads
                .get(&var)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let values: Vec<f32> = var.flatten_all().unwrap().to_vec1().unwrap();
            let index = (0..analytic.len())
                .max_by(|&a, &b| analytic[a].abs().total_cmp(&analytic[b].abs()))
                .unwrap();
            let at = |delta: f32| {
                let mut moved = values.clone();
                moved[index] += delta;
                var.set(&Tensor::from_vec(moved, var.shape(), &device).unwrap())
                    .unwrap();
                let v = loss()
                    .to_dtype(DType::F64)
                    .unwrap()
                    .to_scalar::<f64>()
                    .unwrap();
                var.set(&Tensor::from_vec(values.clone(), var.shape(), &device).unwrap())
                    .unwrap();
                v
            };
            let numeric = (at(1e-2) - at(-1e-2)) / 2e-2;
            let relative = (numeric - analytic[index] as f64).abs() / numeric.abs().max(1e-2);
            assert!(
                relative < 0.02,
                "{name}: numeric {numeric}, analytic {}",
                analytic[index]
            );
        }
    }
}
