//! The global allocator the neural code wants: mimalloc, keeping the memory it has
//! committed instead of handing it back to the OS between training steps.
//!
//! A train step allocates and frees tens of large temporaries. With the system
//! allocator that costs much system time (DESIGN.md, "candle traps"); mimalloc's
//! defaults still return freed memory after 10 ms, so the next step faults every page
//! in again (the kernel zeroing huge pages took about 6% of an LSTM step). Programs
//! declare `#[global_allocator] static A: dnalm_nn::allocator::Allocator = ...;` and
//! call [`configure`] first thing in `main`.

/// The allocator type to declare as `#[global_allocator]`.
pub use mimalloc::MiMalloc as Allocator;

/// mimalloc 3's option numbers (`mi_option_e` in its `mimalloc.h`; the -sys crate
/// names only older ones).
const ARENA_EAGER_COMMIT: i32 = 4;
const PURGE_DELAY: i32 = 15;

/// Commits arenas eagerly and never purges freed memory. Memory use then stays at the
/// peak of a step, which is what training reaches anyway.
pub fn configure() {
    // SAFETY: plain option setters of the linked mimalloc, valid at any time.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 1);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
    }
}
