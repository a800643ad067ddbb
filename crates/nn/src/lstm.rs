//! A multi-layer LSTM language model (the recurrent model of arXiv 2307.10634), with
//! PyTorch's parameter names (`embedding.weight`, `lstm.weight_ih_l0`,
//! `lstm.weight_hh_l0`, `lstm.bias_ih_l0`, `lstm.bias_hh_l0`, ..., `head.weight`,
//! `head.bias`) and PyTorch's initialisation. Each layer's recurrence runs as one fused
//! op ([`crate::lstm_op`]).

use candle_core::{Device, Result, Tensor};
use serde::{Deserialize, Serialize};

use crate::lstm_op::lstm_recurrence;
use crate::params::ParamStore;

/// Sizes of an LSTM language model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LstmConfig {
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Embedding width.
    pub embed_dim: usize,
    /// Hidden state width.
    pub hidden_size: usize,
    /// Stacked LSTM layers.
    pub num_layers: usize,
}

impl LstmConfig {
    /// Checks every size against [`crate::size_limits`] and the parameter count they
    /// make, before anything is allocated.
    pub fn check(&self) -> std::result::Result<(), String> {
        use crate::size_limits::{parameters, size, MAX_LAYERS, MAX_VOCAB, MAX_WIDTH};
        size("vocab_size", self.vocab_size, MAX_VOCAB)?;
        size("embed_dim", self.embed_dim, MAX_WIDTH)?;
        size("hidden_size", self.hidden_size, MAX_WIDTH)?;
        size("num_layers", self.num_layers, MAX_LAYERS)?;
        let (v, e, h, l) = (
            self.vocab_size as u128,
            self.embed_dim as u128,
            self.hidden_size as u128,
            self.num_layers as u128,
        );
        let first = 4 * h * (e + h + 2);
        let rest = (l - 1) * 4 * h * (2 * h + 2);
        parameters("the LSTM", v * e + first + rest + h * v + v)
    }
}

struct Layer {
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor,
    bias_hh: Tensor,
}

/// The model: embedding, stacked LSTM layers, a linear head over the vocabulary.
pub struct LstmLm {
    config: LstmConfig,
    params: ParamStore,
    embedding: Tensor,
    layers: Vec<Layer>,
    head_weight: Tensor,
    head_bias: Tensor,
}

impl LstmLm {
    /// A freshly initialised model: embedding N(0, 1); LSTM weights and biases
    /// U(-1/sqrt(H), 1/sqrt(H)); head U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's defaults).
    pub fn new(config: LstmConfig, seed: u64, device: &Device) -> Result<Self> {
        Self::on(config, ParamStore::new(seed, device))
    }

