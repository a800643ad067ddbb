//! Inverted dropout with a seeded mask (candle's own dropout draws from its CPU
//! generator, which cannot be seeded): each element is zeroed with probability `p`
//! and the rest scaled by `1 / (1 - p)`.

use candle_core::{Result, Tensor};
use rand::Rng;

/// `x` with dropout at rate `p` in `[0, 1)`, the mask drawn from `seed`.
pub fn dropout(x: &Tensor, p: f64, seed: u64) -> Result<Tensor> {
    if !(0.0..1.0).contains(&p) {
        candle_core::bail!("dropout rate {p} is not in [0, 1)");
    }
    let keep = 1.0 / (1.0 - p);
    let mut rng = dnalm_seq::seeded_rng(seed);
    let mask: Vec<f32> = (0..x.elem_count())
        .map(|_| if rng.random_bool(p) { 0.0 } else { keep as f32 })
        .collect();
    let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
    x * mask
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn drops_about_p_and_keeps_the_mean() {
        let x = Tensor::ones(100_000, candle_core::DType::F32, &Device::Cpu).unwrap();
        let out: Vec<f32> = dropout(&x, 0.1, 7).unwrap().to_vec1().unwrap();
        let zeros = out.iter().filter(|&&v| v == 0.0).count() as f64 / out.len() as f64;
        let mean = out.iter().map(|&v| v as f64).sum::<f64>() / out.len() as f64;
        assert!((zeros - 0.1).abs() < 0.005, "{zeros}");
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        assert_eq!(out, dropout(&x, 0.1, 7).unwrap().to_vec1::<f32>().unwrap());
    }
}
