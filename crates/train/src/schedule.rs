//! Learning-rate schedule: linear warmup, then cosine decay to a floor, as Hugging
//! Face's `get_cosine_schedule_with_warmup` (with an optional floor).

use serde::{Deserialize, Serialize};

/// Warmup then cosine decay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WarmupCosine {
    /// Learning rate at the end of warmup.
    pub peak_lr: f64,
    /// Steps of linear warmup from 0.
    pub warmup_steps: u64,
    /// Total steps; the cosine reaches the floor here.
    pub total_steps: u64,
    /// Floor as a fraction of the peak (0 decays to zero).
    pub min_lr_ratio: f64,
}

impl WarmupCosine {
    /// The learning rate for 0-based step `step`: `peak * step / warmup` during warmup,
    /// then `peak * (min + (1 - min) * (1 + cos(pi * progress)) / 2)`.
    pub fn lr(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return self.peak_lr * step as f64 / self.warmup_steps.max(1) as f64;
        }
        let span = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
        let progress = ((step - self.warmup_steps) as f64 / span).min(1.0);
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.peak_lr * (self.min_lr_ratio + (1.0 - self.min_lr_ratio) * cosine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let schedule = WarmupCosine {
            peak_lr: 1e-3,
            warmup_steps: 10,
            total_steps: 110,
            min_lr_ratio: 0.1,
        };
        assert_eq!(schedule.lr(0), 0.0);
        assert!((schedule.lr(5) - 5e-4).abs() < 1e-18);
        assert!((schedule.lr(10) - 1e-3).abs() < 1e-18);
        // Half-way through the cosine: min + (1 - min) / 2 = 0.55 of the peak.
        assert!((schedule.lr(60) - 5.5e-4).abs() < 1e-15);
        assert!((schedule.lr(110) - 1e-4).abs() < 1e-15);
        assert!(
            (schedule.lr(500) - 1e-4).abs() < 1e-15,
            "stays at the floor"
        );
    }
}
