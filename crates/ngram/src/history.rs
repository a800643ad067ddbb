//! Walking a sequence as a language model sees it: one event per nucleotide and one
//! for the end, each with the nucleotides before it.
//!
//! The history is the last up to 15 nucleotides packed 2 bits each (most recent in the
//! lowest bits) and `since_start`, the number of nucleotides since the sequence began
//! (capped at the model's context length). A begin-of-sequence mark precedes every
//! sequence, as `<s>` does in KenLM. `N` breaks the context: the model restarts after
//! it as at a sequence start, and the `N` itself is not an event.

use dnalm_seq::alphabet::{code_of, CODE_N};

/// Symbol index of the end of the sequence among the model's outcomes.
pub const END: u8 = 4;
/// Number of outcomes: `A C G T` and the end.
pub const OUTCOMES: usize = 5;
/// The longest context a model can use (orders up to 16).
pub const MAX_CONTEXT: usize = 15;

/// One prediction: `symbol` (0..=3 for `ACGT`, [`END`]) after the given history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// What is predicted.
    pub symbol: u8,
    /// The preceding nucleotides, packed (most recent lowest).
    pub history: u64,
    /// Nucleotides since the begin-of-sequence mark, capped at the context length.
    pub since_start: usize,
    /// Where it is in the sequence (the sequence's length for the end).
    pub position: usize,
}

/// The state a model keeps while reading a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct History {
    /// The preceding nucleotides, packed (most recent lowest).
    pub packed: u64,
    /// Nucleotides since the begin-of-sequence mark, capped at `context`.
    pub since_start: usize,
    context: usize,
}

/// The mask keeping the last `len` nucleotides of a packed history.
pub const fn mask(len: usize) -> u64 {
    if len == 0 {
        0
    } else {
        u64::MAX >> (64 - 2 * len)
    }
}

impl History {
    /// A fresh history at a sequence start, for a model using `context` nucleotides.
    pub fn start(context: usize) -> Self {
        Self {
            packed: 0,
            since_start: 0,
            context,
        }
    }

    /// Reads one normalised symbol: a nucleotide extends the history, `N` restarts it.
    pub fn push(&mut self, symbol: u8) {
        let code = code_of(symbol);
        if code == CODE_N {
            *self = Self::start(self.context);
        } else {
            self.packed = ((self.packed << 2) | u64::from(code)) & mask(self.context);
            self.since_start = (self.since_start + 1).min(self.context);
        }
    }
}

/// Calls `visit` for every event of positions `from..to` of `seq`, where position
/// `seq.len()` is the end. The history before `from` is rebuilt from the preceding
/// `context` nucleotides, so chunks of one sequence can be walked independently.
pub fn for_each_event(
    seq: &[u8],
    from: usize,
    to: usize,
    context: usize,
    mut visit: impl FnMut(Event),
) {
    let prime_from = from.saturating_sub(context);
    let mut history = History::start(context);
    if prime_from > 0 {
        // Far from the start: the priming nucleotides fix the whole history, and
        // an N among them restarts it as usual.
        history.since_start = context;
    }
    for &symbol in &seq[prime_from..from.min(seq.len())] {
        history.push(symbol);
    }
    for position in from..to {
        if position == seq.len() {
            visit(Event {
                symbol: END,
                history: history.packed,
                since_start: history.since_start,
                position,
            });
            break;
        }
        let symbol = seq[position];
        let code = code_of(symbol);
        if code != CODE_N {
            visit(Event {
                symbol: code,
                history: history.packed,
                since_start: history.since_start,
                position,
            });
        }
        history.push(symbol);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_events(seq: &[u8], from: usize, to: usize, context: usize) -> Vec<Event> {
        let mut out = Vec::new();
        for_each_event(seq, from, to, context, |e| out.push(e));
        out
    }

    #[test]
    fn events_by_hand() {
        let events = all_events(b"ACNG", 0, 5, 2);
        let symbols: Vec<u8> = events.iter().map(|e| e.symbol).collect();
        assert_eq!(symbols, [0, 1, 2, END]);
        assert_eq!(
            events[1],
            Event {
                symbol: 1,
                history: 0b00,
                since_start: 1,
                position: 1
            }
        );
        // After N the history restarts.
        assert_eq!(
            events[2],
            Event {
                symbol: 2,
                history: 0,
                since_start: 0,
                position: 3
            }
        );
        assert_eq!(
            events[3],
            Event {
                symbol: END,
                history: 0b10,
                since_start: 1,
                position: 4
            }
        );
    }

    #[test]
    fn chunks_give_the_same_events_as_one_pass() {
        let seq = b"ACGTTGCANNACGTAGGCTAGCTANGATCCAGT";
        for context in [0, 1, 3, 7, 15] {
            let whole = all_events(seq, 0, seq.len() + 1, context);
            let mut pieces = Vec::new();
            for (from, to) in [(0, 5), (5, 9), (9, 11), (11, 30), (30, seq.len() + 1)] {
                pieces.extend(all_events(seq, from, to, context));
            }
            assert_eq!(pieces, whole, "context {context}");
        }
    }
}
