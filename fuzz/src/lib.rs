//! What every fuzz target shares: an allocation budget (a global allocator that aborts
//! the process, which libFuzzer reports as a crash, once live allocations pass
//! [`BUDGET`]: a size read from a file must be checked before anything that large is
//! allocated) and scratch files for the parsers that read paths.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most memory a parser may hold live for one input.
pub const BUDGET: usize = 1 << 30;

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes against [`BUDGET`].
pub struct Budget;

unsafe impl GlobalAlloc for Budget {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        if live > BUDGET {
            eprintln!("allocation budget exceeded: {live} bytes live (a {} byte request)", layout.size());
            std::process::abort();
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Budget = Budget;

/// A scratch folder for this process (kept for its lifetime).
pub fn scratch() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a scratch folder")).path()
}

/// Writes `bytes` to `name` in the scratch folder and returns the path.
pub fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, bytes).expect("scratch file written");
    path
}
