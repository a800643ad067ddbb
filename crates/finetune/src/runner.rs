//! Fine-tuning one model on one task over several seeds, with early stopping on dev
//! and one test evaluation of the best dev weights.
//!
//! Output folder: `seed<N>/` per seed (a run folder: checkpoint for resuming,
//! `best.safetensors` + `best.json` of the best dev loss, `model.safetensors` = the
//! best weights once finished, `test_metrics.json`), and `results.json` with the mean
//! and sample sd over seeds. A finished seed is never redone; an interrupted one
//! resumes; `settings.json` records the settings, and a rerun with other settings is
//! refused.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use candle_core::Device;
use dnalm_eval::summary::MeanSd;
use dnalm_models::spec::{HeadOptions, ModelSpec};
use dnalm_nn::supervised::{InputRows, SequencePredictor};
use dnalm_run::{RunDir, TrainerState};
use dnalm_seq::SeqRecord;
use dnalm_train::optimizer::AdamWConfig;
use dnalm_train::trainer::{train, Hooks, Outcome, TrainConfig};
use dnalm_train::windows::WindowDataset;
use serde::{Deserialize, Serialize};

use crate::error::{FinetuneError, Result};
use crate::metrics::metrics;
use crate::results::{FinetuneResult, MeanSdRecord, SeedResult};
use crate::settings::FinetuneSettings;
use crate::task::Task;

/// What a front shows while fine-tuning runs; every method does nothing by default.
pub trait FinetuneProgress {
    /// A seed starts (or resumes): `label` is `task / model / seed N`.
    fn seed_started(&self, _label: &str, _steps: u64) {}
    /// An optimizer step ended.
    fn step(&self, _label: &str, _step: u64, _loss: f64, _best_dev_loss: Option<f64>) {}
    /// A seed finished: its result, its best dev loss and the step of it.
    fn seed_finished(&self, _label: &str, _result: &SeedResult, _best_dev_loss: f64) {}
    /// Something the user should know (an undefined metric).
    fn warning(&self, _message: &str) {}
}

/// Shows nothing.
pub struct Quiet;

impl FinetuneProgress for Quiet {}

