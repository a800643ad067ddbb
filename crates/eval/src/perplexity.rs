//! Perplexity of a model over a set of sequences, scored in parallel.

use dnalm_lm::{PerplexityTotal, SequenceModel};
use rayon::prelude::*;

/// Scores every sequence and adds the scores up (perplexity over all events).
pub fn perplexity(
    model: &dyn SequenceModel,
    sequences: &[&[u8]],
    on_progress: &(dyn Fn(u64) + Sync),
) -> PerplexityTotal {
    sequences
        .par_iter()
        .map(|seq| {
            let mut total = PerplexityTotal::default();
            total.add(model.score(seq));
            on_progress(1);
            total
        })
        .reduce(PerplexityTotal::default, PerplexityTotal::merge)
}
