//! GFLOP/s of the `gemm` crate (through `dnalm_nn::matmul`, as the models call it and
//! as candle does) on the models' matrix shapes; `benches/gemm_vs_mkl.sh` runs it in
//! alternating rounds with the same shapes in PyTorch (MKL,
//! `benches/reference/gemm_shapes.py`).
//!
//! Usage: `cargo bench -p dnalm-nn --bench gemm_shapes`; threads from
//! `RAYON_NUM_THREADS`. Each shape: three warm-up products, then the best of five
//! timings of ten.

use std::time::Instant;

use dnalm_nn::matmul::{matmul, MatRef};

/// (name, rows, inner, columns, left-hand side stored transposed, right-hand likewise):
/// the same list as `benches/reference/gemm_shapes.py`.
const SHAPES: [(&str, usize, usize, usize, bool, bool); 9] = [
    ("paper x W^T 8000x512x2048", 8000, 512, 2048, false, true),
    ("paper x W^T 8000x2048x512", 8000, 2048, 512, false, true),
    (
        "paper qkv x W^T 8000x512x1536",
        8000,
        512,
        1536,
        false,
        true,
    ),
    ("paper dY^T X 512x8000x2048", 512, 8000, 2048, true, false),
    ("decoder x W^T 8192x128x512", 8192, 128, 512, false, true),
    ("decoder dY W 8192x512x128", 8192, 512, 128, false, false),
    ("decoder dY^T X 512x8192x128", 512, 8192, 128, true, false),
    ("lstm x W^T 8192x128x1024", 8192, 128, 1024, false, true),
    ("paper 2048x8000x512", 2048, 8000, 512, false, false),
];

fn main() {
    for (name, m, k, n, lhs_transposed, rhs_transposed) in SHAPES {
        let lhs_data: Vec<f32> = (0..m * k).map(|i| (i * 7 % 13) as f32 * 0.01).collect();
        let rhs_data: Vec<f32> = (0..k * n).map(|i| (i * 5 % 11) as f32 * 0.01).collect();
        let lhs = if lhs_transposed {
            MatRef::new(&lhs_data, k, m).t()
        } else {
            MatRef::new(&lhs_data, m, k)
        };
        let rhs = if rhs_transposed {
            MatRef::new(&rhs_data, n, k).t()
        } else {
            MatRef::new(&rhs_data, k, n)
        };
        let mut out = vec![0.0f32; m * n];
        for _ in 0..3 {
            matmul(&mut out, lhs, rhs, false);
        }
        let best = (0..5)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..10 {
                    matmul(&mut out, lhs, rhs, false);
                }
                started.elapsed().as_secs_f64() / 10.0
            })
            .fold(f64::MAX, f64::min);
        let gflops = 2.0 * (m * n * k) as f64 / best / 1e9;
        println!("gemm crate {name}: {gflops:.1} GFLOP/s");
    }
}
