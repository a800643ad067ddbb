//! MxDNA's sizes, under the field names of the reference's `config.json` (so that file
//! deserialises; fields we do not use are ignored), and the presets.

use serde::{Deserialize, Serialize};

use dnalm_nn::transformer_layer::{LayerSizes, TransformerConfig};

use crate::error::MxDnaError;
use crate::learnt_tokenization::TokenizationSizes;

/// Sizes of an MxDNA model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MxDnaConfig {
    /// Vocabulary (9: the five special tokens, then A C G T).
    pub vocab_size: usize,
    /// Model width.
    pub hidden_size: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Nucleotide layers + the tokenization layer + token layers.
    pub num_hidden_layers: usize,
    /// Nucleotide layers before the tokenization layer.
    pub conversion_layer_idx: usize,
    /// Unit length of each expert.
    pub expert_kernel_sizes: Vec<usize>,
    /// Taps of the deformable convolution.
    pub deformable_conv_kernel_size: usize,
    /// Router input noise in training.
    pub router_jitter_noise: f64,
    /// Weight of the load-balancing loss.
    pub router_aux_loss_coef: f64,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// RoPE base.
    pub rope_theta: f64,
    /// Standard deviation of the initial weights.
    pub initializer_range: f64,
    /// LayerNorm epsilon inside the convolution experts: 1e-6 in the weight-compatible
    /// commit ad3808d (the default, and what dnalm runs always used), 1e-5 in the
    /// reference's `full-model` branch. The reference hard-codes it; here it is a field.
    #[serde(default = "ad3808d_expert_eps")]
    pub expert_layer_norm_eps: f64,
}

/// The expert LayerNorm epsilon of the weight-compatible commit ad3808d.
pub const AD3808D_EXPERT_EPS: f64 = 1e-6;

/// The expert LayerNorm epsilon of the reference's `full-model` branch.
pub const FULL_MODEL_EXPERT_EPS: f64 = 1e-5;

fn ad3808d_expert_eps() -> f64 {
    AD3808D_EXPERT_EPS
}

/// Named sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MxDnaPreset {
    /// Width 64, 2 heads, FFN 256; 1 nucleotide layer, tokenization, 2 token layers;
    /// experts of kernels 1..=10: minutes on 2 cores.
    Tiny,
    /// The "cpu-small" benchmark configuration: width 128, 4 heads, FFN 512; 2
    /// nucleotide layers, tokenization, 4 token layers; kernels 1..=10.
    Small,
    /// The paper's: width 512, 16 heads, FFN 2048; 4 nucleotide layers, tokenization,
    /// 16 token layers (21 in all); kernels 1..=10; about 100 M parameters.
    Paper,
}

impl MxDnaConfig {
    /// The sizes of a preset.
    pub fn preset(preset: MxDnaPreset) -> Self {
        let (hidden_size, heads, ffn, layers, conversion) = match preset {
            MxDnaPreset::Tiny => (64, 2, 256, 4, 1),
            MxDnaPreset::Small => (128, 4, 512, 7, 2),
            MxDnaPreset::Paper => (512, 16, 2048, 21, 4),
        };
        Self {
            vocab_size: 9,
            hidden_size,
            num_attention_heads: heads,
            intermediate_size: ffn,
            num_hidden_layers: layers,
            conversion_layer_idx: conversion,
            expert_kernel_sizes: (1..=10).collect(),
            deformable_conv_kernel_size: 3,
            router_jitter_noise: 0.01,
            router_aux_loss_coef: 0.01,
            layer_norm_eps: 1e-5,
            rope_theta: 10000.0,
            initializer_range: 0.02,
            expert_layer_norm_eps: AD3808D_EXPERT_EPS,
        }
    }

    /// Token layers after the tokenization layer.
    pub fn token_layers(&self) -> usize {
        self.num_hidden_layers - self.conversion_layer_idx - 1
    }

    /// Sizes of one transformer block.
    pub fn layer_sizes(&self) -> LayerSizes {
        TransformerConfig {
            vocab_size: self.vocab_size,
            d_model: self.hidden_size,
            num_layers: self.num_hidden_layers,
            num_heads: self.num_attention_heads,
            ffn_dim: self.intermediate_size,
            rope_theta: self.rope_theta,
            norm_eps: self.layer_norm_eps,
        }
        .layer_sizes()
    }

