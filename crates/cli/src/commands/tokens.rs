//! `dnalm tokens`: what an MxDNA model learnt. Prints the learnt tokens of the first
//! sequences (units separated by `|`, nucleotides no unit covered in lower case), the
//! token-length distribution over all of them, writes it as an SVG bar chart, and an
//! HTML page that colours each token by its length over the sequence.
//!
//! Long records (a chromosome) are cut into windows of `--window-nt` end to end, each
//! tokenized as the model was trained; windows are tokenized in batches.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::Device;
use clap::Args;
use dnalm_mxdna::pretrained::{LearntTokens, MxDnaLm};
use dnalm_seq::SeqRecord;
use plotters::prelude::*;

use crate::input::RecordArgs;
use crate::progress;

/// Arguments of `dnalm tokens`.
#[derive(Debug, Args)]
pub struct TokensArgs {
    /// A `dnalm train mxdna` run folder.
    #[arg(long, short, value_name = "DIR")]
    model: PathBuf,

    /// Sequences printed (all are counted in the distribution).
    #[arg(long, default_value_t = 5)]
    show: usize,

    /// Also print each token's span (1-based, inclusive) and expert, as
    /// `START-END:EXPERT`, on a line under the sequence.
    #[arg(long)]
    spans: bool,

    /// Records are cut into windows of this many nucleotides.
    #[arg(long, default_value_t = 510)]
    window_nt: usize,

