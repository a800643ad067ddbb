//! How the CLI shows learnt tokens (`dnalm tokens`, `dnalm demo`): each window cut
//! into its units as text, the length distribution as a table and as an SVG bar chart
//! (plotters), and an HTML page that colours each token by its length.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use dnalm_mxdna::learnt_tokens::TokenizedWindow;
use plotters::prelude::*;

/// Prints each window's name, token count and its sequence cut into learnt tokens;
/// with `spans`, a line of `START-END:EXPERT` (1-based, inclusive) under it.
pub fn print_tokens(
    out: &mut impl std::io::Write,
    windows: &[TokenizedWindow],
    spans: bool,
) -> Result<()> {
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
    windows: &[TokenizedWindow],
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
pub fn write_html(path: &Path, windows: &[TokenizedWindow], max_length: usize) -> Result<()> {
    let page = html_page(windows, max_length);
    dnalm_seq::atomic::write_atomic(path, |file| file.write_all(page.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The sequence with `|` between units (and runs of uncovered nucleotides, in lower
/// case).
fn spelled(window: &TokenizedWindow) -> String {
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

/// Writes the token-length distribution as an SVG bar chart (atomically).
pub fn write_histogram(path: &Path, counts: &[u64]) -> Result<()> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
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
    dnalm_seq::atomic::write_atomic(path, |file| file.write_all(svg.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))
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
fn html_page(windows: &[TokenizedWindow], max_length: usize) -> String {
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
    use dnalm_mxdna::learnt_tokens::{LearntToken, LearntTokens};

    use super::*;

    #[test]
    fn tokens_are_spelled_and_coloured() {
        let window = TokenizedWindow {
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
