//! Limits on the sizes a configuration may ask for (a `--config` file, a run folder's
//! `config.json`, an authors' checkpoint), checked before a model is built, so that a
//! mistyped or hostile size is an error naming the field, not a multi-gigabyte
//! allocation. They are far above any model dnalm trains (the paper's MxDNA has 100M
//! parameters, widths of 2,048, 21 layers).

/// The widest layer (embedding, hidden state, model width, feed-forward width).
pub const MAX_WIDTH: usize = 1 << 16;
/// The most layers.
pub const MAX_LAYERS: usize = 1024;
/// The largest vocabulary.
pub const MAX_VOCAB: usize = 1 << 22;
/// The most parameters: 2^31, 8 GiB of f32 weights (training holds four times that).
pub const MAX_PARAMETERS: u128 = 1 << 31;

/// Checks one size: 1 to `max`; the error names the field.
pub fn size(field: &str, value: usize, max: usize) -> Result<(), String> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!("{field} = {value} is outside 1..={max}"))
    }
}

/// Checks a model's parameter count (computed in `u128`, so it cannot overflow).
pub fn parameters(what: &str, count: u128) -> Result<(), String> {
    if count <= MAX_PARAMETERS {
        Ok(())
    } else {
        Err(format!(
            "{what} would have {count} parameters ({:.1} GiB of f32 weights), more than the \
             {MAX_PARAMETERS} dnalm builds",
            count as f64 * 4.0 / (1u64 << 30) as f64
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_counts() {
        assert!(size("hidden_size", 256, MAX_WIDTH).is_ok());
        let err = size("hidden_size", 1_000_000_000, MAX_WIDTH).unwrap_err();
        assert_eq!(err, "hidden_size = 1000000000 is outside 1..=65536");
        assert!(size("num_layers", 0, MAX_LAYERS).is_err());
        assert!(parameters("x", 100_000_000).is_ok());
        let err = parameters("an LSTM", 1 << 40).unwrap_err();
        assert!(
            err.contains("would have 1099511627776 parameters (4096.0 GiB"),
            "{err}"
        );
    }
}
