//! `--model PATH` for every command that uses a model: opened through the registry
//! (`dnalm_models::open`), whatever its kind.

use std::path::PathBuf;

use anyhow::Result;
use dnalm_models::{open, LoadedModel, OpenOptions};
use dnalm_ngram::Smoothing;
use dnalm_nn::device::DeviceSpec;

/// Which model to load.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// The model: an n-gram file (`dnalm ngram train`), a run folder of `dnalm train
    /// lm|mlm|mxdna`, or a fine-tuned `seed<N>` folder of `dnalm finetune`.
    #[arg(long, short, value_name = "PATH")]
    pub model: PathBuf,

    /// For n-gram models: use this smoothing (mle, laplace, add-K, kn) instead of the
    /// model's own.
    #[arg(long)]
    pub smoothing: Option<Smoothing>,

    /// Where the model runs: cpu, or cuda / cuda:N (a build with the `cuda` feature).
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: DeviceSpec,
}

impl ModelArgs {
    /// Opens the model, whatever its kind.
    pub fn open(&self) -> Result<LoadedModel> {
        let options = OpenOptions {
            smoothing: self.smoothing,
            device: self.device.open()?,
        };
        let loaded = open(&self.model, &options)?;
        for warning in loaded.warnings() {
            eprintln!("warning: {warning}");
        }
        Ok(loaded)
    }
}
