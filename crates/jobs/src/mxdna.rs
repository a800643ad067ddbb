//! MxDNA, which learns its own tokenization, pretrained by masked LM on genome windows
//! cut end to end (the last 2% held out for the evaluation loss).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use dnalm_models::presets::{mxdna_config, mxdna_config_from_file, MxdnaPreset};
use dnalm_mxdna::pretrained::MxDnaLm;
use dnalm_nn::pretraining_rows::PretrainingRows;
use dnalm_seq::SeqRecord;
use dnalm_train::windows::WindowDataset;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::progress::{TrainReport, TrainingProgress};
use crate::run_loop::{open_run, resuming, run_loop, Job};
use crate::settings::{GenomeWindows, TrainingSettings};

/// What MxDNA to pretrain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MxdnaSettings {
    /// Size preset.
    pub preset: MxdnaPreset,
    /// Sizes from a JSON file of the reference's config.json fields instead.
    pub config: Option<PathBuf>,
    /// How the genome is cut.
    #[serde(flatten)]
    pub windows: GenomeWindows,
}

impl Default for MxdnaSettings {
    fn default() -> Self {
        Self {
            preset: MxdnaPreset::Tiny,
            config: None,
            windows: GenomeWindows::default(),
        }
    }
}

/// Pretrains (or resumes) MxDNA on `records` in `training.out`.
pub fn train_mxdna(
    mxdna: &MxdnaSettings,
    training: &TrainingSettings,
    records: &[SeqRecord],
    stop: &AtomicBool,
    progress: &mut dyn TrainingProgress,
) -> Result<TrainReport> {
    training.check()?;
    mxdna.windows.check()?;
    let device = training.device.open()?;
    let resumed = resuming(training);
    let model = if resumed {
        MxDnaLm::load(&training.out, &device)?
    } else {
        let config = match &mxdna.config {
            Some(path) => mxdna_config_from_file(path)?,
            None => mxdna_config(mxdna.preset),
        };
        MxDnaLm::new(config, training.seed, &device)?
    };
    let window_nt = mxdna.windows.window_nt;
    let rows = PretrainingRows::from_genome(
        records,
        window_nt,
        mxdna.windows.max_n_fraction,
        model.tokenizer(),
        window_nt + 2,
    )?;
    let run = open_run(training, resumed, progress, |run| Ok(model.save_run(run)?))?;
    let width = rows.train.width;
    let held_out = rows.held_out;
    let data = WindowDataset::new(rows.train.ids, width);
    let config = model.network().config();
    let description = format!(
        "MxDNA {} nucleotide + {} token layers x {} ({} experts of lengths {:?}, {} parameters)",
        config.conversion_layer_idx,
        config.token_layers(),
        config.hidden_size,
        config.expert_kernel_sizes.len(),
        config.expert_kernel_sizes,
        model.parameter_count()
    );
    progress.message(&format!(
        "{description}: {} training windows of {window_nt} nt, {} held out (the last 2%)",
        data.len(),
        held_out.len()
    ));
    let evaluate = || -> dnalm_train::Result<f64> {
        Ok(model.evaluate(&held_out.ids, held_out.width, training.batch_size)?)
    };
    let job = Job {
        device: &device,
        model: &model,
        data: &data,
        run: &run,
        evaluate: &evaluate,
        eval_name: "held-out masked-LM loss",
        shown: |loss| loss,
        per_step: training.per_step(window_nt),
        description,
    };
    run_loop(job, training, stop, progress)
}
