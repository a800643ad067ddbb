//! BERT-style masked-LM corruption of a token sequence: each ordinary token is chosen
//! with probability `probability` (15%); a chosen token becomes `[MASK]` 80% of the
//! time, a random ordinary token 10%, and stays itself 10%. Labels hold the original
//! id at chosen positions and [`IGNORE_INDEX`] elsewhere.
//!
//! [`mask_spans`] hides runs of `span` consecutive tokens instead (DNABERT's masking for
//! overlapping k-mers, where a lone hidden k-mer could be read off its neighbours): run
//! starts are drawn with probability `probability / span`, so about the same share of
//! tokens is hidden, and the 80/10/10 choice is made per run.

use std::ops::Range;

use rand::Rng;

use crate::error::{Result, SeqError};

/// Label of positions that do not count in the loss (PyTorch's convention).
pub const IGNORE_INDEX: i64 = -100;

/// Masking probabilities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskingConfig {
    /// Chance that an ordinary token is chosen for prediction.
    pub probability: f64,
    /// Of the chosen, the share replaced by `[MASK]`.
    pub mask_share: f64,
    /// Of the chosen, the share replaced by a random ordinary token.
    pub random_share: f64,
}

impl Default for MaskingConfig {
    fn default() -> Self {
        Self {
            probability: 0.15,
            mask_share: 0.8,
            random_share: 0.1,
        }
    }
}

impl MaskingConfig {
    /// Checks that the probabilities are in range.
    pub fn validate(&self) -> Result<()> {
        let in_unit = |p: f64| (0.0..=1.0).contains(&p);
        if !in_unit(self.probability)
            || !in_unit(self.mask_share)
            || !in_unit(self.random_share)
            || self.mask_share + self.random_share > 1.0
        {
            return Err(SeqError::InvalidParameter(format!(
                "masking probabilities out of range: {self:?}"
            )));
        }
        Ok(())
    }
}

/// The corrupted input and the prediction targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedTokens {
    /// Token ids fed to the model.
    pub input_ids: Vec<u32>,
    /// Original ids at chosen positions, [`IGNORE_INDEX`] elsewhere.
    pub labels: Vec<i64>,
}

/// Masks `ids`. Only ids inside `ordinary` (the vocabulary minus special tokens) can be
/// chosen, and random replacements are drawn from it too.
pub fn mask_tokens(
    ids: &[u32],
    ordinary: Range<u32>,
    mask_id: u32,
    config: &MaskingConfig,
    rng: &mut impl Rng,
) -> MaskedTokens {
    let mut input_ids = ids.to_vec();
    let mut labels = vec![IGNORE_INDEX; ids.len()];
    for (position, &id) in ids.iter().enumerate() {
        if !ordinary.contains(&id) || !rng.random_bool(config.probability) {
            continue;
        }
        labels[position] = i64::from(id);
        let roll: f64 = rng.random();
        if roll < config.mask_share {
            input_ids[position] = mask_id;
        } else if roll < config.mask_share + config.random_share {
            input_ids[position] = rng.random_range(ordinary.clone());
        }
    }
    MaskedTokens { input_ids, labels }
}

