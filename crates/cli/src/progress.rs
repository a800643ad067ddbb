//! Progress bars (indicatif). They draw on standard error and hide themselves when it
//! is not a terminal, so piped output stays clean.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over the bytes of one input file.
pub fn bytes_bar(total_bytes: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(total_bytes);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

/// A bar over a number of items.
pub fn count_bar(total: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, ETA {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

/// A bar over nucleotides of a genome.
pub fn nucleotide_bar(total: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {human_pos}/{human_len} nt ({per_sec}, ETA {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

/// A spinner for work of unknown length.
pub fn spinner(label: &str) -> ProgressBar {
    let spinner = ProgressBar::new_spinner().with_message(label.to_string());
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    spinner
}
