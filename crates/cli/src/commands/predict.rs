//! `dnalm predict`: apply a fine-tuned model (a `dnalm finetune` seed folder) to new
//! sequences: one CSV row per record with the predicted label and each class's
//! probability (or the predicted value), written whole or not at all.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use dnalm_nn::supervised::Objective;

use crate::input::RecordArgs;
use crate::model_args::ModelArgs;
use crate::progress;

/// Arguments of `dnalm predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// Write the predictions here (CSV) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Sequences per forward pass.
    #[arg(long, default_value_t = 64, value_parser = crate::flags::count)]
    batch_size: usize,

    /// Longest input in tokens, [CLS] and [SEP] included (longer ones are cut).
    #[arg(long, default_value_t = 512, value_parser = crate::flags::token_width)]
    max_tokens: usize,

    #[command(flatten)]
    records: RecordArgs,
}

impl PredictArgs {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let loaded = self.model.open()?;
        let model = loaded.predictor("dnalm predict")?;
        let records = self.records.read()?;
        let bar = progress::count_bar(records.len() as u64, "predicting");
        let mut predictions = Vec::with_capacity(records.len());
        for chunk in records.chunks(self.batch_size.max(1)) {
            let sequences: Vec<&[u8]> = chunk.iter().map(|r| &r.seq[..]).collect();
            let rows = model.input_rows(&sequences, self.max_tokens);
            predictions.extend(model.predict(&rows, self.batch_size)?);
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        let mut text = String::new();
        match model.objective() {
            Objective::Classification { labels } => {
                let columns: Vec<String> = labels.iter().map(|l| format!("p_{l}")).collect();
                text.push_str(&format!("id,predicted,{}\n", columns.join(",")));
                for (record, row) in records.iter().zip(&predictions) {
                    let best = (0..row.len())
                        .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                        .unwrap_or(0);
                    let probabilities: Vec<String> =
                        row.iter().map(|p| format!("{p:.6}")).collect();
                    text.push_str(&format!(
                        "{},{},{}\n",
                        record.id,
                        labels[best],
                        probabilities.join(",")
                    ));
                }
            }
            Objective::Regression => {
                text.push_str("id,predicted\n");
                for (record, row) in records.iter().zip(&predictions) {
                    text.push_str(&format!("{},{}\n", record.id, row[0]));
                }
            }
        }
        match &self.out {
            Some(path) => {
                dnalm_seq::atomic::write_atomic(path, |file| file.write_all(text.as_bytes()))
                    .with_context(|| format!("cannot write {}", path.display()))?
            }
            None => std::io::stdout().lock().write_all(text.as_bytes())?,
        }
        eprintln!("{}: {} predictions", model.describe(), predictions.len());
        Ok(())
    }
}
