//! `dnalm tokenizer ...`: build, apply and measure tokenizers.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use dnalm_tokenize::{
    BpeTokenizer, BpeTrainingConfig, KmerTokenizer, NucleotideTokenizer, TokenStats, Tokenizer,
};
use rayon::prelude::*;

use crate::input::{for_each_record, InputArgs};

/// Tokenizer subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenizerCommand {
    /// Build a tokenizer and write its tokenizer.json (BPE learns its merges from the
    /// given files; the fixed kinds need no data).
    Train(TrainArgs),
    /// Tokenize sequences and print the tokens of each record.
    Encode(EncodeArgs),
    /// Tokens per nucleotide and the token-length histogram over sequence files.
    Stats(StatsArgs),
}

/// Tokenizer families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// One token per nucleotide (A C G T; N is [UNK]).
    Nucleotide,
    /// k-mers: overlapping (DNABERT) by default, tiled with --non-overlapping
    /// (Nucleotide Transformer).
    Kmer,
    /// Byte-pair encoding learnt from the given files (DNABERT-2 style).
    Bpe,
}

/// Arguments of `dnalm tokenizer train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Tokenizer family.
    #[arg(long, value_enum)]
    kind: Kind,

    /// k for --kind kmer (1..=8).
    #[arg(long, default_value_t = 6)]
    k: usize,

    /// Tile the sequence with k-mers instead of one k-mer per position.
    #[arg(long)]
    non_overlapping: bool,

    /// BPE: vocabulary size, special tokens and A C G T N included.
    #[arg(long, default_value_t = 4096)]
    vocab_size: usize,

    /// BPE: pairs seen fewer times are never merged.
    #[arg(long, default_value_t = 2)]
    min_frequency: u64,

    /// BPE: training sequences are cut at N and into pieces of at most this length.
    #[arg(long, default_value_t = 1000)]
    max_piece_len: usize,

    /// Where to write tokenizer.json.
    #[arg(long, short, value_name = "PATH")]
    out: PathBuf,

    /// Training data for BPE.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    #[command(flatten)]
    input: InputArgs,
}

/// Output layouts of `dnalm tokenizer encode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncodeFormat {
    /// `id<TAB>token token ...`
    Tsv,
    /// One JSON object per record: id, ids, tokens, spans.
    Jsonl,
}

/// Arguments of `dnalm tokenizer encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// The tokenizer.json to use.
    #[arg(long, short, value_name = "PATH")]
    tokenizer: PathBuf,

    /// Output layout.
    #[arg(long, value_enum, default_value_t = EncodeFormat::Tsv)]
    format: EncodeFormat,

    /// Wrap each record in [CLS] ... [SEP].
    #[arg(long)]
    special: bool,

    /// Stop after this many records per file.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,

    /// Sequence files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    #[command(flatten)]
    input: InputArgs,
}

/// Arguments of `dnalm tokenizer stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The tokenizer.json to use.
    #[arg(long, short, value_name = "PATH")]
    tokenizer: PathBuf,

    /// Tokenize long records in consecutive chunks of this many nucleotides, as a
    /// model sees them in windows (0: whole records).
    #[arg(long, default_value_t = 1000)]
    chunk_len: usize,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,

    /// Sequence files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    #[command(flatten)]
    input: InputArgs,
}

impl TokenizerCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<()> {
        match self {
            TokenizerCommand::Train(args) => train(args),
            TokenizerCommand::Encode(args) => encode(args),
            TokenizerCommand::Stats(args) => stats(args),
        }
    }
}

fn train(args: TrainArgs) -> Result<()> {
    let tokenizer: Box<dyn Tokenizer> = match args.kind {
        Kind::Nucleotide => Box::new(NucleotideTokenizer),
        Kind::Kmer => Box::new(KmerTokenizer::new(args.k, !args.non_overlapping)?),
        Kind::Bpe => {
            if args.files.is_empty() {
                bail!("--kind bpe learns from data: give one or more sequence files");
            }
            let mut sequences = Vec::new();
            for_each_record(&args.files, &args.input, |_, record| {
                sequences.push(record.seq);
                Ok(true)
            })?;
            let config = BpeTrainingConfig {
                vocab_size: args.vocab_size,
                min_frequency: args.min_frequency,
                max_piece_len: args.max_piece_len,
            };
            let spinner = crate::progress::spinner("learning BPE merges");
            let bpe = BpeTokenizer::train(sequences.iter().map(Vec::as_slice), &config)?;
            spinner.finish_and_clear();
            Box::new(bpe)
        }
    };
    if !args.files.is_empty() && args.kind != Kind::Bpe {
        eprintln!(
            "note: {} needs no training data; the files were not read",
            tokenizer.describe()
        );
    }
    dnalm_tokenize::save(tokenizer.as_ref(), &args.out)?;
    eprintln!(
        "wrote {} ({}, vocabulary of {} tokens)",
        args.out.display(),
        tokenizer.describe(),
        tokenizer.vocab_size()
    );
    Ok(())
}

