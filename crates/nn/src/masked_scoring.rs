//! Zero-shot scores from any masked language model, written once against
//! [`MaskedPredictor`] (a tokenizer plus log-probabilities at hidden positions), so the
//! BERT-style encoders and MxDNA share them: the masked marginal of a variant
//! ([`masked_marginal`], Meier et al. 2021; many at once: [`masked_marginals`]) and the
//! pseudo-log-likelihood of a sequence
//! ([`pseudo_log_likelihood`], Salazar et al. 2020).
//!
//! The helpers [`padded_batch`], [`flat_positions`] and [`split_rows`] are what an
//! implementation needs to run rows of different lengths through the network at once.

use candle_core::{Device, Tensor};
use dnalm_lm::SequenceScore;
use dnalm_tokenize::{special, Tokenizer};

use crate::error::{NnError, Result};

/// Masked rows per forward pass when scoring (a sequence's masked copies, or the rows
/// of many variants).
pub const MASKED_ROWS_PER_PASS: usize = 32;

/// A masked language model seen from outside.
pub trait MaskedPredictor: Sync {
    /// The tokenizer its inputs are encoded with.
    fn tokenizer(&self) -> &dyn Tokenizer;

    /// Natural-log probabilities over the vocabulary at `positions[r]` of each row
    /// `rows[r]` (`[CLS] tokens [SEP]` with some tokens `[MASK]`ed; rows may differ in
    /// length), as `[row][position][token]`.
    fn masked_log_probs(
        &self,
        rows: &[Vec<u32>],
        positions: &[Vec<usize>],
    ) -> candle_core::Result<Vec<Vec<Vec<f32>>>>;
}

/// Rows of different lengths as one right-padded batch `(B, T)` and their lengths.
pub fn padded_batch(
    rows: &[Vec<u32>],
    device: &Device,
) -> candle_core::Result<(Tensor, Vec<usize>)> {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(rows.len() * width);
    for row in rows {
        ids.extend_from_slice(row);
        ids.resize(ids.len() + width - row.len(), special::PAD);
    }
    let lengths = rows.iter().map(Vec::len).collect();
    Ok((Tensor::from_vec(ids, (rows.len(), width), device)?, lengths))
}

/// The flat indices `r * width + p` of `positions[r]` in a batch `width` wide.
pub fn flat_positions(positions: &[Vec<usize>], width: usize) -> Vec<u32> {
    positions
        .iter()
        .enumerate()
        .flat_map(|(r, row)| row.iter().map(move |&p| (r * width + p) as u32))
        .collect()
}

/// Rows of a `(N, V)` result, in the order of [`flat_positions`], regrouped per input
/// row.
pub fn split_rows(values: Vec<Vec<f32>>, positions: &[Vec<usize>]) -> Vec<Vec<Vec<f32>>> {
    let mut values = values.into_iter();
    positions
        .iter()
        .map(|row| values.by_ref().take(row.len()).collect())
        .collect()
}

/// Zero-shot variant effect, the masked marginal per allele: in each allele's encoding
/// the tokens that overlap the changed nucleotides (the part between the common prefix
/// and suffix; for a pure insertion or deletion, the nucleotides either side of it) are
/// masked, and the score is `log p(alternate's tokens) - log p(reference's tokens)`
/// there. Negative means the model finds the alternate less likely. When both
/// encodings line up (a substitution under a fixed tokenizer, or any substitution under
/// MxDNA's single nucleotides) the two masked contexts are one and the score is the
/// classic `sum log p(alt token) - log p(ref token)`; overlapping k-mers mask all k
/// tokens a substitution changes, as in training. BPE may cut the two alleles
/// differently; each is then scored on its own tokens.
pub fn masked_marginal(
    model: &dyn MaskedPredictor,
    reference: &[u8],
    alternate: &[u8],
) -> Result<f64> {
    Ok(masked_marginals(model, &[(reference, alternate)], 1)?[0])
}

