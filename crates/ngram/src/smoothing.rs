//! Smoothing methods and the modified Kneser-Ney discounts (Chen & Goodman 1998).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::NgramError;
use crate::history::OUTCOMES;
use crate::table::{Counts, OrderCounts};

/// How counts become probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Smoothing {
    /// Maximum likelihood: `c(h, w) / c(h)`. Unseen events get probability 0 (infinite
    /// perplexity), as the paper found from order 6 on.
    Mle,
    /// Add-k: `(c(h, w) + k) / (c(h) + 5k)`; k = 1 is Laplace.
    AddK {
        /// The pseudo-count.
        k: f64,
    },
    /// Interpolated modified Kneser-Ney with three discounts per order.
    KneserNey,
}

impl fmt::Display for Smoothing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Smoothing::Mle => write!(f, "MLE"),
            Smoothing::AddK { k } if *k == 1.0 => write!(f, "Laplace"),
            Smoothing::AddK { k } => write!(f, "add-{k}"),
            Smoothing::KneserNey => write!(f, "Kneser-Ney"),
        }
    }
}

impl FromStr for Smoothing {
    type Err = NgramError;

    /// Parses `mle`, `laplace`, `add-K` (e.g. `add-0.5`) or `kn`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "mle" => Ok(Smoothing::Mle),
            "laplace" => Ok(Smoothing::AddK { k: 1.0 }),
            "kn" | "kneser-ney" => Ok(Smoothing::KneserNey),
            other => match other.strip_prefix("add-").map(str::parse::<f64>) {
                Some(Ok(k)) if k > 0.0 && k.is_finite() => Ok(Smoothing::AddK { k }),
                _ => Err(NgramError::InvalidParameter(format!(
                    "unknown smoothing '{text}': use mle, laplace, add-K (K > 0, e.g. add-0.5) or kn"
                ))),
            },
        }
    }
}

/// The three modified Kneser-Ney discounts of one order: for counts 1, 2, and 3+.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Discounts(pub [f64; 3]);

impl Discounts {
    /// Used when the count-of-counts cannot give valid discounts (KenLM's
    /// `--discount_fallback` values).
    pub const FALLBACK: Discounts = Discounts([0.5, 1.0, 1.5]);

    /// Chen & Goodman's estimate from the count-of-counts of one order:
    /// `Y = n1 / (n1 + 2 n2)`, `D1 = 1 - 2Y n2/n1`, `D2 = 2 - 3Y n3/n2`,
    /// `D3+ = 3 - 4Y n4/n3`. As in KenLM, each `D_i` must lie strictly between 0 and
    /// `i`; otherwise (or when some `n_i` is 0) the order uses [`Discounts::FALLBACK`].
    /// DNA needs this often: with five outcomes and five possible left neighbours,
    /// continuation counts saturate at 5, so `n4` can exceed `n3` and `D3+` would be
    /// negative, leaving some unseen outcomes with probability zero.
    pub fn estimate(order: &OrderCounts) -> Self {
        let mut n = [0u64; 5];
        let plain = order.plain.nonzero().map(|(_, counts)| counts);
        for counts in plain.chain(order.anchored.values()) {
            for &count in counts {
                if (1..=4).contains(&count) {
                    n[count as usize] += 1;
                }
            }
        }
        let [_, n1, n2, n3, n4] = n.map(|v| v as f64);
        if n1 == 0.0 || n2 == 0.0 || n3 == 0.0 || n4 == 0.0 {
            return Self::FALLBACK;
        }
        let y = n1 / (n1 + 2.0 * n2);
        let estimate = [
            1.0 - 2.0 * y * n2 / n1,
            2.0 - 3.0 * y * n3 / n2,
            3.0 - 4.0 * y * n4 / n3,
        ];
        let valid = estimate
            .iter()
            .enumerate()
            .all(|(i, &d)| d > 0.0 && d < (i + 1) as f64);
        if valid {
            Discounts(estimate)
        } else {
            Self::FALLBACK
        }
    }

    /// The discount of a count (a branch-free lookup: counts are unpredictable).
    #[inline]
    pub fn of(&self, count: u64) -> f64 {
        let table = [0.0, self.0[0], self.0[1], self.0[2]];
        table[count.min(3) as usize]
    }

