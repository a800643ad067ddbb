//! `dnalm train mlm`: masked-LM pretraining of a BERT-style encoder over a fixed
//! tokenizer on genome windows.

use anyhow::Result;
use clap::Args;
use dnalm_jobs::mlm::{train_mlm, MlmSettings};
use dnalm_models::presets::Preset;

use super::{conclude, GenomeWindowArgs, TrainingArgs, TrainingBar};
use crate::input::RecordArgs;
use crate::interrupt::stop_flag;

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
    #[arg(long, default_value_t = 512, value_parser = crate::flags::token_width)]
    max_tokens: usize,

    #[command(flatten)]
    training: TrainingArgs,

    #[command(flatten)]
    records: RecordArgs,
}

impl MlmArgs {
    /// Pretrains (or resumes) the run.
    pub fn run(self) -> Result<()> {
        let settings = MlmSettings {
            preset: self.preset,
            tokenizer: self.tokenizer.clone(),
            max_tokens: self.max_tokens,
            windows: self.windows.settings(),
        };
        let training = self.training.settings();
        training.check()?;
        let records = self.records.read()?;
        let report = train_mlm(
            &settings,
            &training,
            &records,
            stop_flag(),
            &mut TrainingBar::default(),
        )?;
        conclude(report, "nt", training.per_step(self.windows.window_nt))
    }
}
