//! Count tables: for each context, the counts of the five outcomes that followed it.
//! Short contexts live in a dense array indexed by the packed context; long ones in a
//! hash map keyed by it.

use rustc_hash::FxHashMap;

use crate::history::OUTCOMES;

/// Counts of the outcomes `A C G T end` after one context.
pub type Counts = [u64; OUTCOMES];

const ZERO: Counts = [0; OUTCOMES];

/// Contexts of at most this many nucleotides may be stored densely (4^10 contexts,
/// 42 MB).
const MAX_DENSE_CONTEXT: usize = 10;

/// Counts keyed by packed contexts of one length.
#[derive(Debug, Clone, PartialEq)]
pub enum Table {
    /// One slot per possible context.
    Dense(Vec<Counts>),
    /// Only the contexts seen.
    Sparse(FxHashMap<u64, Counts>),
}

impl Table {
    /// An empty table for contexts of `context_len` nucleotides, dense when that is
    /// small and the data (`expected_events`) is large enough to fill a good part of it.
    pub fn for_context(context_len: usize, expected_events: usize) -> Self {
        let slots = 1usize << (2 * context_len);
        if context_len <= MAX_DENSE_CONTEXT && slots <= expected_events.max(1 << 12) {
            Table::Dense(vec![ZERO; slots])
        } else {
            Table::Sparse(FxHashMap::default())
        }
    }

    /// The counts after `context` (zeros if never seen).
    #[inline]
    pub fn get(&self, context: u64) -> &Counts {
        match self {
            Table::Dense(slots) => &slots[context as usize],
            Table::Sparse(map) => map.get(&context).unwrap_or(&ZERO),
        }
    }

    /// Adds `amount` to the count of `outcome` after `context`.
    #[inline]
    pub fn add(&mut self, context: u64, outcome: u8, amount: u64) {
        let slot = match self {
            Table::Dense(slots) => &mut slots[context as usize],
            Table::Sparse(map) => map.entry(context).or_insert(ZERO),
        };
        slot[outcome as usize] += amount;
    }

    /// Adds every count of `other` (a table for the same context length).
    pub fn merge(&mut self, other: &Table) {
        match (self, other) {
            (Table::Dense(mine), Table::Dense(theirs)) => {
                for (slot, add) in mine.iter_mut().zip(theirs) {
                    for (count, extra) in slot.iter_mut().zip(add) {
                        *count += extra;
                    }
                }
            }
            (mine, other) => {
                for (context, counts) in other.nonzero() {
                    for (outcome, &count) in counts.iter().enumerate() {
                        if count > 0 {
                            mine.add(context, outcome as u8, count);
                        }
                    }
                }
            }
        }
    }

    /// Every context with a non-zero count, in no particular order.
    pub fn nonzero(&self) -> Box<dyn Iterator<Item = (u64, &Counts)> + '_> {
        match self {
            Table::Dense(slots) => Box::new(
                slots
                    .iter()
                    .enumerate()
                    .filter(|(_, counts)| counts.iter().any(|&c| c > 0))
                    .map(|(context, counts)| (context as u64, counts)),
            ),
            Table::Sparse(map) => Box::new(
                map.iter()
                    .filter(|(_, c)| c.iter().any(|&n| n > 0))
                    .map(|(&k, c)| (k, c)),
            ),
        }
    }

    /// Every context with a non-zero count, sorted by context (for files).
    pub fn sorted_nonzero(&self) -> Vec<(u64, Counts)> {
        let mut entries: Vec<(u64, Counts)> = self.nonzero().map(|(k, c)| (k, *c)).collect();
        entries.sort_unstable_by_key(|(k, _)| *k);
        entries
    }
}

/// The counts of one order `k`: contexts of `k - 1` nucleotides, and contexts of the
/// begin-of-sequence mark followed by `k - 2` nucleotides ("anchored").
#[derive(Debug, Clone, PartialEq)]
pub struct OrderCounts {
    /// Contexts of `k - 1` nucleotides: raw counts at the model's top order,
    /// Kneser-Ney continuation counts below it.
    pub plain: Table,
    /// Contexts starting at the begin-of-sequence mark: always raw counts (nothing can
    /// precede the mark).
    pub anchored: FxHashMap<u64, Counts>,
}

impl OrderCounts {
    /// The counts after an anchored context.
    #[inline]
    pub fn anchored(&self, context: u64) -> &Counts {
        self.anchored.get(&context).unwrap_or(&ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_agree() {
        let mut dense = Table::Dense(vec![ZERO; 16]);
        let mut sparse = Table::Sparse(FxHashMap::default());
        for (context, outcome) in [(3u64, 1u8), (3, 1), (15, 4), (0, 0)] {
            dense.add(context, outcome, 1);
            sparse.add(context, outcome, 1);
        }
        assert_eq!(dense.sorted_nonzero(), sparse.sorted_nonzero());
        assert_eq!(dense.get(3), &[0, 2, 0, 0, 0]);
        assert_eq!(sparse.get(7), &ZERO);
        let mut merged = sparse.clone();
        merged.merge(&dense);
        assert_eq!(merged.get(3), &[0, 4, 0, 0, 0]);
    }
}
