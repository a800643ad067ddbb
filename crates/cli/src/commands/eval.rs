//! `dnalm eval ...`: evaluations shared by every language model.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::{Args, Subcommand};
use dnalm_eval::mutations::{detect_mutations, MutationResult};
use dnalm_eval::perplexity::perplexity;
use dnalm_eval::summary::MeanSd;
use dnalm_lm::{ScoreKind, SequenceModel};
use dnalm_seq::SeqRecord;

use crate::input::RecordArgs;
use crate::model_args::ModelArgs;
use crate::progress;

/// Evaluation subcommands.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Perplexity and bits per nucleotide of any model on sequence files.
    Perplexity(PerplexityArgs),
    /// Can the model tell real sequences from mutated copies (arXiv 2307.10634)?
    Mutations(MutationArgs),
    /// Zero-shot variant-effect scores for a table of ref/alt sequences, with AUROC
    /// when labelled.
    Variants(crate::commands::variants::VariantArgs),
}

/// Arguments of `dnalm eval perplexity`.
#[derive(Debug, Args)]
pub struct PerplexityArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// Print JSON.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    records: RecordArgs,
}

/// Arguments of `dnalm eval mutations`.
#[derive(Debug, Args)]
pub struct MutationArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// Values of K: each mutated copy gets 1..=K edits.
    #[arg(long, value_delimiter = ',', default_value = "1,5,10")]
    max_edits: Vec<usize>,

    /// Real/mutated pairs per K and seed.
    #[arg(long, default_value_t = 1000)]
    pairs: usize,

    /// Seeds; results are given per seed and as mean ± sd.
    #[arg(long, value_delimiter = ',', default_value = "0,1,2")]
    seeds: Vec<u64>,

    /// Also write every result as JSON to this file.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,

    #[command(flatten)]
    records: RecordArgs,
}

impl EvalCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<()> {
        match self {
            EvalCommand::Perplexity(args) => args.run(),
            EvalCommand::Mutations(args) => mutations(args),
            EvalCommand::Variants(args) => args.run(),
        }
    }
}

impl PerplexityArgs {
    /// Scores the records with the model and prints perplexity, bits per nucleotide
    /// and speed.
    pub fn run(&self) -> Result<()> {
        let model = self.model.open()?;
        let scorer = model.sequence_model("dnalm eval perplexity")?;
        report_perplexity(scorer, &self.records.read()?, self.json)
    }
}

/// Scores records with a model and prints perplexity, bits per nucleotide and speed.
fn report_perplexity(model: &dyn SequenceModel, records: &[SeqRecord], json: bool) -> Result<()> {
    let sequences: Vec<&[u8]> = records.iter().map(|r| r.seq.as_slice()).collect();
    let bar = progress::count_bar(sequences.len() as u64, "scoring");
    let start = Instant::now();
    let total = perplexity(model, &sequences, &|n| bar.inc(n))?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    if json {
        let json = serde_json::json!({
            "model": model.describe(),
            "score_kind": model.score_kind(),
            "sequences": total.sequences,
            "events": total.events,
            "log_prob": total.log_prob,
            "perplexity": total.perplexity(),
            "bits_per_nucleotide": total.bits_per_event(),
            "seconds": seconds,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
    } else {
        writeln!(out, "model                {}", model.describe())?;
        writeln!(out, "sequences            {}", total.sequences)?;
        let (events, measure) = match model.score_kind() {
            ScoreKind::Exact => ("events (nt + ends)  ", "perplexity          "),
            ScoreKind::PseudoLikelihood => ("events (nt)         ", "pseudo-perplexity   "),
        };
        writeln!(out, "{events} {}", total.events)?;
        writeln!(out, "{measure} {:.4}", total.perplexity())?;
        writeln!(out, "bits per nucleotide  {:.4}", total.bits_per_event())?;
        writeln!(
            out,
            "scored at            {:.3} M nt/s",
            total.events as f64 / seconds / 1e6
        )?;
    }
    Ok(())
}

fn mutations(args: MutationArgs) -> Result<()> {
    let loaded = args.model.open()?;
    let model = loaded.sequence_model("dnalm eval mutations")?;
    let records = args.records.read()?;
    let sequences: Vec<&[u8]> = records.iter().map(|r| r.seq.as_slice()).collect();
    let runs = (args.max_edits.len() * args.seeds.len() * args.pairs) as u64;
    let bar = progress::count_bar(runs, "pairs scored");
    let mut results: Vec<MutationResult> = Vec::new();
    for &max_edits in &args.max_edits {
        for &seed in &args.seeds {
            results.push(detect_mutations(
                model,
                &sequences,
                max_edits,
                args.pairs,
                seed,
                &|n| bar.inc(n),
            )?);
        }
    }
    bar.finish_and_clear();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} on {} real sequences, {} pairs per K and seed, seeds {:?}",
        model.describe(),
        sequences.len(),
        args.pairs,
        args.seeds
    )?;
    writeln!(
        out,
        "{:>4}  {:<28} {:<28} ties (ppl/prob)",
        "K", "accuracy by perplexity", "accuracy by probability"
    )?;
    for &max_edits in &args.max_edits {
        let rows: Vec<&MutationResult> = results
            .iter()
            .filter(|r| r.max_edits == max_edits)
            .collect();
        let by_ppl = MeanSd::of(
            &rows
                .iter()
                .map(|r| r.accuracy_by_perplexity)
                .collect::<Vec<_>>(),
        );
        let by_prob = MeanSd::of(
            &rows
                .iter()
                .map(|r| r.accuracy_by_probability)
                .collect::<Vec<_>>(),
        );
        let ties: (usize, usize) = rows.iter().fold((0, 0), |acc, r| {
            (acc.0 + r.ties_by_perplexity, acc.1 + r.ties_by_probability)
        });
        writeln!(
            out,
            "{max_edits:>4}  {:<28} {:<28} {}/{}",
            by_ppl.to_string(),
            by_prob.to_string(),
            ties.0,
            ties.1
        )?;
    }
    if let Some(path) = &args.json {
        let json = serde_json::json!({"model": model.describe(), "sequences": sequences.len(), "results": results});
        let text = serde_json::to_string_pretty(&json)?;
        dnalm_seq::atomic::write_atomic(path, |w| w.write_all(text.as_bytes()))?;
    }
    Ok(())
}
