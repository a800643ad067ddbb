//! `dnalm train lm`: an autoregressive language model (LSTM or transformer decoder)
//! over any tokenizer (the job is `dnalm_jobs::lm`).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use dnalm_jobs::lm::{train_lm, LmSettings};
use dnalm_models::presets::{Network, Preset};

use super::{conclude, TrainingArgs, TrainingBar};
use crate::input::RecordArgs;
use crate::interrupt::stop_flag;

/// Arguments of `dnalm train lm`.
#[derive(Debug, Args)]
pub struct LmArgs {
    /// Network family.
    #[arg(long, value_enum, default_value_t = Network::Lstm)]
    model: Network,

    /// Size preset.
    #[arg(long, value_enum, default_value_t = Preset::Small)]
    preset: Preset,

    /// Network sizes from a file instead of the preset: JSON or TOML (by extension)
    /// with the fields of the chosen model, e.g. for --model gpt `d_model = 192`,
    /// `num_layers = 6`, `num_heads = 6`, `ffn_dim = 768`, `rope_theta = 10000.0`,
    /// `norm_eps = 1e-5`; for --model lstm `embed_dim`, `hidden_size`, `num_layers`.
    /// The vocabulary size always comes from the tokenizer.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Tokenizer: `nucleotide`, or a tokenizer.json from `dnalm tokenizer train`.
    #[arg(long, default_value = "nucleotide")]
    tokenizer: String,

    /// Tokens per training window (the model sees windows of this length).
    #[arg(long, default_value_t = 256, value_parser = crate::flags::count)]
    window: usize,

    #[command(flatten)]
    training: TrainingArgs,

    #[command(flatten)]
    records: RecordArgs,
}

impl LmArgs {
    /// Trains (or resumes) the run.
    pub fn run(self) -> Result<()> {
        let settings = LmSettings {
            network: self.model,
            preset: self.preset,
            config: self.config.clone(),
            tokenizer: self.tokenizer.clone(),
            window: self.window,
        };
        let training = self.training.settings();
        training.check()?;
        let records = self.records.read()?;
        let report = train_lm(
            &settings,
            &training,
            &records,
            stop_flag(),
            &mut TrainingBar::default(),
        )?;
        conclude(report, "tokens", training.per_step(self.window))
    }
}