/// Fine-tunes `spec` on `task` for every seed (reusing finished seeds in `out`) and
/// writes `out/results.json`. Raising `stop` saves the running seed's checkpoint and
/// returns [`FinetuneError::Interrupted`].
pub fn finetune(
    spec: &ModelSpec,
    task: &Task,
    settings: &FinetuneSettings,
    out: &Path,
    stop: &AtomicBool,
    progress: &dyn FinetuneProgress,
) -> Result<FinetuneResult> {
    if settings.seeds.is_empty() {
        return Err(FinetuneError::Settings("give at least one seed".into()));
    }
    settings.check().map_err(FinetuneError::Settings)?;
    spec.check()?;
    std::fs::create_dir_all(out).map_err(|err| file_error(out, err))?;
    check_same_settings(out, settings)?;
    let mut seeds = Vec::new();
    let mut description = String::new();
    for &seed in &settings.seeds {
        let dir = out.join(format!("seed{seed}"));
        let finished = dir.join("test_metrics.json");
        let result = if finished.is_file() {
            read_json(&finished)?
        } else {
            let (result, described) = run_seed(spec, task, settings, seed, &dir, stop, progress)?;
            description = described;
            result
        };
        seeds.push(result);
    }
    if description.is_empty() {
        description = spec
            .build(
                task.objective.clone(),
                head_options(settings),
                0,
                &Device::Cpu,
            )?
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

/// Writes `settings.json` in a new folder; in a used one, refuses other settings (its
/// finished seeds would silently mix with new ones).
fn check_same_settings(out: &Path, settings: &FinetuneSettings) -> Result<()> {
    let path = out.join("settings.json");
    let wanted = settings.recorded();
    if path.is_file() {
        let found: serde_json::Value = read_json(&path)?;
        if found != wanted {
            return Err(FinetuneError::Settings(format!(
                "{} was made with other settings ({found}); use a new output folder for \
                 these ({wanted})",
                out.display()
            )));
        }
        return Ok(());
    }
    write_json(&path, &wanted)
}

fn head_options(settings: &FinetuneSettings) -> HeadOptions {
    HeadOptions {
        pooling: settings.pooling,
        dropout: settings.dropout,
        preset: settings.preset,
    }
}

/// Input rows of records, and their labels as row codes.
fn labelled_rows(
    model: &dyn SequencePredictor,
    records: &[SeqRecord],
    max_width: usize,
    split: &'static str,
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
                .map_err(|source| FinetuneError::Row {
                    split,
                    id: record.id.clone(),
                    source: Box::new(source),
                })
        })
        .collect::<Result<Vec<u32>>>()?;
    Ok((inputs, codes))
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
    stop: &AtomicBool,
    progress: &dyn FinetuneProgress,
) -> Result<(SeedResult, String)> {
    let started = Instant::now();
    let device = settings.device.open()?;
    let model = spec.build(
        task.objective.clone(),
        head_options(settings),
        seed,
        &device,
    )?;
    let run = RunDir::create(dir)?;
    if !dir.join("config.json").is_file() {
        model.save_run(&run)?;
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
        Some(read_json(&best_path)?)
    } else {
        None
    });
    let step_seen = Cell::new(0u64);
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
    let config = TrainConfig {
        steps: settings.steps,
        batch_size: settings.batch_size,
        accumulation: 1,
        peak_lr: settings
            .lr
            .unwrap_or(if spec.is_linear() { 1e-2 } else { 5e-4 }),
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
    progress.seed_started(&label, settings.steps);
    let mut show = |state: &TrainerState, loss: f64| {
        step_seen.set(state.step);
        progress.step(&label, state.step, loss, best.borrow().map(|b| b.loss));
    };
    let hooks = Hooks {
        evaluate: &evaluate,
        stop,
        on_step: &mut show,
    };
    let outcome = train(model.as_ref(), &data, &config, &run, &device, hooks)?;
    if outcome == Outcome::Interrupted {
        return Err(FinetuneError::Interrupted(dir.to_path_buf()));
    }
    let steps = step_seen.get();
    let best = best.borrow().ok_or_else(|| {
        FinetuneError::Settings("no dev evaluation was run (are the steps 0?)".into())
    })?;
    let best_file = dir.join("best.safetensors");
    let best_weights = candle_core::safetensors::load(&best_file, &device)
        .map_err(|err| file_error(&best_file, err))?;
    model.load_weights(&best_weights)?;
    run.save_weights(&best_weights)?;
    let measured = |inputs: &InputRows, codes: &[u32]| -> Result<BTreeMap<String, f64>> {
        let predictions = model.predict(inputs, settings.batch_size)?;
        let (values, undefined) = metrics(model.objective(), &predictions, codes);
        for name in undefined {
            progress.warning(&format!(
                "{label}: {name} is undefined on these rows (a class is absent?)"
            ));
        }
        Ok(values)
    };
    let result = SeedResult {
        seed,
        dev: measured(&dev_inputs, &dev_codes)?,
        test: measured(&test_inputs, &test_codes)?,
        best_step: best.step,
        steps,
        seconds: started.elapsed().as_secs_f64(),
    };
    write_json(&dir.join("test_metrics.json"), &result)?;
    progress.seed_finished(&label, &result, best.loss);
    Ok((result, model.describe()))
}

fn file_error(path: &Path, err: impl std::fmt::Display) -> FinetuneError {
    FinetuneError::File {
        path: path.to_path_buf(),
        message: err.to_string(),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|err| file_error(path, err))?;
    serde_json::from_str(&text).map_err(|err| file_error(path, err))
}

/// Writes pretty JSON atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|err| file_error(path, err))?;
    dnalm_seq::atomic::write_atomic(path, |out| out.write_all(text.as_bytes()))
        .map_err(|err| file_error(path, err))
}
