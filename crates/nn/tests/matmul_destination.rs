//! The vendored candle-core's CPU matmul (vendor/candle-core/PATCH.md) leaves its
//! output unzeroed for `gemm` to overwrite. Every element must then be written: the
//! products below, each computed right after a NaN-filled buffer of the output's size
//! was freed (so the allocator is likely to hand that memory back), equal products by
//! hand, for plain, batched (one loop step per batch), folded (a batch-invariant
//! right-hand side), transposed, single-row and single-column (the `gemm` crate's
//! matrix-vector paths) and empty-inner shapes.

use candle_core::{Device, Tensor};

/// `count` deterministic small integers as f32 (products of them are exact).
fn integers(count: usize, seed: usize) -> Vec<f32> {
    (0..count)
        .map(|i| ((i * 7 + seed * 3) % 11) as f32 - 5.0)
        .collect()
}

/// `lhs (b, m, k) x rhs (b or 1, k, n)` by hand, row-major.
fn by_hand(
    lhs: &[f32],
    rhs: &[f32],
    (b, m, k, n): (usize, usize, usize, usize),
    shared_rhs: bool,
) -> Vec<f32> {
    let mut out = vec![0.0; b * m * n];
    for batch in 0..b {
        let r = if shared_rhs { 0 } else { batch };
        for i in 0..m {
            for j in 0..n {
                out[(batch * m + i) * n + j] = (0..k)
                    .map(|p| lhs[(batch * m + i) * k + p] * rhs[(r * k + p) * n + j])
                    .sum();
            }
        }
    }
    out
}

/// Frees a NaN-filled buffer of `len` values, then returns `product()` flattened.
fn after_freed_nans(len: usize, product: impl FnOnce() -> Tensor) -> Vec<f32> {
    drop(std::hint::black_box(vec![f32::NAN; len]));
    product().flatten_all().unwrap().to_vec1().unwrap()
}

#[test]
fn every_element_of_the_product_is_written() {
    let device = Device::Cpu;
    for (b, m, k, n) in [
        (1, 5, 7, 9),
        (3, 4, 6, 5),
        (2, 1, 8, 6),
        (2, 6, 8, 1),
        (1, 33, 65, 17),
    ] {
        let lhs = integers(b * m * k, 1);
        let rhs = integers(b * k * n, 2);
        let lhs_t = Tensor::from_vec(lhs.clone(), (b, m, k), &device).unwrap();
        let rhs_t = Tensor::from_vec(rhs.clone(), (b, k, n), &device).unwrap();
        let got = after_freed_nans(b * m * n, || lhs_t.matmul(&rhs_t).unwrap());
        assert_eq!(
            got,
            by_hand(&lhs, &rhs, (b, m, k, n), false),
            "{b}x{m}x{k}x{n}"
        );

        // The right-hand side stored transposed (a strided operand).
        let stored: Vec<f32> = (0..b * n * k)
            .map(|i| {
                let (batch, rest) = (i / (n * k), i % (n * k));
                rhs[batch * k * n + (rest % k) * n + rest / k]
            })
            .collect();
        let rhs_stored_t = Tensor::from_vec(stored, (b, n, k), &device).unwrap();
        let got = after_freed_nans(b * m * n, || {
            lhs_t
                .matmul(&rhs_stored_t.transpose(1, 2).unwrap())
                .unwrap()
        });
        assert_eq!(
            got,
            by_hand(&lhs, &rhs, (b, m, k, n), false),
            "transposed {b}x{m}x{k}x{n}"
        );

        // One right-hand matrix for every batch: candle folds the batches into rows.
        let shared = Tensor::from_vec(rhs[..k * n].to_vec(), (k, n), &device).unwrap();
        let got = after_freed_nans(b * m * n, || lhs_t.broadcast_matmul(&shared).unwrap());
        assert_eq!(
            got,
            by_hand(&lhs, &rhs, (b, m, k, n), true),
            "shared {b}x{m}x{k}x{n}"
        );
    }
    // An empty inner dimension gives zeros.
    let lhs = Tensor::zeros((3, 0), candle_core::DType::F32, &device).unwrap();
    let rhs = Tensor::zeros((0, 4), candle_core::DType::F32, &device).unwrap();
    let got = after_freed_nans(12, || lhs.matmul(&rhs).unwrap());
    assert_eq!(got, vec![0.0; 12]);
}