/// [`masked_marginal`] of many variants `(reference, alternate)`, their masked rows
/// run through the network `rows_per_pass` at a time (right-padded; equal to scoring
/// each alone).
pub fn masked_marginals(
    model: &dyn MaskedPredictor,
    variants: &[(&[u8], &[u8])],
    rows_per_pass: usize,
) -> Result<Vec<f64>> {
    let queries: Vec<MarginalQuery> = variants
        .iter()
        .map(|(reference, alternate)| MarginalQuery::new(model.tokenizer(), reference, alternate))
        .collect();
    let rows: Vec<&MaskedRow> = queries.iter().flat_map(MarginalQuery::rows).collect();
    let mut log_probs = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(rows_per_pass.max(1)) {
        let inputs: Vec<Vec<u32>> = chunk.iter().map(|row| row.input.clone()).collect();
        let positions: Vec<Vec<usize>> = chunk.iter().map(|row| row.positions.clone()).collect();
        log_probs.extend(model.masked_log_probs(&inputs, &positions)?);
    }
    let mut log_probs = log_probs.iter();
    Ok(queries
        .iter()
        .map(|query| match query {
            MarginalQuery::Same => 0.0,
            MarginalQuery::OneContext {
                reference,
                alternate,
            } => {
                let rows = log_probs.next().map_or(&[][..], Vec::as_slice);
                alternate.total(rows) - reference.total(rows)
            }
            MarginalQuery::TwoContexts {
                reference,
                alternate,
            } => {
                let ref_rows = log_probs.next().map_or(&[][..], Vec::as_slice);
                let alt_rows = log_probs.next().map_or(&[][..], Vec::as_slice);
                alternate.total(alt_rows) - reference.total(ref_rows)
            }
        })
        .collect())
}

/// One allele's encoding with the tokens over the change masked.
struct MaskedRow {
    /// The ids with the masked positions as `[MASK]`.
    input: Vec<u32>,
    /// The allele's own ids.
    ids: Vec<u32>,
    /// The masked positions.
    positions: Vec<usize>,
}

impl MaskedRow {
    /// `sum log p(own token)` at the masked positions, from the log-probabilities the
    /// network gave there (row per position, as [`MaskedPredictor::masked_log_probs`]).
    fn total(&self, log_probs: &[Vec<f32>]) -> f64 {
        log_probs
            .iter()
            .zip(&self.positions)
            .map(|(row, &i)| f64::from(row[self.ids[i] as usize]))
            .sum()
    }
}

/// What a variant needs from the network: nothing (the alleles are equal), one masked
/// row both alleles share (their masked inputs are the same), or one row each.
enum MarginalQuery {
    Same,
    OneContext {
        reference: MaskedRow,
        alternate: MaskedRow,
    },
    TwoContexts {
        reference: MaskedRow,
        alternate: MaskedRow,
    },
}

impl MarginalQuery {
    fn new(tokenizer: &dyn Tokenizer, reference: &[u8], alternate: &[u8]) -> Self {
        if reference == alternate {
            return Self::Same;
        }
        let prefix = reference
            .iter()
            .zip(alternate)
            .take_while(|(a, b)| a == b)
            .count();
        let room = reference.len().min(alternate.len()) - prefix;
        let suffix = reference
            .iter()
            .rev()
            .zip(alternate.iter().rev())
            .take(room)
            .take_while(|(a, b)| a == b)
            .count();
        let masked = |seq: &[u8]| -> MaskedRow {
            let region = prefix..seq.len() - suffix;
            // An empty region (the other allele's insertion) takes its two neighbours.
            let region = if region.is_empty() {
                prefix.saturating_sub(1)..(prefix + 1).min(seq.len())
            } else {
                region
            };
            let encoding = tokenizer.encode_with_special(seq);
            let positions: Vec<usize> = (0..encoding.len())
                .filter(|&i| {
                    let span = &encoding.spans[i];
                    !span.is_empty() && span.start < region.end && region.start < span.end
                })
                .collect();
            let mut input = encoding.ids.clone();
            for &i in &positions {
                input[i] = special::MASK;
            }
            MaskedRow {
                input,
                ids: encoding.ids,
                positions,
            }
        };
        let (reference, alternate) = (masked(reference), masked(alternate));
        if reference.input == alternate.input && reference.positions == alternate.positions {
            Self::OneContext {
                reference,
                alternate,
            }
        } else {
            Self::TwoContexts {
                reference,
                alternate,
            }
        }
    }

    /// The rows to run, in the order [`masked_marginals`] reads their results.
    fn rows(&self) -> Vec<&MaskedRow> {
        match self {
            Self::Same => Vec::new(),
            Self::OneContext { reference, .. } => vec![reference],
            Self::TwoContexts {
                reference,
                alternate,
            } => vec![reference, alternate],
        }
    }
}

