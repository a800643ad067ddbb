//! `dnalm train ...`: neural language models. Each subcommand has its file; what they
//! share (the training flags, the loop with its progress bar, Ctrl-C) is here.

mod lm;
mod mlm;
mod mxdna;

use std::path::PathBuf;

use anyhow::Result;
use candle_core::Device;
use clap::{Args, Subcommand};
use dnalm_run::{RunDir, Trainable, TrainerState};
use dnalm_train::optimizer::AdamWConfig;
use dnalm_train::trainer::{train, Hooks, Outcome, TrainConfig};
use dnalm_train::windows::WindowDataset;

use crate::interrupt::stop_flag;
use crate::progress;

pub use mxdna::pretrain_mxdna;

/// Training subcommands.
#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Train an autoregressive language model (resumes if the run folder has a
    /// checkpoint; Ctrl-C saves one and stops).
    Lm(lm::LmArgs),
    /// Pretrain a BERT-style masked language model on genome windows (resumes if the
    /// run folder has a checkpoint; Ctrl-C saves one and stops).
    Mlm(mlm::MlmArgs),
    /// Pretrain MxDNA, which learns its own tokenization, by masked LM on genome
    /// windows (resumes if the run folder has a checkpoint; Ctrl-C saves one and stops).
    Mxdna(mxdna::MxdnaArgs),
}

impl TrainCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<()> {
        match self {
            TrainCommand::Lm(args) => args.run(),
            TrainCommand::Mlm(args) => args.run(),
            TrainCommand::Mxdna(args) => args.run(),
        }
    }
}

/// Genome windows for masked-LM pretraining (shared by `train mlm` and `train mxdna`).
#[derive(Debug, Args)]
pub struct GenomeWindowArgs {
    /// Nucleotides per training window (windows are cut end to end).
    #[arg(long, default_value_t = 510)]
    pub window_nt: usize,

    /// Windows with a larger share of N are skipped.
    #[arg(long, default_value_t = 0.0)]
    pub max_n_fraction: f64,
}

/// How long and how to train (shared by every training command).
#[derive(Debug, Args)]
pub struct TrainingArgs {
    /// Windows per micro-batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,

    /// Micro-batches per optimizer step (gradient accumulation).
    #[arg(long, default_value_t = 1)]
    pub accumulation: usize,

    /// Optimizer steps.
    #[arg(long, default_value_t = 2000)]
    pub steps: u64,

    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f64,

    /// Linear warmup steps.
    #[arg(long, default_value_t = 100)]
    pub warmup: u64,

    /// AdamW weight decay (not applied to biases and norms).
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,

    /// Gradient clipping norm.
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,

    /// Evaluate on the held-out tenth of the training records every this many steps.
    #[arg(long, default_value_t = 200)]
    pub eval_every: u64,

    /// Stop after this many evaluations without improvement (0: never).
    #[arg(long, default_value_t = 5)]
    pub patience: u32,

    /// Checkpoint every this many steps.
    #[arg(long, default_value_t = 200)]
    pub checkpoint_every: u64,

    /// Seed of the initial weights, the held-out choice and the data order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// The run folder (created; resumed if it holds a checkpoint).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
}

impl TrainingArgs {
    /// The training loop's configuration.
    fn train_config(&self) -> TrainConfig {
        TrainConfig {
            steps: self.steps,
            batch_size: self.batch_size,
            accumulation: self.accumulation,
            peak_lr: self.lr,
            warmup_steps: self.warmup,
            min_lr_ratio: 0.1,
            adamw: AdamWConfig {
                weight_decay: self.weight_decay,
                ..Default::default()
            },
            clip_norm: self.clip,
            eval_every: self.eval_every,
            patience: self.patience,
            checkpoint_every: self.checkpoint_every,
            seed: self.seed,
        }
    }
}

/// The loop of the masked-LM pretraining commands, then their throughput in nt/s.
fn pretrain_loop(
    model: &dyn Trainable,
    data: &WindowDataset,
    training: &TrainingArgs,
    run: &RunDir,
    evaluate: &dyn Fn() -> dnalm_train::Result<f64>,
    window_nt: usize,
) -> Result<()> {
    run_loop(
        model,
        data,
        training,
        run,
        evaluate,
        "held-out masked-LM loss",
        |l| l,
    )?;
    let nucleotides_per_step = (training.batch_size * training.accumulation * window_nt) as f64;
    if let Some(seconds) = run.median_step_seconds()? {
        eprintln!(
            "throughput: {:.0} nt/s ({} nt per step, median step {seconds:.3} s)",
            nucleotides_per_step / seconds,
            nucleotides_per_step
        );
    }
    Ok(())
}

/// The shared part of every training command: the loop with a progress bar, its
/// configuration written to the run folder, and how it ended.
fn run_loop(
    model: &dyn Trainable,
    data: &WindowDataset,
    training: &TrainingArgs,
    run: &RunDir,
    evaluate: &dyn Fn() -> dnalm_train::Result<f64>,
    eval_name: &str,
    shown: fn(f64) -> f64,
) -> Result<()> {
    let config = training.train_config();
    run.write_json("train_config.json", &config)?;
    let bar = progress::count_bar(training.steps, "training");
    let mut show = |state: &TrainerState, loss: f64| {
        bar.set_position(state.step);
        let best = state
            .best_eval_loss
            .map_or(String::from("-"), |l| format!("{:.4}", shown(l)));
        bar.set_message(format!("loss {loss:.4}, best {eval_name} {best}"));
    };
    let hooks = Hooks {
        evaluate,
        stop: stop_flag(),
        on_step: &mut show,
    };
    let outcome = train(model, data, &config, run, &Device::Cpu, hooks)?;
    bar.finish_and_clear();
    let verb = match outcome {
        Outcome::Finished => "finished".to_string(),
        Outcome::EarlyStopped => format!("stopped early ({eval_name} stopped improving)"),
        Outcome::Interrupted => "interrupted; run the same command to resume".to_string(),
    };
    eprintln!(
        "{verb}: {} (metrics.jsonl, checkpoint/, model.safetensors)",
        training.out.display()
    );
    Ok(())
}
