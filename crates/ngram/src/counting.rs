//! Counting n-grams over a corpus, in parallel over chunks.
//!
//! Each event adds exactly one raw count: to the top order's plain table when at least
//! `order - 1` nucleotides precede it since the sequence start, otherwise to the
//! anchored table of the order that reaches back to the start mark. The plain tables of
//! lower orders are then derived as Kneser-Ney continuation counts: the number of
//! distinct symbols (nucleotide or start mark) seen before each n-gram.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::error::{NgramError, Result};
use crate::history::{for_each_event, mask, MAX_CONTEXT, OUTCOMES};
use crate::table::{Counts, OrderCounts, Table};

/// The largest supported order.
pub const MAX_ORDER: usize = MAX_CONTEXT + 1;

/// Positions per parallel work item.
const CHUNK: usize = 1 << 20;

/// All counts of an n-gram model of one order.
#[derive(Debug, Clone, PartialEq)]
pub struct NgramCounts {
    /// The order n (context of n - 1 nucleotides).
    pub order: usize,
    /// Counts of orders 1..=n, at index k - 1.
    pub orders: Vec<OrderCounts>,
}

impl NgramCounts {
    /// The counts of order `k` after a history with `since_start` nucleotides since the
    /// start mark: its plain context of `k - 1` nucleotides, or, when that reaches back
    /// past the mark (`k - 1 == since_start + 1`), the anchored one.
    #[inline]
    pub fn at(&self, k: usize, history: u64, since_start: usize) -> &Counts {
        let order = &self.orders[k - 1];
        if k - 1 <= since_start {
            order.plain.get(history & mask(k - 1))
        } else {
            order.anchored(history & mask(since_start))
        }
    }
}

/// What one worker counted: the top order's plain table and every order's anchored
/// table.
struct Partial {
    top: Table,
    anchored: Vec<FxHashMap<u64, [u64; OUTCOMES]>>,
}

impl Partial {
    fn new(order: usize, expected_events: usize) -> Self {
        Self {
            top: Table::for_context(order - 1, expected_events),
            anchored: vec![FxHashMap::default(); order],
        }
    }

    fn merge(mut self, other: Partial) -> Self {
        self.top.merge(&other.top);
        for (mine, theirs) in self.anchored.iter_mut().zip(other.anchored) {
            for (context, counts) in theirs {
                let slot = mine.entry(context).or_insert([0; OUTCOMES]);
                for (count, extra) in slot.iter_mut().zip(counts) {
                    *count += extra;
                }
            }
        }
        self
    }
}

/// Counts every n-gram of orders `1..=order` in normalised sequences.
pub fn count(sequences: &[&[u8]], order: usize) -> Result<NgramCounts> {
    if !(1..=MAX_ORDER).contains(&order) {
        return Err(NgramError::InvalidParameter(format!(
            "order must be in 1..={MAX_ORDER}, got {order}"
        )));
    }
    let context = order - 1;
    let expected_events: usize = sequences.iter().map(|s| s.len() + 1).sum();
    let work: Vec<(usize, usize, usize)> = sequences
        .iter()
        .enumerate()
        .flat_map(|(index, seq)| {
            let end = seq.len() + 1;
            (0..end)
                .step_by(CHUNK)
                .map(move |from| (index, from, (from + CHUNK).min(end)))
        })
        .collect();
    let partial = work
        .par_iter()
        .fold(
            || Partial::new(order, expected_events),
            |mut partial, &(index, from, to)| {
                for_each_event(sequences[index], from, to, context, |event| {
                    if event.since_start >= context {
                        partial
                            .top
                            .add(event.history & mask(context), event.symbol, 1);
                    } else {
                        let slot = partial.anchored[event.since_start + 1]
                            .entry(event.history & mask(event.since_start))
                            .or_insert([0; OUTCOMES]);
                        slot[event.symbol as usize] += 1;
                    }
                });
                partial
            },
        )
        .reduce(|| Partial::new(order, 0), Partial::merge);

    let mut anchored = partial.anchored;
    // Built from the top down (each order's continuation counts need the order above,
    // anchored table included); reversed at the end.
    let mut orders: Vec<OrderCounts> = Vec::with_capacity(order);
    orders.push(OrderCounts {
        plain: partial.top,
        anchored: std::mem::take(&mut anchored[order - 1]),
    });
    for k in (1..order).rev() {
        let higher = orders.last().expect("pushed above");
        let plain = continuation_counts(higher, k - 1, expected_events);
        orders.push(OrderCounts {
            plain,
            anchored: std::mem::take(&mut anchored[k - 1]),
        });
    }
    orders.reverse();
    Ok(NgramCounts { order, orders })
}