fn load(path: &Path) -> Result<Box<dyn Tokenizer>> {
    dnalm_tokenize::load(path).with_context(|| format!("cannot load tokenizer {}", path.display()))
}

fn encode(args: EncodeArgs) -> Result<()> {
    let tokenizer = load(&args.tokenizer)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut written = 0;
    let mut current: Option<PathBuf> = None;
    for_each_record(&args.files, &args.input, |path, record| {
        if current.as_deref() != Some(path) {
            current = Some(path.to_path_buf());
            written = 0;
        }
        if args.limit.is_some_and(|limit| written >= limit) {
            return Ok(false);
        }
        written += 1;
        let encoding = if args.special {
            tokenizer.encode_with_special(&record.seq)
        } else {
            tokenizer.encode(&record.seq)
        };
        let tokens: Vec<String> = encoding
            .ids
            .iter()
            .map(|&id| {
                tokenizer
                    .id_to_token(id)
                    .unwrap_or_else(|| format!("<{id}>"))
            })
            .collect();
        match args.format {
            EncodeFormat::Tsv => writeln!(out, "{}\t{}", record.id, tokens.join(" "))?,
            EncodeFormat::Jsonl => {
                let spans: Vec<[usize; 2]> =
                    encoding.spans.iter().map(|s| [s.start, s.end]).collect();
                let line = serde_json::json!({"id": record.id, "ids": encoding.ids, "tokens": tokens, "spans": spans});
                writeln!(out, "{line}")?;
            }
        }
        Ok(true)
    })?;
    out.flush()?;
    Ok(())
}

fn stats(args: StatsArgs) -> Result<()> {
    let tokenizer = load(&args.tokenizer)?;
    let mut per_file = Vec::new();
    for path in &args.files {
        let mut stats = TokenStats::default();
        for_each_record(std::slice::from_ref(path), &args.input, |_, record| {
            let chunk_len = if args.chunk_len == 0 {
                record.len().max(1)
            } else {
                args.chunk_len
            };
            let chunks = record
                .seq
                .par_chunks(chunk_len)
                .fold(TokenStats::default, |mut acc, chunk| {
                    acc.add(&tokenizer.encode(chunk), chunk.len());
                    acc
                })
                .reduce(TokenStats::default, |mut a, b| {
                    a.merge(&b);
                    a
                });
            stats.merge(&chunks);
            Ok(true)
        })?;
        per_file.push((path.display().to_string(), stats));
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let json: Vec<_> = per_file
            .iter()
            .map(|(file, stats)| {
                serde_json::json!({
                    "file": file,
                    "tokenizer": tokenizer.describe(),
                    "tokens_per_nucleotide": stats.tokens_per_nucleotide(),
                    "mean_token_length": stats.mean_token_length(),
                    "stats": stats,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
        return Ok(());
    }
    for (file, stats) in &per_file {
        writeln!(out, "{file} ({})", tokenizer.describe())?;
        writeln!(
            out,
            "  pieces tokenized      {} ({} nt)",
            stats.sequences, stats.nucleotides
        )?;
        writeln!(
            out,
            "  tokens                {} ({} [UNK])",
            stats.tokens, stats.unknown_tokens
        )?;
        writeln!(
            out,
            "  tokens per nucleotide {:.4}",
            stats.tokens_per_nucleotide()
        )?;
        writeln!(
            out,
            "  mean token length     {:.3} nt",
            stats.mean_token_length()
        )?;
        writeln!(out, "  token length histogram (nt: tokens)")?;
        let largest = stats.length_histogram.values().copied().max().unwrap_or(1);
        for (len, count) in &stats.length_histogram {
            let bar = "#".repeat(((40 * count).div_ceil(largest)) as usize);
            writeln!(out, "    {len:>3}: {count:>10} {bar}")?;
        }
    }
    Ok(())
}
