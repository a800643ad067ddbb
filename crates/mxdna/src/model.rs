//! The MxDNA network for masked-LM pretraining: nucleotide embedding, nucleotide
//! layers, the learnt tokenization layer, token layers and a final LayerNorm (the
//! reference's `MxDNAModel`), then a cross-attention decoder layer whose queries are the
//! nucleotide states and whose keys and values are the token states, a LayerNorm and
//! the ESM-style LM head back at nucleotide resolution. The loss is the masked-LM
//! cross-entropy plus `router_aux_loss_coef` times the load-balancing loss.
//!
//! Parameter names as in the reference: `model.embed_tokens.weight`,
//! `model.nucleotide_layers.N.*`, `model.conversion_layer.*`, `model.motif_layers.N.*`,
//! `model.norm.norm.*`, `decoder.*` (`cross_attn.`), `norm.norm.*`, `lm_head.*`.

use std::sync::Arc;

use candle_core::{Result, Tensor};
use dnalm_nn::heads::MlmHead;
use dnalm_nn::layer_norm::LayerNorm;
use dnalm_nn::loss::masked_cross_entropy;
use dnalm_nn::params::ParamStore;
use dnalm_nn::rope::Rope;
use dnalm_nn::transformer_layer::{AttentionMask, TransformerLayer};
use dnalm_seq::masking::{mask_spans, MaskingConfig, IGNORE_INDEX};
use dnalm_tokenize::special;

use crate::config::MxDnaConfig;
use crate::learnt_tokenization::{load_balancing_loss, LearntTokenization, Tokenized};
use crate::row_ops::gather_rows;

/// The encoder's states.
pub struct EncoderOutput {
    /// Nucleotide states after the nucleotide layers `(B, L, d)`.
    pub nucleotide_states: Tensor,
    /// Token states after the token layers and the final LayerNorm `(B, K, d)`.
    pub token_states: Tensor,
    /// What the tokenization layer chose.
    pub tokenized: Tokenized,
}

/// What one masked-LM batch gives.
pub struct MaskedLmLoss {
    /// Cross-entropy + coefficient x balancing loss (what is minimised).
    pub total: Tensor,
    /// Mean cross-entropy over the hidden nucleotides.
    pub cross_entropy: f64,
    /// The load-balancing loss (1 when balanced).
    pub balance: f64,
    /// Hidden nucleotides.
    pub hidden: usize,
}

/// The encoder (the reference's `MxDNAModel`, under `model.`): what pretraining and
/// fine-tuning share.
pub struct MxDnaEncoder {
    config: MxDnaConfig,
    embedding: Tensor,
    nucleotide_layers: Vec<TransformerLayer>,
    tokenization: LearntTokenization,
    token_layers: Vec<TransformerLayer>,
    norm: LayerNorm,
}

/// The network for masked-LM pretraining: the encoder, the cross-attention decoder and
/// the LM head.
pub struct MxDna {
    encoder: MxDnaEncoder,
    decoder: TransformerLayer,
    decoder_norm: LayerNorm,
    lm_head: MlmHead,
    masking: MaskingConfig,
}

impl MxDnaEncoder {
    /// A new encoder, its parameters registered in `params`: weights
    /// N(0, initializer_range), norms at identity, the deformable offsets at zero.
    pub fn new(config: MxDnaConfig, params: &mut ParamStore) -> Result<Self> {
        config
            .check()
            .map_err(|err| candle_core::Error::Msg(err.to_string()))?;
        let std = config.initializer_range;
        let sizes = config.layer_sizes();
        let d = config.hidden_size;
        let embedding = params.normal("model.embed_tokens.weight", &[config.vocab_size, d], std)?;
        let stack = |params: &mut ParamStore, prefix: &str, count: usize| {
            (0..count)
                .map(|i| TransformerLayer::new(params, &format!("{prefix}.{i}."), sizes, std, std))
                .collect::<Result<Vec<_>>>()
        };
        let nucleotide_layers = stack(
            params,
            "model.nucleotide_layers",
            config.conversion_layer_idx,
        )?;
        let tokenization = LearntTokenization::new(
            params,
            "model.conversion_layer.",
            config.tokenization_sizes(),
            std,
        )?;
        let token_layers = stack(params, "model.motif_layers", config.token_layers())?;
        let norm = LayerNorm::new(params, "model.norm.norm", d, config.layer_norm_eps)?;
        Ok(Self {
            config,
            embedding,
            nucleotide_layers,
            tokenization,
            token_layers,
            norm,
        })
    }

    /// The sizes.
    pub fn config(&self) -> &MxDnaConfig {
        &self.config
    }

    /// The device its weights live on.
    pub fn device(&self) -> &candle_core::Device {
        self.embedding.device()
    }

    fn rope(&self, steps: usize, device: &candle_core::Device) -> Result<Rope> {
        Rope::new(
            steps,
            self.config.layer_sizes().head_dim(),
            self.config.rope_theta,
            device,
        )
    }

