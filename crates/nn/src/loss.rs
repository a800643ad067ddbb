//! Cross-entropy over token positions, skipping padding.

use candle_core::{DType, Result, Tensor, D};

/// Mean cross-entropy (natural log) of `logits` `(N, V)` against `targets` `(N,)`
/// (u32), counting only positions where `mask` `(N,)` is 1; returns the loss and the
/// number of counted positions. Built from differentiable candle ops (log-softmax as
/// max/exp/sum/log; the fused softmax kernels have no backward).
pub fn masked_cross_entropy(
    logits: &Tensor,
    targets: &Tensor,
    mask: &Tensor,
) -> Result<(Tensor, f64)> {
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = log_probs.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?;
    let mask = mask.to_dtype(picked.dtype())?;
    let count = mask.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
    let total = (picked * &mask)?.sum_all()?;
    Ok(((total.neg()? / count.max(1.0))?, count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn by_hand_with_padding() {
        let logits = Tensor::new(
            &[[0.0f32, 0.0], [2.0f32.ln(), 0.0], [5.0, -5.0]],
            &Device::Cpu,
        )
        .unwrap();
        let targets = Tensor::new(&[1u32, 0, 1], &Device::Cpu).unwrap();
        let mask = Tensor::new(&[1.0f32, 1.0, 0.0], &Device::Cpu).unwrap();
        let (loss, count) = masked_cross_entropy(&logits, &targets, &mask).unwrap();
        // -(ln 1/2 + ln 2/3) / 2
        let expected = -((0.5f64).ln() + (2.0f64 / 3.0).ln()) / 2.0;
        assert_eq!(count, 2.0);
        assert!((loss.to_scalar::<f32>().unwrap() as f64 - expected).abs() < 1e-6);
    }
}
