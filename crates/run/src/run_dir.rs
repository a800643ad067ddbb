//! Run folders and crash-safe checkpoints.
//!
//! ```text
//! RUN/config.json               model configuration (written by the caller)
//! RUN/model.safetensors         the latest weights, for use (atomic)
//! RUN/metrics.jsonl             one JSON object per logged step
//! RUN/checkpoint/               what resuming needs:
//!     model.safetensors  optimizer.safetensors  trainer_state.json
//! ```
//!
//! A checkpoint is written whole into `checkpoint.tmp/` (each file fsynced; removed
//! again if a write fails, a full disk say), then
//! swapped in with two renames (`checkpoint` -> `checkpoint.old`, `checkpoint.tmp` ->
//! `checkpoint`) and the old one removed. An interruption at any point leaves a complete
//! checkpoint: `checkpoint/`, or `checkpoint.old/` between the renames. On resume,
//! `metrics.jsonl` loses the lines logged after the checkpoint's step, so the curve
//! continues without duplicates.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Result, RunError};

/// Counters a resumed run needs besides weights and moments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer steps done.
    pub step: u64,
    /// Training examples consumed (determines where the data stream resumes).
    pub examples_seen: u64,
    /// Best evaluation loss so far (for early stopping and best-model choice).
    pub best_eval_loss: Option<f64>,
    /// Evaluations since the best one.
    pub evals_without_improvement: u32,
}

/// What a checkpoint holds.
#[derive(Debug)]
pub struct Checkpoint {
    /// Model weights by parameter name.
    pub model: HashMap<String, Tensor>,
    /// The optimizer's state tensors by name (its moments).
    pub optimizer: HashMap<String, Tensor>,
    /// Counters.
    pub state: TrainerState,
}

/// A run folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
}

fn io_error(file: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        file: file.to_path_buf(),
        source,
    }
}

fn tensors_to_bytes(tensors: &HashMap<String, Tensor>) -> Result<Vec<u8>> {
    // Weights on a GPU come to the host here, where a failed copy is an error (the
    // safetensors view would unwrap it).
    let mut sorted = tensors
        .iter()
        .map(|(name, tensor)| Ok((name, tensor.to_device(&Device::Cpu)?)))
        .collect::<Result<Vec<(&String, Tensor)>>>()?;
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    safetensors::tensor::serialize(sorted, None).map_err(|err| RunError::Serialise {
        what: "tensors",
        message: err.to_string(),
    })
}

fn write_file_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))
}

impl RunDir {
    /// Opens (creating if needed) a run folder.
    pub fn create(path: &Path) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(io_error(path))?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a JSON file of the run (such as `config.json`) atomically.
    pub fn write_json(&self, name: &str, value: &impl Serialize) -> Result<()> {
        let path = self.path.join(name);
        let text = serde_json::to_string_pretty(value).map_err(|err| RunError::Serialise {
            what: "JSON",
            message: err.to_string(),
        })?;
        dnalm_seq::atomic::write_atomic(&path, |out| out.write_all(text.as_bytes()))
            .map_err(io_error(&path))
    }