    /// The encoder on right-padded ids `(B, L)` (`[CLS] ... [SEP]`, then `[PAD]`) whose
    /// real lengths are `lengths`; `special[b * L + p]` marks `[CLS]`/`[SEP]`.
    /// `jitter_seed` draws the router noise (training).
    pub fn encode(
        &self,
        ids: &Tensor,
        lengths: &[usize],
        special: &[bool],
        jitter_seed: Option<u64>,
    ) -> Result<EncoderOutput> {
        let (batch, steps) = ids.dims2()?;
        let d = self.config.hidden_size;
        let device = ids.device();
        let rope = self.rope(steps, device)?;
        let mut x = self
            .embedding
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((batch, steps, d))?;
        let nucleotide_mask = AttentionMask {
            causal: false,
            lengths: Some(lengths),
        };
        for layer in &self.nucleotide_layers {
            x = layer.forward(&x, &rope, nucleotide_mask)?;
        }
        let tokenized = self
            .tokenization
            .forward(&x, lengths, special, jitter_seed)?;
        let token_mask = AttentionMask {
            causal: false,
            lengths: Some(&tokenized.token_lengths),
        };
        let mut t = tokenized.tokens.clone();
        for layer in &self.token_layers {
            t = layer.forward(&t, &rope, token_mask)?;
        }
        Ok(EncoderOutput {
            nucleotide_states: x,
            token_states: self.norm.forward(&t)?,
            tokenized,
        })
    }
}

impl MxDna {
    /// A new network (encoder, decoder, LM head), its parameters registered in
    /// `params`: weights N(0, initializer_range), norms at identity, the deformable
    /// offsets at zero.
    pub fn new(config: MxDnaConfig, params: &mut ParamStore) -> Result<Self> {
        let std = config.initializer_range;
        let (sizes, d, eps, vocab) = (
            config.layer_sizes(),
            config.hidden_size,
            config.layer_norm_eps,
            config.vocab_size,
        );
        let encoder = MxDnaEncoder::new(config, params)?;
        Ok(Self {
            encoder,
            decoder: TransformerLayer::new_cross(params, "decoder.", sizes, std, std)?,
            decoder_norm: LayerNorm::new(params, "norm.norm", d, eps)?,
            lm_head: MlmHead::new(params, d, vocab, eps)?,
            masking: MaskingConfig::default(),
        })
    }

    /// The sizes.
    pub fn config(&self) -> &MxDnaConfig {
        &self.encoder.config
    }

    /// The encoder.
    pub fn encoder(&self) -> &MxDnaEncoder {
        &self.encoder
    }

    /// Vocabulary logits at nucleotide positions `rows` (flat `b * L + p`), decoded
    /// from the encoder's states.
    pub fn logits_at(&self, encoded: &EncoderOutput, rows: &Arc<Vec<u32>>) -> Result<Tensor> {
        let (batch, steps, d) = encoded.nucleotide_states.dims3()?;
        let rope = self
            .encoder
            .rope(steps, encoded.nucleotide_states.device())?;
        let decoded = self.decoder.forward_cross(
            &encoded.nucleotide_states,
            &encoded.token_states,
            &rope,
            &encoded.tokenized.token_lengths,
        )?;
        let picked = gather_rows(&decoded.reshape((batch * steps, d))?, rows)?;
        self.lm_head.forward(&self.decoder_norm.forward(&picked)?)
    }

