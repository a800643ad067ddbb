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
//! libstdc++'s introsort leaves them. When the order of equal logits can change the
//! result, we sort the sequence with that same algorithm ([`crate::gnu_sort`]), so ties
//! are broken exactly as the reference built with GCC breaks them (`-0.0` and `0.0` are
//! equal, as for C++'s `>`).
//!
//! Speed: candidates that can never be taken are dropped first (see
//! [`crate::live_candidates`]: a span that leaves the sequence, or one holding a
//! candidate of higher logit; about 940 of 5,100 per sequence stay in the benchmark).
//! Each live candidate becomes one `u64` key: the logit mapped to an order-preserving
//! integer, inverted, above its position and expert (so equal logits order by index,
//! as a stable sort would leave them). The keys are bucketed by a linear map of the
//! logit (a monotone map, so buckets are in logit order; four buckets a key) and an
//! insertion sort finishes the few keys a bucket shares. The cover is a bit set, so a
//! visit checks and claims its span with a few word operations and no branch on the
//! outcome. Ties need care only where their order can change the result: when two tied
//! candidates' spans overlap (the acceptance of a candidate depends only on the cover
//! inside its own span). Only then does the sequence start over on the exact path, the
//! reference's own sort order.

use std::cell::RefCell;

use rayon::prelude::*;

