//! The first step of the basic-unit NMS ([`crate::nms`]): dropping the candidates that
//! no visiting order can take, so that only the others (about one in five on normal
//! logits with kernels 1 to 10) are sorted and visited.
//!
//! A candidate whose span leaves the sequence is never taken. Nor is one whose span
//! strictly holds the span of a candidate of higher logit: that one is visited first,
//! and either it is taken, covering part of this span, or it is rejected because part
//! of its span, inside this one, is covered already. The highest logit inside the spans
//! grows one width at a time: the spans inside `[s, s + w)` are the candidates' of
//! width `w` starting at `s` and those inside `[s, s + w - 1)` and `[s + 1, s + w)`. A
//! kernel of size `w` centred at `p` spans `[p - w/2, p - w/2 + w)`.
//!
//! Per width and expert, two passes over the starts: one compares each candidate with
//! the best strictly inside its span and keeps it when at least as high, one raises
//! that best to the candidate's logit for the next width. (Tried on Zen 3 and no
//! faster: reading eight candidates at a time through AVX2 gathers, which are slow
//! there; laying the logits out one expert after another first, so that sixteen
//! comparisons make one bit mask, where the layout cost what the passes saved.)

/// Working space, kept from sequence to sequence.
#[derive(Debug, Default)]
pub(crate) struct LiveCandidates {
    /// Per start, the highest logit of a candidate inside the spans of the width before
    /// the current one.
    inner_best: Vec<f32>,
    /// Per start, the highest logit strictly inside the spans of the current width,
    /// then inside them.
    floors: Vec<f32>,
    /// The live candidates, then room for the others.
    live: Vec<u32>,
}

impl LiveCandidates {
    /// The live candidates among one sequence's logits (`(positions, experts)`,
    /// row-major, for experts of `kernel_sizes`), each as `position << 8 | expert`
    /// with positions counted from `first_position`; grouped by kernel size, then by
    /// expert, in position order.
    pub(crate) fn find(
        &mut self,
        candidates: &[f32],
        kernel_sizes: &[usize],
        first_position: usize,
    ) -> &[u32] {
        let experts = kernel_sizes.len();
        let positions = candidates.len() / experts;
        if self.live.len() < candidates.len() {
            self.live.resize(candidates.len(), 0);
        }
        self.inner_best.clear();
        self.inner_best.resize(positions + 1, f32::NEG_INFINITY);
        self.floors.clear();
        self.floors.resize(positions + 1, f32::NEG_INFINITY);
        let live = self.live.as_mut_slice();
        let (mut inner, mut next) = (self.inner_best.as_mut_slice(), self.floors.as_mut_slice());
        let widest = kernel_sizes
            .iter()
            .copied()
            .max()
            .unwrap_or(1)
            .min(positions);
        let mut kept = 0;
        for width in 1..=widest {
            let starts = positions - width + 1;
            let centre_offset = width / 2;
            let floors = &mut next[..starts];
            for ((floor, &a), &b) in floors.iter_mut().zip(&inner[..starts]).zip(&inner[1..]) {
                *floor = larger(a, b);
            }
            // Candidate `start` of an expert of this width is centred at
            // `start + centre_offset`: row `start` of `rows`.
            let rows = &candidates[centre_offset * experts..];
            let of_width = || (0..experts).filter(|&expert| kernel_sizes[expert] == width);
            for expert in of_width() {
                let first = ((first_position + centre_offset) << 8 | expert) as u32;
                // Every candidate is written; the live ones advance the cursor (a
                // branch here would be mispredicted half the time).
                for (start, &floor) in floors.iter().enumerate() {
                    live[kept] = first + ((start as u32) << 8);
                    kept += usize::from(rows[start * experts + expert] >= floor);
                }
            }
            for expert in of_width() {
                for (start, best) in floors.iter_mut().enumerate() {
                    *best = larger(*best, rows[start * experts + expert]);
                }
            }
            std::mem::swap(&mut inner, &mut next);
        }
        &self.live[..kept]
    }
}

/// The larger of two finite floats (a plain compare, which vectorises).
fn larger(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;

    /// Live by the definition: inside the sequence, and no candidate strictly inside
    /// its span has a higher logit.
    fn live_by_definition(candidates: &[f32], kernels: &[usize]) -> Vec<u32> {
        let experts = kernels.len();
        let positions = candidates.len() / experts;
        let span = |position: usize, expert: usize| {
            let start = position as i64 - (kernels[expert] / 2) as i64;
            (start, start + kernels[expert] as i64)
        };
        let mut live = Vec::new();
        for position in 0..positions {
            for expert in 0..experts {
                let (start, end) = span(position, expert);
                if start < 0 || end > positions as i64 {
                    continue;
                }
                let logit = candidates[position * experts + expert];
                let beaten = (0..positions).any(|p| {
                    (0..experts).any(|e| {
                        let (s, t) = span(p, e);
                        s >= start
                            && t <= end
                            && t - s < end - start
                            && candidates[p * experts + e] > logit
                    })
                });
                if !beaten {
                    live.push(((position + 1) << 8 | expert) as u32);
                }
            }
        }
        live.sort_unstable();
        live
    }

    #[test]
    fn keeps_exactly_the_candidates_nothing_inside_beats() {
        let mut rng = dnalm_seq::seeded_rng(21);
        for (trial, kernels) in [vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10], vec![3, 1, 3, 12, 2]]
            .iter()
            .enumerate()
        {
            for positions in [1, 5, 9, 23, 70] {
                // Rounded logits, so that some candidates tie with those inside them.
                let candidates: Vec<f32> = (0..positions * kernels.len())
                    .map(|_| (rng.random_range(-3.0f32..3.0) * 4.0).round() / 4.0)
                    .collect();
                let expected = live_by_definition(&candidates, kernels);
                let mut found = LiveCandidates::default()
                    .find(&candidates, kernels, 1)
                    .to_vec();
                found.sort_unstable();
                assert_eq!(found, expected, "trial {trial}, {positions} positions");
            }
        }
    }
}
