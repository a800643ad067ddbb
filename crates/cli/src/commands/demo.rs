//! `dnalm demo`: the quick-start job. On the sample shipped in `data/sample` it
//! pretrains a tiny MxDNA (masked LM on 200 kb of human chr20, a few minutes on two
//! cores), then shows the tokenization the model learnt: the learnt tokens of a few
//! TATA promoters, the token-length distribution over the chr20 sample (text and SVG)
//! and an HTML page that colours the tokens. The run folder resumes like every training
//! run: after Ctrl-C, the same command goes on from the last checkpoint.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candle_core::Device;
use clap::Args;
use dnalm_jobs::mxdna::{train_mxdna, MxdnaSettings};
use dnalm_jobs::{GenomeWindows, TrainingSettings};
use dnalm_models::presets::MxdnaPreset;
use dnalm_mxdna::learnt_tokens::{length_counts, tokenize_windows, TokenizedWindow};
use dnalm_mxdna::pretrained::MxDnaLm;
use dnalm_run::RunDir;
use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_seq::SeqRecord;

use crate::commands::train::{conclude, TrainingBar};
use crate::interrupt::stop_flag;
use crate::learnt_report::{print_distribution, print_tokens, write_histogram, write_html};
use crate::progress;

/// Nucleotides per pretraining window (512 positions with [CLS] and [SEP]).
const WINDOW_NT: usize = 510;

/// Arguments of `dnalm demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder with the shipped sample (chr20_200kb.fa.gz, prom_core_tata/).
    #[arg(long, default_value = "data/sample")]
    sample: PathBuf,

    /// Where to write the run folder (mxdna/), the histogram and the HTML page.
    #[arg(long, default_value = "runs/demo")]
    out: PathBuf,

    /// Pretraining steps (16 windows of 510 nt each).
    #[arg(long, default_value_t = 400, value_parser = crate::flags::steps)]
    steps: u64,

    /// Promoters whose learnt tokens are printed.
    #[arg(long, default_value_t = 6)]
    show: usize,
}

/// Reads one file of the shipped sample.
pub fn read_sample(path: &Path) -> Result<Vec<SeqRecord>> {
    read_all(path, &SourceOptions::default())
        .with_context(|| format!("reading the sample {}", path.display()))
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<()> {
    let genome = read_sample(&args.sample.join("chr20_200kb.fa.gz"))?;
    let promoters = read_sample(&args.sample.join("prom_core_tata").join("test.csv.gz"))?;
    let mut out = std::io::stdout().lock();
    let genome_nt: usize = genome.iter().map(|r| r.len()).sum();
    writeln!(
        out,
        "== pretraining a tiny MxDNA: masked LM on {} ({genome_nt} nt of human chr20), \
         {} steps of 16 windows of {WINDOW_NT} nt",
        args.sample.join("chr20_200kb.fa.gz").display(),
        args.steps
    )?;
    out.flush()?;
    let run_dir = args.out.join("mxdna");
    let training = TrainingSettings {
        batch_size: 16,
        steps: args.steps,
        warmup: args.steps / 10,
        eval_every: 100,
        patience: 0,
        checkpoint_every: 50,
        out: run_dir.clone(),
        ..TrainingSettings::default()
    };
    let settings = MxdnaSettings {
        preset: MxdnaPreset::Tiny,
        config: None,
        windows: GenomeWindows {
            window_nt: WINDOW_NT,
            max_n_fraction: 0.0,
        },
    };
    let report = train_mxdna(
        &settings,
        &training,
        &genome,
        stop_flag(),
        &mut TrainingBar::default(),
    )?;
    conclude(report, "nt", training.per_step(WINDOW_NT))?;
    let losses: Vec<String> = RunDir::create(&run_dir)?
        .logged_metric("eval_loss")?
        .iter()
        .map(|(step, loss)| format!("step {step}: {loss:.3}"))
        .collect();
    writeln!(
        out,
        "held-out masked-LM loss (guessing is ln 4 = 1.386): {}",
        losses.join(", ")
    )?;

    let model = MxDnaLm::load(&run_dir, &Device::Cpu)?;
    let shown = windows_of(&model, &promoters[..args.show.min(promoters.len())])?;
    writeln!(
        out,
        "\n== learnt tokens of {} TATA promoters (GUE prom_core_tata test; units split by |, \
         nucleotides in no unit in lower case)",
        shown.len()
    )?;
    print_tokens(&mut out, &shown, false)?;

    let windows = windows_of(&model, &genome)?;
    let counts = length_counts(&model, &windows);
    writeln!(out, "\n== learnt token lengths over the chr20 sample")?;
    print_distribution(&mut out, &windows, &counts)?;
    let histogram = args.out.join("token_lengths.svg");
    write_histogram(&histogram, &counts)?;
    let page = args.out.join("tokens.html");
    write_html(&page, &shown, counts.len() - 1)?;
    writeln!(
        out,
        "\nwrote {} and {}; the model is in {} (try `dnalm tokens -m {} FILE`)",
        histogram.display(),
        page.display(),
        run_dir.display(),
        run_dir.display()
    )?;
    Ok(())
}

/// The records' learnt tokens in windows of [`WINDOW_NT`], with a progress bar.
fn windows_of(model: &MxDnaLm, records: &[SeqRecord]) -> Result<Vec<TokenizedWindow>> {
    let bar = progress::count_bar(0, "tokenizing");
    let windows = tokenize_windows(model, records, WINDOW_NT, 16, 0, &|n, total| {
        bar.set_length(total);
        bar.inc(n)
    })?;
    bar.finish_and_clear();
    Ok(windows)
}
