//! `dnalm train lm`: an autoregressive language model (LSTM or transformer decoder)
//! over any tokenizer.

use std::path::PathBuf;

use anyhow::Result;
use candle_core::Device;
use clap::Args;
use dnalm_eval::perplexity::perplexity;
use dnalm_lm::SequenceModel;
use dnalm_models::presets::{lm_config, lm_config_from_file, Network, Preset};
use dnalm_nn::token_lm::TokenLm;
use dnalm_run::RunDir;
use dnalm_seq::split::hold_out;
use dnalm_train::windows::WindowDataset;

use super::{run_loop, TrainingArgs};
use crate::input::RecordArgs;

/// Arguments of `dnalm train lm`.
#[derive(Debug, Args)]
pub struct LmArgs {
    /// Network family.
    #[arg(long, value_enum, default_value_t = Network::Lstm)]
    model: Network,

    /// Size preset.
    #[arg(long, value_enum, default_value_t = Preset::Small)]
    preset: Preset,

    /// Network sizes from a file instead of the preset: JSON or TOML (by extension)
    /// with the fields of the chosen model, e.g. for --model gpt `d_model = 192`,
    /// `num_layers = 6`, `num_heads = 6`, `ffn_dim = 768`, `rope_theta = 10000.0`,
    /// `norm_eps = 1e-5`; for --model lstm `embed_dim`, `hidden_size`, `num_layers`.
    /// The vocabulary size always comes from the tokenizer.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Tokenizer: `nucleotide`, or a tokenizer.json from `dnalm tokenizer train`.
    #[arg(long, default_value = "nucleotide")]
    tokenizer: String,

    /// Tokens per training window (the model sees windows of this length).
    #[arg(long, default_value_t = 256)]
    window: usize,

    #[command(flatten)]
    training: TrainingArgs,

    #[command(flatten)]
    records: RecordArgs,
}

impl LmArgs {
    /// Trains (or resumes) the run.
    pub fn run(self) -> Result<()> {
        let device = Device::Cpu;
        let training = &self.training;
        let run = RunDir::create(&training.out)?;
        let model = if training.out.join("config.json").is_file() {
            let model = TokenLm::load(&training.out, &device)?;
            eprintln!(
                "resuming {} in {}",
                model.describe(),
                training.out.display()
            );
            model
        } else {
            let tokenizer = dnalm_tokenize::by_name(&self.tokenizer)?;
            let vocab = tokenizer.vocab_size();
            let config = match &self.config {
                Some(path) => lm_config_from_file(self.model, path, vocab)?,
                None => lm_config(self.model, self.preset, vocab),
            };
            let model = TokenLm::new(config, tokenizer, training.seed, &device)?;
            model.save_run(&run)?;
            model
        };
        let records = self.records.read()?;
        let (fit, held_out) = hold_out(&records, 0.1, training.seed.wrapping_add(1));
        let data = WindowDataset::new(model.token_stream(fit.iter().copied()), self.window + 1);
        eprintln!(
            "{}: {} training windows of {} tokens, {} held-out sequences",
            model.describe(),
            data.len(),
            self.window + 1,
            held_out.len()
        );
        let evaluate = || -> dnalm_train::Result<f64> {
            let total = perplexity(&model, &held_out, &|_| {})
                .map_err(|err| dnalm_train::TrainError::Evaluation(err.to_string()))?;
            Ok(total.nats_per_event())
        };
        run_loop(
            &model,
            &data,
            training,
            &run,
            &evaluate,
            "held-out perplexity",
            f64::exp,
        )
    }
}
