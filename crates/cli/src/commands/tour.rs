//! `dnalm tour`: the fixed tokenizations and the generative language models on the
//! sample shipped in `data/sample`. It reads the sample, builds every kind of fixed
//! tokenizer and compares how they cut real DNA, then trains n-gram models and a tiny
//! LSTM on human genes and runs the mutation-detection task with them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::commands::demo::read_sample;
use crate::progress;
use anyhow::{Context, Result};
use candle_core::Device;
use clap::Args;
use dnalm_eval::mutations::detect_mutations;
use dnalm_eval::perplexity::perplexity;
use dnalm_lm::SequenceModel;
use dnalm_ngram::{NgramModel, Smoothing};
use dnalm_nn::lstm::LstmConfig;
use dnalm_nn::token_lm::{NetworkConfig, TokenLm};
use dnalm_run::{RunDir, TrainerState};
use dnalm_seq::split::{hold_out, Split, SplitFractions};
use dnalm_seq::stats::StatsAccumulator;
use dnalm_seq::SeqRecord;
use dnalm_tokenize::{
    BpeTokenizer, BpeTrainingConfig, KmerTokenizer, NucleotideTokenizer, TokenStats, Tokenizer,
};
use dnalm_train::optimizer::AdamWConfig;
use dnalm_train::trainer::{self, Hooks, TrainConfig};
use dnalm_train::windows::WindowDataset;

/// Arguments of `dnalm tour`.
#[derive(Debug, Args)]
pub struct TourArgs {
    /// Folder with the shipped sample (chr20_200kb.fa.gz, prom_core_tata/).
    #[arg(long, default_value = "data/sample")]
    sample: PathBuf,

    /// Where to write the tokenizers.
    #[arg(long, default_value = "runs/tour")]
    out: PathBuf,

    /// BPE vocabulary size.
    #[arg(long, default_value_t = 512)]
    vocab_size: usize,
}

/// Runs the tour.
pub fn run(args: TourArgs) -> Result<()> {
    let genome = read_sample(&args.sample.join("chr20_200kb.fa.gz"))?;
    let promoters = read_sample(&args.sample.join("prom_core_tata").join("train.csv.gz"))?;
    let mut out = std::io::stdout().lock();

    writeln!(out, "== data: {}", args.sample.display())?;
    for (name, records) in [
        ("chr20_200kb.fa.gz", &genome),
        ("prom_core_tata/train.csv.gz", &promoters),
    ] {
        let mut accumulator = StatsAccumulator::default();
        records.iter().for_each(|record| accumulator.add(record));
        let stats = accumulator.finish();
        writeln!(
            out,
            "{name:<28} {:>4} records {:>8} nt   GC {:.3}   N {:.3}",
            stats.records, stats.nucleotides, stats.gc_fraction, stats.n_fraction
        )?;
    }

    writeln!(
        out,
        "\n== tokenizers (BPE learns {} tokens from the chr20 sample)",
        args.vocab_size
    )?;
    let config = BpeTrainingConfig {
        vocab_size: args.vocab_size,
        ..Default::default()
    };
    let bpe = BpeTokenizer::train(genome.iter().map(|r| r.seq.as_slice()), &config)?;
    let tokenizers: Vec<(&str, Box<dyn Tokenizer>)> = vec![
        ("nucleotide", Box::new(NucleotideTokenizer)),
        ("kmer6_overlapping", Box::new(KmerTokenizer::new(6, true)?)),
        ("kmer6_tiled", Box::new(KmerTokenizer::new(6, false)?)),
        ("bpe", Box::new(bpe)),
    ];
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    writeln!(
        out,
        "{:<26} {:>7} {:>16} {:>12}   tokenizer.json",
        "tokenizer", "vocab", "tokens per nt", "mean length"
    )?;
    for (name, tokenizer) in &tokenizers {
        let path = args.out.join(format!("{name}.tokenizer.json"));
        dnalm_tokenize::save(tokenizer.as_ref(), &path)?;
        let mut stats = TokenStats::default();
        for record in &promoters {
            stats.add(&tokenizer.encode(&record.seq), record.len());
        }
        writeln!(
            out,
            "{:<26} {:>7} {:>16.3} {:>9.2} nt   {}",
            tokenizer.describe(),
            tokenizer.vocab_size(),
            stats.tokens_per_nucleotide(),
            stats.mean_token_length(),
            path.display()
        )?;
    }

    let first = &promoters[0];
    writeln!(
        out,
        "\n== the first promoter ({}, label {}) as each tokenizer cuts it",
        first.id,
        first.label.as_deref().unwrap_or("-")
    )?;
    writeln!(out, "{}", String::from_utf8_lossy(&first.seq))?;
    for (_, tokenizer) in &tokenizers {
        let tokens: Vec<String> = tokenizer
            .encode(&first.seq)
            .ids
            .iter()
            .take(12)
            .filter_map(|&id| tokenizer.id_to_token(id))
            .collect();
        writeln!(out, "{:<26} {} ...", tokenizer.describe(), tokens.join(" "))?;
    }
    let genes = read_sample(&args.sample.join("genes_300.csv.gz"))?;
    let fractions = SplitFractions::new(0.0, 0.1)?;
    let (train, test): (Vec<SeqRecord>, Vec<SeqRecord>) = genes
        .into_iter()
        .partition(|gene| fractions.by_hash(gene.id.as_bytes(), 0) == Split::Train);
    let test: Vec<&[u8]> = test.iter().map(|r| r.seq.as_slice()).collect();
    ngram_tour(&train, &test, &mut out)?;
    lstm_tour(&train, &test, &args.out, &mut out)
}

