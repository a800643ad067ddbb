//! What fine-tuning measured, as written to `test_metrics.json` (per seed) and
//! `results.json` (over seeds).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

/// A mean and sample sd over seeds, as stored.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MeanSdRecord {
    /// Mean.
    pub mean: f64,
    /// Sample sd.
    pub sd: f64,
    /// Seeds.
    pub n: usize,
}
