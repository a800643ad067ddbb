//! `dnalm`: DNA language models from the command line.

mod commands;
mod flags;
mod input;
mod interrupt;
mod learnt_report;
mod model_args;
mod progress;

use clap::{Parser, Subcommand};

/// mimalloc, configured by [`dnalm_nn::allocator::configure`]: candle's large
/// temporaries cost much system time in the default allocator (DESIGN.md).
#[global_allocator]
static ALLOCATOR: dnalm_nn::allocator::Allocator = dnalm_nn::allocator::Allocator;

/// DNA language models: sequence data, tokenizers, n-gram and neural language models,
/// evaluation.
#[derive(Debug, Parser)]
#[command(name = "dnalm", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The quick-start job: pretrain a tiny MxDNA on the sample shipped in data/sample
    /// and show the tokenization it learnt.
    Demo(commands::demo::DemoArgs),
    /// Fixed tokenizers, n-gram and LSTM language models and mutation detection on the
    /// sample shipped in data/sample.
    Tour(commands::tour::TourArgs),
    /// Inspect sequence data.
    #[command(subcommand)]
    Data(commands::data::DataCommand),
    /// Train, apply and measure tokenizers.
    #[command(subcommand)]
    Tokenizer(commands::tokenizer::TokenizerCommand),
    /// N-gram language models (orders 1..=16; MLE, add-k, Kneser-Ney).
    #[command(subcommand)]
    Ngram(commands::ngram::NgramCommand),
    /// Train neural language models.
    #[command(subcommand)]
    Train(commands::train::TrainCommand),
    /// Sample sequences from any language model (FASTA on standard output).
    Generate(commands::generate::GenerateArgs),
    /// Evaluations shared by every language model.
    #[command(subcommand)]
    Eval(commands::eval::EvalCommand),
    /// Fine-tune a model on a labelled task (classification or regression) over
    /// several seeds; early stopping on dev, one test evaluation.
    Finetune(commands::finetune::FinetuneArgs),
    /// Fine-tune every model on every task; results.json and a markdown table.
    Bench(commands::bench::BenchArgs),
    /// Apply a fine-tuned model to new sequences (CSV of labels and probabilities).
    Predict(commands::predict::PredictArgs),
    /// A score for every nucleotide of whole chromosomes or BED regions (bedGraph, and
    /// per-window totals as BED), streamed in overlapping windows; resumable.
    Score(commands::score::ScoreArgs),
    /// Per-sequence embeddings from an encoder (safetensors or .npy).
    Embed(commands::embed::EmbedArgs),
    /// What an MxDNA model learnt: its tokens per sequence, their length
    /// distribution (text and SVG) and an HTML page.
    Tokens(commands::tokens::TokensArgs),
    /// Write an MxDNA model as an authors' checkpoint folder (config.json +
    /// model.safetensors) that the reference PyTorch code loads.
    Export(commands::export::ExportArgs),
}

fn main() -> std::process::ExitCode {
    dnalm_nn::allocator::configure();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(args),
        Command::Tour(args) => commands::tour::run(args),
        Command::Data(command) => command.run(),
        Command::Tokenizer(command) => command.run(),
        Command::Ngram(command) => command.run(),
        Command::Train(command) => command.run(),
        Command::Generate(args) => args.run(),
        Command::Eval(command) => command.run(),
        Command::Finetune(args) => args.run(),
        Command::Bench(args) => args.run(),
        Command::Predict(args) => args.run(),
        Command::Score(args) => args.run(),
        Command::Embed(args) => args.run(),
        Command::Tokens(args) => args.run(),
        Command::Export(args) => args.run(),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) if err.is::<interrupt::Interrupted>() => {
            eprintln!("{err}");
            std::process::ExitCode::from(interrupt::EXIT_INTERRUPTED)
        }
        Err(err) => {
            eprintln!("error: {}", message_of(&err));
            std::process::ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each cause only once (the libraries' messages
/// often include their source already).
fn message_of(err: &anyhow::Error) -> String {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}