/// Masks runs of `span` consecutive ordinary tokens (a run stops early at a special
/// token or the end); `span` 1 is [`mask_tokens`].
pub fn mask_spans(
    ids: &[u32],
    ordinary: Range<u32>,
    mask_id: u32,
    config: &MaskingConfig,
    span: usize,
    rng: &mut impl Rng,
) -> MaskedTokens {
    let span = span.max(1);
    if span == 1 {
        return mask_tokens(ids, ordinary, mask_id, config, rng);
    }
    let mut input_ids = ids.to_vec();
    let mut labels = vec![IGNORE_INDEX; ids.len()];
    let start_probability = config.probability / span as f64;
    let mut position = 0;
    while position < ids.len() {
        if !ordinary.contains(&ids[position]) || !rng.random_bool(start_probability) {
            position += 1;
            continue;
        }
        let roll: f64 = rng.random();
        let end = (position + span).min(ids.len());
        for p in position..end {
            if !ordinary.contains(&ids[p]) {
                break;
            }
            labels[p] = i64::from(ids[p]);
            if roll < config.mask_share {
                input_ids[p] = mask_id;
            } else if roll < config.mask_share + config.random_share {
                input_ids[p] = rng.random_range(ordinary.clone());
            }
        }
        position = end;
    }
    MaskedTokens { input_ids, labels }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded_rng;

    #[test]
    fn shares_match_the_configuration_and_specials_are_untouched() {
        let ids: Vec<u32> = (0..200_000)
            .map(|i| if i % 100 == 0 { 2 } else { 5 + (i % 4) as u32 })
            .collect();
        let mut rng = seeded_rng(1);
        let masked = mask_tokens(&ids, 5..9, 4, &MaskingConfig::default(), &mut rng);
        let chosen: Vec<usize> = (0..ids.len())
            .filter(|&i| masked.labels[i] != IGNORE_INDEX)
            .collect();
        let ordinary = ids.iter().filter(|&&id| id >= 5).count() as f64;
        let rate = chosen.len() as f64 / ordinary;
        assert!((rate - 0.15).abs() < 0.005, "chosen rate {rate}");
        let as_mask = chosen.iter().filter(|&&i| masked.input_ids[i] == 4).count() as f64
            / chosen.len() as f64;
        assert!((as_mask - 0.8).abs() < 0.01, "mask share {as_mask}");
        let kept = chosen
            .iter()
            .filter(|&&i| masked.input_ids[i] == ids[i])
            .count() as f64
            / chosen.len() as f64;
        // 10% kept, plus a quarter of the 10% random draws that hit the same token.
        assert!((kept - 0.125).abs() < 0.01, "kept share {kept}");
        for ((&id, &input), &label) in ids.iter().zip(&masked.input_ids).zip(&masked.labels) {
            if id == 2 {
                assert_eq!((input, label), (2, IGNORE_INDEX));
            }
            if label == IGNORE_INDEX {
                assert_eq!(input, id);
            }
        }
    }

    #[test]
    fn same_seed_same_masks() {
        let ids: Vec<u32> = (0..500).map(|i| 5 + (i % 4)).collect();
        let config = MaskingConfig::default();
        let a = mask_tokens(&ids, 5..9, 4, &config, &mut seeded_rng(3));
        let b = mask_tokens(&ids, 5..9, 4, &config, &mut seeded_rng(3));
        let c = mask_tokens(&ids, 5..9, 4, &config, &mut seeded_rng(4));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn spans_are_contiguous_and_hide_about_the_same_share() {
        let ids: Vec<u32> = (0..200_000)
            .map(|i| if i % 500 == 0 { 3 } else { 5 + (i % 4) as u32 })
            .collect();
        let config = MaskingConfig::default();
        let masked = mask_spans(&ids, 5..9, 4, &config, 6, &mut seeded_rng(2));
        let hidden: Vec<bool> = masked.labels.iter().map(|&l| l != IGNORE_INDEX).collect();
        let rate = hidden.iter().filter(|&&h| h).count() as f64 / ids.len() as f64;
        // Runs that would overlap are merged into the next start, so a little below 15%.
        assert!((0.12..0.16).contains(&rate), "hidden rate {rate}");
        // Every run of hidden tokens is 6 long unless cut by a special token or merged.
        let mut run = 0;
        let mut runs = Vec::new();
        for (i, &h) in hidden.iter().enumerate() {
            if h {
                run += 1;
            } else if run > 0 {
                runs.push((run, ids[i] == 3));
                run = 0;
            }
        }
        assert!(
            runs.iter().all(|&(len, cut)| len % 6 == 0 || cut),
            "{runs:?}"
        );
        for (i, &id) in ids.iter().enumerate() {
            if id == 3 {
                assert_eq!(masked.labels[i], IGNORE_INDEX);
            }
        }
    }
}
