//! `dnalm finetune`: fine-tune one model on one labelled task over several seeds, with
//! early stopping on dev and one test evaluation of the best dev checkpoint.
//!
//! Output folder: `seed<N>/` per seed (a run folder: checkpoint for resuming,
//! `best.safetensors` + `best.json` of the best dev loss, `model.safetensors` = the best
//! weights once finished, `test_metrics.json`), and `results.json` with the mean and
//! sample sd over seeds. A finished seed is never redone; an interrupted one resumes;
//! `settings.json` records the settings, and a rerun with other settings is refused.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use candle_core::Device;
use clap::Args;
use dnalm_eval::classification::{classification_metrics, regression_metrics};
use dnalm_eval::summary::MeanSd;
use dnalm_nn::heads::Pooling;
use dnalm_nn::supervised::{InputRows, Objective, SequencePredictor};
use dnalm_run::{RunDir, TrainerState};
use dnalm_seq::task::TaskData;
use dnalm_seq::SeqRecord;
use dnalm_train::optimizer::AdamWConfig;
use dnalm_train::trainer::{train, Hooks, Outcome, TrainConfig};
use dnalm_train::windows::WindowDataset;
use serde::{Deserialize, Serialize};

use crate::commands::train::{stop_flag, Preset};
use crate::input::InputArgs;
use crate::model_spec::{HeadOptions, ModelSpec};
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
    settings: FinetuneSettings,

    /// Output folder (created; finished seeds are kept, an interrupted one resumes).
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
}

/// How to fine-tune (shared with `dnalm bench`).
#[derive(Debug, Clone, Args)]
pub struct FinetuneSettings {
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
    #[arg(long, default_value_t = 0.1)]
    pub dropout: f64,

    /// Encoder size of `scratch:` models.
    #[arg(long, value_enum, default_value_t = Preset::Tiny)]
    pub preset: Preset,

    /// Longest input in tokens, [CLS] and [SEP] included (longer ones are cut).
    #[arg(long, default_value_t = 512)]
    pub max_tokens: usize,

    /// Optimizer steps at most.
    #[arg(long, default_value_t = 1000)]
    pub steps: u64,

    /// Sequences per step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,

    /// Peak learning rate [default: 5e-4 for encoders, 1e-2 for kmer<k>-lr].
    #[arg(long)]
    pub lr: Option<f64>,

    /// Linear warmup steps.
    #[arg(long, default_value_t = 50)]
    pub warmup: u64,

    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,

    /// Evaluate on dev every this many steps (the best dev loss is kept).
    #[arg(long, default_value_t = 100)]
    pub eval_every: u64,

    /// Stop after this many evaluations without a better dev loss.
    #[arg(long, default_value_t = 5)]
    pub patience: u32,

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

/// A task as the fine-tuning runner needs it.
pub struct Task {
    /// Short name (the folder or file stem).
    pub name: String,
    /// What is predicted.
    pub objective: Objective,
    train: Vec<SeqRecord>,
    dev: Vec<SeqRecord>,
    test: Vec<SeqRecord>,
}

impl Task {
    /// Reads a task folder or split table.
    pub fn open(path: &Path, settings: &FinetuneSettings) -> Result<Self> {
        let columns = settings.input.source_options().columns;
        let data = TaskData::open_any(path, &columns, &settings.split_column)?;
        let objective = if settings.regression {
            Objective::Regression
        } else {
            Objective::Classification {
                labels: data.labels.clone(),
            }
        };
        let stem = path.file_name().map_or("task".into(), |name| {
            let name = name.to_string_lossy();
            name.split('.').next().unwrap_or(&name).to_string()
        });
        Ok(Self {
            name: stem,
            objective,
            train: data.train,
            dev: data.dev,
            test: data.test,
        })
    }

