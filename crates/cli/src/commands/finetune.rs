//! `dnalm finetune`: fine-tune one model on one labelled task over several seeds, with
//! early stopping on dev and one test evaluation of the best dev checkpoint (the
//! runner is `dnalm_finetune`; this file parses the flags and shows progress).

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use dnalm_finetune::{
    finetune, FinetuneError, FinetuneProgress, FinetuneResult, FinetuneSettings, SeedResult, Task,
};
use dnalm_models::presets::Preset;
use dnalm_models::spec::ModelSpec;
use dnalm_nn::device::DeviceSpec;
use dnalm_nn::heads::Pooling;

use crate::input::InputArgs;
use crate::interrupt::{stop_flag, Interrupted};
use crate::progress;

/// Arguments of `dnalm finetune`.
#[derive(Debug, Args)]
pub struct FinetuneArgs {
    /// The task: a folder with train/dev/test.csv (GUE layout, optionally .gz or .tsv),
    /// or one CSV/TSV whose `split` column says train, dev or test per row.
    #[arg(long, value_name = "PATH")]
    task: PathBuf,

    /// The model: a `dnalm train mlm` or `dnalm train mxdna` run folder (its encoder
    /// is fine-tuned), `scratch:<tokenizer>` (nucleotide, kmer6, kmer6-tiled, a
    /// tokenizer.json, or mxdna; no pretraining), or `kmer<k>-lr` (k-mer counts +
    /// logistic regression).
    #[arg(long, value_name = "SPEC")]
    model: ModelSpec,

    #[command(flatten)]
    settings: FinetuneSettingsArgs,

    /// Output folder (created; finished seeds are kept, an interrupted one resumes).
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
}

/// How to fine-tune (shared with `dnalm bench`).
#[derive(Debug, Clone, Args)]
pub struct FinetuneSettingsArgs {
    /// Treat labels as real values (regression, MSE loss) instead of classes.
    #[arg(long)]
    pub regression: bool,

    /// Column of a single-table task that says train, dev or test.
    #[arg(long, default_value = "split", value_name = "NAME")]
    pub split_column: String,

    /// Seeds, comma-separated: each gives one fine-tuning run (head weights, data
    /// order, dropout); the report gives mean and sd over them.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub seeds: Vec<u64>,

    /// Pooling of the classification head: the [CLS] state or the mean of the tokens
    /// (MxDNA always uses [CLS], as its reference does).
    #[arg(long, value_enum, default_value_t = PoolingArg::Cls)]
    pub pooling: PoolingArg,

    /// Dropout of the classification head while training.
    #[arg(long, default_value_t = 0.1, value_parser = crate::flags::dropout)]
    pub dropout: f64,

    /// Encoder size of `scratch:` models.
    #[arg(long, value_enum, default_value_t = Preset::Tiny)]
    pub preset: Preset,

    /// Longest input in tokens, [CLS] and [SEP] included (longer ones are cut).
    #[arg(long, default_value_t = 512, value_parser = crate::flags::token_width)]
    pub max_tokens: usize,

    /// Optimizer steps at most.
    #[arg(long, default_value_t = 1000, value_parser = crate::flags::steps)]
    pub steps: u64,

    /// Sequences per step.
    #[arg(long, default_value_t = 32, value_parser = crate::flags::count)]
    pub batch_size: usize,

    /// Peak learning rate [default: 5e-4 for encoders, 1e-2 for kmer<k>-lr].
    #[arg(long, value_parser = crate::flags::positive)]
    pub lr: Option<f64>,

    /// Linear warmup steps.
    #[arg(long, default_value_t = 50)]
    pub warmup: u64,

    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.01, value_parser = crate::flags::non_negative)]
    pub weight_decay: f64,

    /// Evaluate on dev every this many steps (the best dev loss is kept).
    #[arg(long, default_value_t = 100, value_parser = crate::flags::steps)]
    pub eval_every: u64,

    /// Stop after this many evaluations without a better dev loss.
    #[arg(long, default_value_t = 5)]
    pub patience: u32,

    /// Where to train: cpu, or cuda / cuda:N (a build with the `cuda` feature).
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: DeviceSpec,

    #[command(flatten)]
    pub input: InputArgs,
}

