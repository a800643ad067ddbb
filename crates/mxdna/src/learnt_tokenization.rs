//! MxDNA's learnt tokenization layer: scoring (router) -> selection (basic-unit NMS)
//! -> aggregation (the sparse mixture of convolution experts) -> compaction -> assembly
//! (the deformable convolution block).
//!
//! 1. `h = LayerNorm(x)`; the router scores every (position, expert) pair with a
//!    bias-free linear map of `h` (special tokens zeroed; in training `h` is first
//!    multiplied by uniform noise in `[1 - jitter, 1 + jitter]`).
//! 2. The NMS (on the detached scores) picks non-overlapping units.
//! 3. Expert `j` turns each of its units' nucleotides (of `h`) into one vector, placed
//!    at the unit's centre and weighted by the router's softmax probability of `j`
//!    there; the sum over experts is added to `x`.
//! 4. Unit centres and special tokens are kept, in order, and moved to the front of
//!    the sequence (right padding): the token sequence.
//! 5. The deformable convolution block assembles units into tokens.
//!
//! This follows the reference's reorganised `full-model` branch (compaction before the
//! deformable convolution; token layers then see positions `0..k`); its weight names
//! are those of commit ad3808d, under `conversion_layer.`: `input_layernorm.norm`,
//! `gate.weight`, `conv_moe.experts.N.*`, `deform_conv.*`, and
//! `motif_masked_token_embedding`, which the reference uses only for its
//! motif-masking variant; it is kept so that reference weights load.

use std::sync::Arc;

use candle_core::{Result, Tensor, D};
use dnalm_nn::layer_norm::LayerNorm;
use dnalm_nn::linear_op::linear;
use dnalm_nn::params::ParamStore;
use rand::Rng;

use crate::conv_expert::ConvExpert;
use crate::deformable_conv::DeformableConvBlock;
use crate::nms::{basic_unit_nms, BasicUnits};
use crate::row_ops::{gather_rows, scatter_rows};

/// Sizes of the layer.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenizationSizes {
    /// Model width.
    pub d_model: usize,
    /// Unit length of each expert.
    pub expert_kernel_sizes: Vec<usize>,
    /// Taps of the deformable convolution (odd).
    pub deformable_kernel: usize,
    /// Router jitter in training.
    pub jitter: f64,
    /// LayerNorm epsilon of the layer's own norms.
    pub norm_eps: f64,
    /// LayerNorm epsilon inside the convolution experts.
    pub expert_norm_eps: f64,
}

/// What the layer hands on.
pub struct Tokenized {
    /// Token states `(B, K, d)`, right-padded with zero rows.
    pub tokens: Tensor,
    /// Real tokens per sequence (`[CLS]` and `[SEP]` included).
    pub token_lengths: Vec<usize>,
    /// For each sequence, the nucleotide position each token came from.
    pub token_positions: Vec<Vec<usize>>,
    /// Router logits `(B, L, N)` (with the training jitter), for the balancing loss.
    pub router_logits: Tensor,
    /// The units the NMS chose.
    pub units: BasicUnits,
}

/// The layer.
pub struct LearntTokenization {
    sizes: TokenizationSizes,
    norm: LayerNorm,
    gate: Tensor,
    experts: Vec<ConvExpert>,
    deform: DeformableConvBlock,
}