    /// Interpolates one order: `max(c_w - D(c_w), 0) / c + gamma * lower_w` with
    /// `gamma = (D1 N1 + D2 N2 + D3 N3+) / c`. Leaves `lower` unchanged when the context
    /// was never seen.
    #[inline]
    pub fn interpolate(&self, counts: &Counts, lower: &mut [f64; OUTCOMES]) {
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return;
        }
        let total = total as f64;
        let discounts = counts.map(|c| self.of(c));
        let gamma: f64 = discounts.iter().sum::<f64>() / total;
        for ((p, &count), discount) in lower.iter_mut().zip(counts).zip(discounts) {
            *p = (count as f64 - discount).max(0.0) / total + gamma * *p;
        }
    }

    /// Like [`Discounts::interpolate`] for one outcome only: returns the new
    /// probability of `outcome` given its lower-order probability.
    #[inline]
    pub fn interpolate_one(&self, counts: &Counts, outcome: usize, lower: f64) -> f64 {
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return lower;
        }
        let discount_sum: f64 = counts.iter().map(|&c| self.of(c)).sum();
        let count = counts[outcome];
        ((count as f64 - self.of(count)).max(0.0) + discount_sum * lower) / total as f64
    }

    /// The back-off weight `gamma` of a context (ARPA files carry it).
    pub fn backoff_weight(&self, counts: &Counts) -> f64 {
        let total: u64 = counts.iter().sum();
        counts.iter().map(|&c| self.of(c)).sum::<f64>() / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        assert_eq!(
            "laplace".parse::<Smoothing>().unwrap(),
            Smoothing::AddK { k: 1.0 }
        );
        assert_eq!(
            "add-0.5".parse::<Smoothing>().unwrap(),
            Smoothing::AddK { k: 0.5 }
        );
        assert_eq!("KN".parse::<Smoothing>().unwrap(), Smoothing::KneserNey);
        assert!("add-0".parse::<Smoothing>().is_err());
        assert!("witten-bell".parse::<Smoothing>().is_err());
        assert_eq!(Smoothing::AddK { k: 1.0 }.to_string(), "Laplace");
    }

    #[test]
    fn estimates_by_hand_and_falls_back_on_saturated_counts() {
        use crate::table::Table;
        use rustc_hash::FxHashMap;
        let order_with = |entries: &[[u64; 5]]| {
            let mut plain = Table::Sparse(FxHashMap::default());
            for (context, counts) in entries.iter().enumerate() {
                for (outcome, &count) in counts.iter().enumerate() {
                    plain.add(context as u64, outcome as u8, count);
                }
            }
            OrderCounts {
                plain,
                anchored: FxHashMap::default(),
            }
        };
        // n1 = 4, n2 = 2, n3 = 2, n4 = 1: Y = 4/8 = 0.5, D1 = 1 - 2*0.5*2/4 = 0.5,
        // D2 = 2 - 3*0.5*2/2 = 0.5, D3+ = 3 - 4*0.5*1/2 = 2.
        let good = order_with(&[[1, 1, 2, 3, 0], [1, 1, 2, 3, 4]]);
        assert_eq!(Discounts::estimate(&good), Discounts([0.5, 0.5, 2.0]));
        // Saturated continuation counts: n4 > n3 makes D3+ negative.
        let saturated = order_with(&[[1, 2, 3, 4, 4], [1, 2, 4, 4, 5], [1, 1, 2, 4, 4]]);
        assert_eq!(Discounts::estimate(&saturated), Discounts::FALLBACK);
    }

    #[test]
    fn interpolation_by_hand_sums_to_one() {
        let discounts = Discounts([0.5, 1.0, 1.5]);
        let mut p = [0.2; OUTCOMES];
        // counts 3, 1, 0, 0, 2 (total 6): discounted 1.5, 0.5, 0, 0, 1.0; gamma = 3/6.
        discounts.interpolate(&[3, 1, 0, 0, 2], &mut p);
        let expected = [1.5 / 6.0 + 0.1, 0.5 / 6.0 + 0.1, 0.1, 0.1, 1.0 / 6.0 + 0.1];
        for (got, want) in p.iter().zip(expected) {
            assert!((got - want).abs() < 1e-15);
        }
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    }
}
