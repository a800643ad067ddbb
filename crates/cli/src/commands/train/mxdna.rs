//! `dnalm train mxdna`: masked-LM pretraining of MxDNA, which learns its own
//! tokenization, on genome windows.

use std::path::PathBuf;

use anyhow::Result;
use candle_core::Device;
use clap::Args;
use dnalm_models::presets::{mxdna_config, mxdna_config_from_file, MxdnaPreset};
use dnalm_mxdna::config::MxDnaConfig;
use dnalm_mxdna::pretrained::MxDnaLm;
use dnalm_nn::pretraining_rows::PretrainingRows;
use dnalm_run::RunDir;
use dnalm_train::windows::WindowDataset;

use super::{pretrain_loop, GenomeWindowArgs, TrainingArgs};
use crate::input::RecordArgs;

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
        let records = self.records.read()?;
        let config = || -> Result<MxDnaConfig> {
            Ok(match &self.config {
                Some(path) => mxdna_config_from_file(path)?,
                None => mxdna_config(self.preset),
            })
        };
        pretrain_mxdna(
            config,
            &records,
            self.windows.window_nt,
            self.windows.max_n_fraction,
            &self.training,
        )
    }
}

/// Pretrains MxDNA with masked LM on windows of `window_nt` nucleotides cut end to end
/// from the records (the last 2% held out): a new run of the configuration `config`
/// makes, or the run already in `training.out` resumed. Shows a progress bar and ends
/// with the throughput; the weights are in the run folder.
pub fn pretrain_mxdna(
    config: impl FnOnce() -> Result<MxDnaConfig>,
    records: &[dnalm_seq::SeqRecord],
    window_nt: usize,
    max_n_fraction: f64,
    training: &TrainingArgs,
) -> Result<()> {
    let device = Device::Cpu;
    let run = RunDir::create(&training.out)?;
    let model = if training.out.join("config.json").is_file() {
        let model = MxDnaLm::load(&training.out, &device)?;
        eprintln!("resuming in {}", training.out.display());
        model
    } else {
        let model = MxDnaLm::new(config()?, training.seed, &device)?;
        model.save_run(&run)?;
        model
    };
    let rows = PretrainingRows::from_genome(
        records,
        window_nt,
        max_n_fraction,
        model.tokenizer(),
        window_nt + 2,
    )?;
    let width = rows.train.width;
    let held_out = rows.held_out;
    let data = WindowDataset::new(rows.train.ids, width);
    let config = model.network().config();
    eprintln!(
        "MxDNA {} nucleotide + {} token layers x {} ({} experts of lengths {:?}, {} parameters): \
         {} training windows of {} nt, {} held out (the last 2%)",
        config.conversion_layer_idx,
        config.token_layers(),
        config.hidden_size,
        config.expert_kernel_sizes.len(),
        config.expert_kernel_sizes,
        model.parameter_count(),
        data.len(),
        window_nt,
        held_out.len()
    );
    let evaluate = || -> dnalm_train::Result<f64> {
        Ok(model.evaluate(&held_out.ids, held_out.width, training.batch_size)?)
    };
    pretrain_loop(&model, &data, training, &run, &evaluate, window_nt)
}
