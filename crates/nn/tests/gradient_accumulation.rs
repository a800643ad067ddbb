//! The vendored candle-core's backward pass (vendor/candle-core/PATCH.md) stores a
//! node's first gradient as it comes instead of adding it to zeros. Gradients by hand
//! for the cases that patch touches: a tensor used several times (its gradients add
//! up), used through a transpose and a broadcast (strided first gradients, stored
//! contiguous), through a subtraction (the first gradient negated), and read by a
//! gather whose backward builds on the stored gradient.

use candle_core::{Device, Tensor, Var};

fn values(t: &Tensor) -> Vec<f64> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

#[test]
fn gradients_by_hand_through_reuse_transpose_broadcast_and_subtraction() {
    let device = Device::Cpu;
    let x = Var::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], (2, 3), &device).unwrap();
    let w = Var::from_vec(vec![0.5f64, -1.0], (2, 1), &device).unwrap();
    let b = Var::from_vec(vec![0.25f64, -0.75, 2.0], 3, &device).unwrap();
    // loss = sum(x^T w) + sum(x * b) - sum(3 x) + sum(x)
    let xt_w = x.as_tensor().t().unwrap().matmul(w.as_tensor()).unwrap(); // (3, 1)
    let x_b = x.as_tensor().broadcast_mul(b.as_tensor()).unwrap();
    let loss = (xt_w.sum_all().unwrap() + x_b.sum_all().unwrap()).unwrap();
    let loss = (loss - (x.as_tensor() * 3.0).unwrap().sum_all().unwrap()).unwrap();
    let loss = (loss + x.as_tensor().sum_all().unwrap()).unwrap();
    let grads = loss.backward().unwrap();
    // d/dx[i][j] = w[i] + b[j] - 3 + 1
    let wv = [0.5, -1.0];
    let bv = [0.25, -0.75, 2.0];
    let expected_x: Vec<f64> = (0..6).map(|k| wv[k / 3] + bv[k % 3] - 2.0).collect();
    let grad_x = grads.get(x.as_tensor()).unwrap();
    assert!(grad_x.is_contiguous());
    assert_eq!(values(grad_x), expected_x);
    // d/dw[i] = sum_j x[i][j]; d/db[j] = sum_i x[i][j]
    assert_eq!(values(grads.get(w.as_tensor()).unwrap()), vec![6.0, 15.0]);
    let grad_b = grads.get(b.as_tensor()).unwrap();
    assert!(grad_b.is_contiguous());
    assert_eq!(values(grad_b), vec![5.0, 7.0, 9.0]);
}

#[test]
fn a_subtracted_tensor_gets_the_negated_gradient_and_a_gather_builds_on_it() {
    let device = Device::Cpu;
    let x = Var::from_vec(vec![1.0f64, 2.0, 3.0], 3, &device).unwrap();
    let ids = Tensor::new(&[2u32, 2, 0], &device).unwrap();
    // loss = sum(0 - 2x) + sum(gather(x, [2, 2, 0]) * [1, 10, 100])
    let weights = Tensor::new(&[1.0f64, 10.0, 100.0], &device).unwrap();
    let negated = (x.as_tensor().zeros_like().unwrap() - (x.as_tensor() * 2.0).unwrap()).unwrap();
    let gathered = x.as_tensor().gather(&ids, 0).unwrap();
    let loss =
        (negated.sum_all().unwrap() + (gathered * weights).unwrap().sum_all().unwrap()).unwrap();
    let grads = loss.backward().unwrap();
    assert_eq!(
        values(grads.get(x.as_tensor()).unwrap()),
        vec![-2.0 + 100.0, -2.0, -2.0 + 11.0]
    );
}
