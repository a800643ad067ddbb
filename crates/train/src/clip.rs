//! Gradient clipping by global norm (PyTorch's `clip_grad_norm_`).

use candle_core::backprop::GradStore;
use candle_core::Var;

use crate::error::Result;

/// Scales all gradients of `vars` so their global L2 norm is at most `max_norm`, and
/// returns the norm before clipping. As in PyTorch the scale is
/// `max_norm / (norm + 1e-6)`, applied only when below 1.
pub fn clip_grad_norm<'a>(
    grads: &mut GradStore,
    vars: impl Iterator<Item = &'a Var> + Clone,
    max_norm: f64,
) -> Result<f64> {
    let mut squares = 0.0;
    for var in vars.clone() {
        if let Some(grad) = grads.get(var.as_tensor()) {
            squares += grad
                .sqr()?
                .sum_all()?
                .to_dtype(candle_core::DType::F64)?
                .to_scalar::<f64>()?;
        }
    }
    let norm = squares.sqrt();
    let scale = max_norm / (norm + 1e-6);
    if scale < 1.0 {
        for var in vars {
            if let Some(grad) = grads.remove(var.as_tensor()) {
                grads.insert(var.as_tensor(), (grad * scale)?);
            }
        }
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn clips_to_the_norm_by_hand() {
        let a = Var::from_tensor(&Tensor::new(&[1.0f64, 2.0], &Device::Cpu).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::new(&[3.0f64], &Device::Cpu).unwrap()).unwrap();
        // loss = 3 a0 + 4 a1 + 12 b0: gradients (3, 4) and (12): norm 13.
        let weights_a = Tensor::new(&[3.0f64, 4.0], &Device::Cpu).unwrap();
        let loss = ((a.as_tensor() * &weights_a).unwrap().sum_all().unwrap()
            + (b.as_tensor() * 12.0).unwrap().sum_all().unwrap())
        .unwrap();
        let mut grads = loss.backward().unwrap();
        let norm = clip_grad_norm(&mut grads, [&a, &b].into_iter(), 6.5).unwrap();
        assert!((norm - 13.0).abs() < 1e-12);
        let ga: Vec<f64> = grads.get(a.as_tensor()).unwrap().to_vec1().unwrap();
        let scale = 6.5 / (13.0 + 1e-6);
        assert!((ga[0] - 3.0 * scale).abs() < 1e-12 && (ga[1] - 4.0 * scale).abs() < 1e-12);
        // Below the limit nothing changes.
        let norm = clip_grad_norm(&mut grads, [&a, &b].into_iter(), 100.0).unwrap();
        assert!((norm - 6.5).abs() < 1e-5);
    }
}