    /// The masked-LM loss of rows `(B, L)` with the masking and router noise drawn from
    /// `seed` (`train`: with router noise).
    pub fn masked_lm_loss(&self, rows: &Tensor, seed: u64, train: bool) -> Result<MaskedLmLoss> {
        let (batch, steps) = rows.dims2()?;
        let ids: Vec<u32> = rows.flatten_all()?.to_vec1()?;
        let mut lengths = Vec::with_capacity(batch);
        let mut special_flags = Vec::with_capacity(ids.len());
        let mut inputs = Vec::with_capacity(ids.len());
        let (mut hidden_rows, mut targets) = (Vec::new(), Vec::new());
        for (b, row) in ids.chunks_exact(steps).enumerate() {
            let length = row.iter().take_while(|&&id| id != special::PAD).count();
            if length < 2 {
                candle_core::bail!("row {b} is not [CLS] ... [SEP]");
            }
            lengths.push(length);
            special_flags.extend(
                row.iter()
                    .map(|&id| id == special::CLS || id == special::SEP),
            );
            let mut rng =
                dnalm_seq::seeded_rng(seed ^ (b as u64).wrapping_mul(0xA24B_AED4_963E_E407));
            let masked = mask_spans(
                row,
                special::COUNT..self.config().vocab_size as u32,
                special::MASK,
                &self.masking,
                1,
                &mut rng,
            );
            inputs.extend(masked.input_ids);
            for (p, label) in masked.labels.into_iter().enumerate() {
                if label != IGNORE_INDEX {
                    hidden_rows.push((b * steps + p) as u32);
                    targets.push(label as u32);
                }
            }
        }
        let device = rows.device();
        let inputs = Tensor::from_vec(inputs, (batch, steps), device)?;
        let jitter_seed = train.then_some(seed ^ 0x9E37_79B9_u64);
        let encoded = self
            .encoder
            .encode(&inputs, &lengths, &special_flags, jitter_seed)?;
        let balance =
            load_balancing_loss(&encoded.tokenized.router_logits, &encoded.tokenized.units)?;
        let hidden = targets.len();
        let cross_entropy = if hidden == 0 {
            (encoded.token_states.sum_all()? * 0.0)?
        } else {
            let logits = self.logits_at(&encoded, &Arc::new(hidden_rows))?;
            let ones = Tensor::ones(hidden, logits.dtype(), device)?;
            masked_cross_entropy(&logits, &Tensor::from_vec(targets, hidden, device)?, &ones)?.0
        };
        let total = (&cross_entropy + (&balance * self.config().router_aux_loss_coef)?)?;
        Ok(MaskedLmLoss {
            total,
            cross_entropy: cross_entropy
                .to_dtype(candle_core::DType::F64)?
                .to_scalar()?,
            balance: balance.to_dtype(candle_core::DType::F64)?.to_scalar()?,
            hidden,
        })
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::config::MxDnaPreset;

    fn tiny() -> (MxDna, ParamStore) {
        let mut config = MxDnaConfig::preset(MxDnaPreset::Tiny);
        config.hidden_size = 16;
        config.intermediate_size = 32;
        config.expert_kernel_sizes = vec![1, 2, 3, 4];
        let mut params = ParamStore::new(1, &Device::Cpu);
        (MxDna::new(config, &mut params).unwrap(), params)
    }

    fn rows(sequences: &[&[u8]], width: usize) -> Tensor {
        let mut ids = Vec::new();
        for seq in sequences {
            ids.push(special::CLS);
            ids.extend(
                seq.iter()
                    .map(|&b| 5 + b"ACGT".iter().position(|&x| x == b).unwrap() as u32),
            );
            ids.push(special::SEP);
            ids.resize(ids.len().div_ceil(width) * width, special::PAD);
        }
        let count = ids.len() / width;
        Tensor::from_vec(ids, (count, width), &Device::Cpu).unwrap()
    }

    #[test]
    fn parameter_names_follow_the_reference() {
        let (_, params) = tiny();
        let names: Vec<String> = params.named_vars().into_iter().map(|(n, _)| n).collect();
        for expected in [
            "model.embed_tokens.weight",
            "model.nucleotide_layers.0.self_attn.projection_q.weight",
            "model.conversion_layer.gate.weight",
            "model.conversion_layer.conv_moe.experts.3.depthwise_conv.weight",
            "model.conversion_layer.deform_conv.regular_conv.weight",
            "model.motif_layers.1.ffn.ffn.w3.weight",
            "model.norm.norm.weight",
            "decoder.cross_attn.projection_k.weight",
            "norm.norm.bias",
            "lm_head.decoder.weight",
        ] {
            assert!(names.iter().any(|n| n == expected), "missing {expected}");
        }
    }

    #[test]
    fn padding_does_not_change_a_sequence_and_training_lowers_the_loss() {
        let (model, params) = tiny();
        let sequence = b"ACGTTGCAACGTAGGCTTACGATCGATCGG";
        let alone = rows(&[sequence], 32);
        let padded = rows(&[sequence, b"ACGTACGTAC"], 40);
        let special = |rows: &Tensor| -> Vec<bool> {
            rows.flatten_all()
                .unwrap()
                .to_vec1::<u32>()
                .unwrap()
                .iter()
                .map(|&id| id == special::CLS || id == special::SEP)
                .collect()
        };
        let a = model
            .encoder()
            .encode(&alone, &[32], &special(&alone), None)
            .unwrap();
        let b = model
            .encoder()
            .encode(&padded, &[32, 12], &special(&padded), None)
            .unwrap();
        let k = a.tokenized.token_lengths[0];
        assert_eq!(b.tokenized.token_lengths[0], k);
        let x: Vec<f32> = a
            .token_states
            .narrow(1, 0, k)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let y: Vec<f32> = b
            .token_states
            .narrow(0, 0, 1)
            .unwrap()
            .narrow(1, 0, k)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        for (u, v) in x.iter().zip(&y) {
            assert!((u - v).abs() < 1e-4, "{u} vs {v}");
        }

        let batch = rows(&[sequence, b"GGCATTACGATTACAGGCATGCAAGTCCTA"], 32);
        let mut optimizer = dnalm_train::optimizer::AdamW::new(
            params.named_vars(),
            dnalm_train::optimizer::AdamWConfig::default(),
        )
        .unwrap();
        let evaluate = || {
            model
                .masked_lm_loss(&batch, 99, false)
                .unwrap()
                .cross_entropy
        };
        let before = evaluate();
        for step in 0..40 {
            let loss = model.masked_lm_loss(&batch, step, true).unwrap();
            assert!(loss.balance > 0.0);
            optimizer
                .step(&loss.total.backward().unwrap(), 3e-3)
                .unwrap();
        }
        let after = evaluate();
        assert!(after < before - 0.3, "masked-LM loss {before} -> {after}");
    }
}
