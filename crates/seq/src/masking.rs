//! BERT-style masked-LM corruption of a token sequence: each ordinary token is chosen
//! with probability `probability` (15%); a chosen token becomes `[MASK]` 80% of the
//! time, a random ordinary token 10%, and stays itself 10%. Labels hold the original
//! id at chosen positions and [`IGNORE_INDEX`] elsewhere.

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
}
