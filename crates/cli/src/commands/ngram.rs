//! `dnalm ngram ...`: n-gram language models.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::{Args, Subcommand};
use dnalm_lm::SequenceModel;
use dnalm_ngram::{NgramModel, Smoothing};
use dnalm_seq::split::hold_out;

use crate::input::RecordArgs;
use crate::progress;

/// Share of the training data held out to tune discounts.
const HELD_OUT_FRACTION: f64 = 0.1;
/// Seed of the held-out choice (distinct from the train/test split's default seed 0).
const HELD_OUT_SEED: u64 = 1;

/// N-gram subcommands.
#[derive(Debug, Subcommand)]
pub enum NgramCommand {
    /// Count n-grams in sequence files and save the model.
    Train(TrainArgs),
    /// Perplexity and bits per nucleotide of a model on sequence files.
    Eval(crate::commands::eval::PerplexityArgs),
    /// Sample new sequences from a model (FASTA on standard output).
    Generate(crate::commands::generate::GenerateArgs),
    /// Export a Kneser-Ney model as an ARPA file (KenLM, SRILM).
    Arpa(ArpaArgs),
}

/// Arguments of `dnalm ngram train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Order n (1..=16): each nucleotide is predicted from the n - 1 before it.
    #[arg(long, default_value_t = 8)]
    order: usize,

    /// Smoothing stored as the model's default: mle, laplace, add-K (e.g. add-0.5) or
    /// kn (interpolated modified Kneser-Ney). The counts serve all of them; `eval` can
    /// override it.
    #[arg(long, default_value = "kn")]
    smoothing: Smoothing,

    /// Kneser-Ney discounts: `tune` them on a held-out tenth of the training data
    /// (then count all of it), or `estimate` them in closed form (Chen & Goodman).
    /// [default: tune with --smoothing kn, estimate otherwise]
    #[arg(long, value_enum)]
    discounts: Option<DiscountChoice>,

    /// Where to write the model.
    #[arg(long, short, value_name = "PATH")]
    out: PathBuf,

    #[command(flatten)]
    records: RecordArgs,
}

/// How the Kneser-Ney discounts are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiscountChoice {
    /// Maximise the likelihood of held-out training data.
    Tune,
    /// Chen & Goodman's closed-form estimate from count-of-counts.
    Estimate,
}

/// Arguments of `dnalm ngram arpa`.
#[derive(Debug, Args)]
pub struct ArpaArgs {
    /// The model file.
    #[arg(long, short, value_name = "PATH")]
    model: PathBuf,

    /// Where to write the ARPA file.
    #[arg(long, short, value_name = "PATH")]
    out: PathBuf,
}

impl NgramCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<()> {
        match self {
            NgramCommand::Train(args) => train(args),
            NgramCommand::Eval(args) => args.run(),
            NgramCommand::Generate(args) => args.run(),
            NgramCommand::Arpa(args) => {
                dnalm_ngram::format::load(&args.model)?
                    .with_smoothing(Smoothing::KneserNey)
                    .save_arpa(&args.out)?;
                eprintln!("wrote {}", args.out.display());
                Ok(())
            }
        }
    }
}

fn train(args: TrainArgs) -> Result<()> {
    let records = args.records.read()?;
    let sequences: Vec<&[u8]> = records.iter().map(|r| r.seq.as_slice()).collect();
    let nucleotides: usize = sequences.iter().map(|s| s.len()).sum();
    let tune = args
        .discounts
        .unwrap_or(if args.smoothing == Smoothing::KneserNey {
            DiscountChoice::Tune
        } else {
            DiscountChoice::Estimate
        })
        == DiscountChoice::Tune;
    let spinner = progress::spinner(&format!(
        "counting {}-grams in {nucleotides} nt",
        args.order
    ));
    let start = Instant::now();
    let model = if tune {
        let (fit, held_out) = hold_out(&records, HELD_OUT_FRACTION, HELD_OUT_SEED);
        spinner.set_message("tuning Kneser-Ney discounts on held-out data");
        let (model, before, after) =
            NgramModel::train_tuned(&fit, &held_out, args.order, args.smoothing)?;
        eprintln!("held-out perplexity (Kneser-Ney): {before:.4} with estimated discounts, {after:.4} tuned");
        model
    } else {
        NgramModel::train(&sequences, args.order, args.smoothing)?
    };
    spinner.finish_and_clear();
    dnalm_ngram::format::save(&model, &args.out)?;
    let contexts: usize = model
        .counts()
        .orders
        .iter()
        .map(|order| order.plain.nonzero().count() + order.anchored.len())
        .sum();
    eprintln!(
        "{}: {} sequences, {nucleotides} nt, {contexts} contexts, counted in {:.2} s -> {}",
        model.describe(),
        records.len(),
        start.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}
