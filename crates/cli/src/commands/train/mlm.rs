//! `dnalm train mlm`: masked-LM pretraining of a BERT-style encoder over a fixed
//! tokenizer on genome windows.

use anyhow::Result;
use candle_core::Device;
use clap::Args;
use dnalm_models::presets::{encoder_config, Preset};
use dnalm_nn::masked_lm::MaskedLm;
use dnalm_nn::pretraining_rows::PretrainingRows;
use dnalm_run::RunDir;
use dnalm_train::windows::WindowDataset;

use super::{pretrain_loop, GenomeWindowArgs, TrainingArgs};
use crate::input::RecordArgs;

/// Arguments of `dnalm train mlm`.
#[derive(Debug, Args)]
pub struct MlmArgs {
    /// Size preset: tiny (width 64, 2 layers, 2 heads, FFN 256) or small (width 128,
    /// 4 layers, 4 heads, FFN 512).
    #[arg(long, value_enum, default_value_t = Preset::Small)]
    preset: Preset,

    /// Tokenizer: `nucleotide`, `kmer6` (overlapping 6-mers, DNABERT), `kmer6-tiled`
    /// (non-overlapping, Nucleotide Transformer), or a tokenizer.json (e.g. BPE from
    /// `dnalm tokenizer train`).
    #[arg(long, default_value = "nucleotide")]
    tokenizer: String,

    #[command(flatten)]
    windows: GenomeWindowArgs,

    /// Row width in tokens, [CLS] and [SEP] included (longer encodings are cut).
    #[arg(long, default_value_t = 512)]
    max_tokens: usize,

    #[command(flatten)]
    training: TrainingArgs,

    #[command(flatten)]
    records: RecordArgs,
}

impl MlmArgs {
    /// Pretrains (or resumes) the run.
    pub fn run(self) -> Result<()> {
        let device = Device::Cpu;
        let training = &self.training;
        let run = RunDir::create(&training.out)?;
        let model = if training.out.join("config.json").is_file() {
            let model = MaskedLm::load(&training.out, &device)?;
            eprintln!("resuming in {}", training.out.display());
            model
        } else {
            let tokenizer = dnalm_tokenize::by_name(&self.tokenizer)?;
            let model = MaskedLm::new(
                encoder_config(self.preset),
                tokenizer,
                training.seed,
                &device,
            )?;
            model.save_run(&run)?;
            model
        };
        let records = self.records.read()?;
        let rows = PretrainingRows::from_genome(
            &records,
            self.windows.window_nt,
            self.windows.max_n_fraction,
            model.tokenizer(),
            self.max_tokens,
        )?;
        let width = rows.train.width;
        let held_out = rows.held_out;
        let data = WindowDataset::new(rows.train.ids, width);
        eprintln!(
            "BERT {}x{} ({}, {} parameters): {} training windows of {} nt (rows of {} tokens \
             with [CLS]/[SEP] and padding), {} held out (the last 2%); masking span {}",
            model.encoder().config().num_layers,
            model.encoder().config().d_model,
            model.tokenizer().describe(),
            model.parameter_count(),
            data.len(),
            self.windows.window_nt,
            width,
            held_out.len(),
            model.tokenizer().masking_span()
        );
        let evaluate = || -> dnalm_train::Result<f64> {
            Ok(model.evaluate(&held_out.ids, held_out.width, training.batch_size)?)
        };
        pretrain_loop(
            &model,
            &data,
            training,
            &run,
            &evaluate,
            self.windows.window_nt,
        )
    }
}
