//! Running the `dnalm` binary from the integration tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A path inside the repository.
pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Runs `dnalm` with arguments.
pub fn dnalm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dnalm"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// Runs `dnalm`, which must succeed, and returns its standard output.
pub fn stdout_of(args: &[&str]) -> String {
    let output = dnalm(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `dnalm`, which must fail cleanly (exit code 1, no panic), and returns its
/// standard error.
pub fn failure_of(args: &[&str]) -> String {
    let output = dnalm(args);
    assert_eq!(output.status.code(), Some(1), "{args:?} must fail cleanly");
    String::from_utf8(output.stderr).unwrap()
}

/// The values of a little-endian f32 `.npy` file (not every test reads one).
#[allow(dead_code)]
pub fn npy_values(path: &std::path::Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let header = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    bytes[10 + header..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}
