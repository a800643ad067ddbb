//! Ctrl-C (SIGINT) and SIGTERM: the flag long commands watch (they save their work and
//! stop when it is raised), and how a command stopped that way ends: exit status 130,
//! as shells expect of a program ended by SIGINT, so scripts can tell it from a
//! finished run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

/// The exit status of a command stopped by Ctrl-C (128 + SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Raised by Ctrl-C or SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

/// Installs the SIGINT/SIGTERM handler (once) and returns the flag it raises.
pub fn stop_flag() -> &'static AtomicBool {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // If another handler is already installed, Ctrl-C simply ends the process;
        // the last checkpoint is still there.
        let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    });
    &STOP
}

/// A command stopped by Ctrl-C after saving its work; the message says how to resume.
#[derive(Debug)]
pub struct Interrupted(pub String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted: {}", self.0)
    }
}

impl std::error::Error for Interrupted {}
