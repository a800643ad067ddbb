//! Mean and spread of a metric over seeds.

use serde::Serialize;

/// Mean and sample standard deviation of some values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanSd {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator; 0 for one value).
    pub sd: f64,
    /// Number of values.
    pub n: usize,
}

impl MeanSd {
    /// Summarises values (at least one).
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Self { mean, sd, n }
    }
}

impl std::fmt::Display for MeanSd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} ± {:.3}", self.mean, self.sd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let s = MeanSd::of(&[0.6, 0.7, 0.8]);
        assert!((s.mean - 0.7).abs() < 1e-12);
        assert!((s.sd - 0.1).abs() < 1e-12);
        assert_eq!(MeanSd::of(&[0.5]).sd, 0.0);
    }
}
