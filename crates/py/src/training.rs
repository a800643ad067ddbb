//! Training from Python: the same jobs as `dnalm train lm|mlm|mxdna` and `dnalm
//! finetune` (`dnalm_jobs`, `dnalm_finetune`) with the same settings, given as JSON by
//! `dnalm/training.py` (which documents them as keyword arguments). Progress goes to a
//! Python callback `on_event(name, values)`; Ctrl-C (KeyboardInterrupt) saves a
//! checkpoint and is raised again once the job has stopped, so the same call resumes.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use dnalm_finetune::{finetune, FinetuneProgress, FinetuneSettings, SeedResult, Task};
use dnalm_jobs::lm::train_lm;
use dnalm_jobs::mlm::train_mlm;
use dnalm_jobs::mxdna::train_mxdna;
use dnalm_jobs::{TrainReport, TrainingProgress, TrainingSettings};
use dnalm_models::spec::ModelSpec;
use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_seq::table::TableColumns;
use dnalm_seq::SeqRecord;
use dnalm_train::trainer::Outcome;
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use serde::Deserialize;

use crate::errors::dnalm_error;

/// Progress handed to a Python callback; a KeyboardInterrupt (or any exception the
/// callback raises) raises the stop flag.
struct PythonProgress<'a> {
    on_event: Option<&'a Py<PyAny>>,
    stop: &'a AtomicBool,
}

impl PythonProgress<'_> {
    /// Calls `on_event(event, values)` (values a tuple) with the GIL taken.
    fn send<A>(&self, event: &str, values: A)
    where
        A: for<'py> IntoPyObject<'py>,
    {
        Python::attach(|py| {
            let outcome = py.check_signals().and_then(|()| match self.on_event {
                Some(callback) => callback.call1(py, (event, values)).map(drop),
                None => Ok(()),
            });
            if let Err(err) = outcome {
                if !err.is_instance_of::<PyKeyboardInterrupt>(py) {
                    err.print(py);
                }
                self.stop.store(true, Ordering::SeqCst);
            }
        });
    }
}

impl TrainingProgress for PythonProgress<'_> {
    fn message(&mut self, text: &str) {
        self.send("message", (text,));
    }

    fn start(&mut self, total: u64, eval_name: &str) {
        self.send("start", (total, eval_name));
    }

    fn step(&mut self, step: u64, loss: f64, best_eval: Option<f64>) {
        self.send("step", (step, loss, best_eval));
    }

    fn finish(&mut self) {
        self.send("finish", ());
    }
}

impl FinetuneProgress for PythonProgress<'_> {
    fn seed_started(&self, label: &str, steps: u64) {
        self.send("start", (steps, label));
    }

    fn step(&self, _label: &str, step: u64, loss: f64, best_dev_loss: Option<f64>) {
        self.send("step", (step, loss, best_dev_loss));
    }

    fn seed_finished(&self, label: &str, result: &SeedResult, best_dev_loss: f64) {
        self.send("finish", ());
        let test: Vec<String> = result
            .test
            .iter()
            .map(|(name, value)| format!("{name} {value:.4}"))
            .collect();
        self.send(
            "message",
            (format!(
                "{label}: best dev loss {best_dev_loss:.4} at step {} of {}; test {}",
                result.best_step,
                result.steps,
                test.join(", ")
            ),),
        );
    }

    fn warning(&self, message: &str) {
        self.send("message", (format!("warning: {message}"),));
    }
}

/// A pretraining job's settings as `dnalm/training.py` sends them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobSettings<M> {
    training: TrainingSettings,
    model: M,
}

/// Settings from the JSON text Python sent; a key or value that does not fit is a
/// ValueError.
fn parse<T: for<'de> Deserialize<'de>>(json: &str) -> PyResult<T> {
    serde_json::from_str(json).map_err(|err| PyValueError::new_err(err.to_string()))
}

