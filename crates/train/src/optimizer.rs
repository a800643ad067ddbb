//! AdamW with decoupled weight decay (Loshchilov & Hutter) and two parameter groups:
//! weights decay, norms and biases do not.
//!
//! The update is PyTorch's `torch.optim.AdamW`: for each parameter with gradient `g` at
//! step `t` (from 1) and learning rate `lr`:
//! `θ ← θ (1 - lr λ)` (decay group only), `m ← β1 m + (1-β1) g`,
//! `v ← β2 v + (1-β2) g²`, `θ ← θ - lr (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε)`.
//! The moments can be saved and restored, so a resumed run continues exactly.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::adamw_kernel::{self, UpdateScalars};
use crate::error::{Result, TrainError};

/// AdamW hyper-parameters (the learning rate comes from the schedule at each step).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// Decoupled weight decay λ of the decay group.
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// Whether a parameter belongs to the no-decay group: biases, norm weights, and every
/// parameter of rank 1 or less.
pub fn is_no_decay(name: &str, var: &Var) -> bool {
    let lower = name.to_ascii_lowercase();
    var.rank() <= 1 || lower.ends_with("bias") || lower.contains("norm")
}

#[derive(Debug)]
struct Slot {
    name: String,
    var: Var,
    decay: bool,
    first_moment: Tensor,
    second_moment: Tensor,
}

/// The optimizer: named parameters, their moments, and the step count.
#[derive(Debug)]
pub struct AdamW {
    slots: Vec<Slot>,
    config: AdamWConfig,
    step: u64,
}

impl AdamW {
    /// An optimizer over named parameters, sorted by name; the groups follow
    /// [`is_no_decay`].
    pub fn new(mut params: Vec<(String, Var)>, config: AdamWConfig) -> Result<Self> {
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let slots = params
            .into_iter()
            .map(|(name, var)| {
                let decay = !is_no_decay(&name, &var);
                let zeros = var.as_tensor().zeros_like()?;
                Ok(Slot {
                    name,
                    var,
                    decay,
                    first_moment: zeros.clone(),
                    second_moment: zeros,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            slots,
            config,
            step: 0,
        })
    }

    /// Steps taken so far.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// The names of the parameters in each group: (decayed, not decayed).
    pub fn groups(&self) -> (Vec<&str>, Vec<&str>) {
        let names = |decay: bool| {
            self.slots
                .iter()
                .filter(|slot| slot.decay == decay)
                .map(|slot| slot.name.as_str())
                .collect()
        };
        (names(true), names(false))
    }

    /// The parameters, for gradient clipping and saving.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &Var)> + Clone {
        self.slots
            .iter()
            .map(|slot| (slot.name.as_str(), &slot.var))
    }

    /// One update with learning rate `lr`. Parameters without a gradient are left alone
    /// (their moments do not decay), as in PyTorch.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> Result<()> {
        self.step += 1;
        let AdamWConfig {
            beta1,
            beta2,
            eps,
            weight_decay,
        } = self.config;
        let t = self.step as i32;
        let bias1 = 1.0 - beta1.powi(t);
        let bias2 = 1.0 - beta2.powi(t);
        for slot in &mut self.slots {
            let Some(grad) = grads.get(slot.var.as_tensor()) else {
                continue;
            };
            let grad = grad.to_dtype(slot.var.dtype())?;
            let scalars = UpdateScalars {
                beta1,
                beta2,
                eps,
                bias1,
                bias2,
                lr,
                decay_factor: if slot.decay {
                    1.0 - lr * weight_decay
                } else {
                    1.0
                },
            };
            let (weight, first, second) = match adamw_kernel::update(
                slot.var.as_tensor(),
                &grad,
                &slot.first_moment,
                &slot.second_moment,
                scalars,
            )? {
                Some(updated) => updated,
                None => composed_update(slot, &grad, scalars)?,
            };
            slot.first_moment = first;
            slot.second_moment = second;
            slot.var.set(&weight)?;
        }
        Ok(())
    }

    /// The moments as named tensors (`NAME.exp_avg`, `NAME.exp_avg_sq`, PyTorch's names).
    pub fn state_tensors(&self) -> HashMap<String, Tensor> {
        self.slots
            .iter()
            .flat_map(|slot| {
                [
                    (format!("{}.exp_avg", slot.name), slot.first_moment.clone()),
                    (
                        format!("{}.exp_avg_sq", slot.name),
                        slot.second_moment.clone(),
                    ),
                ]
            })
            .collect()
    }

