//! Perplexity of a model over a set of sequences, scored in batches.

use dnalm_lm::{PerplexityTotal, SequenceModel, SequenceScore, SCORE_BATCH};

use crate::error::{EvalError, Result};

/// Scores every sequence and adds the scores up (perplexity over all events); the
/// first sequence the model fails on stops it, named by its place in the input. The
/// sequences go to the model in batches of similar length
/// ([`dnalm_lm::SequenceModel::score_batch`]), which neural models run together.
pub fn perplexity(
    model: &dyn SequenceModel,
    sequences: &[&[u8]],
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<PerplexityTotal> {
    let mut total = PerplexityTotal::default();
    for score in score_all(model, sequences, on_progress)? {
        total.add(score);
    }
    Ok(total)
}

/// Every sequence's score, in input order; sequences are batched by length (longest
/// first) so that little of a batch is padding. A failure names the first sequence of
/// the batch it happened in.
pub fn score_all(
    model: &dyn SequenceModel,
    sequences: &[&[u8]],
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<SequenceScore>> {
    let mut order: Vec<usize> = (0..sequences.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sequences[i].len()));
    let mut scores = vec![SequenceScore::default(); sequences.len()];
    for chunk in order.chunks(SCORE_BATCH) {
        let batch: Vec<&[u8]> = chunk.iter().map(|&i| sequences[i]).collect();
        let scored = model
            .score_batch(&batch)
            .map_err(|source| EvalError::Score {
                index: chunk[0],
                source,
            })?;
        for (&i, score) in chunk.iter().zip(scored) {
            scores[i] = score;
        }
        on_progress(chunk.len() as u64);
    }
    Ok(scores)
}