/// Trains a tiny LSTM on the genes for a few seconds and evaluates it like the n-grams.
fn lstm_tour(
    train: &[SeqRecord],
    test: &[&[u8]],
    out_dir: &Path,
    out: &mut impl Write,
) -> Result<()> {
    let config = NetworkConfig::Lstm(LstmConfig {
        vocab_size: 9,
        embed_dim: 32,
        hidden_size: 64,
        num_layers: 1,
    });
    let model = TokenLm::new(config, Box::new(NucleotideTokenizer), 0, &Device::Cpu)?;
    let run_dir = out_dir.join("lstm");
    if run_dir.exists() {
        std::fs::remove_dir_all(&run_dir)
            .with_context(|| format!("removing the previous {}", run_dir.display()))?;
    }
    let run = RunDir::create(&run_dir)?;
    model.save_run(&run).map_err(anyhow::Error::msg)?;
    let (fit, held_out) = hold_out(train, 0.1, 1);
    let data = WindowDataset::new(model.token_stream(fit.iter().copied()), 129);
    let steps = 150;
    let config = TrainConfig {
        steps,
        batch_size: 16,
        accumulation: 1,
        peak_lr: 5e-3,
        warmup_steps: 10,
        min_lr_ratio: 0.1,
        adamw: AdamWConfig::default(),
        clip_norm: 1.0,
        eval_every: 50,
        patience: 0,
        checkpoint_every: 0,
        seed: 0,
    };
    writeln!(
        out,
        "\n== a tiny LSTM ({}), {steps} steps on the same training genes",
        model.describe()
    )?;
    let started = std::time::Instant::now();
    let bar = progress::count_bar(steps, "training");
    let evaluate = || -> dnalm_train::Result<f64> {
        let total = perplexity(&model, &held_out, &|_| {})
            .map_err(|err| dnalm_train::TrainError::Evaluation(err.to_string()))?;
        Ok(total.nats_per_event())
    };
    let mut show = |state: &TrainerState, _| bar.set_position(state.step);
    let never = AtomicBool::new(false);
    let hooks = Hooks {
        evaluate: &evaluate,
        stop: &never,
        on_step: &mut show,
    };
    trainer::train(&model, &data, &config, &run, &Device::Cpu, hooks)?;
    bar.finish_and_clear();
    let test_ppl = perplexity(&model, test, &|_| {})?.perplexity();
    writeln!(
        out,
        "trained in {:.1} s; test perplexity {test_ppl:.4} (run folder {})",
        started.elapsed().as_secs_f64(),
        run_dir.display()
    )?;
    print_mutations(&model, test, out)?;
    Ok(())
}

/// N-gram models on the genes: perplexity by smoothing, then mutation detection.
fn ngram_tour(train: &[SeqRecord], test: &[&[u8]], out: &mut impl Write) -> Result<()> {
    let (fit, held_out) = hold_out(train, 0.1, 1);
    writeln!(
        out,
        "\n== n-gram language models on human genes ({} train / {} test, split by gene-id hash)",
        train.len(),
        test.len()
    )?;
    writeln!(
        out,
        "{:>5} {:>9} {:>9} {:>14} {:>18}",
        "order", "MLE", "Laplace", "Kneser-Ney", "KN held-out"
    )?;
    let mut best: Option<(f64, NgramModel)> = None;
    for order in [2, 4, 6, 8] {
        let (kn, _, held_out_ppl) =
            NgramModel::train_tuned(&fit, &held_out, order, Smoothing::KneserNey)?;
        let ppl = |model: &NgramModel| -> Result<f64> {
            Ok(perplexity(model, test, &|_| {})?.perplexity())
        };
        let kn_ppl = ppl(&kn)?;
        let laplace = ppl(&kn.clone().with_smoothing(Smoothing::AddK { k: 1.0 }))?;
        let mle = ppl(&kn.clone().with_smoothing(Smoothing::Mle))?;
        writeln!(
            out,
            "{order:>5} {mle:>9.4} {laplace:>9.4} {kn_ppl:>14.4} {held_out_ppl:>18.4}"
        )?;
        if best
            .as_ref()
            .is_none_or(|(lowest, _)| held_out_ppl < *lowest)
        {
            best = Some((held_out_ppl, kn));
        }
    }
    let (_, model) = best.expect("at least one order");
    writeln!(
        out,
        "\nmutation detection with the {} (lowest held-out perplexity; 500 pairs per K, seed 0)",
        model.describe()
    )?;
    print_mutations(&model, test, out)?;
    Ok(())
}

/// Mutation detection at K = 1, 5, 10 (500 pairs, seed 0), one line each.
fn print_mutations(model: &dyn SequenceModel, test: &[&[u8]], out: &mut impl Write) -> Result<()> {
    for max_edits in [1, 5, 10] {
        let result = detect_mutations(model, test, max_edits, 500, 0, &|_| {})?;
        writeln!(
            out,
            "  K = {max_edits:>2}: real sequence preferred by perplexity {:.3}, by probability {:.3}",
            result.accuracy_by_perplexity, result.accuracy_by_probability
        )?;
    }
    Ok(())
}
