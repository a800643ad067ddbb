//! A BERT-style masked LM over a fixed tokenizer, pretrained on genome windows cut end
//! to end (the last 2% held out for the evaluation loss).

use std::sync::atomic::AtomicBool;

use dnalm_models::presets::{encoder_config, Preset};
use dnalm_nn::masked_lm::MaskedLm;
use dnalm_nn::pretraining_rows::PretrainingRows;
use dnalm_seq::SeqRecord;
use dnalm_train::windows::WindowDataset;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::progress::{TrainReport, TrainingProgress};
use crate::run_loop::{open_run, resuming, run_loop, Job};
use crate::settings::{count, GenomeWindows, TrainingSettings};

/// What masked LM to pretrain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlmSettings {
    /// Size preset.
    pub preset: Preset,
    /// `nucleotide`, `kmer6`, `kmer6-tiled`, or a tokenizer.json.
    pub tokenizer: String,
    /// Row width in tokens, `[CLS]` and `[SEP]` included (longer encodings are cut).
    pub max_tokens: usize,
    /// How the genome is cut.
    #[serde(flatten)]
    pub windows: GenomeWindows,
}

impl Default for MlmSettings {
    fn default() -> Self {
        Self {
            preset: Preset::Small,
            tokenizer: "nucleotide".into(),
            max_tokens: 512,
            windows: GenomeWindows::default(),
        }
    }
}

/// Pretrains (or resumes) a masked LM on `records` in `training.out`.
pub fn train_mlm(
    mlm: &MlmSettings,
    training: &TrainingSettings,
    records: &[SeqRecord],
    stop: &AtomicBool,
    progress: &mut dyn TrainingProgress,
) -> Result<TrainReport> {
    training.check()?;
    mlm.windows.check()?;
    count("max_tokens", mlm.max_tokens as u64)?;
    let device = training.device.open()?;
    let resumed = resuming(training);
    let model = if resumed {
        MaskedLm::load(&training.out, &device)?
    } else {
        let tokenizer = dnalm_tokenize::by_name(&mlm.tokenizer)?;
        MaskedLm::new(
            encoder_config(mlm.preset),
            tokenizer,
            training.seed,
            &device,
        )?
    };
    let rows = PretrainingRows::from_genome(
        records,
        mlm.windows.window_nt,
        mlm.windows.max_n_fraction,
        model.tokenizer(),
        mlm.max_tokens,
    )?;
    let run = open_run(training, resumed, progress, |run| Ok(model.save_run(run)?))?;
    let width = rows.train.width;
    let held_out = rows.held_out;
    let data = WindowDataset::new(rows.train.ids, width);
    let encoder = model.encoder().config();
    let description = format!(
        "BERT {}x{} ({}, {} parameters)",
        encoder.num_layers,
        encoder.d_model,
        model.tokenizer().describe(),
        model.parameter_count()
    );
    progress.message(&format!(
        "{description}: {} training windows of {} nt (rows of {width} tokens with \
         [CLS]/[SEP] and padding), {} held out (the last 2%); masking span {}",
        data.len(),
        mlm.windows.window_nt,
        held_out.len(),
        model.tokenizer().masking_span()
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
        per_step: training.per_step(mlm.windows.window_nt),
        description,
    };
    run_loop(job, training, stop, progress)
}
