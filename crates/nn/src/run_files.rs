//! Reading and writing what every trained network's run folder holds: `config.json`,
//! `tokenizer.json` and `model.safetensors` (DESIGN.md, "Checkpoints").

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use dnalm_run::RunDir;
use dnalm_tokenize::Tokenizer;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a run folder holds: configuration, tokenizer, weights by name.
pub type RunContents<C> = (C, Box<dyn Tokenizer>, HashMap<String, Tensor>);

/// The configuration, tokenizer and weights of a run folder; errors name the file.
pub fn read_run<C: DeserializeOwned>(
    run: &Path,
    device: &Device,
) -> Result<RunContents<C>, String> {
    let config_path = run.join("config.json");
    let text = std::fs::read_to_string(&config_path)
        .map_err(|err| format!("{}: {err}", config_path.display()))?;
    let config =
        serde_json::from_str(&text).map_err(|err| format!("{}: {err}", config_path.display()))?;
    let tokenizer =
        dnalm_tokenize::load(&run.join("tokenizer.json")).map_err(|err| err.to_string())?;
    let weights_path = run.join("model.safetensors");
    let weights = candle_core::safetensors::load(&weights_path, device)
        .map_err(|err| format!("{}: {err}", weights_path.display()))?;
    Ok((config, tokenizer, weights))
}

/// Writes a new run folder's configuration, tokenizer and initial weights.
pub fn write_run(
    run: &RunDir,
    config: &impl Serialize,
    tokenizer: &dyn Tokenizer,
    weights: &HashMap<String, Tensor>,
) -> Result<(), String> {
    run.write_json("config.json", config)
        .map_err(|err| err.to_string())?;
    dnalm_tokenize::save(tokenizer, &run.path().join("tokenizer.json"))
        .map_err(|err| err.to_string())?;
    run.save_weights(weights).map_err(|err| err.to_string())
}
