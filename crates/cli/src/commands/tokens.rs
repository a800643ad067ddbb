//! `dnalm tokens`: what an MxDNA model (pretrained, or the encoder of a fine-tuned
//! one) learnt. Prints the learnt tokens of the first
//! sequences (units separated by `|`, nucleotides no unit covered in lower case), the
//! token-length distribution over all of them, writes it as an SVG bar chart, and an
//! HTML page that colours each token by its length over the sequence.
//!
//! Long records (a chromosome) are cut into windows of `--window-nt` end to end, each
//! tokenized as the model was trained; windows are tokenized in batches.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use dnalm_mxdna::learnt_tokens::{length_counts, tokenize_windows};

use crate::input::RecordArgs;
use crate::learnt_report::{print_distribution, print_tokens, write_histogram, write_html};
use crate::model_args::ModelArgs;
use crate::progress;

/// Arguments of `dnalm tokens`.
#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// Sequences printed (all are counted in the distribution).
    #[arg(long, default_value_t = 5)]
    show: usize,

    /// Also print each token's span (1-based, inclusive) and expert, as
    /// `START-END:EXPERT`, on a line under the sequence.
    #[arg(long)]
    spans: bool,

    /// Records are cut into windows of this many nucleotides.
    #[arg(long, default_value_t = 510, value_parser = crate::flags::count)]
    window_nt: usize,

    /// Windows per forward pass.
    #[arg(long, default_value_t = 16, value_parser = crate::flags::count)]
    batch_size: usize,

    /// Stop after this many windows (0: all).
    #[arg(long, default_value_t = 0)]
    max_windows: usize,

    /// Write the token-length histogram here (.svg).
    #[arg(long, value_name = "FILE")]
    histogram: Option<PathBuf>,

    /// Write the HTML page of the shown sequences here.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,

    #[command(flatten)]
    records: RecordArgs,
}

impl TokensArgs {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        if let Some(path) = &self.histogram {
            if path.extension().is_none_or(|e| e != "svg") {
                bail!("{}: the histogram is written as SVG (.svg)", path.display());
            }
        }
        let loaded = self.model.open()?;
        let model = loaded.learnt_tokenizer("dnalm tokens")?;
        let records = self.records.read()?;
        let bar = progress::count_bar(0, "tokenizing");
        let windows = tokenize_windows(
            model,
            &records,
            self.window_nt,
            self.batch_size,
            self.max_windows,
            &|n, total| {
                bar.set_length(total);
                bar.inc(n)
            },
        )?;
        bar.finish_and_clear();
        let counts = length_counts(model, &windows);
        let mut out = std::io::stdout().lock();
        print_tokens(
            &mut out,
            &windows[..self.show.min(windows.len())],
            self.spans,
        )?;
        print_distribution(&mut out, &windows, &counts)?;
        if let Some(path) = &self.histogram {
            write_histogram(path, &counts)?;
            eprintln!("wrote {}", path.display());
        }
        if let Some(path) = &self.html {
            write_html(
                path,
                &windows[..self.show.min(windows.len())],
                counts.len() - 1,
            )?;
            eprintln!("wrote {}", path.display());
        }
        Ok(())
    }
}
