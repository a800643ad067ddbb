//! Every fused CPU kernel gives the same values and gradients at each vector level the
//! processor has (AVX-512, AVX2 + FMA, the baseline build): the copies the run-time
//! dispatch picks between are all exercised on one machine. Most copies agree to the
//! bit (Rust fuses no multiply-add it is not asked to); the LSTM's AVX-512 product
//! does fuse them, hence the tolerance.

use candle_core::{Device, Tensor, Var};
use dnalm_nn::attention_op::attention;
use dnalm_nn::cpu::{simd_level, with_simd_cap, SimdLevel};
use dnalm_nn::layer_norm::layer_norm;
use dnalm_nn::lstm_op::lstm_recurrence;
use dnalm_nn::rope::Rope;
use dnalm_nn::swiglu_op::swiglu;

/// A deterministic tensor of values in about [-scale, scale].
fn values(shape: &[usize], seed: usize, scale: f64) -> Var {
    let count: usize = shape.iter().product();
    let data: Vec<f32> = (0..count)
        .map(|i| ((((i * 7919 + seed * 104_729) % 2003) as f64 / 1001.5 - 1.0) * scale) as f32)
        .collect();
    Var::from_tensor(&Tensor::from_vec(data, shape, &Device::Cpu).unwrap()).unwrap()
}

/// The op's output and the gradients of `sum(output * probe)` for its inputs, flat.
fn output_and_gradients(inputs: &[Var], op: &dyn Fn(&[&Tensor]) -> Tensor) -> Vec<Vec<f32>> {
    let tensors: Vec<&Tensor> = inputs.iter().map(|v| v.as_tensor()).collect();
    let out = op(&tensors);
    let probe = values(out.dims(), 99, 1.0);
    let grads = (&out * probe.as_tensor())
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    std::iter::once(out)
        .chain(
            inputs
                .iter()
                .map(|v| grads.get(v.as_tensor()).unwrap().clone()),
        )
        .map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .collect()
}

fn check(name: &str, inputs: &[Var], op: &dyn Fn(&[&Tensor]) -> Tensor) {
    let widest = output_and_gradients(inputs, op);
    for level in [SimdLevel::Avx2Fma, SimdLevel::Baseline] {
        let capped = with_simd_cap(level, || {
            assert!(simd_level() <= level);
            output_and_gradients(inputs, op)
        });
        for (which, (a, b)) in widest.iter().zip(&capped).enumerate() {
            let worst = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs() / x.abs().max(1.0))
                .fold(0.0f32, f32::max);
            assert!(
                worst < 2e-5,
                "{name} at {level:?}: tensor {which} differs by {worst}"
            );
        }
    }
}

#[test]
fn every_kernel_agrees_across_vector_levels() {
    // Sizes with full and partial tiles (the LSTM's 4-row x 64-column products).
    let (steps, batch, hidden) = (7, 6, 80);
    check(
        "lstm",
        &[
            values(&[steps, batch, 4 * hidden], 1, 1.0),
            values(&[4 * hidden, hidden], 2, 0.2),
            values(&[4 * hidden], 3, 0.5),
        ],
        &|t| lstm_recurrence(t[0], t[1], t[2]).unwrap(),
    );
    let qkv = |seed| values(&[2, 3, 70, 16], seed, 1.0);
    for causal in [false, true] {
        check("attention", &[qkv(4), qkv(5), qkv(6)], &|t| {
            attention(t[0], t[1], t[2], causal, Some(&[70, 41])).unwrap()
        });
    }
    check(
        "layer_norm",
        &[
            values(&[33, 96], 7, 2.0),
            values(&[96], 8, 1.0),
            values(&[96], 9, 1.0),
        ],
        &|t| layer_norm(t[0], t[1], t[2], 1e-5).unwrap(),
    );
    check(
        "swiglu",
        &[values(&[45, 77], 10, 3.0), values(&[45, 77], 11, 1.0)],
        &|t| swiglu(t[0], t[1]).unwrap(),
    );
    let rope = Rope::new(70, 32, 10000.0, &Device::Cpu).unwrap();
    check("rope_heads", &[values(&[2, 70, 96], 12, 2.0)], &|t| {
        rope.split_heads(t[0], 3).unwrap()
    });
}