/// Pooling choices on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PoolingArg {
    /// The state of the [CLS] token.
    Cls,
    /// The mean over the real tokens.
    Mean,
}

impl From<PoolingArg> for Pooling {
    fn from(pooling: PoolingArg) -> Self {
        match pooling {
            PoolingArg::Cls => Pooling::Cls,
            PoolingArg::Mean => Pooling::Mean,
        }
    }
}

impl FinetuneSettingsArgs {
    /// The runner's settings.
    pub fn settings(&self) -> FinetuneSettings {
        FinetuneSettings {
            regression: self.regression,
            seeds: self.seeds.clone(),
            pooling: self.pooling.into(),
            dropout: self.dropout,
            preset: self.preset,
            max_tokens: self.max_tokens,
            steps: self.steps,
            batch_size: self.batch_size,
            lr: self.lr,
            warmup: self.warmup,
            weight_decay: self.weight_decay,
            eval_every: self.eval_every,
            patience: self.patience,
            device: self.device,
        }
    }

    /// Reads a task folder or split table with these flags' columns.
    pub fn open_task(&self, path: &Path) -> Result<Task> {
        let columns = self.input.source_options().columns;
        Ok(Task::open(
            path,
            &columns,
            &self.split_column,
            self.regression,
        )?)
    }

    /// Fine-tunes `spec` on `task` into `out` with a progress bar per seed.
    pub fn run(&self, spec: &ModelSpec, task: &Task, out: &Path) -> Result<FinetuneResult> {
        let progress = BarProgress::default();
        finetune(spec, task, &self.settings(), out, stop_flag(), &progress).map_err(|err| match err
        {
            FinetuneError::Interrupted(seed) => Interrupted(format!(
                "{} saved a checkpoint; run the same command to resume",
                seed.display()
            ))
            .into(),
            other => other.into(),
        })
    }
}

/// Fine-tuning progress as one bar per seed.
#[derive(Default)]
struct BarProgress {
    bar: RefCell<Option<indicatif::ProgressBar>>,
}

impl FinetuneProgress for BarProgress {
    fn seed_started(&self, label: &str, steps: u64) {
        *self.bar.borrow_mut() = Some(progress::count_bar(steps, label));
    }

    fn step(&self, label: &str, step: u64, loss: f64, best_dev_loss: Option<f64>) {
        if let Some(bar) = &*self.bar.borrow() {
            bar.set_position(step);
            let best = best_dev_loss.map_or("-".into(), |b| format!("{b:.4}"));
            bar.set_message(format!("{label}: loss {loss:.4}, best dev loss {best}"));
        }
    }

    fn seed_finished(&self, label: &str, result: &SeedResult, best_dev_loss: f64) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
        let test: Vec<String> = result
            .test
            .iter()
            .map(|(name, value)| format!("{name} {value:.4}"))
            .collect();
        eprintln!(
            "{label}: best dev loss {best_dev_loss:.4} at step {} of {}; test {}",
            result.best_step,
            result.steps,
            test.join(", ")
        );
    }

    fn warning(&self, message: &str) {
        eprintln!("warning: {message}");
    }
}

impl FinetuneArgs {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let task = self.settings.open_task(&self.task)?;
        let (train, dev, test) = task.sizes();
        eprintln!(
            "task {}: {train} train, {dev} dev, {test} test rows; {}",
            task.name,
            task.describe_objective()
        );
        let result = self.settings.run(&self.model, &task, &self.out)?;
        for (metric, summary) in &result.test {
            println!(
                "test {metric}: {:.4} ± {:.4} (n = {})",
                summary.mean, summary.sd, summary.n
            );
        }
        eprintln!("wrote {}", self.out.join("results.json").display());
        Ok(())
    }
}
