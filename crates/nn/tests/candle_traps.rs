//! Regression tests for the candle 0.11 traps listed in DESIGN.md ("candle traps").
//! Each asserts today's wrong behaviour, so that a candle upgrade that fixes (or
//! changes) one makes its test fail: then update DESIGN.md, simplify our workaround, and
//! turn the test around. Our own code avoids all of them (composed log-softmax, the
//! fused LSTM op, no conv or scatter_add in training paths).

use candle_core::{DType, Device, Tensor, Var, D};

fn max_abs(t: &Tensor) -> f32 {
    t.abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

fn input() -> Var {
    let values: Vec<f32> = (0..24).map(|i| ((i * 7 % 11) as f32 - 5.0) / 3.0).collect();
    Var::from_tensor(&Tensor::from_vec(values, (2, 3, 4), &Device::Cpu).unwrap()).unwrap()
}

/// No gradient (or only zeros) reaches `x`, although the function depends on it.
fn no_gradient_reaches(x: &Var, output: Tensor) -> bool {
    let probe = Tensor::arange(0f32, output.elem_count() as f32, &Device::Cpu)
        .unwrap()
        .reshape(output.shape())
        .unwrap();
    let grads = (output * probe)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    grads.get(x.as_tensor()).is_none_or(|g| max_abs(g) == 0.0)
}

#[test]
fn fused_layer_norm_has_no_input_gradient() {
    let x = input();
    let weight = Tensor::ones(4, DType::F32, &Device::Cpu).unwrap();
    let bias = Tensor::zeros(4, DType::F32, &Device::Cpu).unwrap();
    let out = candle_nn::ops::layer_norm(x.as_tensor(), &weight, &bias, 1e-5).unwrap();
    assert!(
        no_gradient_reaches(&x, out),
        "candle's fused layer_norm now has a backward: update DESIGN.md"
    );
}

#[test]
fn fused_softmax_has_no_input_gradient() {
    let x = input();
    let out = candle_nn::ops::softmax_last_dim(x.as_tensor()).unwrap();
    assert!(
        no_gradient_reaches(&x, out),
        "candle's softmax_last_dim now has a backward: update DESIGN.md"
    );
    // The composed form we use does get one.
    let x = input();
    let composed = candle_nn::ops::log_softmax(x.as_tensor(), D::Minus1)
        .unwrap()
        .exp()
        .unwrap();
    assert!(!no_gradient_reaches(&x, composed));
}

#[test]
fn cpu_conv_transpose1d_is_wrong_for_batches() {
    let values: Vec<f32> = (0..2 * 3 * 5)
        .map(|i| ((i * 5 % 7) as f32 - 3.0) / 2.0)
        .collect();
    let x = Tensor::from_vec(values, (2, 3, 5), &Device::Cpu).unwrap();
    let kernel_values: Vec<f32> = (0..3 * 2 * 3)
        .map(|i| ((i * 3 % 5) as f32 - 2.0) / 2.0)
        .collect();
    let kernel = Tensor::from_vec(kernel_values, (3, 2, 3), &Device::Cpu).unwrap();
    let batched = x.conv_transpose1d(&kernel, 0, 0, 1, 1, 1).unwrap();
    let one_by_one: Vec<Tensor> = (0..2)
        .map(|b| {
            x.narrow(0, b, 1)
                .unwrap()
                .conv_transpose1d(&kernel, 0, 0, 1, 1, 1)
                .unwrap()
        })
        .collect();
    let stacked = Tensor::cat(&one_by_one, 0).unwrap();
    let difference = max_abs(&(batched - stacked).unwrap());
    assert!(
        difference > 1e-3,
        "CPU conv_transpose1d now agrees for batch > 1: update DESIGN.md"
    );
}

#[test]
fn scatter_add_gradient_to_init_is_wrong() {
    let init = Var::from_tensor(&Tensor::zeros((2, 3), DType::F32, &Device::Cpu).unwrap()).unwrap();
    let source = Tensor::ones((2, 2), DType::F32, &Device::Cpu).unwrap();
    let index = Tensor::new(&[[0u32, 2], [1, 1]], &Device::Cpu).unwrap();
    let out = init.as_tensor().scatter_add(&index, &source, 1).unwrap();
    let probe = Tensor::new(&[[1f32, 2., 3.], [4., 5., 6.]], &Device::Cpu).unwrap();
    // d/d init of sum(probe * (init + scattered)) is exactly the probe. Today the
    // backward either fails (index smaller than init, as here) or gives another value.
    let correct = match (out * &probe).unwrap().sum_all().unwrap().backward() {
        Err(_) => false,
        Ok(grads) => grads
            .get(init.as_tensor())
            .is_some_and(|g| max_abs(&(g - &probe).unwrap()) < 1e-6),
    };
    assert!(
        !correct,
        "scatter_add's gradient to init is now right: update DESIGN.md"
    );
}
