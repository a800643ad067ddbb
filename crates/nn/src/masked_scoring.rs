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

/// The pseudo-log-likelihood of a normalised sequence: every token masked in turn (one
/// copy of the sequence per token, `rows_per_batch` copies per forward pass) and the
/// log-probability of the true token there summed. The score counts one event per
/// nucleotide (no end event: a masked model does not predict the end). Tokens must not
/// overlap (overlapping k-mers would see the hidden nucleotides in their neighbours).
pub fn pseudo_log_likelihood(
    model: &dyn MaskedPredictor,
    seq: &[u8],
    rows_per_batch: usize,
) -> Result<SequenceScore> {
    let encoding = model.tokenizer().encode_with_special(seq);
    let scored: Vec<usize> = (0..encoding.len())
        .filter(|&i| !encoding.spans[i].is_empty())
        .collect();
    if scored
        .windows(2)
        .any(|w| encoding.spans[w[1]].start < encoding.spans[w[0]].end)
    {
        return Err(NnError::Unsupported(format!(
            "{} tokens overlap, so a hidden token is seen in its neighbours: no \
             pseudo-likelihood",
            model.tokenizer().describe()
        )));
    }
    let mut log_prob = 0.0;
    for chunk in scored.chunks(rows_per_batch.max(1)) {
        let rows: Vec<Vec<u32>> = chunk
            .iter()
            .map(|&i| {
                let mut row = encoding.ids.clone();
                row[i] = special::MASK;
                row
            })
            .collect();
        let positions: Vec<Vec<usize>> = chunk.iter().map(|&i| vec![i]).collect();
        let log_probs = model.masked_log_probs(&rows, &positions)?;
        log_prob += chunk
            .iter()
            .zip(&log_probs)
            .map(|(&i, row)| f64::from(row[0][encoding.ids[i] as usize]))
            .sum::<f64>();
    }
    Ok(SequenceScore {
        log_prob,
        events: seq.len(),
    })
}
