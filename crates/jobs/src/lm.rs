//! An autoregressive language model (LSTM or transformer decoder) over any tokenizer,
//! trained on the token stream of sequences (`[CLS] tokens [SEP]` each, concatenated
//! and cut into windows), a tenth of the sequences held out for the perplexity.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use dnalm_eval::perplexity::perplexity;
use dnalm_lm::SequenceModel;
use dnalm_models::presets::{lm_config, lm_config_from_file, Network, Preset};
use dnalm_nn::token_lm::{NetworkConfig, TokenLm};
use dnalm_seq::split::hold_out;
use dnalm_seq::SeqRecord;
use dnalm_train::windows::WindowDataset;
use serde::{Deserialize, Serialize};

use crate::error::{JobsError, Result};
use crate::progress::{TrainReport, TrainingProgress};
use crate::run_loop::{open_run, resuming, run_loop, Job};
use crate::settings::{count, TrainingSettings};

/// What language model to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LmSettings {
    /// Network family.
    pub network: Network,
    /// Size preset.
    pub preset: Preset,
    /// Sizes from a JSON or TOML file instead of the preset.
    pub config: Option<PathBuf>,
    /// `nucleotide`, or a tokenizer.json.
    pub tokenizer: String,
    /// Tokens per training window.
    pub window: usize,
}

impl Default for LmSettings {
    fn default() -> Self {
        Self {
            network: Network::Lstm,
            preset: Preset::Small,
            config: None,
            tokenizer: "nucleotide".into(),
            window: 256,
        }
    }
}

/// Trains (or resumes) a language model on `records` in `training.out`.
pub fn train_lm(
    lm: &LmSettings,
    training: &TrainingSettings,
    records: &[SeqRecord],
    stop: &AtomicBool,
    progress: &mut dyn TrainingProgress,
) -> Result<TrainReport> {
    training.check()?;
    count("window", lm.window as u64)?;
    let device = training.device.open()?;
    let resumed = resuming(training);
    let model = if resumed {
        let model = TokenLm::load(&training.out, &device)?;
        let found = match model.config() {
            NetworkConfig::Lstm(_) => Network::Lstm,
            NetworkConfig::Gpt(_) => Network::Gpt,
        };
        if found != lm.network {
            return Err(JobsError::Settings(format!(
                "{} holds a {} run, not a {} one: resume it as it was started, or give \
                 another folder",
                training.out.display(),
                network_name(found),
                network_name(lm.network)
            )));
        }
        model
    } else {
        let tokenizer = dnalm_tokenize::by_name(&lm.tokenizer)?;
        let vocab = tokenizer.vocab_size();
        let config = match &lm.config {
            Some(path) => lm_config_from_file(lm.network, path, vocab)?,
            None => lm_config(lm.network, lm.preset, vocab),
        };
        TokenLm::new(config, tokenizer, training.seed, &device)?
    };
    let (fit, held_out) = hold_out(records, 0.1, training.seed.wrapping_add(1));
    let data = WindowDataset::new(model.token_stream(fit.iter().copied()), lm.window + 1);
    if data.is_empty() {
        return Err(JobsError::Settings(format!(
            "no training window of {} tokens in {} training sequences",
            lm.window + 1,
            fit.len()
        )));
    }
    let run = open_run(training, resumed, progress, |run| Ok(model.save_run(run)?))?;
    progress.message(&format!(
        "{}: {} training windows of {} tokens, {} held-out sequences",
        model.describe(),
        data.len(),
        lm.window + 1,
        held_out.len()
    ));
    let evaluate = || -> dnalm_train::Result<f64> {
        let total = perplexity(&model, &held_out, &|_| {})
            .map_err(|err| dnalm_train::TrainError::Evaluation(err.to_string()))?;
        Ok(total.nats_per_event())
    };
    let job = Job {
        device: &device,
        model: &model,
        data: &data,
        run: &run,
        evaluate: &evaluate,
        eval_name: "held-out perplexity",
        shown: f64::exp,
        per_step: training.per_step(lm.window),
        description: model.describe(),
    };
    run_loop(job, training, stop, progress)
}

/// A network family as the `--model` flag names it.
fn network_name(network: Network) -> &'static str {
    match network {
        Network::Lstm => "lstm",
        Network::Gpt => "gpt",
    }
}
