//! `dnalm train ...`: neural language models. The jobs are `dnalm_jobs`'; each
//! subcommand's file turns its flags into the job's settings. What they share (the
//! training flags, the progress bar, how a run ends) is here.

mod lm;
mod mlm;
mod mxdna;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use dnalm_jobs::{GenomeWindows, TrainReport, TrainingProgress, TrainingSettings};
use dnalm_nn::device::DeviceSpec;
use dnalm_train::trainer::Outcome;

use crate::interrupt::Interrupted;
use crate::progress;

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
    #[arg(long, default_value_t = 510, value_parser = crate::flags::count)]
    pub window_nt: usize,

    /// Windows with a larger share of N are skipped.
    #[arg(long, default_value_t = 0.0)]
    pub max_n_fraction: f64,
}

impl GenomeWindowArgs {
    /// The job's settings.
    pub fn settings(&self) -> GenomeWindows {
        GenomeWindows {
            window_nt: self.window_nt,
            max_n_fraction: self.max_n_fraction,
        }
    }
}

/// How long and how to train (shared by every training command).
#[derive(Debug, Args)]
pub struct TrainingArgs {
    /// Windows per micro-batch.
    #[arg(long, default_value_t = 32, value_parser = crate::flags::count)]
    pub batch_size: usize,

    /// Micro-batches per optimizer step (gradient accumulation).
    #[arg(long, default_value_t = 1, value_parser = crate::flags::count)]
    pub accumulation: usize,

    /// Optimizer steps.
    #[arg(long, default_value_t = 2000, value_parser = crate::flags::steps)]
    pub steps: u64,

    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-3, value_parser = crate::flags::positive)]
    pub lr: f64,

    /// Linear warmup steps.
    #[arg(long, default_value_t = 100)]
    pub warmup: u64,

    /// AdamW weight decay (not applied to biases and norms).
    #[arg(long, default_value_t = 0.01, value_parser = crate::flags::non_negative)]
    pub weight_decay: f64,

    /// Gradient clipping norm.
    #[arg(long, default_value_t = 1.0, value_parser = crate::flags::positive)]
    pub clip: f64,

    /// Evaluate on the held-out tenth of the training records every this many steps.
    #[arg(long, default_value_t = 200)]
    pub eval_every: u64,

    /// Stop after this many evaluations without improvement (0: never).
    #[arg(long, default_value_t = 5)]
    pub patience: u32,

    /// Checkpoint every this many steps.
    #[arg(long, default_value_t = 200, value_parser = crate::flags::steps)]
    pub checkpoint_every: u64,

    /// Seed of the initial weights, the held-out choice and the data order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// The run folder (created; resumed if it holds a checkpoint).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,

    /// Where to train: cpu, or cuda / cuda:N (a build with the `cuda` feature).
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: DeviceSpec,
}

impl TrainingArgs {
    /// The job's settings.
    pub fn settings(&self) -> TrainingSettings {
        TrainingSettings {
            batch_size: self.batch_size,
            accumulation: self.accumulation,
            steps: self.steps,
            lr: self.lr,
            warmup: self.warmup,
            weight_decay: self.weight_decay,
            clip: self.clip,
            eval_every: self.eval_every,
            patience: self.patience,
            checkpoint_every: self.checkpoint_every,
            seed: self.seed,
            out: self.out.clone(),
            device: self.device,
        }
    }
}

/// A training job on a progress bar (standard error).
#[derive(Default)]
pub struct TrainingBar {
    bar: Option<indicatif::ProgressBar>,
    eval_name: String,
}

impl TrainingProgress for TrainingBar {
    fn message(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn start(&mut self, total: u64, eval_name: &str) {
        self.bar = Some(progress::count_bar(total, "training"));
        self.eval_name = eval_name.to_string();
    }

    fn step(&mut self, step: u64, loss: f64, best_eval: Option<f64>) {
        if let Some(bar) = &self.bar {
            bar.set_position(step);
            let best = best_eval.map_or(String::from("-"), |l| format!("{l:.4}"));
            bar.set_message(format!("loss {loss:.4}, best {} {best}", self.eval_name));
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// How a training command ends: the throughput, or (Ctrl-C) exit status 130.
pub fn conclude(report: TrainReport, unit: &str, per_step: usize) -> Result<()> {
    if report.outcome == Outcome::Interrupted {
        return Err(
            Interrupted("a checkpoint is saved; run the same command to resume".into()).into(),
        );
    }
    if let Some(per_second) = report.per_second {
        eprintln!("throughput: {per_second:.0} {unit}/s ({per_step} {unit} per step)");
    }
    Ok(())
}