    /// Saves a checkpoint and the latest `model.safetensors`.
    pub fn save_checkpoint(
        &self,
        model: &HashMap<String, Tensor>,
        optimizer: &HashMap<String, Tensor>,
        state: &TrainerState,
    ) -> Result<()> {
        let model_bytes = tensors_to_bytes(model)?;
        let temp = self.path.join("checkpoint.tmp");
        if temp.exists() {
            std::fs::remove_dir_all(&temp).map_err(io_error(&temp))?;
        }
        std::fs::create_dir_all(&temp).map_err(io_error(&temp))?;
        let written = (|| -> Result<()> {
            write_file_synced(&temp.join("model.safetensors"), &model_bytes)?;
            write_file_synced(
                &temp.join("optimizer.safetensors"),
                &tensors_to_bytes(optimizer)?,
            )?;
            let state_json =
                serde_json::to_vec_pretty(state).map_err(|err| RunError::Serialise {
                    what: "trainer state",
                    message: err.to_string(),
                })?;
            write_file_synced(&temp.join("trainer_state.json"), &state_json)
        })();
        if let Err(err) = written {
            // A full disk: the half-written checkpoint goes, the previous one stays.
            let _ = std::fs::remove_dir_all(&temp);
            return Err(err);
        }
        let current = self.path.join("checkpoint");
        let old = self.path.join("checkpoint.old");
        if current.exists() {
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(io_error(&old))?;
            }
            std::fs::rename(&current, &old).map_err(io_error(&current))?;
        }
        std::fs::rename(&temp, &current).map_err(io_error(&temp))?;
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(io_error(&old))?;
        }
        self.write_weights_bytes(&model_bytes)
    }

    /// Writes `model.safetensors` (the weights for use) atomically.
    pub fn save_weights(&self, model: &HashMap<String, Tensor>) -> Result<()> {
        self.save_weights_as("model.safetensors", model)
    }

    /// Writes weights to `file_name` in the run folder atomically.
    pub fn save_weights_as(&self, file_name: &str, model: &HashMap<String, Tensor>) -> Result<()> {
        self.write_bytes(file_name, &tensors_to_bytes(model)?)
    }

    fn write_weights_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.write_bytes("model.safetensors", bytes)
    }

    fn write_bytes(&self, file_name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path.join(file_name);
        dnalm_seq::atomic::write_atomic(&path, |out| out.write_all(bytes)).map_err(io_error(&path))
    }

    /// Loads the newest complete checkpoint, if the run has one.
    pub fn load_checkpoint(&self, device: &Device) -> Result<Option<Checkpoint>> {
        let dir = [
            self.path.join("checkpoint"),
            self.path.join("checkpoint.old"),
        ]
        .into_iter()
        .find(|dir| dir.join("trainer_state.json").is_file());
        let Some(dir) = dir else { return Ok(None) };
        let load = |name: &str| -> Result<HashMap<String, Tensor>> {
            let path = dir.join(name);
            candle_core::safetensors::load(&path, device).map_err(|err| RunError::Checkpoint {
                dir: path.clone(),
                message: format!("cannot read: {err}"),
            })
        };
        let state_path = dir.join("trainer_state.json");
        let text = std::fs::read_to_string(&state_path).map_err(io_error(&state_path))?;
        let state: TrainerState =
            serde_json::from_str(&text).map_err(|err| RunError::Checkpoint {
                dir: state_path.clone(),
                message: err.to_string(),
            })?;
        Ok(Some(Checkpoint {
            model: load("model.safetensors")?,
            optimizer: load("optimizer.safetensors")?,
            state,
        }))
    }

    /// Appends one record to `metrics.jsonl`.
    pub fn append_metrics(&self, record: &serde_json::Value) -> Result<()> {
        let path = self.path.join("metrics.jsonl");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_error(&path))?;
        writeln!(file, "{record}").map_err(io_error(&path))
    }

    /// The values of `key` logged in `metrics.jsonl`, with their steps, in order
    /// (records without it are passed over).
    pub fn logged_metric(&self, key: &str) -> Result<Vec<(u64, f64)>> {
        let path = self.path.join("metrics.jsonl");
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter_map(|record| Some((record["step"].as_u64()?, record[key].as_f64()?)))
            .collect())
    }

    /// The median of the step times logged in `metrics.jsonl`, if any were.
    pub fn median_step_seconds(&self) -> Result<Option<f64>> {
        let mut seconds: Vec<f64> = self
            .logged_metric("step_seconds")?
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        seconds.sort_by(f64::total_cmp);
        Ok(seconds.get(seconds.len() / 2).copied())
    }

    /// Drops the metrics records of steps after `step` (and any torn last line), so a
    /// resumed run does not log them twice.
    pub fn truncate_metrics_after(&self, step: u64) -> Result<()> {
        let path = self.path.join("metrics.jsonl");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(());
        };
        let kept: String = text
            .lines()
            .filter_map(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .map(|value| (line, value))
            })
            .filter(|(_, value)| value["step"].as_u64().is_some_and(|s| s <= step))
            .map(|(line, _)| format!("{line}\n"))
            .collect();
        dnalm_seq::atomic::write_atomic(&path, |out| out.write_all(kept.as_bytes()))
            .map_err(io_error(&path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_truncated_to_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        for step in 1..=5 {
            run.append_metrics(&serde_json::json!({"step": step, "loss": 1.0 / step as f64}))
                .unwrap();
        }
        let path = dir.path().join("metrics.jsonl");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"{\"step\": 6, \"lo").unwrap(); // torn by a crash
        run.truncate_metrics_after(3).unwrap();
        let steps: Vec<u64> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(steps, [1, 2, 3]);
    }
}
