//! The named sizes of every trainable model, and sizes read from a file.

use std::path::Path;

use dnalm_mxdna::config::{MxDnaConfig, MxDnaPreset};
use dnalm_nn::encoder::EncoderConfig;
use dnalm_nn::gpt::GptConfig;
use dnalm_nn::lstm::LstmConfig;
use dnalm_nn::token_lm::NetworkConfig;

use crate::error::{ModelsError, Result};

/// Autoregressive network families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Network {
    /// Multi-layer LSTM (arXiv 2307.10634's best model).
    Lstm,
    /// Transformer decoder: pre-LayerNorm, RoPE, SwiGLU.
    Gpt,
}

/// Size presets of the language models and BERT-style encoders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Preset {
    /// LSTM: embedding 64, hidden 128, 1 layer. GPT and encoders: width 64, 2 layers,
    /// 2 heads, FFN 256.
    Tiny,
    /// LSTM: embedding 128, hidden 256, 2 layers. GPT and encoders: width 128, 4
    /// layers, 4 heads, FFN 512.
    Small,
}

/// MxDNA size presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum MxdnaPreset {
    /// Width 64, 2 heads, FFN 256; 1 nucleotide layer, 2 token layers.
    Tiny,
    /// Width 128, 4 heads, FFN 512; 2 nucleotide layers, 4 token layers (the CPU
    /// benchmark configuration).
    Small,
    /// The paper's: width 512, 16 heads, FFN 2048; 4 nucleotide layers, 16 token
    /// layers (~100M parameters).
    Paper,
}

/// The sizes of a language-model preset over a vocabulary of `vocab_size`.
pub fn lm_config(network: Network, preset: Preset, vocab_size: usize) -> NetworkConfig {
    let small = preset == Preset::Small;
    match network {
        Network::Lstm => NetworkConfig::Lstm(LstmConfig {
            vocab_size,
            embed_dim: if small { 128 } else { 64 },
            hidden_size: if small { 256 } else { 128 },
            num_layers: if small { 2 } else { 1 },
        }),
        Network::Gpt => NetworkConfig::Gpt(GptConfig {
            vocab_size,
            ..encoder_config(preset)
        }),
    }
}

/// Language-model sizes from a JSON or TOML file (by extension) with the fields of
/// `network` (the vocabulary size always comes from the tokenizer).
pub fn lm_config_from_file(
    network: Network,
    path: &Path,
    vocab_size: usize,
) -> Result<NetworkConfig> {
    let mut table = read_table(path)?;
    let model = match network {
        Network::Lstm => "lstm",
        Network::Gpt => "gpt",
    };
    let object = table.as_object_mut().ok_or_else(|| ModelsError::Config {
        path: path.to_path_buf(),
        why: "expected a table of sizes".into(),
    })?;
    object.insert("model".into(), model.into());
    object.insert("vocab_size".into(), vocab_size.into());
    serde_json::from_value(table).map_err(|err| ModelsError::Config {
        path: path.to_path_buf(),
        why: format!("not a {model} configuration: {err}"),
    })
}

/// The transformer sizes of a preset, for encoders and the decoder alike (vocabulary
/// size 0: set from the tokenizer).
pub fn encoder_config(preset: Preset) -> EncoderConfig {
    let small = preset == Preset::Small;
    EncoderConfig {
        vocab_size: 0,
        d_model: if small { 128 } else { 64 },
        num_layers: if small { 4 } else { 2 },
        num_heads: if small { 4 } else { 2 },
        ffn_dim: if small { 512 } else { 256 },
        rope_theta: 10000.0,
        norm_eps: 1e-5,
    }
}

/// The sizes of an MxDNA preset.
pub fn mxdna_config(preset: MxdnaPreset) -> MxDnaConfig {
    MxDnaConfig::preset(match preset {
        MxdnaPreset::Tiny => MxDnaPreset::Tiny,
        MxdnaPreset::Small => MxDnaPreset::Small,
        MxdnaPreset::Paper => MxDnaPreset::Paper,
    })
}

/// MxDNA sizes from a JSON file with the reference's config.json fields, checked.
pub fn mxdna_config_from_file(path: &Path) -> Result<MxDnaConfig> {
    let config: MxDnaConfig =
        serde_json::from_value(read_table(path)?).map_err(|err| ModelsError::Config {
            path: path.to_path_buf(),
            why: format!("not an MxDNA configuration: {err}"),
        })?;
    config.check().map_err(|err| ModelsError::Config {
        path: path.to_path_buf(),
        why: err.to_string(),
    })?;
    Ok(config)
}

/// A JSON or TOML file (by extension) as a JSON value.
fn read_table(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let parsed = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).map_err(|err| err.to_string())
    } else {
        serde_json::from_str(&text).map_err(|err| err.to_string())
    };
    parsed.map_err(|err| ModelsError::Config {
        path: path.to_path_buf(),
        why: format!(
            "not valid {}: {err}",
            if path.extension().is_some_and(|e| e == "toml") {
                "TOML"
            } else {
                "JSON"
            }
        ),
    })
}