    /// Train / dev / test row counts.
    pub fn sizes(&self) -> (usize, usize, usize) {
        (self.train.len(), self.dev.len(), self.test.len())
    }
}

/// What one seed measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// Test metrics of the best dev checkpoint, by name.
    pub test: BTreeMap<String, f64>,
    /// Dev metrics of the same checkpoint.
    pub dev: BTreeMap<String, f64>,
    /// Step of the best dev loss.
    pub best_step: u64,
    /// Optimizer steps run (fewer than asked when stopped early).
    pub steps: u64,
    /// Wall-clock seconds of training and evaluation.
    pub seconds: f64,
}

/// What `results.json` of a fine-tuning folder holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinetuneResult {
    /// Task name.
    pub task: String,
    /// Model name.
    pub model: String,
    /// The model described.
    pub description: String,
    /// Per seed.
    pub seeds: Vec<SeedResult>,
    /// Mean and sd of each test metric over seeds.
    pub test: BTreeMap<String, MeanSdRecord>,
}

/// [`MeanSd`] as stored.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MeanSdRecord {
    /// Mean.
    pub mean: f64,
    /// Sample sd.
    pub sd: f64,
    /// Seeds.
    pub n: usize,
}

impl FinetuneArgs {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let task = Task::open(&self.task, &self.settings)?;
        let (train, dev, test) = task.sizes();
        eprintln!(
            "task {}: {train} train, {dev} dev, {test} test rows; {}",
            task.name,
            describe_objective(&task.objective)
        );
        let result = finetune(&self.model, &task, &self.settings, &self.out)?;
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

fn describe_objective(objective: &Objective) -> String {
    match objective {
        Objective::Classification { labels } => {
            format!("{} classes ({})", labels.len(), labels.join(", "))
        }
        Objective::Regression => "regression".into(),
    }
}

/// Fine-tunes `spec` on `task` for every seed (reusing finished seeds in `out`) and
/// writes `out/results.json`.
pub fn finetune(
    spec: &ModelSpec,
    task: &Task,
    settings: &FinetuneSettings,
    out: &Path,
) -> Result<FinetuneResult> {
    if settings.seeds.is_empty() {
        anyhow::bail!("--seeds: give at least one seed");
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    check_same_settings(out, settings)?;
    let mut seeds = Vec::new();
    let mut description = String::new();
    for &seed in &settings.seeds {
        let dir = out.join(format!("seed{seed}"));
        let finished = dir.join("test_metrics.json");
        let result = if finished.is_file() {
            let text = std::fs::read_to_string(&finished)
                .with_context(|| format!("cannot read {}", finished.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{}: not a seed result", finished.display()))?
        } else {
            let (result, described) = run_seed(spec, task, settings, seed, &dir)?;
            description = described;
            result
        };
        seeds.push(result);
    }
    if description.is_empty() {
        let head = head_options(settings);
        description = spec
            .build(task.objective.clone(), head, 0, &Device::Cpu)?
            .describe();
    }
    let metric_names: Vec<String> = seeds[0].test.keys().cloned().collect();
    let test = metric_names
        .into_iter()
        .map(|name| {
            let values: Vec<f64> = seeds.iter().map(|seed| seed.test[&name]).collect();
            let MeanSd { mean, sd, n } = MeanSd::of(&values);
            (name, MeanSdRecord { mean, sd, n })
        })
        .collect();
    let result = FinetuneResult {
        task: task.name.clone(),
        model: spec.name(),
        description,
        seeds,
        test,
    };
    write_json(&out.join("results.json"), &result)?;
    Ok(result)
}

/// What must not change between a folder's first run and a rerun that reuses its
/// finished seeds and checkpoints.
fn recorded_settings(settings: &FinetuneSettings) -> serde_json::Value {
    serde_json::json!({
        "regression": settings.regression,
        "pooling": format!("{:?}", settings.pooling),
        "dropout": settings.dropout,
        "preset": format!("{:?}", settings.preset),
        "max_tokens": settings.max_tokens,
        "steps": settings.steps,
        "batch_size": settings.batch_size,
        "lr": settings.lr,
        "warmup": settings.warmup,
        "weight_decay": settings.weight_decay,
        "eval_every": settings.eval_every,
        "patience": settings.patience,
    })
}

/// Writes `settings.json` in a new folder; in a used one, refuses other settings (its
/// finished seeds would silently mix with new ones).
fn check_same_settings(out: &Path, settings: &FinetuneSettings) -> Result<()> {
    let path = out.join("settings.json");
    let wanted = recorded_settings(settings);
    if path.is_file() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let found: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        if found != wanted {
            anyhow::bail!(
                "{} was made with other settings ({found}); use a new output folder for \
                 these ({wanted})",
                out.display()
            );
        }
        return Ok(());
    }
    write_json(&path, &wanted)
}

fn head_options(settings: &FinetuneSettings) -> HeadOptions {
    HeadOptions {
        pooling: match settings.pooling {
            PoolingArg::Cls => Pooling::Cls,
            PoolingArg::Mean => Pooling::Mean,
        },
        dropout: settings.dropout,
        preset: settings.preset,
    }
}

/// Labelled rows of records, and their input rows.
fn labelled_rows(
    model: &dyn SequencePredictor,
    records: &[SeqRecord],
    max_width: usize,
    what: &str,
) -> Result<(InputRows, Vec<u32>)> {
    let sequences: Vec<&[u8]> = records.iter().map(|r| &r.seq[..]).collect();
    let inputs = model.input_rows(&sequences, max_width);
    let codes = records
        .iter()
        .map(|record| {
            let label = record.label.as_deref().unwrap_or_default();
            model
                .objective()
                .target_code(label)
                .map_err(|err| anyhow::anyhow!("{what} row '{}': {err}", record.id))
        })
        .collect::<Result<Vec<u32>>>()?;
    Ok((inputs, codes))
}

/// Metrics of predictions against the row codes, by name. A metric that is undefined
/// on these rows (AUROC when a class is absent) is left out with a warning.
fn metrics(
    objective: &Objective,
    predictions: &[Vec<f64>],
    codes: &[u32],
) -> BTreeMap<String, f64> {
    let named: Vec<(&str, f64)> = match objective {
        Objective::Classification { .. } => {
            let truth: Vec<usize> = codes.iter().map(|&c| c as usize).collect();
            let m = classification_metrics(predictions, &truth);
            vec![
                ("accuracy", m.accuracy),
                ("macro_f1", m.macro_f1),
                ("mcc", m.mcc),
                ("auroc", m.auroc),
            ]
        }
        Objective::Regression => {
            let predicted: Vec<f64> = predictions.iter().map(|row| row[0]).collect();
            let targets: Vec<f64> = codes.iter().map(|&c| f32::from_bits(c) as f64).collect();
            let m = regression_metrics(&predicted, &targets);
            vec![("mse", m.mse), ("pearson", m.pearson), ("r2", m.r2)]
        }
    };
    named
        .into_iter()
        .filter(|(name, value)| {
            let defined = value.is_finite();
            if !defined {
                eprintln!("warning: {name} is undefined on these rows (a class is absent?)");
            }
            defined
        })
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// Where the best dev checkpoint stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct BestDev {
    step: u64,
    loss: f64,
}

fn run_seed(
    spec: &ModelSpec,
    task: &Task,
    settings: &FinetuneSettings,
    seed: u64,
    dir: &Path,
) -> Result<(SeedResult, String)> {
    let started = Instant::now();
    let device = Device::Cpu;
    let model = spec.build(
        task.objective.clone(),
        head_options(settings),
        seed,
        &device,
    )?;
    let run = RunDir::create(dir)?;
    if !dir.join("config.json").is_file() {
        model.save_run(&run).map_err(anyhow::Error::msg)?;
    }
    let (train_inputs, train_codes) =
        labelled_rows(model.as_ref(), &task.train, settings.max_tokens, "train")?;
    let (dev_inputs, dev_codes) =
        labelled_rows(model.as_ref(), &task.dev, settings.max_tokens, "dev")?;
    let (test_inputs, test_codes) =
        labelled_rows(model.as_ref(), &task.test, settings.max_tokens, "test")?;
    let data = WindowDataset::new(train_inputs.labelled(&train_codes), train_inputs.width + 1);
    let dev_rows = dev_inputs.labelled(&dev_codes);

    let best_path = dir.join("best.json");
    let best: RefCell<Option<BestDev>> = RefCell::new(if best_path.is_file() {
        let text = std::fs::read_to_string(&best_path)?;
        Some(serde_json::from_str(&text).with_context(|| format!("{}", best_path.display()))?)
    } else {
        None
    });
    let step_seen = std::cell::Cell::new(0u64);
    let evaluate = || -> dnalm_train::Result<f64> {
        let loss = model.labelled_loss(&dev_rows, dev_inputs.width + 1, settings.batch_size)?;
        if best.borrow().is_none_or(|b| loss < b.loss) {
            let record = BestDev {
                step: step_seen.get() + 1,
                loss,
            };
            run.save_weights_as("best.safetensors", &model.weights())?;
            run.write_json("best.json", &record)?;
            *best.borrow_mut() = Some(record);
        }
        Ok(loss)
    };
    let linear = spec.is_linear();
    let config = TrainConfig {
        steps: settings.steps,
        batch_size: settings.batch_size,
        accumulation: 1,
        peak_lr: settings.lr.unwrap_or(if linear { 1e-2 } else { 5e-4 }),
        warmup_steps: settings.warmup,
        min_lr_ratio: 0.1,
        adamw: AdamWConfig {
            weight_decay: settings.weight_decay,
            ..Default::default()
        },
        clip_norm: 1.0,
        eval_every: settings.eval_every.max(1),
        patience: settings.patience,
        checkpoint_every: settings.eval_every.max(1),
        seed,
    };
    run.write_json("train_config.json", &config)?;
    let label = format!("{} / {} / seed {seed}", task.name, spec.name());
    let bar = progress::count_bar(settings.steps, &label);
    let mut show = |state: &TrainerState, loss: f64| {
        step_seen.set(state.step);
        bar.set_position(state.step);
        let best = best
            .borrow()
            .map_or("-".into(), |b| format!("{:.4}", b.loss));
        bar.set_message(format!("{label}: loss {loss:.4}, best dev loss {best}"));
    };
    let hooks = Hooks {
        evaluate: &evaluate,
        stop: stop_flag(),
        on_step: &mut show,
    };
    let outcome = train(model.as_ref(), &data, &config, &run, &device, hooks)?;
    bar.finish_and_clear();
    if outcome == Outcome::Interrupted {
        anyhow::bail!(
            "interrupted; run the same command to resume ({})",
            dir.display()
        );
    }
    let steps = step_seen.get();
    let best = best
        .borrow()
        .context("no dev evaluation was run (is --steps 0?)")?;
    let best_weights = candle_core::safetensors::load(dir.join("best.safetensors"), &device)
        .with_context(|| format!("cannot read {}", dir.join("best.safetensors").display()))?;
    model.load_weights(&best_weights)?;
    run.save_weights(&best_weights)?;
    let dev = metrics(
        model.objective(),
        &model.predict(&dev_inputs, settings.batch_size)?,
        &dev_codes,
    );
    let test = metrics(
        model.objective(),
        &model.predict(&test_inputs, settings.batch_size)?,
        &test_codes,
    );
    let result = SeedResult {
        seed,
        test,
        dev,
        best_step: best.step,
        steps,
        seconds: started.elapsed().as_secs_f64(),
    };
    write_json(&dir.join("test_metrics.json"), &result)?;
    eprintln!(
        "{label}: best dev loss {:.4} at step {} of {steps}; test {}",
        best.loss,
        best.step,
        result
            .test
            .iter()
            .map(|(name, value)| format!("{name} {value:.4}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok((result, model.describe()))
}

/// Writes pretty JSON atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    dnalm_seq::atomic::write_atomic(path, |out| out.write_all(text.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))
}
