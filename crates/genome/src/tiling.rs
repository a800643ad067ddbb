//! How a long stretch of sequence is cut into overlapping windows, and which part of
//! each window is kept, so that every nucleotide is scored exactly once, in the window
//! where it has the most context.
//!
//! Windows of `window` nucleotides start every `stride`; the `window - stride`
//! nucleotides two neighbours share are context, not output:
//! - a model that reads left to right (`ln p(x_i | x_<i)`) keeps the last `stride` of
//!   each window, so each kept nucleotide has at least `window - stride` before it;
//! - a model that sees both sides keeps the middle `stride`, trimming half the overlap
//!   from each end.
//!
//! The first window keeps from the stretch's start and the last one to its end. The
//! last window is moved back to end exactly at the stretch's end (so it is as long as
//! the others and its kept part has full context before it); a stretch shorter than a
//! window is one window. Every window but the last is known as soon as the stretch is
//! known to go on past it, so a stream can be cut without knowing its length
//! ([`Tiling::interior`], then [`Tiling::tail`] at the end).

use std::ops::Range;

use crate::error::{GenomeError, Result};

/// The longest window accepted (in nucleotides).
pub const MAX_WINDOW: usize = 1 << 20;

/// Window length, stride and the part of each window that is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiling {
    window: usize,
    stride: usize,
    left_trim: usize,
    right_trim: usize,
}

/// One window of a stretch (coordinates within the stretch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TiledWindow {
    /// The nucleotides the model reads.
    pub span: Range<usize>,
    /// The nucleotides whose scores are kept (inside `span`).
    pub keep: Range<usize>,
}

impl Tiling {
    /// Windows of `window` every `stride` (`1 <= stride <= window <= MAX_WINDOW`); the
    /// kept part trims the overlap from the left only, or from both sides when the
    /// model sees both sides of a nucleotide.
    pub fn new(window: usize, stride: usize, both_sides: bool) -> Result<Self> {
        if window == 0 || window > MAX_WINDOW {
            return Err(GenomeError::Setting(format!(
                "--window {window}: a window is 1 to {MAX_WINDOW} nucleotides"
            )));
        }
        if stride == 0 || stride > window {
            return Err(GenomeError::Setting(format!(
                "--stride {stride}: the stride is 1 to the window ({window}) nucleotides"
            )));
        }
        let overlap = window - stride;
        let left_trim = if both_sides { overlap / 2 } else { overlap };
        Ok(Self {
            window,
            stride,
            left_trim,
            right_trim: overlap - left_trim,
        })
    }

    /// The window length.
    pub fn window(&self) -> usize {
        self.window
    }

    /// The stride.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Window `j` of a stretch known to be longer than `j * stride + window`.
    pub fn interior(&self, j: usize) -> TiledWindow {
        let start = j * self.stride;
        let keep_start = if j == 0 { 0 } else { start + self.left_trim };
        TiledWindow {
            span: start..start + self.window,
            keep: keep_start..start + self.window - self.right_trim,
        }
    }

    /// How many interior windows a stretch of `len` has.
    pub fn interior_count(&self, len: usize) -> usize {
        if len <= self.window {
            0
        } else {
            (len - self.window - 1) / self.stride + 1
        }
    }

    /// The window that ends a stretch of `len` after its interior windows (none when
    /// they already keep everything, which only an empty stretch does).
    pub fn tail(&self, len: usize) -> Option<TiledWindow> {
        let interior = self.interior_count(len);
        let covered = match interior {
            0 => 0,
            n => self.interior(n - 1).keep.end,
        };
        (covered < len).then(|| TiledWindow {
            span: len.saturating_sub(self.window)..len,
            keep: covered..len,
        })
    }

    /// Every window of a stretch of `len`, in order.
    pub fn plan(&self, len: usize) -> Vec<TiledWindow> {
        (0..self.interior_count(len))
            .map(|j| self.interior(j))
            .chain(self.tail(len))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_parts_tile_every_stretch_once_with_the_promised_context() {
        for (window, stride) in [(1, 1), (5, 5), (8, 3), (10, 4), (10, 1), (7, 6)] {
            for both_sides in [false, true] {
                let tiling = Tiling::new(window, stride, both_sides).unwrap();
                let overlap = window - stride;
                let (left, right) = if both_sides {
                    (overlap / 2, overlap - overlap / 2)
                } else {
                    (overlap, 0)
                };
                for len in 0..60 {
                    let plan = tiling.plan(len);
                    let mut next = 0;
                    for w in &plan {
                        assert_eq!(w.keep.start, next, "{window}/{stride} len {len}: {plan:?}");
                        assert!(w.keep.start < w.keep.end);
                        assert!(w.span.start <= w.keep.start && w.keep.end <= w.span.end);
                        assert_eq!(w.span.len(), window.min(len), "every window full");
                        assert!(w.span.end <= len);
                        // Context before (and after) each kept part, unless at an end.
                        let before = w.keep.start - w.span.start;
                        assert!(before >= left || w.span.start == 0, "{w:?}");
                        let after = w.span.end - w.keep.end;
                        assert!(after >= right || w.span.end == len, "{w:?}");
                        next = w.keep.end;
                    }
                    assert_eq!(next, len, "{window}/{stride} len {len}: {plan:?}");
                }
            }
        }
    }

    #[test]
    fn by_hand() {
        // Left to right, window 4, stride 2: keep the last 2 of each window.
        let tiling = Tiling::new(4, 2, false).unwrap();
        let plan = tiling.plan(9);
        let spans: Vec<_> = plan
            .iter()
            .map(|w| (w.span.clone(), w.keep.clone()))
            .collect();
        assert_eq!(
            spans,
            [(0..4, 0..4), (2..6, 4..6), (4..8, 6..8), (5..9, 8..9)]
        );
        // Both sides, window 6, stride 2: trim 2 from each side.
        let tiling = Tiling::new(6, 2, true).unwrap();
        let spans: Vec<_> = tiling
            .plan(10)
            .iter()
            .map(|w| (w.span.clone(), w.keep.clone()))
            .collect();
        assert_eq!(spans, [(0..6, 0..4), (2..8, 4..6), (4..10, 6..10)]);
        assert_eq!(tiling.plan(3)[0].span, 0..3);
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        assert!(Tiling::new(0, 1, false).is_err());
        assert!(Tiling::new(4, 0, false).is_err());
        assert!(Tiling::new(4, 5, true)
            .unwrap_err()
            .to_string()
            .contains("--stride 5"));
        assert!(Tiling::new(MAX_WINDOW + 1, 1, false).is_err());
    }
}
