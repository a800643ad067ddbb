//! Value parsers for flags that have a valid range: counts, token widths and rates are
//! checked as the command line is read, so a bad value is refused (exit 2, the flag
//! named) before anything is read, allocated or written.

use dnalm_jobs::settings::MAX_COUNT;

/// The widest row accepted, in tokens.
const MAX_TOKENS: usize = 1 << 20;

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of the right kind"))
}

/// A count: 1 to [`MAX_COUNT`] (batch sizes, steps, windows).
pub fn count(text: &str) -> Result<usize, String> {
    let value: usize = number(text)?;
    if (1..=MAX_COUNT as usize).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not in 1..={MAX_COUNT}"))
    }
}

/// A step count: 1 to [`MAX_COUNT`].
pub fn steps(text: &str) -> Result<u64, String> {
    count(text).map(|n| n as u64)
}

/// A row width in tokens: room for `[CLS]`, `[SEP]` and at least one nucleotide.
pub fn token_width(text: &str) -> Result<usize, String> {
    let value: usize = number(text)?;
    if (3..=MAX_TOKENS).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{value} is not in 3..={MAX_TOKENS} ([CLS], [SEP] and at least one nucleotide)"
        ))
    }
}

/// A finite number above 0 (learning rates, clipping norms).
pub fn positive(text: &str) -> Result<f64, String> {
    let value: f64 = number(text)?;
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!("{value} is not a finite number > 0"))
    }
}

/// A finite number of at least 0 (weight decay).
pub fn non_negative(text: &str) -> Result<f64, String> {
    let value: f64 = number(text)?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("{value} is not a finite number >= 0"))
    }
}

/// A dropout probability: at least 0, below 1.
pub fn dropout(text: &str) -> Result<f64, String> {
    let value: f64 = number(text)?;
    if (0.0..1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not in [0, 1)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(count("32"), Ok(32));
        assert!(count("0").unwrap_err().contains("not in 1..="));
        assert!(count("-1").is_err() && count("x").is_err());
        assert!(token_width("2").is_err() && token_width("3").is_ok());
        assert!(positive("NaN").unwrap_err().contains("finite number > 0"));
        assert!(positive("inf").is_err() && positive("0").is_err() && positive("1e-3").is_ok());
        assert!(non_negative("0").is_ok() && non_negative("-0.1").is_err());
        assert!(dropout("NaN").is_err() && dropout("1").is_err() && dropout("0.1").is_ok());
        assert!(steps("0").is_err() && steps("5") == Ok(5));
    }
}
