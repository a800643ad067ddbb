//! The loop every training job ends in: the training core with the front end's
//! progress and stop flag, the configuration recorded in the run folder, and a report
//! of how it ended.

use std::sync::atomic::AtomicBool;

use candle_core::Device;
use dnalm_run::{RunDir, Trainable, TrainerState};
use dnalm_train::trainer::{train, Hooks, Outcome};
use dnalm_train::windows::WindowDataset;

use crate::error::Result;
use crate::progress::{TrainReport, TrainingProgress};
use crate::settings::TrainingSettings;

/// Whether `training.out` holds a run to resume (its `config.json`).
pub(crate) fn resuming(training: &TrainingSettings) -> bool {
    training.out.join("config.json").is_file()
}

/// The run folder, created once the data have given windows: a new run gets its files
/// from `save`, a resumed one is announced.
pub(crate) fn open_run(
    training: &TrainingSettings,
    resumed: bool,
    progress: &mut dyn TrainingProgress,
    save: impl FnOnce(&RunDir) -> Result<()>,
) -> Result<RunDir> {
    let run = RunDir::create(&training.out)?;
    if resumed {
        progress.message(&format!("resuming in {}", training.out.display()));
    } else {
        save(&run)?;
    }
    Ok(run)
}

/// One job's model, data and evaluation.
pub(crate) struct Job<'a> {
    pub model: &'a dyn Trainable,
    pub data: &'a WindowDataset,
    pub run: &'a RunDir,
    /// Where the model's weights live and its batches go.
    pub device: &'a Device,
    pub evaluate: &'a dyn Fn() -> dnalm_train::Result<f64>,
    /// What the evaluation measures, and how its loss is shown (perplexity: `exp`).
    pub eval_name: &'a str,
    pub shown: fn(f64) -> f64,
    /// Nucleotides or tokens per optimizer step, for the throughput.
    pub per_step: usize,
    pub description: String,
}

/// Trains `job` (from its checkpoint, if the run has one) and reports how it ended.
pub(crate) fn run_loop(
    job: Job<'_>,
    training: &TrainingSettings,
    stop: &AtomicBool,
    progress: &mut dyn TrainingProgress,
) -> Result<TrainReport> {
    let config = training.train_config();
    job.run.write_json("train_config.json", &config)?;
    progress.start(training.steps, job.eval_name);
    let mut best_eval = None;
    let mut on_step = |state: &TrainerState, loss: f64| {
        best_eval = state.best_eval_loss.map(job.shown);
        progress.step(state.step, loss, best_eval);
    };
    let hooks = Hooks {
        evaluate: job.evaluate,
        stop,
        on_step: &mut on_step,
    };
    let outcome = train(job.model, job.data, &config, job.run, job.device, hooks)?;
    progress.finish();
    let verb = match outcome {
        Outcome::Finished => "finished".to_string(),
        Outcome::EarlyStopped => format!("stopped early ({} stopped improving)", job.eval_name),
        Outcome::Interrupted => "interrupted; run it again to resume".to_string(),
    };
    progress.message(&format!(
        "{verb}: {} (metrics.jsonl, checkpoint/, model.safetensors)",
        training.out.display()
    ));
    let per_second = job
        .run
        .median_step_seconds()?
        .map(|seconds| job.per_step as f64 / seconds);
    Ok(TrainReport {
        outcome,
        description: job.description,
        per_second,
        best_eval,
    })
}
