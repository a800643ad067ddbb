//! The windows of a scan, made as the nucleotides stream in: each sequence is cut at
//! its `N` runs into stretches of `ACGT` (an `N` is never scored, and a model's
//! context restarts after a gap as at a sequence start), and each stretch into the
//! overlapping windows of a [`Tiling`]. At most a window and a read's worth of
//! nucleotides are held, whatever the sequence's length.

use std::collections::VecDeque;
use std::ops::Range;

use crate::error::Result;
use crate::scan_source::ScanSource;
use crate::tiling::{TiledWindow, Tiling};

/// Nucleotides read from the source at a time.
const READ_PIECE: usize = 1 << 16;

/// One window to score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanWindow {
    /// Which sequence of the source (its index).
    pub sequence: usize,
    /// Where the window starts in that sequence (0-based, from the sequence's start).
    pub offset: u64,
    /// Its nucleotides (`ACGT` only).
    pub bases: Vec<u8>,
    /// The nucleotides whose scores are kept, within `bases`.
    pub keep: Range<usize>,
}

/// The stretch of `ACGT` being cut.
struct Stretch {
    /// Where it starts in its sequence.
    offset: u64,
    /// Its nucleotides from `first` on (earlier ones are no longer needed).
    bases: Vec<u8>,
    first: usize,
    /// Its length so far.
    len: usize,
    /// The next interior window.
    next_window: usize,
}

impl Stretch {
    /// The window `tiled` of this stretch, of sequence `sequence`.
    fn window(&self, sequence: usize, tiled: TiledWindow) -> ScanWindow {
        ScanWindow {
            sequence,
            offset: self.offset + tiled.span.start as u64,
            bases: self.bases[tiled.span.start - self.first..tiled.span.end - self.first].to_vec(),
            keep: tiled.keep.start - tiled.span.start..tiled.keep.end - tiled.span.start,
        }
    }
}

/// The windows of every sequence of a source, in order.
pub struct ScanWindows<S: ScanSource> {
    source: S,
    tiling: Tiling,
    /// The sequence being read; `sequences().len()` when all are read.
    sequence: usize,
    /// Nucleotides of it read so far.
    offset: u64,
    stretch: Option<Stretch>,
    pending: VecDeque<ScanWindow>,
    piece: Vec<u8>,
}

impl<S: ScanSource> ScanWindows<S> {
    /// The windows of `source` cut by `tiling`.
    pub fn new(mut source: S, tiling: Tiling) -> Result<Self> {
        if !source.sequences().is_empty() {
            source.begin(0)?;
        }
        Ok(Self {
            source,
            tiling,
            sequence: 0,
            offset: 0,
            stretch: None,
            pending: VecDeque::new(),
            piece: Vec::with_capacity(READ_PIECE),
        })
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The next window, `None` when every sequence is cut.
    pub fn next_window(&mut self) -> Result<Option<ScanWindow>> {
        while self.pending.is_empty() {
            if self.sequence == self.source.sequences().len() {
                return Ok(None);
            }
            self.piece.clear();
            if self.source.read(&mut self.piece, READ_PIECE)? == 0 {
                self.end_stretch();
                self.sequence += 1;
                self.offset = 0;
                if self.sequence < self.source.sequences().len() {
                    self.source.begin(self.sequence)?;
                }
                continue;
            }
            let piece = std::mem::take(&mut self.piece);
            let mut rest = &piece[..];
            while !rest.is_empty() {
                let run = match memchr::memchr(b'N', rest) {
                    Some(0) => {
                        let gap = rest.iter().take_while(|&&b| b == b'N').count();
                        self.end_stretch();
                        self.offset += gap as u64;
                        rest = &rest[gap..];
                        continue;
                    }
                    Some(end) => end,
                    None => rest.len(),
                };
                self.extend_stretch(&rest[..run]);
                self.offset += run as u64;
                rest = &rest[run..];
            }
            self.piece = piece;
        }
        Ok(self.pending.pop_front())
    }

    /// Adds `ACGT` nucleotides to the open stretch and queues the windows now known.
    fn extend_stretch(&mut self, bases: &[u8]) {
        let offset = self.offset;
        let stretch = self.stretch.get_or_insert_with(|| Stretch {
            offset,
            bases: Vec::new(),
            first: 0,
            len: 0,
            next_window: 0,
        });
        stretch.bases.extend_from_slice(bases);
        stretch.len += bases.len();
        let (window, stride) = (self.tiling.window(), self.tiling.stride());
        while stretch.next_window * stride + window < stretch.len {
            let tiled = self.tiling.interior(stretch.next_window);
            self.pending.push_back(stretch.window(self.sequence, tiled));
            stretch.next_window += 1;
        }
        // Later windows start at the next interior one or, for the last, `window`
        // before the end: nothing before both is needed again.
        let needed_from = (stretch.next_window * stride).min(stretch.len.saturating_sub(window));
        if needed_from - stretch.first >= READ_PIECE {
            stretch.bases.drain(..needed_from - stretch.first);
            stretch.first = needed_from;
        }
    }

    /// Closes the open stretch (an `N` or the sequence's end) with its last window.
    fn end_stretch(&mut self) {
        let Some(stretch) = self.stretch.take() else {
            return;
        };
        if let Some(tiled) = self.tiling.tail(stretch.len) {
            self.pending.push_back(stretch.window(self.sequence, tiled));
        }
    }
}
