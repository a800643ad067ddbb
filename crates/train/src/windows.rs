//! Training examples for language models: a token stream cut into fixed-length windows,
//! visited in a seeded random order that is a pure function of (seed, example index), so
//! an interrupted run resumes on exactly the batches it would have seen.

use candle_core::{Device, Result, Tensor};
use rand::seq::SliceRandom;

/// Windows of `len` tokens (inputs and next-token targets come from the same window).
#[derive(Debug, Clone)]
pub struct WindowDataset {
    tokens: Vec<u32>,
    window_len: usize,
    count: usize,
}

impl WindowDataset {
    /// Cuts concatenated token sequences into non-overlapping windows of `len` tokens
    /// (the tail shorter than a window is dropped).
    pub fn new(tokens: Vec<u32>, len: usize) -> Self {
        let count = tokens.len() / len.max(1);
        Self {
            tokens,
            window_len: len,
            count,
        }
    }

    /// Number of windows.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no windows.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The window visited as example number `example` (counting across epochs): epoch
    /// `example / len()` visits the windows in the permutation drawn from
    /// `seed + epoch`.
    fn window_of(&self, example: u64, seed: u64, cached: &mut Option<(u64, Vec<usize>)>) -> &[u32] {
        let epoch = example / self.count as u64;
        if cached.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let mut order: Vec<usize> = (0..self.count).collect();
            order.shuffle(&mut dnalm_seq::seeded_rng(seed.wrapping_add(epoch)));
            *cached = Some((epoch, order));
        }
        let order = &cached.as_ref().expect("set above").1;
        let index = order[(example % self.count as u64) as usize];
        &self.tokens[index * self.window_len..(index + 1) * self.window_len]
    }

    /// The batch of examples `first..first + size` as a `(size, len)` u32 tensor.
    pub fn batch(&self, first: u64, size: usize, seed: u64, device: &Device) -> Result<Tensor> {
        if self.count == 0 {
            candle_core::bail!("no training windows: the data is shorter than one window");
        }
        let mut cached = None;
        let mut flat = Vec::with_capacity(size * self.window_len);
        for example in first..first + size as u64 {
            flat.extend_from_slice(self.window_of(example, seed, &mut cached));
        }
        Tensor::from_vec(flat, (size, self.window_len), device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_window_once_per_epoch_and_resumable() {
        let data = WindowDataset::new((0..103).collect(), 10);
        assert_eq!(data.len(), 10);
        let whole = data.batch(0, 20, 7, &Device::Cpu).unwrap();
        let firsts: Vec<u32> = whole
            .to_vec2::<u32>()
            .unwrap()
            .iter()
            .map(|w| w[0])
            .collect();
        let mut epoch_one = firsts[..10].to_vec();
        epoch_one.sort();
        assert_eq!(epoch_one, (0..10).map(|i| i * 10).collect::<Vec<u32>>());
        assert_ne!(firsts[..10], firsts[10..], "each epoch has its own order");
        // Asking for examples 13..17 later gives the same windows.
        let later = data.batch(13, 4, 7, &Device::Cpu).unwrap();
        assert_eq!(
            later.to_vec2::<u32>().unwrap(),
            whole.narrow(0, 13, 4).unwrap().to_vec2::<u32>().unwrap()
        );
    }
}
