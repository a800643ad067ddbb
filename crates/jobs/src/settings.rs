//! How long and how to train, and how genomes are cut into windows: the settings of
//! every training job, with the command line's defaults, each checked against its
//! range before anything is allocated or written.

use std::path::PathBuf;

use dnalm_nn::device::DeviceSpec;
use dnalm_train::optimizer::AdamWConfig;
use dnalm_train::trainer::TrainConfig;
use serde::{Deserialize, Serialize};

use crate::error::{JobsError, Result};

/// The largest batch, accumulation, window or step count accepted: far beyond what a
/// machine trains, small enough that no product of them overflows.
pub const MAX_COUNT: u64 = 1 << 30;

/// How long and how to train (shared by every training job).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingSettings {
    /// Windows per micro-batch.
    pub batch_size: usize,
    /// Micro-batches per optimizer step (gradient accumulation).
    pub accumulation: usize,
    /// Optimizer steps.
    pub steps: u64,
    /// Peak learning rate.
    pub lr: f64,
    /// Linear warmup steps.
    pub warmup: u64,
    /// AdamW weight decay (not applied to biases and norms).
    pub weight_decay: f64,
    /// Gradient clipping norm.
    pub clip: f64,
    /// Evaluate on the held-out data every this many steps (0: never).
    pub eval_every: u64,
    /// Stop after this many evaluations without improvement (0: never).
    pub patience: u32,
    /// Checkpoint every this many steps.
    pub checkpoint_every: u64,
    /// Seed of the initial weights, the held-out choice and the data order.
    pub seed: u64,
    /// The run folder (created; resumed if it holds a checkpoint).
    pub out: PathBuf,
    /// Where to train: `cpu` or `cuda[:N]` (a run moves between devices when resumed).
    pub device: DeviceSpec,
}

impl Default for TrainingSettings {
    fn default() -> Self {
        Self {
            batch_size: 32,
            accumulation: 1,
            steps: 2000,
            lr: 2e-3,
            warmup: 100,
            weight_decay: 0.01,
            clip: 1.0,
            eval_every: 200,
            patience: 5,
            checkpoint_every: 200,
            seed: 0,
            out: PathBuf::new(),
            device: DeviceSpec::Cpu,
        }
    }
}

impl TrainingSettings {
    /// Checks every setting against its range.
    pub fn check(&self) -> Result<()> {
        count("batch_size", self.batch_size as u64)?;
        count("accumulation", self.accumulation as u64)?;
        count("steps", self.steps)?;
        count("checkpoint_every", self.checkpoint_every)?;
        if self.warmup > MAX_COUNT || self.eval_every > MAX_COUNT {
            return Err(JobsError::Settings(format!(
                "warmup and eval_every are at most {MAX_COUNT}"
            )));
        }
        positive("lr", self.lr)?;
        positive("clip", self.clip)?;
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(JobsError::Settings(format!(
                "weight_decay must be a finite number >= 0, not {}",
                self.weight_decay
            )));
        }
        if self.out.as_os_str().is_empty() {
            return Err(JobsError::Settings("give the run folder (out)".into()));
        }
        Ok(())
    }

    /// The training loop's configuration.
    pub fn train_config(&self) -> TrainConfig {
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

    /// Nucleotides (or tokens) per optimizer step in windows of `window`.
    pub fn per_step(&self, window: usize) -> usize {
        self.batch_size * self.accumulation * window
    }
}

/// Genome windows for masked-LM pretraining (BERT-style encoders and MxDNA).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenomeWindows {
    /// Nucleotides per training window (windows are cut end to end).
    pub window_nt: usize,
    /// Windows with a larger share of N are skipped.
    pub max_n_fraction: f64,
}

impl Default for GenomeWindows {
    fn default() -> Self {
        Self {
            window_nt: 510,
            max_n_fraction: 0.0,
        }
    }
}

impl GenomeWindows {
    /// Checks the window length and the N share.
    pub fn check(&self) -> Result<()> {
        count("window_nt", self.window_nt as u64)?;
        if !(0.0..=1.0).contains(&self.max_n_fraction) {
            return Err(JobsError::Settings(format!(
                "max_n_fraction must be in 0..=1, not {}",
                self.max_n_fraction
            )));
        }
        Ok(())
    }
}

/// Checks a count: 1 to [`MAX_COUNT`].
pub fn count(name: &str, value: u64) -> Result<()> {
    if (1..=MAX_COUNT).contains(&value) {
        Ok(())
    } else {
        Err(JobsError::Settings(format!(
            "{name} must be 1 to {MAX_COUNT}, not {value}"
        )))
    }
}

fn positive(name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(JobsError::Settings(format!(
            "{name} must be a finite number > 0, not {value}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_out_of_range_values_are_named() {
        let ok = TrainingSettings {
            out: "run".into(),
            ..TrainingSettings::default()
        };
        ok.check().unwrap();
        for (broken, needle) in [
            (
                TrainingSettings {
                    lr: f64::NAN,
                    ..ok.clone()
                },
                "lr must be a finite number > 0, not NaN",
            ),
            (
                TrainingSettings {
                    batch_size: 0,
                    ..ok.clone()
                },
                "batch_size must be 1 to",
            ),
            (
                TrainingSettings {
                    steps: 0,
                    ..ok.clone()
                },
                "steps must be 1 to",
            ),
            (
                TrainingSettings {
                    clip: -1.0,
                    ..ok.clone()
                },
                "clip must be",
            ),
            (
                TrainingSettings {
                    weight_decay: f64::INFINITY,
                    ..ok.clone()
                },
                "weight_decay",
            ),
            (
                TrainingSettings {
                    out: PathBuf::new(),
                    ..ok.clone()
                },
                "run folder",
            ),
        ] {
            let err = broken.check().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
        let windows = GenomeWindows {
            max_n_fraction: 1.5,
            ..GenomeWindows::default()
        };
        assert!(windows
            .check()
            .unwrap_err()
            .to_string()
            .contains("max_n_fraction"));
        // Settings from JSON (as the Python package passes them): defaults fill in,
        // unknown keys are refused.
        let parsed: TrainingSettings = serde_json::from_str(r#"{"steps": 5, "out": "r"}"#).unwrap();
        assert_eq!((parsed.steps, parsed.batch_size), (5, 32));
        let err = serde_json::from_str::<TrainingSettings>(r#"{"step": 5}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `step`"), "{err}");
    }
}