    /// The network on `params`: fresh, or a frozen store of given weights (see
    /// [`ParamStore::frozen`]).
    pub fn on(config: LstmConfig, mut params: ParamStore) -> Result<Self> {
        config.check().map_err(candle_core::Error::Msg)?;
        let LstmConfig {
            vocab_size,
            embed_dim,
            hidden_size,
            num_layers,
        } = config;
        let embedding = params.normal("embedding.weight", &[vocab_size, embed_dim], 1.0)?;
        let bound = 1.0 / (hidden_size as f64).sqrt();
        let mut layers = Vec::with_capacity(num_layers);
        for layer in 0..num_layers {
            let input = if layer == 0 { embed_dim } else { hidden_size };
            let weight_ih = params.uniform(
                &format!("lstm.weight_ih_l{layer}"),
                &[4 * hidden_size, input],
                bound,
            )?;
            let weight_hh = params.uniform(
                &format!("lstm.weight_hh_l{layer}"),
                &[4 * hidden_size, hidden_size],
                bound,
            )?;
            let bias_ih =
                params.uniform(&format!("lstm.bias_ih_l{layer}"), &[4 * hidden_size], bound)?;
            let bias_hh =
                params.uniform(&format!("lstm.bias_hh_l{layer}"), &[4 * hidden_size], bound)?;
            layers.push(Layer {
                weight_ih,
                weight_hh,
                bias_ih,
                bias_hh,
            });
        }
        let head_weight = params.uniform("head.weight", &[vocab_size, hidden_size], bound)?;
        let head_bias = params.uniform("head.bias", &[vocab_size], bound)?;
        Ok(Self {
            config,
            params,
            embedding,
            layers,
            head_weight,
            head_bias,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// Next-token logits `(B, T, V)` for token ids `(B, T)` (u32); position t sees
    /// tokens 0..=t.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (batch, steps) = ids.dims2()?;
        let vocab = self.config.vocab_size;
        // Time-major for the recurrence: (T, B).
        let flat_ids = ids.t()?.contiguous()?.flatten_all()?;
        let mut x: Option<Tensor> = None; // the previous layer's hidden states (T*B, H)
        for layer in &self.layers {
            let bias = (&layer.bias_ih + &layer.bias_hh)?;
            let xp = match &x {
                Some(x) => x.matmul(&layer.weight_ih.t()?)?,
                None => self.first_projection(&flat_ids, &layer.weight_ih)?,
            };
            let hidden =
                lstm_recurrence(&xp.reshape((steps, batch, ()))?, &layer.weight_hh, &bias)?;
            x = Some(hidden.reshape((steps * batch, ()))?);
        }
        let x = x.ok_or_else(|| candle_core::Error::Msg("an LSTM needs a layer".into()))?;
        let logits = x
            .matmul(&self.head_weight.t()?)?
            .broadcast_add(&self.head_bias)?;
        logits
            .reshape((steps, batch, vocab))?
            .transpose(0, 1)?
            .contiguous()
    }

    /// The first layer's input projection `(T*B, 4H)` for time-major token ids. Its
    /// input is an embedding row, so each projected row is a row of `embedding W_ih^T`
    /// `(V, 4H)`: V products instead of T*B when the vocabulary is the smaller.
    fn first_projection(&self, flat_ids: &Tensor, weight_ih: &Tensor) -> Result<Tensor> {
        if self.config.vocab_size < flat_ids.elem_count() {
            self.embedding
                .matmul(&weight_ih.t()?)?
                .index_select(flat_ids, 0)
        } else {
            self.embedding
                .index_select(flat_ids, 0)?
                .matmul(&weight_ih.t()?)
        }
    }

    /// One step of inference for a single sequence: reads token `id` with the state
    /// left by the previous step (`None` at the start) and returns the next-token
    /// logits `(V,)` and the new state. Plain candle ops, for generation.
    pub fn step(&self, id: u32, state: Option<LstmState>) -> Result<(Tensor, LstmState)> {
        let device = self.embedding.device();
        let hidden_size = self.config.hidden_size;
        let mut state = match state {
            Some(state) => state,
            None => {
                let zeros = Tensor::zeros((1, hidden_size), self.embedding.dtype(), device)?;
                LstmState {
                    h: vec![zeros.clone(); self.layers.len()],
                    c: vec![zeros; self.layers.len()],
                }
            }
        };
        let mut x = self
            .embedding
            .index_select(&Tensor::new(&[id], device)?, 0)?; // (1, E)
        for (k, layer) in self.layers.iter().enumerate() {
            let gates = (x.matmul(&layer.weight_ih.t()?)?
                + state.h[k].matmul(&layer.weight_hh.t()?)?)?
            .broadcast_add(&(&layer.bias_ih + &layer.bias_hh)?)?;
            let chunk = |i: usize| gates.narrow(1, i * hidden_size, hidden_size);
            let sigmoid = |t: Tensor| -> Result<Tensor> { (t.neg()?.exp()? + 1.0)?.recip() };
            let (i, f, g, o) = (
                sigmoid(chunk(0)?)?,
                sigmoid(chunk(1)?)?,
                chunk(2)?.tanh()?,
                sigmoid(chunk(3)?)?,
            );
            state.c[k] = ((f * &state.c[k])? + (i * g)?)?;
            state.h[k] = (o * state.c[k].tanh()?)?;
            x = state.h[k].clone();
        }
        let logits = x
            .matmul(&self.head_weight.t()?)?
            .broadcast_add(&self.head_bias)?;
        Ok((logits.squeeze(0)?, state))
    }
}

/// The hidden and cell states of every layer between inference steps.
#[derive(Debug, Clone)]
pub struct LstmState {
    h: Vec<Tensor>,
    c: Vec<Tensor>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::masked_cross_entropy;

    /// Deterministic token batches of a repetitive sequence: inputs `(B, T)` and the
    /// next tokens `(B * T,)`.
    fn next_batch(offset: usize, batch: usize, steps: usize) -> (Tensor, Tensor) {
        let token = |i: usize| (5 + (i * 3 + i / 7) % 4) as u32;
        let at = |k: usize, shift: usize| token(offset + k / steps * 11 + k % steps + shift);
        let inputs: Vec<u32> = (0..batch * steps).map(|k| at(k, 0)).collect();
        let targets: Vec<u32> = (0..batch * steps).map(|k| at(k, 1)).collect();
        (
            Tensor::from_vec(inputs, (batch, steps), &Device::Cpu).unwrap(),
            Tensor::from_vec(targets, batch * steps, &Device::Cpu).unwrap(),
        )
    }

    fn loss_of(model: &LstmLm, ids: &Tensor, targets: &Tensor) -> Tensor {
        let logits = model.forward(ids).unwrap();
        let (b, t, v) = logits.dims3().unwrap();
        let mask = Tensor::ones(b * t, candle_core::DType::F32, &Device::Cpu).unwrap();
        masked_cross_entropy(&logits.reshape((b * t, v)).unwrap(), targets, &mask)
            .unwrap()
            .0
    }

    #[test]
    fn every_parameter_gets_a_gradient_matching_finite_differences() {
        let config = LstmConfig {
            vocab_size: 9,
            embed_dim: 6,
            hidden_size: 5,
            num_layers: 2,
        };
        let model = LstmLm::new(config, 3, &Device::Cpu).unwrap();
        // 12 tokens (more than the vocabulary: the first layer projects the embedding
        // table) and 4 (fewer: it projects each token's embedding).
        for (batch, steps) in [(2, 6), (1, 4)] {
            let (ids, targets) = next_batch(0, batch, steps);
            check_gradients(&model, &ids, &targets);
        }
    }

    fn check_gradients(model: &LstmLm, ids: &Tensor, targets: &Tensor) {
        let grads = loss_of(model, ids, targets).backward().unwrap();
        for (name, var) in model.params().named_vars() {
            let grad = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("{name} has no gradient"));
            let analytic: Vec<f32> = grad.flatten_all().unwrap().to_vec1().unwrap();
            assert!(
                analytic.iter().any(|g| g.abs() > 1e-6),
                "{name}: all-zero gradient"
            );
            let values: Vec<f32> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
            // Central differences in f32 on the largest-gradient coordinate.
            let index = (0..analytic.len())
                .max_by(|&a, &b| analytic[a].abs().total_cmp(&analytic[b].abs()))
                .unwrap();
            let eps = 1e-2f32;
            let at = |delta: f32| {
                let mut copy = values.clone();
                copy[index] += delta;
                var.set(&Tensor::from_vec(copy, var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                let loss = loss_of(model, ids, targets).to_scalar::<f32>().unwrap();
                var.set(&Tensor::from_vec(values.clone(), var.shape(), &Device::Cpu).unwrap())
                    .unwrap();
                loss
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            let relative = (numeric - analytic[index]).abs() / analytic[index].abs().max(1e-3);
            assert!(
                relative < 0.02,
                "{name}[{index}]: numeric {numeric}, analytic {}",
                analytic[index]
            );
        }
    }

    #[test]
    fn stepping_gives_the_forward_logits() {
        let config = LstmConfig {
            vocab_size: 9,
            embed_dim: 6,
            hidden_size: 5,
            num_layers: 2,
        };
        let model = LstmLm::new(config, 4, &Device::Cpu).unwrap();
        let ids = [2u32, 5, 7, 6, 8, 5];
        let all = model
            .forward(
                &Tensor::new(&ids[..], &Device::Cpu)
                    .unwrap()
                    .unsqueeze(0)
                    .unwrap(),
            )
            .unwrap();
        let mut state = None;
        for (t, &id) in ids.iter().enumerate() {
            let (logits, next) = model.step(id, state).unwrap();
            state = Some(next);
            let expected = all.get(0).unwrap().get(t).unwrap();
            let diff = (logits - expected)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(diff < 1e-5, "step {t}: {diff}");
        }
    }

    #[test]
    fn training_learns_a_repetitive_sequence() {
        let config = LstmConfig {
            vocab_size: 9,
            embed_dim: 16,
            hidden_size: 32,
            num_layers: 1,
        };
        let model = LstmLm::new(config, 1, &Device::Cpu).unwrap();
        use candle_nn::optim::Optimizer;
        let vars = model
            .params()
            .named_vars()
            .into_iter()
            .map(|(_, var)| var)
            .collect();
        let mut optimizer = candle_nn::optim::AdamW::new_lr(vars, 0.02).unwrap();
        let (ids, targets) = next_batch(0, 4, 24);
        let first = loss_of(&model, &ids, &targets).to_scalar::<f32>().unwrap();
        for _ in 0..60 {
            optimizer
                .backward_step(&loss_of(&model, &ids, &targets))
                .unwrap();
        }
        let last = loss_of(&model, &ids, &targets).to_scalar::<f32>().unwrap();
        assert!(first > 1.2 && last < 0.3, "loss {first} -> {last}");
    }
}