impl LearntTokenization {
    /// A new layer under `prefix` (with its trailing dot), weights N(0, `std`).
    pub fn new(
        params: &mut ParamStore,
        prefix: &str,
        sizes: TokenizationSizes,
        std: f64,
    ) -> Result<Self> {
        let d = sizes.d_model;
        let norm = LayerNorm::new(
            params,
            &format!("{prefix}input_layernorm.norm"),
            d,
            sizes.norm_eps,
        )?;
        let gate = params.normal(
            &format!("{prefix}gate.weight"),
            &[sizes.expert_kernel_sizes.len(), d],
            std,
        )?;
        params.normal(&format!("{prefix}motif_masked_token_embedding"), &[d], std)?;
        let experts = sizes
            .expert_kernel_sizes
            .iter()
            .enumerate()
            .map(|(j, &kernel)| {
                ConvExpert::new(
                    params,
                    &format!("{prefix}conv_moe.experts.{j}."),
                    d,
                    kernel,
                    sizes.expert_norm_eps,
                    std,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let deform = DeformableConvBlock::new(
            params,
            &format!("{prefix}deform_conv."),
            d,
            sizes.deformable_kernel,
            sizes.norm_eps,
            std,
        )?;
        Ok(Self {
            sizes,
            norm,
            gate,
            experts,
            deform,
        })
    }

    /// Tokenizes nucleotide states `x` `(B, L, d)`: sequence `b` has `lengths[b]` real
    /// positions, `[CLS]` first and `[SEP]` last; `special[b * L + p]` marks them.
    /// `jitter_seed` draws the router noise (training); `None` for inference.
    pub fn forward(
        &self,
        x: &Tensor,
        lengths: &[usize],
        special: &[bool],
        jitter_seed: Option<u64>,
    ) -> Result<Tokenized> {
        let (batch, steps, d) = x.dims3()?;
        let device = x.device();
        let h = self.norm.forward(x)?;
        let router_input = match jitter_seed {
            Some(seed) if self.sizes.jitter > 0.0 => {
                let j = self.sizes.jitter as f32;
                let mut rng = dnalm_seq::seeded_rng(seed);
                let noise: Vec<f32> = (0..batch * steps * d)
                    .map(|_| rng.random_range(1.0 - j..1.0 + j))
                    .collect();
                (&h * Tensor::from_vec(noise, (batch, steps, d), device)?.to_dtype(h.dtype())?)?
            }
            _ => h.clone(),
        };
        let not_special: Vec<f32> = special.iter().map(|&s| f32::from(u8::from(!s))).collect();
        let not_special =
            Tensor::from_vec(not_special, (batch, steps, 1), device)?.to_dtype(h.dtype())?;
        let router_logits = linear(&router_input.broadcast_mul(&not_special)?, &self.gate)?;
        let scores: Vec<f32> = router_logits
            .to_dtype(candle_core::DType::F32)?
            .flatten_all()?
            .to_vec1()?;
        let units = basic_unit_nms(&scores, steps, &self.sizes.expert_kernel_sizes, lengths)
            .map_err(|err| candle_core::Error::Msg(err.to_string()))?;

        let rows = batch * steps;
        let h_rows = h.reshape((rows, d))?;
        let weights = candle_nn::ops::softmax(&router_logits, D::Minus1)?
            .reshape((rows, self.experts.len()))?;
        // Each expert's weighted unit vectors, placed at their centres in one scatter.
        let (mut vectors, mut all_centres) = (Vec::new(), Vec::new());
        for (j, expert) in self.experts.iter().enumerate() {
            let positions = |mask: &[i32]| -> Vec<u32> {
                mask.iter()
                    .enumerate()
                    .filter(|&(_, &e)| e == j as i32)
                    .map(|(i, _)| i as u32)
                    .collect()
            };
            let (covered, centres) = (positions(&units.cover), positions(&units.centre));
            if centres.is_empty() {
                continue;
            }
            let centres = Arc::new(centres);
            let unit_vectors = expert.forward(&gather_rows(&h_rows, &Arc::new(covered))?)?;
            let weight = gather_rows(&weights.narrow(1, j, 1)?.contiguous()?, &centres)?;
            vectors.push(unit_vectors.broadcast_mul(&weight)?);
            all_centres.extend(centres.iter().copied());
        }
        let mixture = if vectors.is_empty() {
            Tensor::zeros((rows, d), h.dtype(), device)?
        } else {
            scatter_rows(&Tensor::cat(&vectors, 0)?, &Arc::new(all_centres), rows)?
        };
        let x = (x + mixture.reshape((batch, steps, d))?)?;

        // Compaction: centres and special tokens, in order, to the front.
        let mut token_positions = Vec::with_capacity(batch);
        let (mut sources, mut targets) = (Vec::new(), Vec::new());
        for (b, &length) in lengths.iter().enumerate() {
            let kept: Vec<usize> = (0..length)
                .filter(|&p| special[b * steps + p] || units.centre[b * steps + p] >= 0)
                .collect();
            token_positions.push(kept);
        }
        let width = token_positions
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(0)
            .max(1);
        let mut token_special = vec![false; batch * width];
        for (b, kept) in token_positions.iter().enumerate() {
            for (t, &p) in kept.iter().enumerate() {
                sources.push((b * steps + p) as u32);
                targets.push((b * width + t) as u32);
                token_special[b * width + t] = special[b * steps + p];
            }
        }
        let tokens = scatter_rows(
            &gather_rows(&x.reshape((rows, d))?, &Arc::new(sources))?,
            &Arc::new(targets),
            batch * width,
        )?
        .reshape((batch, width, d))?;
        let token_lengths: Vec<usize> = token_positions.iter().map(Vec::len).collect();
        let special_mask: Vec<f32> = token_special
            .iter()
            .map(|&s| f32::from(u8::from(s)))
            .collect();
        let special_mask = Tensor::from_vec(special_mask, (batch, width), device)?;
        let tokens = self
            .deform
            .forward(&tokens, &token_lengths, &special_mask)?;
        Ok(Tokenized {
            tokens,
            token_lengths,
            token_positions,
            router_logits,
            units,
        })
    }
}

/// The load-balancing loss over the unit centres: with `f_j` the share of units won
/// by expert `j` and `P_j` the mean router probability of `j` at those centres,
/// `N² · mean_j(f_j P_j)` (1 when both are uniform).
pub fn load_balancing_loss(router_logits: &Tensor, units: &BasicUnits) -> Result<Tensor> {
    let experts = router_logits.dim(D::Minus1)?;
    let rows = router_logits.elem_count() / experts;
    let centres: Vec<u32> = units
        .centre
        .iter()
        .enumerate()
        .filter(|&(_, &e)| e >= 0)
        .map(|(i, _)| i as u32)
        .collect();
    if centres.is_empty() {
        return Tensor::zeros((), router_logits.dtype(), router_logits.device());
    }
    let mut shares = vec![0f32; experts];
    for &i in &centres {
        shares[units.centre[i as usize] as usize] += 1.0 / centres.len() as f32;
    }
    let probabilities =
        candle_nn::ops::softmax(&router_logits.reshape((rows, experts))?, D::Minus1)?;
    let mean_probability = gather_rows(&probabilities, &Arc::new(centres))?.mean(0)?;
    let shares = Tensor::from_vec(shares, experts, router_logits.device())?
        .to_dtype(router_logits.dtype())?;
    (mean_probability * shares)?.sum_all()? * experts as f64
}

#[cfg(test)]
mod tests {
    use crate::gradient_check::{check_largest_gradients, Tolerance};
    use candle_core::{Device, Var};

    use super::*;

    fn sizes() -> TokenizationSizes {
        TokenizationSizes {
            d_model: 4,
            expert_kernel_sizes: vec![1, 2, 3],
            deformable_kernel: 3,
            jitter: 0.01,
            norm_eps: 1e-5,
            expert_norm_eps: 1e-6,
        }
    }

    fn special(lengths: &[usize], steps: usize) -> Vec<bool> {
        lengths
            .iter()
            .flat_map(|&length| (0..steps).map(move |p| p == 0 || p + 1 == length))
            .collect()
    }

    #[test]
    fn tokens_are_the_centres_and_specials_in_order() {
        let device = Device::Cpu;
        let mut params = ParamStore::new(7, &device);
        let layer =
            LearntTokenization::new(&mut params, "conversion_layer.", sizes(), 0.5).unwrap();
        let (steps, lengths) = (12, [12, 8]);
        let values: Vec<f32> = (0..2 * steps * 4)
            .map(|i| ((i * 7 % 17) as f32 - 8.0) / 4.0)
            .collect();
        let x = Tensor::from_vec(values, (2, steps, 4), &device).unwrap();
        let out = layer
            .forward(&x, &lengths, &special(&lengths, steps), None)
            .unwrap();
        for (b, &length) in lengths.iter().enumerate() {
            let positions = &out.token_positions[b];
            assert_eq!(positions[0], 0);
            assert_eq!(*positions.last().unwrap(), length - 1);
            // Every kept position between the specials is a unit centre, and the
            // units cover each nucleotide at most once.
            for &p in &positions[1..positions.len() - 1] {
                assert!(out.units.centre[b * steps + p] >= 0);
            }
            let centres = out.units.centre[b * steps..(b + 1) * steps]
                .iter()
                .filter(|&&c| c >= 0)
                .count();
            assert_eq!(positions.len(), centres + 2);
            assert_eq!(out.token_lengths[b], positions.len());
        }
        assert_eq!(
            out.tokens.dims3().unwrap(),
            (2, out.token_lengths.iter().copied().max().unwrap(), 4)
        );
        // Padding rows stay zero: their input is zero and, with the offsets at their
        // initial zero, their taps meet only masked positions ([SEP] and padding).
        let shorter = out.token_lengths.iter().copied().min().unwrap();
        let widest = out.token_lengths.iter().copied().max().unwrap();
        if shorter < widest {
            let b = out
                .token_lengths
                .iter()
                .position(|&l| l == shorter)
                .unwrap();
            let pad: Vec<f32> = out
                .tokens
                .get(b)
                .unwrap()
                .get(widest - 1)
                .unwrap()
                .to_vec1()
                .unwrap();
            assert!(pad.iter().all(|&v| v == 0.0), "{pad:?}");
        }
    }

    #[test]
    fn every_parameter_gets_a_gradient_matching_finite_differences() {
        let device = Device::Cpu;
        let mut params = ParamStore::new(3, &device);
        let layer =
            LearntTokenization::new(&mut params, "conversion_layer.", sizes(), 0.5).unwrap();
        let (steps, lengths) = (10, [10, 7]);
        let special = special(&lengths, steps);
        let values: Vec<f32> = (0..2 * steps * 4)
            .map(|i| ((i * 5 % 13) as f32 - 6.0) / 3.0)
            .collect();
        let x = Var::from_vec(values, (2, steps, 4), &device).unwrap();
        let reference = layer
            .forward(x.as_tensor(), &lengths, &special, None)
            .unwrap();
        let probe_len = reference.tokens.elem_count();
        let probe: Vec<f32> = (0..probe_len).map(|i| (i as f32 * 0.41).sin()).collect();
        let probe = Tensor::from_vec(probe, reference.tokens.shape(), &device).unwrap();
        let loss = || {
            let out = layer
                .forward(x.as_tensor(), &lengths, &special, None)
                .unwrap();
            // The same units must be chosen for finite differences to be meaningful.
            assert_eq!(out.units, reference.units);
            let balance = load_balancing_loss(&out.router_logits, &out.units).unwrap();
            ((out.tokens * &probe).unwrap().sum_all().unwrap() + balance).unwrap()
        };
        let grads = loss().backward().unwrap();
        let mut vars = params.named_vars();
        vars.push(("input".into(), x.clone()));
        // The masked-token embedding is unused here; the zero-initialised offset and
        // modulation predictors sit on the interpolation's kinks (deformable_conv tests
        // them off zero).
        vars.retain(|(name, _)| {
            ![
                "motif_masked_token_embedding",
                "offset_conv",
                "modulator_conv",
            ]
            .iter()
            .any(|unused| name.contains(unused))
        });
        // An expert that won no unit on this input gets no gradient.
        check_largest_gradients(
            vars,
            &grads,
            &loss,
            Tolerance {
                step: 1e-3,
                relative: 3e-2,
                floor: 1e-2,
            },
            &|name: &str| name.contains("conv_moe.experts"),
        );
    }

    #[test]
    fn balancing_loss_by_hand() {
        let device = Device::Cpu;
        // Two experts; centres at rows 0 (expert 0) and 2 (expert 1); row 1 no unit.
        let logits =
            Tensor::new(&[[[0.0f32, 0.0], [5.0, -5.0], [2.0f32.ln(), 0.0]]], &device).unwrap();
        let units = BasicUnits {
            centre: vec![0, -1, 1],
            cover: vec![0, -1, 1],
        };
        // f = (1/2, 1/2); P = mean of (1/2, 1/2) and (2/3, 1/3) = (7/12, 5/12);
        // loss = 2 * (1/2 * 7/12 + 1/2 * 5/12) = 1.
        let loss = load_balancing_loss(&logits, &units)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((loss - 1.0).abs() < 1e-6, "{loss}");
        let skewed = BasicUnits {
            centre: vec![0, -1, 0],
            cover: vec![0, -1, 0],
        };
        // f = (1, 0): loss = 2 * 7/12.
        let loss = load_balancing_loss(&logits, &skewed)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((loss - 7.0 / 6.0).abs() < 1e-6, "{loss}");
    }
}