    /// Sizes of the tokenization layer.
    pub fn tokenization_sizes(&self) -> TokenizationSizes {
        TokenizationSizes {
            d_model: self.hidden_size,
            expert_kernel_sizes: self.expert_kernel_sizes.clone(),
            deformable_kernel: self.deformable_conv_kernel_size,
            jitter: self.router_jitter_noise,
            norm_eps: self.layer_norm_eps,
            expert_norm_eps: self.expert_layer_norm_eps,
        }
    }

    /// Checks every size against `dnalm_nn::size_limits` and the parameter count they
    /// make (an upper bound), before anything is allocated.
    fn check_sizes(&self) -> Result<(), String> {
        use dnalm_nn::size_limits::{parameters, size, MAX_LAYERS, MAX_VOCAB, MAX_WIDTH};
        size("vocab_size", self.vocab_size, MAX_VOCAB)?;
        size("hidden_size", self.hidden_size, MAX_WIDTH)?;
        size("intermediate_size", self.intermediate_size, MAX_WIDTH)?;
        size("num_hidden_layers", self.num_hidden_layers, MAX_LAYERS)?;
        size("num_attention_heads", self.num_attention_heads, MAX_WIDTH)?;
        size("expert kernels", self.expert_kernel_sizes.len(), 64)?;
        for &kernel in &self.expert_kernel_sizes {
            size("an expert kernel size", kernel, 64)?;
        }
        size(
            "deformable_conv_kernel_size",
            self.deformable_conv_kernel_size,
            64,
        )?;
        let (v, d, f, l) = (
            self.vocab_size as u128,
            self.hidden_size as u128,
            self.intermediate_size as u128,
            self.num_hidden_layers as u128 + 1,
        );
        let kernels: u128 = self.expert_kernel_sizes.iter().map(|&k| k as u128).sum();
        let layers = l * (4 * d * d + 3 * d * f + 4 * d);
        let experts = kernels * d * d + d * (self.expert_kernel_sizes.len() as u128 + 4);
        let deformable = self.deformable_conv_kernel_size as u128 * (d * d + 3 * d);
        parameters("the MxDNA", 2 * v * d + layers + experts + deformable)
    }

    /// Checks the sizes fit together.
    pub fn check(&self) -> crate::Result<()> {
        let invalid = |message: String| Err(MxDnaError::Config(message));
        self.check_sizes().map_err(MxDnaError::Config)?;
        if self.conversion_layer_idx >= self.num_hidden_layers {
            return invalid(format!(
                "conversion_layer_idx {} must be below num_hidden_layers {}",
                self.conversion_layer_idx, self.num_hidden_layers
            ));
        }
        if self.expert_kernel_sizes.is_empty() || self.expert_kernel_sizes.contains(&0) {
            return invalid("expert_kernel_sizes must be a list of lengths >= 1".into());
        }
        if self.deformable_conv_kernel_size.is_multiple_of(2) {
            return invalid("deformable_conv_kernel_size must be odd".into());
        }
        self.layer_sizes()
            .check()
            .map_err(|err| MxDnaError::Config(err.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_config_json_deserialises() {
        // The reference's model_source/config/config.json (full-model branch).
        let text = r#"{
            "architectures": ["MxDNAForMaskedLM"], "attention_dropout": 0.0,
            "pad_token_id": 0, "unk_token_id": 1, "cls_token_id": 2, "sep_token_id": 3,
            "mask_token_id": 4, "hidden_act": "silu", "hidden_size": 512,
            "initializer_range": 0.02, "intermediate_size": 2048,
            "max_position_embeddings": 2048, "model_type": "mxdna",
            "num_attention_heads": 16, "num_experts_per_tok": 1, "num_hidden_layers": 21,
            "num_key_value_heads": 16, "num_local_experts": 10, "layer_norm_eps": 1e-05,
            "rope_theta": 10000.0, "router_aux_loss_coef": 0.01, "torch_dtype": "float16",
            "transformers_version": "4.36.0.dev0", "vocab_size": 9,
            "expert_kernel_sizes": [1,2,3,4,5,6,7,8,9,10], "conversion_layer_idx": 4,
            "router_jitter_noise": 0.01, "num_motif_groups": 1,
            "deformable_conv_kernel_size": 3
        }"#;
        let config: MxDnaConfig = serde_json::from_str(text).unwrap();
        assert_eq!(config, MxDnaConfig::preset(MxDnaPreset::Paper));
        assert_eq!(config.token_layers(), 16);
        assert!(config.check().is_ok());
    }
}
