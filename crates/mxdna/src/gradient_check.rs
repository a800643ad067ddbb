//! Test helper: each parameter's largest gradient element against a central finite
//! difference of the loss (f32 models, so a relative tolerance).

use candle_core::{DType, Tensor, Var};

/// What a finite-difference check allows.
pub struct Tolerance {
    /// Half the step moved each way.
    pub step: f32,
    /// Allowed difference relative to the analytic value.
    pub relative: f64,
    /// Analytic values smaller than this are compared at this size.
    pub floor: f64,
}

/// Checks every `(name, var)`: its largest gradient element in `grads` against the
/// finite difference of `loss`. `skip(name)` names the parameters allowed to get no
/// (or an all-zero) gradient.
pub fn check_largest_gradients(
    vars: Vec<(String, Var)>,
    grads: &candle_core::backprop::GradStore,
    loss: &dyn Fn() -> Tensor,
    tolerance: Tolerance,
    skip: &dyn Fn(&str) -> bool,
) {
    for (name, var) in vars {
        let Some(grad) = grads.get(&var) else {
            assert!(skip(&name), "{name}: no gradient");
            continue;
        };
        let analytic: Vec<f32> = grad.flatten_all().unwrap().to_vec1().unwrap();
        let values: Vec<f32> = var.flatten_all().unwrap().to_vec1().unwrap();
        let index = (0..analytic.len())
            .max_by(|&a, &b| analytic[a].abs().total_cmp(&analytic[b].abs()))
            .unwrap();
        if analytic[index].abs() < 1e-6 {
            assert!(skip(&name), "{name}: all-zero gradient");
            continue;
        }
        let at = |delta: f32| {
            let mut copy = values.clone();
            copy[index] += delta;
            var.set(&Tensor::from_vec(copy, var.shape(), var.device()).unwrap())
                .unwrap();
            let value = loss()
                .to_dtype(DType::F64)
                .unwrap()
                .to_scalar::<f64>()
                .unwrap();
            var.set(&Tensor::from_vec(values.clone(), var.shape(), var.device()).unwrap())
                .unwrap();
            value
        };
        let numeric =
            (at(tolerance.step) - at(-tolerance.step)) / (2.0 * f64::from(tolerance.step));
        let analytic = f64::from(analytic[index]);
        assert!(
            (numeric - analytic).abs() < tolerance.relative * analytic.abs().max(tolerance.floor),
            "{name}[{index}]: numeric {numeric}, analytic {analytic}"
        );
    }
}
