//! Kneser-Ney discounts tuned on held-out data.
//!
//! Chen & Goodman's closed-form discounts assume counts of a large vocabulary; in DNA
//! the continuation counts of middle orders saturate at 5, and their estimates can be
//! far off (on human genes a 12-gram with estimated discounts is worse than an 8-gram).
//! As Chen & Goodman also describe, the discounts can instead be chosen to maximise the
//! likelihood of held-out data. We do that by coordinate search: each of the 3 discounts
//! of each order in turn, over a grid of `(0, i)` refined around the best point, for a
//! few sweeps. Every held-out event's count vectors are looked up once, so trying a set
//! of discounts is arithmetic only.

use rayon::prelude::*;

use crate::history::{for_each_event, OUTCOMES};
use crate::model::NgramModel;
use crate::smoothing::Discounts;
use crate::table::Counts;

/// At most this many held-out events are used (their count vectors are cached).
const MAX_EVENTS: usize = 200_000;
/// Tuned discounts replace the closed-form ones only when they lower the held-out
/// perplexity by more than this fraction; smaller gains are noise of the held-out draw
/// (seen at orders 4 to 6 on human genes, where every context has ample data).
const MIN_GAIN: f64 = 1e-4;
/// Coordinate-search sweeps over all discounts.
const SWEEPS: usize = 2;
/// Grid points (as fractions of each discount's range) tried first.
const GRID: [f64; 9] = [0.05, 0.15, 0.25, 0.35, 0.5, 0.65, 0.75, 0.85, 0.95];

/// The held-out events with their count vectors, order by order.
struct HeldOut {
    /// Count vectors of orders 1..=top of every event, concatenated.
    counts: Vec<Counts>,
    /// For each event: (offset into `counts`, number of orders, outcome).
    events: Vec<(usize, u8, u8)>,
}

impl HeldOut {
    fn collect(model: &NgramModel, sequences: &[&[u8]]) -> Self {
        let context = model.order() - 1;
        let mut held = HeldOut {
            counts: Vec::new(),
            events: Vec::new(),
        };
        for seq in sequences {
            if held.events.len() >= MAX_EVENTS {
                break;
            }
            let end = (seq.len() + 1).min(MAX_EVENTS - held.events.len());
            for_each_event(seq, 0, end, context, |event| {
                let offset = held.counts.len();
                let top = model.order().min(event.since_start + 2);
                for k in 1..=top {
                    held.counts
                        .push(*model.counts().at(k, event.history, event.since_start));
                }
                held.events.push((offset, top as u8, event.symbol));
            });
        }
        held
    }

    /// Natural-log likelihood of all held-out events under `discounts`.
    fn log_likelihood(&self, discounts: &[Discounts]) -> f64 {
        self.events
            .par_chunks(4096)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|&(offset, top, symbol)| {
                        let mut p = [1.0 / OUTCOMES as f64; OUTCOMES];
                        for (k, counts) in self.counts[offset..offset + top as usize]
                            .iter()
                            .enumerate()
                        {
                            discounts[k].interpolate(counts, &mut p);
                        }
                        p[symbol as usize].ln()
                    })
                    .sum::<f64>()
            })
            .sum()
    }
}

/// The discounts (starting from the model's own) that maximise the likelihood of
/// `heldout` under the model's counts, with the held-out perplexity per event before
/// and after. The model's own discounts are kept unless tuning gains more than 0.01%.
pub fn tune_discounts(model: &NgramModel, heldout: &[&[u8]]) -> (Vec<Discounts>, f64, f64) {
    let held = HeldOut::collect(model, heldout);
    let events = held.events.len().max(1) as f64;
    let perplexity = |log_likelihood: f64| (-log_likelihood / events).exp();
    let mut best = model.discounts().to_vec();
    let mut best_score = held.log_likelihood(&best);
    let start = perplexity(best_score);
    for _ in 0..SWEEPS {
        for k in 0..best.len() {
            for slot in 0..3 {
                let range = (slot + 1) as f64;
                let try_value = |value: f64, best: &mut Vec<Discounts>, best_score: &mut f64| {
                    let mut candidate = best.clone();
                    candidate[k].0[slot] = value;
                    let score = held.log_likelihood(&candidate);
                    if score > *best_score {
                        *best_score = score;
                        *best = candidate;
                    }
                };
                for fraction in GRID {
                    try_value(fraction * range, &mut best, &mut best_score);
                }
                let centre = best[k].0[slot] / range;
                for offset in [-0.04, -0.02, 0.02, 0.04] {
                    let fraction = centre + offset;
                    if fraction > 0.0 && fraction < 1.0 {
                        try_value(fraction * range, &mut best, &mut best_score);
                    }
                }
            }
        }
    }
    let tuned = perplexity(best_score);
    if tuned < start * (1.0 - MIN_GAIN) {
        (best, start, tuned)
    } else {
        (model.discounts().to_vec(), start, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smoothing::Smoothing;

    #[test]
    fn tuning_never_lowers_held_out_likelihood_and_matches_scoring() {
        let train: Vec<Vec<u8>> = (0..60)
            .map(|i| {
                (0..200)
                    .map(|j| b"ACGT"[(j * j + i * 7 + j / 5) % 4])
                    .collect()
            })
            .collect();
        let held: Vec<Vec<u8>> = (60..70)
            .map(|i| {
                (0..200)
                    .map(|j| b"ACGT"[(j * j + i * 7 + j / 5) % 4])
                    .collect()
            })
            .collect();
        let train: Vec<&[u8]> = train.iter().map(Vec::as_slice).collect();
        let held: Vec<&[u8]> = held.iter().map(Vec::as_slice).collect();
        let model = NgramModel::train(&train, 6, Smoothing::KneserNey).unwrap();
        let cache = HeldOut::collect(&model, &held);
        // The cached evaluation equals scoring with the model itself.
        let direct: f64 = held.iter().map(|s| model.log_likelihood(s).log_prob).sum();
        assert!((cache.log_likelihood(model.discounts()) - direct).abs() < 1e-9 * direct.abs());
        let (tuned, before, after) = tune_discounts(&model, &held);
        assert!(after <= before, "{after} > {before}");
        for discounts in &tuned {
            for (i, &d) in discounts.0.iter().enumerate() {
                assert!(d > 0.0 && d < (i + 1) as f64, "D{} = {d}", i + 1);
            }
        }
        let retuned = model.with_discounts(tuned);
        let rescored: f64 = held
            .iter()
            .map(|s| retuned.log_likelihood(s).log_prob)
            .sum();
        let events: usize = held.iter().map(|s| s.len() + 1).sum();
        assert!(((-rescored / events as f64).exp() - after).abs() < 1e-9);
    }
}
