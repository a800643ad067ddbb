//! Perplexity of a model over a set of sequences, scored in parallel.

use dnalm_lm::{PerplexityTotal, SequenceModel};
use rayon::prelude::*;

use crate::error::{EvalError, Result};

/// Scores every sequence and adds the scores up (perplexity over all events); the
/// first sequence the model fails on stops it, named by its place in the input.
pub fn perplexity(
    model: &dyn SequenceModel,
    sequences: &[&[u8]],
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<PerplexityTotal> {
    sequences
        .par_iter()
        .enumerate()
        .map(|(index, seq)| {
            let mut total = PerplexityTotal::default();
            total.add(
                model
                    .score(seq)
                    .map_err(|source| EvalError::Score { index, source })?,
            );
            on_progress(1);
            Ok(total)
        })
        .try_reduce(PerplexityTotal::default, |a, b| Ok(a.merge(b)))
}