/// Runs the pretraining job `job` (`lm`, `mlm` or `mxdna`) on the sequence files
/// `files` with `settings` (JSON: `training` and `model` objects); returns the report
/// as a dict.
#[pyfunction]
#[pyo3(signature = (job, settings, files, on_event = None))]
pub fn _train(
    py: Python<'_>,
    job: &str,
    settings: &str,
    files: Vec<PathBuf>,
    on_event: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    if files.is_empty() {
        return Err(PyValueError::new_err("give at least one sequence file"));
    }
    let stop = AtomicBool::new(false);
    let mut progress = PythonProgress {
        on_event: on_event.as_ref(),
        stop: &stop,
    };
    let report = match job {
        "lm" => pretrain(py, settings, &files, &stop, &mut progress, train_lm)?,
        "mlm" => pretrain(py, settings, &files, &stop, &mut progress, train_mlm)?,
        "mxdna" => pretrain(py, settings, &files, &stop, &mut progress, train_mxdna)?,
        other => {
            return Err(PyValueError::new_err(format!(
                "no training job {other:?} (lm, mlm, mxdna)"
            )))
        }
    };
    if report.outcome == Outcome::Interrupted {
        return Err(PyKeyboardInterrupt::new_err(
            "training stopped; a checkpoint is saved and the same call resumes",
        ));
    }
    let outcome = match report.outcome {
        Outcome::Finished => "finished",
        Outcome::EarlyStopped => "stopped early",
        Outcome::Interrupted => "interrupted",
    };
    let dict = pyo3::types::PyDict::new(py);
    dict.set_item("outcome", outcome)?;
    dict.set_item("description", report.description)?;
    dict.set_item("per_second", report.per_second)?;
    dict.set_item("best_eval", report.best_eval)?;
    Ok(dict.into_any().unbind())
}

/// A pretraining job of `dnalm_jobs`.
type PretrainingJob<M> = fn(
    &M,
    &TrainingSettings,
    &[SeqRecord],
    &AtomicBool,
    &mut dyn TrainingProgress,
) -> dnalm_jobs::Result<TrainReport>;

/// Parses `settings` for `job`, reads the sequence files and runs it, the GIL released.
fn pretrain<M: for<'de> Deserialize<'de> + Sync>(
    py: Python<'_>,
    settings: &str,
    files: &[PathBuf],
    stop: &AtomicBool,
    progress: &mut PythonProgress<'_>,
    job: PretrainingJob<M>,
) -> PyResult<TrainReport> {
    let settings: JobSettings<M> = parse(settings)?;
    py.detach(|| {
        let mut records = Vec::new();
        for file in files {
            records.extend(read_all(file, &SourceOptions::default()).map_err(dnalm_error)?);
        }
        job(
            &settings.model,
            &settings.training,
            &records,
            stop,
            progress,
        )
        .map_err(dnalm_error)
    })
}

/// What `dnalm/training.py` sends for fine-tuning.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FinetuneJob {
    task: PathBuf,
    model: String,
    out: PathBuf,
    split_column: String,
    sequence_column: Option<String>,
    label_column: Option<String>,
    id_column: Option<String>,
    settings: FinetuneSettings,
}

/// Fine-tunes as `dnalm finetune` does; returns results.json's text.
#[pyfunction]
#[pyo3(signature = (job, on_event = None))]
pub fn _finetune(py: Python<'_>, job: &str, on_event: Option<Py<PyAny>>) -> PyResult<String> {
    let job: FinetuneJob = parse(job)?;
    let spec: ModelSpec = job.model.parse().map_err(PyValueError::new_err)?;
    let stop = AtomicBool::new(false);
    let progress = PythonProgress {
        on_event: on_event.as_ref(),
        stop: &stop,
    };
    let columns = TableColumns {
        sequence: job.sequence_column.clone(),
        label: job.label_column.clone(),
        id: job.id_column.clone(),
    };
    let result = py.detach(|| -> PyResult<_> {
        let task = Task::open(
            &job.task,
            &columns,
            &job.split_column,
            job.settings.regression,
        )
        .map_err(dnalm_error)?;
        Ok(finetune(
            &spec,
            &task,
            &job.settings,
            &job.out,
            &stop,
            &progress,
        ))
    })?;
    match result {
        Ok(result) => serde_json::to_string(&result).map_err(dnalm_error),
        Err(_) if stop.load(Ordering::SeqCst) => Err(PyKeyboardInterrupt::new_err(
            "fine-tuning stopped; a checkpoint is saved and the same call resumes",
        )),
        Err(err) => Err(dnalm_error(err)),
    }
}
