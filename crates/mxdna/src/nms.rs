//! Basic-unit non-maximum suppression (MxDNA's `BasicUnitNMS.cpp`), on the whole batch
//! with rayon.
//!
//! Per sequence, over positions `1..length-1` (the `[CLS]` at 0 and the `[SEP]` at
//! `length - 1` never join a unit): every (position, expert) pair is a candidate unit
//! of that expert's kernel size `k` centred at the position, spanning
//! `[p - k/2, p + k/2 + k%2)`. Candidates are visited by router logit, highest first; a
//! candidate is skipped if its centre is already covered, if its span leaves the
//! allowed range, or if any nucleotide of its span is covered; otherwise it is taken:
//! its centre records the expert and its whole span is covered by that expert.
//! Nucleotides may stay uncovered.
//!
//! Ties: the reference sorts the candidates with `std::sort` (by logit, descending),
//! which is not stable but is deterministic: equal logits come out in the order
//! libstdc++'s introsort leaves them. When a sequence has equal logits we sort it with
//! that same algorithm ([`crate::gnu_sort`]), so ties are broken exactly as the
//! reference built with GCC breaks them (`-0.0` and `0.0` are equal, as for C++'s `>`).
//!
//! Speed: without ties the order is unique, and we get it fast: each candidate becomes
//! one `u64` key (the logit mapped to an order-preserving integer, inverted, above the
//! candidate index), sorted by a least-significant-digit radix sort on the logit half
//! (4 passes of 8 bits, a pass skipped when every key has the same digit). No
//! comparison sort reaches that speed at 5,000 keys a sequence; a tie shows as two
//! equal neighbours after it, and only then does the sequence take the slower exact
//! path. The scan stops as soon as every position is covered.

use rayon::prelude::*;

use crate::gnu_sort::gnu_sort;

/// Which expert's unit each position belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicUnits {
    /// `(B, L)`: the expert whose unit is centred at the position, or -1.
    pub centre: Vec<i32>,
    /// `(B, L)`: the expert whose unit covers the position, or -1.
    pub cover: Vec<i32>,
}

/// Why the NMS could not run.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NmsError {
    /// The logits are not `batch * steps * experts` values, or the other inputs disagree.
    #[error("basic-unit NMS: {0}")]
    Shape(String),
    /// A logit is NaN or infinite (training has diverged).
    #[error("basic-unit NMS: router logit {value} at sequence {sequence}, position {position}, expert {expert} is not finite")]
    NotFinite {
        /// Sequence in the batch.
        sequence: usize,
        /// Position in the sequence.
        position: usize,
        /// Expert.
        expert: usize,
        /// The value.
        value: f32,
    },
}

/// Runs the NMS on router logits `(B, L, N)` (row-major) for experts of
/// `kernel_sizes` (N of them, each at least 1); sequence `b` has `lengths[b]` real
/// positions, `[CLS]` and `[SEP]` included.
pub fn basic_unit_nms(
    logits: &[f32],
    steps: usize,
    kernel_sizes: &[usize],
    lengths: &[usize],
) -> Result<BasicUnits, NmsError> {
    let experts = kernel_sizes.len();
    let batch = lengths.len();
    if experts == 0 || kernel_sizes.contains(&0) {
        return Err(NmsError::Shape(format!(
            "kernel sizes must be at least 1, got {kernel_sizes:?}"
        )));
    }
    if logits.len() != batch * steps * experts {
        return Err(NmsError::Shape(format!(
            "{} logits for {batch} sequences x {steps} positions x {experts} experts",
            logits.len()
        )));
    }
    if let Some(b) = lengths.iter().position(|&length| length > steps) {
        return Err(NmsError::Shape(format!(
            "sequence {b} has length {} > {steps} positions",
            lengths[b]
        )));
    }
    if let Some(index) = logits.iter().position(|v| !v.is_finite()) {
        return Err(NmsError::NotFinite {
            sequence: index / (steps * experts),
            position: index / experts % steps,
            expert: index % experts,
            value: logits[index],
        });
    }
    let mut units = BasicUnits {
        centre: vec![-1; batch * steps],
        cover: vec![-1; batch * steps],
    };
    if steps == 0 {
        return Ok(units);
    }
    units
        .centre
        .par_chunks_mut(steps)
        .zip(units.cover.par_chunks_mut(steps))
        .zip(logits.par_chunks(steps * experts))
        .zip(lengths.par_iter())
        .for_each_init(
            || (Vec::new(), Vec::new()),
            |(keys, scratch), (((centre, cover), logits), &length)| {
                sequence_nms(logits, kernel_sizes, length, centre, cover, keys, scratch);
            },
        );
    Ok(units)
}

