//! Export to the ARPA back-off format read by KenLM, SRILM and friends.
//!
//! Interpolated Kneser-Ney is exactly a back-off model: for an n-gram never seen,
//! `p(w | h) = gamma(h) * p(w | h')`, so each listed n-gram carries its interpolated
//! log10 probability and each context its log10 back-off weight `gamma`. Words are
//! `A C G T`, `<s>` and `</s>`, plus `<unk>` at log10 probability -100 (the model has no
//! unknown words; KenLM expects the entry). MLE and add-k are not back-off models and
//! are refused.

use std::io::Write;
use std::path::Path;

use crate::error::{NgramError, Result};
use crate::history::{mask, END, OUTCOMES};
use crate::model::NgramModel;
use crate::smoothing::Smoothing;

const WORDS: [&str; OUTCOMES] = ["A", "C", "G", "T", "</s>"];

/// One listed n-gram: words, log10 probability, optional log10 back-off weight.
struct Line {
    words: String,
    log10_prob: f64,
    log10_backoff: Option<f64>,
}

fn nucleotides(packed: u64, len: usize) -> Vec<&'static str> {
    (0..len)
        .rev()
        .map(|i| WORDS[((packed >> (2 * i)) & 3) as usize])
        .collect()
}

impl NgramModel {
    /// log10 back-off weight of a context of order `k` (the n-gram of `k` words
    /// `context`), if it was ever followed by anything.
    fn log10_backoff(&self, k: usize, context: u64, anchored: bool) -> Option<f64> {
        let counts = self.counts().orders.get(k)?;
        let counts = if anchored {
            counts.anchored(context)
        } else {
            counts.plain.get(context)
        };
        if counts.iter().all(|&c| c == 0) {
            return None;
        }
        Some(self.discounts()[k].backoff_weight(counts).log10())
    }

    fn arpa_lines(&self, k: usize) -> Vec<Line> {
        let mut lines = Vec::new();
        if k == 1 {
            let p = self.kneser_ney(0, 0, 1);
            lines.push(Line {
                words: "<unk>".into(),
                log10_prob: -100.0,
                log10_backoff: None,
            });
            lines.push(Line {
                words: "<s>".into(),
                log10_prob: -99.0,
                log10_backoff: self.log10_backoff(1, 0, true),
            });
            for (outcome, word) in WORDS.iter().enumerate() {
                let backoff = if outcome as u8 == END {
                    None
                } else {
                    self.log10_backoff(1, outcome as u64, false)
                };
                lines.push(Line {
                    words: word.to_string(),
                    log10_prob: p[outcome].log10(),
                    log10_backoff: backoff,
                });
            }
            return lines;
        }
        let order = &self.counts().orders[k - 1];
        let plain = order
            .plain
            .sorted_nonzero()
            .into_iter()
            .map(|(context, counts)| (context, counts, false));
        let mut anchored: Vec<_> = order
            .anchored
            .iter()
            .map(|(&context, &counts)| (context, counts, true))
            .collect();
        anchored.sort_unstable_by_key(|(context, _, _)| *context);
        for (context, counts, is_anchored) in anchored.into_iter().chain(plain) {
            let known = if is_anchored { k - 2 } else { k - 1 };
            let p = self.kneser_ney(context, known, k);
            let mut words = if is_anchored { vec!["<s>"] } else { Vec::new() };
            words.extend(nucleotides(context, known));
            for (outcome, &count) in counts.iter().enumerate() {
                if count == 0 {
                    continue;
                }
                let backoff = if outcome as u8 == END {
                    None
                } else {
                    let extended = ((context << 2) | outcome as u64) & mask(known + 1);
                    self.log10_backoff(k, extended, is_anchored)
                };
                lines.push(Line {
                    words: format!("{} {}", words.join(" "), WORDS[outcome]),
                    log10_prob: p[outcome].log10(),
                    log10_backoff: backoff,
                });
            }
        }
        lines
    }

    /// Writes the model as an ARPA file (Kneser-Ney smoothing only).
    pub fn write_arpa(&self, out: &mut dyn Write) -> Result<()> {
        if self.smoothing() != Smoothing::KneserNey {
            return Err(NgramError::Unsupported(format!(
                "ARPA files hold back-off models; {} is not one (use --smoothing kn)",
                self.smoothing()
            )));
        }
        let io = |source| NgramError::Io {
            file: "ARPA output".into(),
            source,
        };
        let all: Vec<Vec<Line>> = (1..=self.order()).map(|k| self.arpa_lines(k)).collect();
        writeln!(out, "\\data\\").map_err(io)?;
        for (k, lines) in all.iter().enumerate() {
            writeln!(out, "ngram {}={}", k + 1, lines.len()).map_err(io)?;
        }
        for (k, lines) in all.iter().enumerate() {
            writeln!(out, "\n\\{}-grams:", k + 1).map_err(io)?;
            for line in lines {
                match line.log10_backoff {
                    Some(backoff) if k + 1 < self.order() => writeln!(
                        out,
                        "{:.7}\t{}\t{:.7}",
                        line.log10_prob, line.words, backoff
                    )
                    .map_err(io)?,
                    _ => writeln!(out, "{:.7}\t{}", line.log10_prob, line.words).map_err(io)?,
                }
            }
        }
        writeln!(out, "\n\\end\\").map_err(io)?;
        Ok(())
    }

    /// Writes the ARPA file to `path` atomically.
    pub fn save_arpa(&self, path: &Path) -> Result<()> {
        let mut bytes = Vec::new();
        self.write_arpa(&mut bytes)?;
        dnalm_seq::atomic::write_atomic(path, |out| out.write_all(&bytes)).map_err(|source| {
            NgramError::Io {
                file: path.to_path_buf(),
                source,
            }
        })
    }
}