    /// Windows per forward pass.
    #[arg(long, default_value_t = 16)]
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

/// One tokenized window.
pub struct Window {
    /// The record id, with the window's 1-based span when the record was cut.
    pub name: String,
    /// Its nucleotides.
    pub sequence: Vec<u8>,
    /// What the model made of them.
    pub learnt: LearntTokens,
}

impl TokensArgs {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        if let Some(path) = &self.histogram {
            if path.extension().is_none_or(|e| e != "svg") {
                bail!("{}: the histogram is written as SVG (.svg)", path.display());
            }
        }
        let model = MxDnaLm::load(&self.model, &Device::Cpu).map_err(anyhow::Error::msg)?;
        let records = self.records.read()?;
        let windows = learnt_windows(
            &model,
            &records,
            self.window_nt,
            self.batch_size,
            self.max_windows,
        )?;
        let counts = length_counts(&model, &windows);
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

/// Cuts the records into windows of `window_nt` nucleotides end to end (the first
/// `max_windows`, 0 for all) and tokenizes them `batch_size` at a time, with a
/// progress bar.
pub fn learnt_windows(
    model: &MxDnaLm,
    records: &[SeqRecord],
    window_nt: usize,
    batch_size: usize,
    max_windows: usize,
) -> Result<Vec<Window>> {
    let mut pieces: Vec<(String, &[u8])> = Vec::new();
    for record in records {
        for (i, piece) in record.seq.chunks(window_nt.max(1)).enumerate() {
            let name = if record.seq.len() > window_nt {
                format!(
                    "{}:{}-{}",
                    record.id,
                    i * window_nt + 1,
                    i * window_nt + piece.len()
                )
            } else {
                record.id.clone()
            };
            pieces.push((name, piece));
        }
    }
    if max_windows > 0 {
        pieces.truncate(max_windows);
    }
    let bar = progress::count_bar(pieces.len() as u64, "tokenizing");
    let mut windows = Vec::with_capacity(pieces.len());
    for batch in pieces.chunks(batch_size.max(1)) {
        let sequences: Vec<&[u8]> = batch.iter().map(|(_, s)| *s).collect();
        let learnt = model.learnt_tokens(&sequences, window_nt + 2)?;
        for ((name, sequence), learnt) in batch.iter().zip(learnt) {
            windows.push(Window {
                name: name.clone(),
                sequence: sequence.to_vec(),
                learnt,
            });
        }
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    Ok(windows)
}

/// Learnt tokens by length over the windows (index = length in nucleotides, from 0 to
/// the model's longest unit).
pub fn length_counts(model: &MxDnaLm, windows: &[Window]) -> Vec<u64> {
    let longest = model
        .network()
        .config()
        .expert_kernel_sizes
        .iter()
        .copied()
        .max()
        .unwrap_or(1);
    let mut counts = vec![0u64; longest + 1];
    for window in windows {
        for token in &window.learnt.tokens {
            counts[token.end - token.start] += 1;
        }
    }
    counts
}

/// Prints each window's name, token count and its sequence cut into learnt tokens;
/// with `spans`, a line of `START-END:EXPERT` (1-based, inclusive) under it.
pub fn print_tokens(out: &mut impl std::io::Write, windows: &[Window], spans: bool) -> Result<()> {
    for window in windows {
        writeln!(
            out,
            ">{} ({} tokens)",
            window.name,
            window.learnt.tokens.len()
        )?;
        writeln!(out, "{}", spelled(window))?;
        if spans {
            let listed: Vec<String> = window
                .learnt
                .tokens
                .iter()
                .map(|t| format!("{}-{}:{}", t.start + 1, t.end, t.expert))
                .collect();
            writeln!(out, "{}", listed.join(" "))?;
        }
    }
    Ok(())
}

/// Prints the totals and the share of tokens of each length.
pub fn print_distribution(
    out: &mut impl std::io::Write,
    windows: &[Window],
    counts: &[u64],
) -> Result<()> {
    let nucleotides: usize = windows.iter().map(|w| w.sequence.len()).sum();
    let uncovered: usize = windows.iter().map(|w| w.learnt.uncovered).sum();
    let tokens: u64 = counts.iter().sum();
    writeln!(
        out,
        "{} windows, {nucleotides} nt, {tokens} learnt tokens (mean length {:.2} nt; {:.1}% of nucleotides in no unit)",
        windows.len(),
        (nucleotides - uncovered) as f64 / tokens.max(1) as f64,
        100.0 * uncovered as f64 / nucleotides.max(1) as f64
    )?;
    writeln!(out, "length  tokens  share")?;
    for (length, &count) in counts.iter().enumerate().skip(1) {
        writeln!(
            out,
            "{length:>6}  {count:>6}  {:.3}",
            count as f64 / tokens.max(1) as f64
        )?;
    }
    Ok(())
}

/// Writes the HTML page of the windows (atomically).
pub fn write_html(path: &Path, windows: &[Window], max_length: usize) -> Result<()> {
    let page = html_page(windows, max_length);
    dnalm_seq::atomic::write_atomic(path, |file| file.write_all(page.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The sequence with `|` between units (and runs of uncovered nucleotides, in lower
/// case).
fn spelled(window: &Window) -> String {
    let lower = |bytes: &[u8]| -> String {
        bytes
            .iter()
            .map(|b| b.to_ascii_lowercase() as char)
            .collect()
    };
    let mut segments = Vec::with_capacity(window.learnt.tokens.len() * 2 + 1);
    let mut at = 0;
    for token in &window.learnt.tokens {
        if at < token.start {
            segments.push(lower(&window.sequence[at..token.start]));
        }
        segments
            .push(String::from_utf8_lossy(&window.sequence[token.start..token.end]).into_owned());
        at = token.end;
    }
    if at < window.sequence.len() {
        segments.push(lower(&window.sequence[at..]));
    }
    segments.join("|")
}

/// The token-length distribution as an SVG bar chart.
pub fn write_histogram(path: &Path, counts: &[u64]) -> Result<()> {
    let temp = PathBuf::from(format!("{}.partial.svg", path.display()));
    {
        let root = SVGBackend::new(&temp, (720, 420)).into_drawing_area();
        let draw_error = |err: &dyn std::fmt::Display| anyhow::anyhow!("{}: {err}", path.display());
        root.fill(&WHITE).map_err(|e| draw_error(&e))?;
        let top = counts.iter().copied().max().unwrap_or(1).max(1);
        let longest = counts.len() as u32 - 1;
        let mut chart = ChartBuilder::on(&root)
            .caption("Learnt token lengths", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((1u32..longest).into_segmented(), 0u64..top + top / 10)
            .map_err(|e| draw_error(&e))?;
        chart
            .configure_mesh()
            .x_desc("token length (nt)")
            .y_desc("tokens")
            .disable_x_mesh()
            .draw()
            .map_err(|e| draw_error(&e))?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(RGBColor(46, 110, 168).filled())
                    .margin(4)
                    .data(
                        counts
                            .iter()
                            .enumerate()
                            .skip(1)
                            .map(|(l, &c)| (l as u32, c)),
                    ),
            )
            .map_err(|e| draw_error(&e))?;
        root.present().map_err(|e| draw_error(&e))?;
    }
    std::fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// A colour per token length, from a fixed qualitative palette.
fn colour(length: usize) -> &'static str {
    const PALETTE: [&str; 10] = [
        "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
        "#bcf60c", "#fabebe",
    ];
    PALETTE[(length.max(1) - 1) % PALETTE.len()]
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The shown windows with each learnt token coloured by its length.
fn html_page(windows: &[Window], max_length: usize) -> String {
    let mut page = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>MxDNA learnt tokens</title>\n\
         <style>body{font-family:sans-serif} .seq{font-family:monospace;line-height:1.9;word-break:break-all}\
         .t{border-radius:3px;margin-right:1px;padding:1px 0} .u{color:#999}</style></head><body>\n\
         <h1>Learnt tokens</h1>\n<p>Each box is one learnt token, coloured by its length; grey lower-case letters are in no unit.</p>\n<p>",
    );
    for length in 1..=max_length {
        let _ = write!(
            page,
            "<span class=\"t\" style=\"background:{}\">&nbsp;{length} nt&nbsp;</span> ",
            colour(length)
        );
    }
    page.push_str("</p>\n");
    for window in windows {
        let _ = write!(
            page,
            "<h3>{} ({} tokens)</h3>\n<div class=\"seq\">",
            escape(&window.name),
            window.learnt.tokens.len()
        );
        let mut at = 0;
        let lower = |bytes: &[u8]| -> String {
            bytes
                .iter()
                .map(|b| b.to_ascii_lowercase() as char)
                .collect()
        };
        for token in &window.learnt.tokens {
            if at < token.start {
                let _ = write!(
                    page,
                    "<span class=\"u\">{}</span>",
                    lower(&window.sequence[at..token.start])
                );
            }
            let length = token.end - token.start;
            let _ = write!(
                page,
                "<span class=\"t\" style=\"background:{}\" title=\"{}-{} ({length} nt, expert {})\">{}</span>",
                colour(length),
                token.start + 1,
                token.end,
                token.expert,
                String::from_utf8_lossy(&window.sequence[token.start..token.end])
            );
            at = token.end;
        }
        if at < window.sequence.len() {
            let _ = write!(
                page,
                "<span class=\"u\">{}</span>",
                lower(&window.sequence[at..])
            );
        }
        page.push_str("</div>\n");
    }
    page.push_str("</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use dnalm_mxdna::pretrained::LearntToken;

    use super::*;

    #[test]
    fn tokens_are_spelled_and_coloured() {
        let window = Window {
            name: "s<1>".into(),
            sequence: b"ACGTACG".to_vec(),
            learnt: LearntTokens {
                tokens: vec![
                    LearntToken {
                        start: 1,
                        end: 3,
                        expert: 1,
                    },
                    LearntToken {
                        start: 3,
                        end: 6,
                        expert: 2,
                    },
                ],
                uncovered: 2,
            },
        };
        assert_eq!(spelled(&window), "a|CG|TAC|g");
        let mut printed = Vec::new();
        print_tokens(&mut printed, std::slice::from_ref(&window), true).unwrap();
        assert_eq!(
            String::from_utf8(printed).unwrap(),
            ">s<1> (2 tokens)\na|CG|TAC|g\n2-3:1 4-6:2\n"
        );
        let page = html_page(&[window], 3);
        assert!(page.contains("s&lt;1&gt;"));
        assert!(
            page.contains("title=\"4-6 (3 nt, expert 2)\">TAC</span>"),
            "{page}"
        );
        assert!(page.contains("<span class=\"u\">a</span>"));
    }
}
