//! Reading and writing what every trained network's run folder holds: `config.json`,
//! `tokenizer.json` and `model.safetensors` (DESIGN.md, "Checkpoints").

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use dnalm_run::{Parameters, RunDir};
use dnalm_tokenize::Tokenizer;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{NnError, Result};
use crate::params::ParamStore;

/// What a run folder holds: configuration, tokenizer, weights by name.
pub type RunContents<C> = (C, Box<dyn Tokenizer>, HashMap<String, Tensor>);

/// The configuration, tokenizer and weights of a run folder; errors name the file.
pub fn read_run<C: DeserializeOwned>(run: &Path, device: &Device) -> Result<RunContents<C>> {
    let config_path = run.join("config.json");
    let text = std::fs::read_to_string(&config_path)
        .map_err(|err| NnError::run_file(config_path.clone(), err))?;
    let config =
        serde_json::from_str(&text).map_err(|err| NnError::run_file(config_path.clone(), err))?;
    let tokenizer = dnalm_tokenize::load(&run.join("tokenizer.json"))?;
    let weights_path = run.join("model.safetensors");
    let weights = candle_core::safetensors::load(&weights_path, device)
        .map_err(|err| NnError::run_file(weights_path, err))?;
    Ok((config, tokenizer, weights))
}

/// Loads `weights` (read from `run`'s `model.safetensors`) into a model's parameters;
/// a missing or misshapen tensor is reported against that file.
pub fn load_run_weights(
    params: &dyn Parameters,
    weights: &HashMap<String, Tensor>,
    run: &Path,
) -> Result<()> {
    params
        .load_weights(weights)
        .map_err(|err| NnError::run_file(run.join("model.safetensors"), err))
}

/// A model of a run folder, for inference: `build` makes it from the run's
/// configuration and tokenizer on a frozen store of its weights
/// ([`ParamStore::frozen`]: no draw, no copy, no autograd graph), and every weight must
/// have been taken (`params` finds the model's store).
pub fn open_frozen<C: DeserializeOwned, M>(
    run: &Path,
    device: &Device,
    build: impl FnOnce(C, Box<dyn Tokenizer>, ParamStore) -> candle_core::Result<M>,
    params: impl Fn(&M) -> &ParamStore,
) -> Result<M> {
    let (config, tokenizer, weights) = read_run::<C>(run, device)?;
    let weights_error = |err| NnError::run_file(run.join("model.safetensors"), err);
    let model =
        build(config, tokenizer, ParamStore::frozen(weights, device)).map_err(weights_error)?;
    params(&model).finish().map_err(weights_error)?;
    Ok(model)
}

/// Writes a new run folder's configuration, tokenizer and initial weights.
pub fn write_run(
    run: &RunDir,
    config: &impl Serialize,
    tokenizer: &dyn Tokenizer,
    weights: &HashMap<String, Tensor>,
) -> Result<()> {
    run.write_json("config.json", config)?;
    dnalm_tokenize::save(tokenizer, &run.path().join("tokenizer.json"))?;
    Ok(run.save_weights(weights)?)
}