/// Which tokens one masked row hides when every nucleotide of a sequence is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Masking {
    /// One token per row, so each token is predicted from all the others (the exact
    /// conditionals of the pseudo-likelihood): one forward row per scored token.
    OnePerRow,
    /// The tokens `k` apart hidden together (`k` rows per sequence, whatever its
    /// length): each token is predicted with its neighbours `k`, `2k`, ... away hidden
    /// too. `k = 7` hides about 15% of the tokens, as pretraining does.
    Spaced(usize),
}

/// Per-nucleotide masked conditionals: for each `(sequence, range)`, the tokens whose
/// span meets `range` are hidden as `masking` says and `ln p(true token | the rest)`
/// read where each is hidden; each token's value is spread evenly over its nucleotides
/// and the values of `range` returned, in order. The rows run through the network
/// `rows_per_pass` at a time. Tokens must not overlap (overlapping k-mers would show
/// the hidden nucleotides in their neighbours).
pub fn masked_nucleotide_log_probs(
    model: &dyn MaskedPredictor,
    seqs: &[(&[u8], std::ops::Range<usize>)],
    masking: Masking,
    rows_per_pass: usize,
) -> Result<Vec<Vec<f64>>> {
    struct Row {
        seq: usize,
        input: Vec<u32>,
        positions: Vec<usize>,
    }
    let mut encodings = Vec::with_capacity(seqs.len());
    let mut rows = Vec::new();
    for (index, (seq, range)) in seqs.iter().enumerate() {
        let encoding = model.tokenizer().encode_with_special(seq);
        let real: Vec<usize> = (0..encoding.len())
            .filter(|&i| !encoding.spans[i].is_empty())
            .collect();
        if real
            .windows(2)
            .any(|w| encoding.spans[w[1]].start < encoding.spans[w[0]].end)
        {
            return Err(NnError::Unsupported(format!(
                "{} tokens overlap, so a hidden token is seen in its neighbours: no \
                 masked conditionals",
                model.tokenizer().describe()
            )));
        }
        let scored: Vec<usize> = real
            .into_iter()
            .filter(|&i| {
                let span = &encoding.spans[i];
                span.start < range.end && range.start < span.end
            })
            .collect();
        let groups: Vec<Vec<usize>> = match masking {
            Masking::OnePerRow => scored.iter().map(|&i| vec![i]).collect(),
            Masking::Spaced(k) => (0..k.max(1).min(scored.len()))
                .map(|r| scored.iter().skip(r).step_by(k.max(1)).copied().collect())
                .collect(),
        };
        for positions in groups {
            let mut input = encoding.ids.clone();
            for &i in &positions {
                input[i] = special::MASK;
            }
            rows.push(Row {
                seq: index,
                input,
                positions,
            });
        }
        encodings.push(encoding);
    }
    let mut per_token: Vec<Vec<f64>> = encodings
        .iter()
        .map(|encoding| vec![f64::NAN; encoding.len()])
        .collect();
    for chunk in rows.chunks(rows_per_pass.max(1)) {
        let inputs: Vec<Vec<u32>> = chunk.iter().map(|row| row.input.clone()).collect();
        let positions: Vec<Vec<usize>> = chunk.iter().map(|row| row.positions.clone()).collect();
        let log_probs = model.masked_log_probs(&inputs, &positions)?;
        for (row, values) in chunk.iter().zip(log_probs) {
            let ids = &encodings[row.seq].ids;
            for (&i, at) in row.positions.iter().zip(values) {
                per_token[row.seq][i] = f64::from(at[ids[i] as usize]);
            }
        }
    }
    Ok(seqs
        .iter()
        .zip(encodings.iter().zip(&per_token))
        .map(|((seq, range), (encoding, values))| {
            let mut values = encoding.spread_over_nucleotides(values, seq.len());
            values.truncate(range.end);
            values.drain(..range.start.min(values.len()));
            values
        })
        .collect())
}