    /// Restores moments saved by [`AdamW::state_tensors`] and the step count; every
    /// parameter must be present with its shape.
    pub fn load_state(&mut self, tensors: &HashMap<String, Tensor>, step: u64) -> Result<()> {
        for slot in &mut self.slots {
            let fetch = |suffix: &str| -> Result<Tensor> {
                let key = format!("{}.{suffix}", slot.name);
                let tensor = tensors.get(&key).ok_or_else(|| {
                    TrainError::InvalidParameter(format!("optimizer state lacks {key}"))
                })?;
                if tensor.shape() != slot.var.shape() {
                    return Err(TrainError::InvalidParameter(format!(
                        "optimizer state {key} has shape {:?}, the parameter {:?}",
                        tensor.shape(),
                        slot.var.shape()
                    )));
                }
                Ok(tensor
                    .to_dtype(slot.var.dtype())?
                    .to_device(slot.var.device())?)
            };
            slot.first_moment = fetch("exp_avg")?;
            slot.second_moment = fetch("exp_avg_sq")?;
        }
        self.step = step;
        Ok(())
    }
}

/// The update in candle ops (any device and dtype): the new (weight, first moment,
/// second moment).
fn composed_update(
    slot: &Slot,
    grad: &Tensor,
    s: UpdateScalars,
) -> Result<(Tensor, Tensor, Tensor)> {
    let first = ((&slot.first_moment * s.beta1)? + (grad * (1.0 - s.beta1))?)?;
    let second = ((&slot.second_moment * s.beta2)? + (grad.sqr()? * (1.0 - s.beta2))?)?;
    let decayed = (slot.var.as_tensor() * s.decay_factor)?;
    let denominator = ((&second / s.bias2)?.sqrt()? + s.eps)?;
    let update = ((&first / s.bias1)? / denominator)?;
    let weight = (decayed - (update * s.lr)?)?;
    Ok((weight, first, second))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    fn scalar_var(value: f64, shape: &[usize]) -> Var {
        Var::from_tensor(
            &Tensor::full(value, shape, &Device::Cpu)
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap(),
        )
        .unwrap()
    }

    /// PyTorch's AdamW written out for one scalar.
    fn reference(mut theta: f64, grads: &[f64], lrs: &[f64], decay: bool, c: AdamWConfig) -> f64 {
        let (mut m, mut v) = (0.0, 0.0);
        for (t, (&g, &lr)) in grads.iter().zip(lrs).enumerate() {
            let t = (t + 1) as i32;
            if decay {
                theta *= 1.0 - lr * c.weight_decay;
            }
            m = c.beta1 * m + (1.0 - c.beta1) * g;
            v = c.beta2 * v + (1.0 - c.beta2) * g * g;
            let m_hat = m / (1.0 - c.beta1.powi(t));
            let v_hat = v / (1.0 - c.beta2.powi(t));
            theta -= lr * m_hat / (v_hat.sqrt() + c.eps);
        }
        theta
    }

    #[test]
    fn matches_the_reference_update_in_both_groups() {
        let config = AdamWConfig {
            weight_decay: 0.1,
            ..Default::default()
        };
        let weight = scalar_var(1.5, &[2, 2]);
        let bias = scalar_var(-0.5, &[2]);
        let mut opt = AdamW::new(
            vec![
                ("layer.weight".into(), weight.clone()),
                ("layer.bias".into(), bias.clone()),
            ],
            config,
        )
        .unwrap();
        assert_eq!(opt.groups(), (vec!["layer.weight"], vec!["layer.bias"]));
        let grads_seq = [0.3, -0.2, 0.05];
        let lrs = [1e-2, 5e-3, 2e-3];
        for (&g, &lr) in grads_seq.iter().zip(&lrs) {
            // loss = g * sum(weight) + g * sum(bias): gradient g everywhere.
            let loss = ((weight.as_tensor().sum_all().unwrap() * g).unwrap()
                + (bias.as_tensor().sum_all().unwrap() * g).unwrap())
            .unwrap();
            opt.step(&loss.backward().unwrap(), lr).unwrap();
        }
        let got_w: Vec<f64> = weight.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        let got_b: Vec<f64> = bias.as_tensor().to_vec1().unwrap();
        let want_w = reference(1.5, &grads_seq, &lrs, true, config);
        let want_b = reference(-0.5, &grads_seq, &lrs, false, config);
        assert!(
            got_w.iter().all(|w| (w - want_w).abs() < 1e-14),
            "{got_w:?} vs {want_w}"
        );
        assert!(
            got_b.iter().all(|b| (b - want_b).abs() < 1e-14),
            "{got_b:?} vs {want_b}"
        );
        assert_eq!(opt.step_count(), 3);
    }

    #[test]
    fn the_one_pass_update_equals_the_candle_ops() {
        // 100k elements: several parallel chunks and a short last one.
        let len = 100_003;
        let values = |seed: usize, scale: f64| -> Vec<f64> {
            (0..len)
                .map(|i| (((i * 7919 + seed * 104_729) % 1000) as f64 / 1000.0 - 0.3) * scale)
                .collect()
        };
        for dtype in [DType::F64, DType::F32] {
            let tensor = |v: Vec<f64>| {
                Tensor::from_vec(v, len, &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap()
            };
            let slot = Slot {
                name: "w".into(),
                var: Var::from_tensor(&tensor(values(1, 2.0))).unwrap(),
                decay: true,
                first_moment: tensor(values(2, 0.1)),
                second_moment: tensor(values(3, 0.01)).abs().unwrap(),
            };
            let grad = tensor(values(4, 1.0));
            let scalars = UpdateScalars {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                bias1: 1.0 - 0.9f64.powi(3),
                bias2: 1.0 - 0.999f64.powi(3),
                lr: 1e-2,
                decay_factor: 1.0 - 1e-2 * 0.1,
            };
            let fused = adamw_kernel::update(
                slot.var.as_tensor(),
                &grad,
                &slot.first_moment,
                &slot.second_moment,
                scalars,
            )
            .unwrap()
            .expect("contiguous CPU tensors take the one-pass update");
            let composed = composed_update(&slot, &grad, scalars).unwrap();
            let tolerance = if dtype == DType::F64 { 1e-13 } else { 1e-5 };
            for (a, b) in [
                (fused.0, composed.0),
                (fused.1, composed.1),
                (fused.2, composed.2),
            ] {
                let worst = (a - b)
                    .unwrap()
                    .abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_dtype(DType::F64)
                    .unwrap()
                    .to_scalar::<f64>()
                    .unwrap();
                assert!(worst < tolerance, "{dtype:?}: differs by {worst}");
            }
        }
        // A non-contiguous tensor is left to the candle ops.
        let square = Tensor::ones((4, 4), DType::F32, &Device::Cpu).unwrap();
        let transposed = square.t().unwrap();
        let scalars = UpdateScalars {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            bias1: 0.1,
            bias2: 0.001,
            lr: 1e-3,
            decay_factor: 1.0,
        };
        let update = adamw_kernel::update(&transposed, &square, &square, &square, scalars);
        assert!(update.unwrap().is_none());
    }

    #[test]
    fn restored_state_continues_exactly() {
        let config = AdamWConfig::default();
        let run = |restore_after: Option<usize>| -> Vec<f64> {
            let w = scalar_var(0.7, &[3, 1]);
            let mut opt = AdamW::new(vec![("w".into(), w.clone())], config).unwrap();
            for step in 0..6 {
                if restore_after == Some(step) {
                    // Save, build a fresh optimizer, restore: the rest must not change.
                    let state = opt.state_tensors();
                    let steps = opt.step_count();
                    opt = AdamW::new(vec![("w".into(), w.clone())], config).unwrap();
                    opt.load_state(&state, steps).unwrap();
                }
                let loss = w.as_tensor().sqr().unwrap().sum_all().unwrap();
                opt.step(&loss.backward().unwrap(), 0.01).unwrap();
            }
            w.as_tensor().flatten_all().unwrap().to_vec1().unwrap()
        };
        assert_eq!(run(None), run(Some(3)));
        let w = scalar_var(0.7, &[3, 1]);
        let mut opt = AdamW::new(vec![("w".into(), w)], config).unwrap();
        assert!(opt.load_state(&HashMap::new(), 1).is_err());
    }
}