/// Kneser-Ney continuation counts for plain contexts of `context_len` nucleotides: for
/// each (context, outcome), how many distinct symbols precede it among the n-grams of
/// the order above (the start mark included).
fn continuation_counts(higher: &OrderCounts, context_len: usize, expected_events: usize) -> Table {
    let mut table = Table::for_context(context_len, expected_events);
    let keep = mask(context_len);
    let higher_plain = higher.plain.nonzero();
    let higher_anchored = higher
        .anchored
        .iter()
        .map(|(&context, counts)| (context, counts));
    for (context, counts) in higher_plain.chain(higher_anchored) {
        for (outcome, &count) in counts.iter().enumerate() {
            if count > 0 {
                table.add(context & keep, outcome as u8, 1);
            }
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::END;

    #[test]
    fn bigram_counts_by_hand() {
        // "AC" and "AA": events (context -> symbol):
        // AC: <s>->A (anchored), A->C, C->end;  AA: <s>->A, A->A, A->end
        let counts = count(&[b"AC", b"AA"], 2).unwrap();
        let bigram = &counts.orders[1];
        assert_eq!(bigram.anchored(0), &[2, 0, 0, 0, 0], "<s> A twice");
        assert_eq!(bigram.plain.get(0), &[1, 1, 0, 0, 1], "after A: A, C, end");
        assert_eq!(bigram.plain.get(1), &[0, 0, 0, 0, 1], "after C: end");
        // Unigram continuation counts: distinct left neighbours of each outcome among
        // the bigrams <s>A, AC, Cend, AA, Aend.
        let unigram = &counts.orders[0];
        assert_eq!(
            unigram.plain.get(0),
            &[2, 1, 0, 0, 2],
            "A after {{<s>, A}}, C after A, end after {{A, C}}"
        );
        assert_eq!(unigram.plain.get(0)[END as usize], 2);
    }

    #[test]
    fn parallel_chunks_count_like_one_pass() {
        let mut seq = Vec::new();
        for i in 0..(3 * CHUNK + 17) {
            seq.push(if i % 1009 == 0 {
                b'N'
            } else {
                b"ACGT"[(i * 31 + i / 7) % 4]
            });
        }
        let chunked = count(&[&seq], 5).unwrap();
        // Reference: one sequential pass.
        let mut reference = Partial::new(5, seq.len());
        for_each_event(&seq, 0, seq.len() + 1, 4, |event| {
            if event.since_start >= 4 {
                reference.top.add(event.history & mask(4), event.symbol, 1);
            } else {
                *reference.anchored[event.since_start + 1]
                    .entry(event.history & mask(event.since_start))
                    .or_insert([0; OUTCOMES])
                    .get_mut(event.symbol as usize)
                    .unwrap() += 1;
            }
        });
        assert_eq!(
            chunked.orders[4].plain.sorted_nonzero(),
            reference.top.sorted_nonzero()
        );
        for k in 0..5 {
            assert_eq!(chunked.orders[k].anchored, reference.anchored[k]);
        }
        let total: u64 = chunked.orders[4]
            .plain
            .nonzero()
            .map(|(_, c)| c.iter().sum::<u64>())
            .sum::<u64>()
            + chunked
                .orders
                .iter()
                .map(|o| {
                    o.anchored
                        .values()
                        .map(|c| c.iter().sum::<u64>())
                        .sum::<u64>()
                })
                .sum::<u64>();
        let n_count = seq.iter().filter(|&&b| b == b'N').count();
        assert_eq!(
            total as usize,
            seq.len() - n_count + 1,
            "one count per event"
        );
    }

    #[test]
    fn rejects_bad_orders() {
        assert!(count(&[b"ACGT"], 0).is_err());
        assert!(count(&[b"ACGT"], 17).is_err());
    }
}