/// The pseudo-log-likelihood of a normalised sequence (Salazar et al. 2020): every
/// token masked in turn (one copy of the sequence per token, `rows_per_batch` copies
/// per forward pass) and the log-probability of the true token there summed, i.e. the
/// sum of [`masked_nucleotide_log_probs`] with [`Masking::OnePerRow`]. The score counts
/// one event per nucleotide (no end event: a masked model does not predict the end).
/// Tokens must not overlap.
pub fn pseudo_log_likelihood(
    model: &dyn MaskedPredictor,
    seq: &[u8],
    rows_per_batch: usize,
) -> Result<SequenceScore> {
    let values = masked_nucleotide_log_probs(
        model,
        &[(seq, 0..seq.len())],
        Masking::OnePerRow,
        rows_per_batch,
    )?;
    Ok(SequenceScore {
        log_prob: values[0].iter().filter(|v| !v.is_nan()).sum(),
        events: seq.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnalm_tokenize::{KmerTokenizer, NucleotideTokenizer};

    /// A stand-in network whose answer at a hidden position tells how many tokens its
    /// row hid and where it looked: `ln p = -(hidden in row) - position / 1000`.
    struct Telltale(Box<dyn Tokenizer>);

    impl MaskedPredictor for Telltale {
        fn tokenizer(&self) -> &dyn Tokenizer {
            self.0.as_ref()
        }

        fn masked_log_probs(
            &self,
            rows: &[Vec<u32>],
            positions: &[Vec<usize>],
        ) -> candle_core::Result<Vec<Vec<Vec<f32>>>> {
            let vocab = self.0.vocab_size();
            Ok(rows
                .iter()
                .zip(positions)
                .map(|(row, at)| {
                    let hidden = row.iter().filter(|&&id| id == special::MASK).count();
                    assert_eq!(hidden, at.len(), "every hidden token is asked for");
                    at.iter()
                        .map(|&p| vec![-(hidden as f32) - p as f32 / 1000.0; vocab])
                        .collect()
                })
                .collect())
        }
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn one_per_row_and_spaced_masking_hide_the_tokens_they_say() {
        let model = Telltale(Box::new(NucleotideTokenizer));
        let seq: &[u8] = b"ACGTACGTAC";
        // Nucleotide i is token i + 1 (after [CLS]); alone in its row.
        let values =
            masked_nucleotide_log_probs(&model, &[(seq, 2..6)], Masking::OnePerRow, 3).unwrap();
        let expected: Vec<f64> = (2..6).map(|i| -1.0 - (i + 1) as f64 / 1000.0).collect();
        assert!(close(&values[0], &expected), "{:?}", values[0]);
        // Spaced by 3 over nucleotides 0..8: rows hide {0,3,6}, {1,4,7}, {2,5}.
        let values =
            masked_nucleotide_log_probs(&model, &[(seq, 0..8)], Masking::Spaced(3), 32).unwrap();
        let hidden = [3.0, 3.0, 2.0, 3.0, 3.0, 2.0, 3.0, 3.0];
        let expected: Vec<f64> = (0..8)
            .map(|i| -hidden[i] - (i + 1) as f64 / 1000.0)
            .collect();
        assert!(close(&values[0], &expected), "{:?}", values[0]);
        // Several sequences together give what each gives alone.
        let other: &[u8] = b"GGATC";
        let together = masked_nucleotide_log_probs(
            &model,
            &[(seq, 0..8), (other, 1..5)],
            Masking::Spaced(3),
            2,
        )
        .unwrap();
        let alone =
            masked_nucleotide_log_probs(&model, &[(other, 1..5)], Masking::Spaced(3), 2).unwrap();
        assert!(close(&together[0], &values[0]) && close(&together[1], &alone[0]));
    }

    #[test]
    fn a_multi_nucleotide_token_shares_its_value_and_overlapping_tokens_are_refused() {
        let model = Telltale(Box::new(KmerTokenizer::new(3, false).unwrap()));
        // Tokens ACG | TAC | GT.. : nucleotides 3..6 are token 2 (row position 2).
        let values =
            masked_nucleotide_log_probs(&model, &[(b"ACGTACGTA", 4..5)], Masking::OnePerRow, 8)
                .unwrap();
        assert!(
            close(&values[0], &[(-1.0 - 0.002) / 3.0]),
            "{:?}",
            values[0]
        );
        let overlapping = Telltale(Box::new(KmerTokenizer::new(3, true).unwrap()));
        let err = masked_nucleotide_log_probs(
            &overlapping,
            &[(b"ACGTACGTA", 0..9)],
            Masking::OnePerRow,
            8,
        )
        .unwrap_err();
        assert!(err.to_string().contains("overlap"), "{err}");
    }
}
