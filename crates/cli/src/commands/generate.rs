//! `dnalm generate`: sample sequences from any language model (FASTA on standard output).

use std::io::Write;

use anyhow::{Context, Result};
use clap::Args;
use dnalm_ngram::NgramModel;

use crate::model_args::ModelArgs;

/// Arguments of `dnalm generate` (and `dnalm ngram generate`).
#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// Number of sequences.
    #[arg(long, default_value_t = 5)]
    count: usize,

    /// Stop a sequence after this many generated nucleotides if the model has not
    /// ended it.
    #[arg(long, default_value_t = 1000)]
    max_len: usize,

    /// Sampling temperature (> 0; below 1 is more conservative).
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,

    /// Random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// Start every sequence with these nucleotides.
    #[arg(long, default_value = "")]
    prompt: String,
}

impl GenerateArgs {
    /// Samples the sequences and prints them as FASTA, each with its perplexity under
    /// the model.
    pub fn run(&self) -> Result<()> {
        NgramModel::check_temperature(self.temperature)?;
        let loaded = self.model.open()?;
        let (model, scorer) = loaded.generator("dnalm generate")?;
        let prompt = dnalm_seq::alphabet::normalize(self.prompt.as_bytes()).context("--prompt")?;
        let mut rng = dnalm_seq::seeded_rng(self.seed);
        let mut out = std::io::stdout().lock();
        for index in 1..=self.count {
            let seq = model.generate(&prompt, self.max_len, self.temperature, &mut rng);
            let score = scorer.score(&seq)?;
            writeln!(
                out,
                ">generated_{index} model=\"{}\" seed={} temperature={} perplexity={:.3}",
                scorer.describe(),
                self.seed,
                self.temperature,
                score.perplexity()
            )?;
            for line in seq.chunks(60) {
                out.write_all(line)?;
                writeln!(out)?;
            }
        }
        Ok(())
    }
}
