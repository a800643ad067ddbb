//! `dnalm train mxdna`: masked-LM pretraining of MxDNA, which learns its own
//! tokenization, on genome windows (the job is `dnalm_jobs::mxdna`).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use dnalm_jobs::mxdna::{train_mxdna, MxdnaSettings};
use dnalm_models::presets::MxdnaPreset;

use super::{conclude, GenomeWindowArgs, TrainingArgs, TrainingBar};
use crate::input::RecordArgs;
use crate::interrupt::stop_flag;

/// Arguments of `dnalm train mxdna`.
#[derive(Debug, Args)]
pub struct MxdnaArgs {
    /// Size preset: tiny (width 64, 1 nucleotide + 2 token layers), small (width 128,
    /// 2 + 4; the CPU benchmark configuration) or paper (width 512, 4 + 16, ~100M
    /// parameters). Experts of unit lengths 1..=10, deformable kernel 3.
    #[arg(long, value_enum, default_value_t = MxdnaPreset::Tiny)]
    preset: MxdnaPreset,

    /// Sizes from a JSON file instead of the preset: the reference's config.json
    /// fields (hidden_size, num_attention_heads, intermediate_size, num_hidden_layers,
    /// conversion_layer_idx, expert_kernel_sizes, deformable_conv_kernel_size, ...).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(flatten)]
    windows: GenomeWindowArgs,

    #[command(flatten)]
    training: TrainingArgs,

    #[command(flatten)]
    records: RecordArgs,
}

impl MxdnaArgs {
    /// Pretrains (or resumes) the run.
    pub fn run(self) -> Result<()> {
        let settings = MxdnaSettings {
            preset: self.preset,
            config: self.config.clone(),
            windows: self.windows.settings(),
        };
        let training = self.training.settings();
        training.check()?;
        let records = self.records.read()?;
        let report = train_mxdna(
            &settings,
            &training,
            &records,
            stop_flag(),
            &mut TrainingBar::default(),
        )?;
        conclude(report, "nt", training.per_step(self.windows.window_nt))
    }
}