/// Maps a float to an integer of the same order (`-0.0` and `0.0` alike).
fn ordered_bits(value: f32) -> u32 {
    let bits = (value + 0.0).to_bits();
    if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

/// Sorts keys stably by their high 32 bits (LSD radix, 8 bits a pass); `scratch` is
/// working space.
fn radix_sort_high_words(keys: &mut Vec<u64>, scratch: &mut Vec<u64>) {
    scratch.clear();
    scratch.resize(keys.len(), 0);
    for shift in [32, 40, 48, 56] {
        let mut counts = [0usize; 256];
        for &key in keys.iter() {
            counts[(key >> shift) as usize & 0xFF] += 1;
        }
        if counts.contains(&keys.len()) {
            continue;
        }
        let mut next = 0;
        for count in counts.iter_mut() {
            let here = *count;
            *count = next;
            next += here;
        }
        for &key in keys.iter() {
            let digit = (key >> shift) as usize & 0xFF;
            scratch[counts[digit]] = key;
            counts[digit] += 1;
        }
        std::mem::swap(keys, scratch);
    }
}

/// The NMS of one sequence; `keys` and `scratch` are working space.
fn sequence_nms(
    logits: &[f32],
    kernel_sizes: &[usize],
    length: usize,
    centre: &mut [i32],
    cover: &mut [i32],
    keys: &mut Vec<u64>,
    scratch: &mut Vec<u64>,
) {
    let experts = kernel_sizes.len();
    let (left, right) = (1, length.saturating_sub(1));
    if right <= left {
        return;
    }
    keys.clear();
    keys.extend(
        logits[left * experts..right * experts]
            .iter()
            .enumerate()
            .map(|(index, &logit)| (u64::from(!ordered_bits(logit)) << 32) | index as u64),
    );
    radix_sort_high_words(keys, scratch);
    if keys.windows(2).any(|pair| pair[0] >> 32 == pair[1] >> 32) {
        // The same comparisons as the reference's `logit[a] > logit[b]` (the high word
        // is the logit's order, inverted), on keys back in index order.
        keys.sort_unstable_by_key(|key| key & 0xFFFF_FFFF);
        gnu_sort(keys, |a, b| a >> 32 < b >> 32);
    }
    let mut uncovered = right - left;
    for &key in keys.iter() {
        let index = (key & 0xFFFF_FFFF) as usize;
        let position = index / experts + left;
        if cover[position] >= 0 {
            continue;
        }
        let expert = index % experts;
        let kernel = kernel_sizes[expert];
        let (Some(start), end) = (
            position.checked_sub(kernel / 2),
            position + kernel / 2 + kernel % 2,
        ) else {
            continue;
        };
        if start < left || end > right || cover[start..end].iter().any(|&c| c >= 0) {
            continue;
        }
        centre[position] = expert as i32;
        cover[start..end].fill(expert as i32);
        uncovered -= end - start;
        if uncovered == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;

    /// The reference algorithm as written in BasicUnitNMS.cpp, with a stable sort by
    /// logit (so ties keep index order).
    fn reference(logits: &[f32], steps: usize, kernels: &[usize], lengths: &[usize]) -> BasicUnits {
        let n = kernels.len();
        let mut centre = vec![0i32; lengths.len() * steps];
        let mut all = vec![0i32; lengths.len() * steps];
        for (b, &length) in lengths.iter().enumerate() {
            let (left, right) = (1i64, length as i64 - 1);
            if right <= left {
                continue;
            }
            let row = |p: i64, e: usize| logits[(b * steps + p as usize) * n + e];
            let mut order: Vec<usize> = (0..(right - left) as usize * n).collect();
            order.sort_by(|&x, &y| {
                let (a, c) = (
                    row(x as i64 / n as i64 + left, x % n),
                    row(y as i64 / n as i64 + left, y % n),
                );
                c.partial_cmp(&a).unwrap()
            });
            let base = b * steps;
            for index in order {
                let position = index as i64 / n as i64 + left;
                if all[base + position as usize] != 0 {
                    continue;
                }
                let expert = index % n;
                let k = kernels[expert] as i64;
                let (lb, rb) = (position - k / 2, position + k / 2 + k % 2);
                if lb < left || rb > right {
                    continue;
                }
                let span = base + lb as usize..base + rb as usize;
                if all[span.clone()].iter().sum::<i32>() == 0 {
                    centre[base + position as usize] = expert as i32 + 1;
                    all[span].fill(expert as i32 + 1);
                }
            }
        }
        BasicUnits {
            centre: centre.into_iter().map(|v| v - 1).collect(),
            cover: all.into_iter().map(|v| v - 1).collect(),
        }
    }

    #[test]
    fn radix_sort_is_stable_on_the_high_words() {
        let mut rng = dnalm_seq::seeded_rng(4);
        let mut keys: Vec<u64> = (0..3000u64)
            .map(|i| (u64::from(rng.random_range(0..50u32) * 0x0101_0101) << 32) | i)
            .collect();
        let mut expected = keys.clone();
        expected.sort_by_key(|key| key >> 32);
        radix_sort_high_words(&mut keys, &mut Vec::new());
        assert_eq!(keys, expected);
    }

    #[test]
    fn a_worked_example() {
        // Positions 0..7, length 7: [CLS] 1 2 3 4 5 [SEP]; experts of kernels 1 and 3.
        // Best: expert 1 (k=3) at 3 -> covers 2..5. Next: expert 1 at 1 would cover 0..3
        // (crosses [CLS]): skipped; expert 0 at 1 -> covers 1. Expert 1 at 5 would cover
        // 4..7 (crosses [SEP]); expert 0 at 5 -> covers 5.
        let logits = [
            [0.0, 0.0],  // [CLS]
            [0.5, 0.9],  // 1
            [0.1, 0.2],  // 2
            [0.3, 0.95], // 3
            [0.4, 0.6],  // 4
            [0.35, 0.8], // 5
            [0.0, 0.0],  // [SEP]
            [9.0, 9.0],  // padding
        ];
        let flat: Vec<f32> = logits.iter().flatten().copied().collect();
        let units = basic_unit_nms(&flat, 8, &[1, 3], &[7]).unwrap();
        assert_eq!(units.centre, [-1, 0, -1, 1, -1, 0, -1, -1]);
        assert_eq!(units.cover, [-1, 0, 1, 1, 1, 0, -1, -1]);
        assert_eq!(units, reference(&flat, 8, &[1, 3], &[7]));
    }

    #[test]
    fn matches_the_reference_algorithm_on_random_batches() {
        let mut rng = dnalm_seq::seeded_rng(11);
        let kernels: Vec<usize> = (1..=10).collect();
        for trial in 0..20 {
            let steps = 40 + trial * 7;
            let lengths: Vec<usize> = (0..6).map(|_| rng.random_range(0..=steps)).collect();
            let logits: Vec<f32> = (0..lengths.len() * steps * kernels.len())
                .map(|_| rng.random_range(-3.0..3.0))
                .collect();
            let ours = basic_unit_nms(&logits, steps, &kernels, &lengths).unwrap();
            assert_eq!(
                ours,
                reference(&logits, steps, &kernels, &lengths),
                "trial {trial}"
            );
        }
    }

    #[test]
    fn few_equal_logits_keep_index_order_and_signed_zeros_are_equal() {
        // All 8 candidates equal: libstdc++ sorts runs of at most 16 by insertion sort,
        // which keeps index order. Candidate 0 (position 1, expert 0, k=2) spans 0..2
        // and crosses [CLS]; candidate 1 (position 1, expert 1, k=1) is taken, and so on.
        let flat = vec![1.0f32; 6 * 2];
        let units = basic_unit_nms(&flat, 6, &[2, 1], &[6]).unwrap();
        // Position 2: expert 0 (k=2) spans 1..3, but 1 is covered -> expert 1.
        // Position 3: expert 0 spans 2..4, 2 covered -> expert 1; likewise 4.
        assert_eq!(units.centre, [-1, 1, 1, 1, 1, -1]);
        assert_eq!(units, reference(&flat, 6, &[2, 1], &[6]));
        let signed_zeros = [
            0.0f32, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0,
        ];
        let units = basic_unit_nms(&signed_zeros, 6, &[2, 1], &[6]).unwrap();
        assert_eq!(units.centre, [-1, 1, 1, 1, 1, -1]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(
            basic_unit_nms(&[0.0; 5], 3, &[1, 2], &[3]),
            Err(NmsError::Shape(_))
        ));
        assert!(matches!(
            basic_unit_nms(&[0.0; 6], 3, &[1, 0], &[3]),
            Err(NmsError::Shape(_))
        ));
        assert!(matches!(
            basic_unit_nms(&[0.0; 6], 3, &[1, 2], &[4]),
            Err(NmsError::Shape(_))
        ));
        let mut logits = [0.0f32; 6];
        logits[3] = f32::NAN;
        assert!(matches!(
            basic_unit_nms(&logits, 3, &[1, 2], &[3]),
            Err(NmsError::NotFinite {
                sequence: 0,
                position: 1,
                expert: 1,
                ..
            })
        ));
    }
}
