//! How to fine-tune, as every front sets it.

use dnalm_models::presets::Preset;
use dnalm_nn::device::DeviceSpec;
use dnalm_nn::heads::Pooling;

/// Fine-tuning settings; [`FinetuneSettings::default`] holds the command line's
/// defaults (also for the fields a JSON object of settings leaves out).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FinetuneSettings {
    /// Treat labels as real values (regression, MSE loss) instead of classes.
    pub regression: bool,
    /// Seeds: each gives one fine-tuning run (head weights, data order, dropout).
    pub seeds: Vec<u64>,
    /// Pooling of the classification head (MxDNA always uses `[CLS]`).
    pub pooling: Pooling,
    /// Dropout of the classification head while training.
    pub dropout: f64,
    /// Encoder size of `scratch:` models.
    pub preset: Preset,
    /// Longest input in tokens, `[CLS]` and `[SEP]` included.
    pub max_tokens: usize,
    /// Optimizer steps at most.
    pub steps: u64,
    /// Sequences per step.
    pub batch_size: usize,
    /// Peak learning rate (`None`: 5e-4 for encoders, 1e-2 for `kmer<k>-lr`).
    pub lr: Option<f64>,
    /// Linear warmup steps.
    pub warmup: u64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Evaluate on dev every this many steps (the best dev loss is kept).
    pub eval_every: u64,
    /// Stop after this many evaluations without a better dev loss.
    pub patience: u32,
    /// Where to train: `cpu` or `cuda[:N]` (not recorded: a rerun may move).
    pub device: DeviceSpec,
}

impl Default for FinetuneSettings {
    fn default() -> Self {
        Self {
            regression: false,
            seeds: vec![0],
            pooling: Pooling::Cls,
            dropout: 0.1,
            preset: Preset::Tiny,
            max_tokens: 512,
            steps: 1000,
            batch_size: 32,
            lr: None,
            warmup: 50,
            weight_decay: 0.01,
            eval_every: 100,
            patience: 5,
            device: DeviceSpec::Cpu,
        }
    }
}

impl FinetuneSettings {
    /// Checks every setting against its range (the command line's parsers do the same
    /// for flags; other callers, such as the Python package, come through here).
    pub fn check(&self) -> Result<(), String> {
        let count = |name: &str, value: u64| {
            if value == 0 || value > 1 << 30 {
                Err(format!("{name} must be 1 to {}, not {value}", 1u64 << 30))
            } else {
                Ok(())
            }
        };
        count("steps", self.steps)?;
        count("batch_size", self.batch_size as u64)?;
        count("eval_every", self.eval_every)?;
        if self.max_tokens < 3 || self.max_tokens > 1 << 20 {
            return Err(format!(
                "max_tokens must be 3 to {} ([CLS], [SEP] and a nucleotide), not {}",
                1 << 20,
                self.max_tokens
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout must be in [0, 1), not {}", self.dropout));
        }
        if let Some(lr) = self.lr {
            if !(lr.is_finite() && lr > 0.0) {
                return Err(format!("lr must be a finite number > 0, not {lr}"));
            }
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(format!(
                "weight_decay must be a finite number >= 0, not {}",
                self.weight_decay
            ));
        }
        Ok(())
    }

    /// What must not change between a folder's first run and a rerun that reuses its
    /// finished seeds and checkpoints.
    pub fn recorded(&self) -> serde_json::Value {
        serde_json::json!({
            "regression": self.regression,
            "pooling": format!("{:?}", self.pooling),
            "dropout": self.dropout,
            "preset": format!("{:?}", self.preset),
            "max_tokens": self.max_tokens,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "warmup": self.warmup,
            "weight_decay": self.weight_decay,
            "eval_every": self.eval_every,
            "patience": self.patience,
        })
    }
}