use crate::gnu_sort::gnu_sort;
use crate::live_candidates::LiveCandidates;

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
    if experts > MAX_EXPERTS || steps > MAX_STEPS {
        return Err(NmsError::Shape(format!(
            "at most {MAX_EXPERTS} experts and {MAX_STEPS} positions, got {experts} and {steps}"
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
    let mut units = BasicUnits {
        centre: vec![-1; batch * steps],
        cover: vec![-1; batch * steps],
    };
    if steps == 0 {
        return Ok(units);
    }
    let all_finite = units
        .centre
        .par_chunks_mut(steps)
        .zip(units.cover.par_chunks_mut(steps))
        .zip(logits.par_chunks(steps * experts))
        .zip(lengths.par_iter())
        .map(|(((centre, cover), logits), &length)| {
            // Each sequence checks its own logits, in parallel and as they come into
            // cache for its NMS (a fold without early exit vectorises); the first bad
            // one is looked for only on failure.
            let finite = logits.iter().fold(true, |finite, v| finite & v.is_finite());
            if finite {
                SCRATCH.with_borrow_mut(|scratch| {
                    sequence_nms(logits, kernel_sizes, length, centre, cover, scratch);
                });
            }
            finite
        })
        .reduce(|| true, |a, b| a & b);
    if !all_finite {
        let index = logits.iter().position(|v| !v.is_finite()).unwrap_or(0);
        return Err(NmsError::NotFinite {
            sequence: index / (steps * experts),
            position: index / experts % steps,
            expert: index % experts,
            value: logits[index],
        });
    }
    Ok(units)
}

/// Experts a key can name (its low 8 bits).
const MAX_EXPERTS: usize = 256;
/// Positions a key can name (24 bits above the expert).
const MAX_STEPS: usize = 1 << 24;
/// Tie groups larger than this take the exact path without looking at their spans.
const LARGEST_CHECKED_TIE: usize = 32;

/// Maps a float to an integer of the same order (`-0.0` and `0.0` alike), without a
/// branch on the sign (it would be mispredicted half the time).
fn ordered_bits(value: f32) -> u32 {
    let bits = (value + 0.0).to_bits();
    // Negative: all bits flipped; positive: the sign bit set.
    let flip = ((bits as i32 >> 31) as u32) | 0x8000_0000;
    bits ^ flip
}

/// A candidate as one integer: ascending keys visit higher logits first, equal logits
/// in index (position, then expert) order.
fn candidate_key(logit: f32, position: usize, expert: usize) -> u64 {
    (u64::from(!ordered_bits(logit)) << 32) | ((position as u64) << 8) | expert as u64
}

/// The position and expert a key names.
fn key_position_and_expert(key: u64) -> (usize, usize) {
    ((key as u32 >> 8) as usize, (key & 0xFF) as usize)
}

thread_local! {
    /// Each thread's working space, kept from call to call: fresh buffers would cost
    /// page faults on every call (the model calls the NMS once a forward pass).
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Working space of one thread.
#[derive(Default)]
struct Scratch {
    /// Finds the candidates that can be taken.
    live_candidates: LiveCandidates,
    /// The live candidates' keys (all candidates', in index order, on the exact path).
    keys: Vec<u64>,
    /// Their logits.
    logits: Vec<f32>,
    /// Their buckets.
    buckets: Vec<u32>,
    /// The keys in bucket order, then in key order.
    sorted: Vec<u64>,
    /// One past each bucket's last key.
    bucket_ends: Vec<u32>,
    /// One bit per position: covered by a unit.
    covered: Vec<u64>,
    /// The keys of the candidates taken.
    taken: Vec<u64>,
}

/// The cover state of one sequence while candidates are visited.
struct Scan<'a> {
    kernel_sizes: &'a [usize],
    left: usize,
    right: usize,
    /// Covered positions as bits (bit `p % 64` of word `p / 64`), one spare word at
    /// the end.
    covered: &'a mut [u64],
    /// The keys of the candidates taken, then room for one more.
    taken: &'a mut [u64],
    taken_count: usize,
    uncovered: usize,
}

impl Scan<'_> {
    /// The span `[start, end)` of a kernel of size `kernel` centred at `position`.
    fn span_of(position: usize, kernel: usize) -> (usize, usize) {
        let start = position - kernel / 2;
        (start, start + kernel)
    }

    /// Whether the candidate a key names spans only positions of the sequence.
    fn inside(&self, key: u64) -> bool {
        let (position, expert) = key_position_and_expert(key);
        let kernel = self.kernel_sizes[expert];
        position >= self.left + kernel / 2 && position - kernel / 2 + kernel <= self.right
    }

    /// Takes the candidate a key names (its span inside the sequence) if none of its
    /// span (which holds its centre) is covered; true once every position is covered.
    /// Without a branch on the outcome for kernels up to 64 (a branch would be
    /// mispredicted for about one candidate in five).
    fn visit(&mut self, key: u64) -> bool {
        let (position, expert) = key_position_and_expert(key);
        let kernel = self.kernel_sizes[expert];
        let (start, end) = Self::span_of(position, kernel);
        let free = if kernel <= 64 {
            let (word, shift) = (start / 64, start % 64);
            let pair = u128::from(self.covered[word]) | u128::from(self.covered[word + 1]) << 64;
            let span = u128::from(u64::MAX >> (64 - kernel)) << shift;
            let free = pair & span == 0;
            let added = span & 0u128.wrapping_sub(u128::from(free));
            self.covered[word] |= added as u64;
            self.covered[word + 1] |= (added >> 64) as u64;
            free
        } else {
            let bit = |p: usize| 1u64 << (p % 64);
            let free = (start..end).all(|p| self.covered[p / 64] & bit(p) == 0);
            if free {
                (start..end).for_each(|p| self.covered[p / 64] |= bit(p));
            }
            free
        };
        self.taken[self.taken_count] = key;
        self.taken_count += usize::from(free);
        self.uncovered -= kernel & 0usize.wrapping_sub(usize::from(free));
        self.uncovered == 0
    }

    /// Writes the units taken into the masks.
    fn write_units(&self, centre: &mut [i32], cover: &mut [i32]) {
        for &key in &self.taken[..self.taken_count] {
            let (position, expert) = key_position_and_expert(key);
            let (start, end) = Self::span_of(position, self.kernel_sizes[expert]);
            centre[position] = expert as i32;
            cover[start..end].fill(expert as i32);
        }
    }
}

/// The NMS of one sequence.
fn sequence_nms(
    logits: &[f32],
    kernel_sizes: &[usize],
    length: usize,
    centre: &mut [i32],
    cover: &mut [i32],
    scratch: &mut Scratch,
) {
    let experts = kernel_sizes.len();
    let (left, right) = (1, length.saturating_sub(1));
    if right <= left {
        return;
    }
    let candidates = &logits[left * experts..right * experts];
    // Taken out while the scan holds them (bucketed_scan borrows the rest of the
    // scratch), put back at the end. Splitting the scratch into two structs instead ran
    // 10-20% slower on Zen 3 with the same instruction count.
    let (mut covered, mut taken) = (
        std::mem::take(&mut scratch.covered),
        std::mem::take(&mut scratch.taken),
    );
    covered.clear();
    covered.resize(right.div_ceil(64) + 1, 0);
    taken.resize(right - left + 1, 0);
    let mut scan = Scan {
        kernel_sizes,
        left,
        right,
        covered: &mut covered,
        taken: &mut taken,
        taken_count: 0,
        uncovered: right - left,
    };
    if !bucketed_scan(candidates, &mut scan, scratch) {
        scan.covered.fill(0);
        scan.taken_count = 0;
        scan.uncovered = right - left;
        exact_scan(candidates, &mut scan, &mut scratch.keys);
    }
    scan.write_units(centre, cover);
    (scratch.covered, scratch.taken) = (covered, taken);
}

/// The candidates' keys in index order.
fn index_ordered_keys(candidates: &[f32], experts: usize, left: usize, keys: &mut Vec<u64>) {
    keys.clear();
    for (offset, logits) in candidates.chunks_exact(experts).enumerate() {
        keys.extend(
            logits
                .iter()
                .enumerate()
                .map(|(expert, &logit)| candidate_key(logit, offset + left, expert)),
        );
    }
}

/// Visits the live candidates by logit, sorted through buckets. False (and the scan
/// left half done) when a tie among overlapping candidates needs the exact order.
fn bucketed_scan(candidates: &[f32], scan: &mut Scan, scratch: &mut Scratch) -> bool {
    let Scratch {
        live_candidates,
        keys,
        logits,
        sorted,
        buckets: bucket_of,
        bucket_ends: ends,
        ..
    } = scratch;
    let live = live_candidates.find(candidates, scan.kernel_sizes, scan.left);
    let kept = live.len();
    let experts = scan.kernel_sizes.len();
    keys.resize(kept, 0);
    logits.resize(kept, 0.0);
    let (mut lowest, mut highest) = (f32::INFINITY, f32::NEG_INFINITY);
    for ((key, logit), &low_half) in keys.iter_mut().zip(logits.iter_mut()).zip(live) {
        let (position, expert) = key_position_and_expert(u64::from(low_half));
        *logit = candidates[(position - scan.left) * experts + expert];
        *key = candidate_key(*logit, position, expert);
        lowest = if *logit < lowest { *logit } else { lowest };
        highest = if *logit > highest { *logit } else { highest };
    }
    let buckets = (4 * keys.len()).max(1);
    let range = f64::from(highest) - f64::from(lowest);
    let scale = ((buckets - 1) as f64 / range) as f32;
    let scale = if range > 0.0 && scale.is_finite() {
        scale
    } else {
        0.0
    };
    // Higher logits go to lower buckets. Rounded subtraction and scaling are monotone,
    // so bucket order is logit order (and equal logits share a bucket).
    // Rounding to the nearest integer through the mantissa of 2^52 is monotone too
    // (cheaper than `as usize`, which saturates).
    let bucket = |logit: f32| {
        let scaled = f64::from((highest - logit) * scale) + 4_503_599_627_370_496.0;
        ((scaled.to_bits() & 0x000F_FFFF_FFFF_FFFF) as usize).min(buckets - 1) as u32
    };
    bucket_of.resize(kept, 0);
    for (bucket_of, &logit) in bucket_of.iter_mut().zip(logits.iter()) {
        *bucket_of = bucket(logit);
    }
    ends.clear();
    ends.resize(buckets, 0);
    for &bucket in bucket_of.iter() {
        ends[bucket as usize] += 1;
    }
    let mut next = 0;
    for end in ends.iter_mut() {
        let count = *end;
        *end = next;
        next += count;
    }
    sorted.resize(kept, 0);
    for (&key, &bucket) in keys.iter().zip(bucket_of.iter()) {
        let slot = &mut ends[bucket as usize];
        sorted[*slot as usize] = key;
        *slot += 1;
    }
    // Keys are out of order only within a bucket, and with four buckets a key few
    // share one: insertion sort moves those a step or two.
    insertion_sort(sorted);
    if sorted.windows(2).any(|pair| pair[0] >> 32 == pair[1] >> 32) && ties_interact(sorted, scan) {
        return false;
    }
    for &key in sorted.iter() {
        if scan.visit(key) {
            break;
        }
    }
    true
}

/// Sorts keys that are nearly in order.
fn insertion_sort(keys: &mut [u64]) {
    for i in 1..keys.len() {
        let key = keys[i];
        let mut j = i;
        while j > 0 && keys[j - 1] > key {
            keys[j] = keys[j - 1];
            j -= 1;
        }
        keys[j] = key;
    }
}

/// Whether two candidates of equal logit (neighbours in sorted keys) have overlapping
/// spans, so that their order could change the result.
fn ties_interact(sorted_keys: &[u64], scan: &Scan) -> bool {
    let mut group_start = 0;
    for i in 1..=sorted_keys.len() {
        if i < sorted_keys.len() && sorted_keys[i] >> 32 == sorted_keys[group_start] >> 32 {
            continue;
        }
        let group = &sorted_keys[group_start..i];
        group_start = i;
        if group.len() < 2 {
            continue;
        }
        if group.len() > LARGEST_CHECKED_TIE {
            return true;
        }
        // Spans that leave the sequence are never taken and cannot interact.
        let spans: Vec<(usize, usize)> = group
            .iter()
            .filter(|&&key| scan.inside(key))
            .map(|&key| {
                let (position, expert) = key_position_and_expert(key);
                Scan::span_of(position, scan.kernel_sizes[expert])
            })
            .collect();
        for (a, &(start_a, end_a)) in spans.iter().enumerate() {
            if spans[a + 1..]
                .iter()
                .any(|&(start_b, end_b)| start_a < end_b && start_b < end_a)
            {
                return true;
            }
        }
    }
    false
}

/// Visits the candidates in exactly the reference's order: libstdc++'s `std::sort` by
/// `logit[a] > logit[b]` over the candidates in index order.
fn exact_scan(candidates: &[f32], scan: &mut Scan, keys: &mut Vec<u64>) {
    index_ordered_keys(candidates, scan.kernel_sizes.len(), scan.left, keys);
    gnu_sort(keys, |a, b| a >> 32 < b >> 32);
    for &key in keys.iter() {
        if scan.inside(key) && scan.visit(key) {
            return;
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
    fn matches_the_reference_with_other_expert_sets() {
        // Without a kernel-1 expert the drop rule starts from wider spans; kernels out
        // of order, two of one size, and spans longer than a 64-bit word of the cover
        // (70) or than a whole sequence (200) must all give the reference's units.
        let mut rng = dnalm_seq::seeded_rng(12);
        let expert_sets = [vec![2, 3, 5], vec![4, 1, 7, 2], vec![3, 1, 3, 70, 200]];
        for (trial, kernels) in expert_sets.iter().enumerate() {
            let steps = 160;
            let lengths = vec![steps, steps - 9, 3];
            // The 70-wide expert scores higher, so that some of its units are taken.
            let logits: Vec<f32> = (0..lengths.len() * steps * kernels.len())
                .map(|i| {
                    let boost = if kernels[i % kernels.len()] == 70 {
                        5.5
                    } else {
                        0.0
                    };
                    rng.random_range(-3.0f32..3.0) + boost
                })
                .collect();
            let ours = basic_unit_nms(&logits, steps, kernels, &lengths).unwrap();
            if kernels.contains(&70) {
                assert!(ours.centre.contains(&3), "no 70-wide unit taken");
            }
            assert_eq!(
                ours,
                reference(&logits, steps, kernels, &lengths),
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
