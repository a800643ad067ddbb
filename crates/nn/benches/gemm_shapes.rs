//! GFLOP/s of the `gemm` crate (through `dnalm_nn::matmul`, as the models call it and
//! as candle does) on the models' matrix shapes; `benches/gemm_vs_mkl.sh` runs it in
//! alternating rounds with the same shapes in PyTorch (MKL,
//! `benches/reference/gemm_shapes.py`).
//!
//! Weight-gradient shapes (left-hand side stored transposed, right-hand not) are also
//! timed through `product_split_inner` (the inner dimension split among the threads),
//! as the linear layers' backward runs them.
//!
//! Usage: `cargo bench -p dnalm-nn --bench gemm_shapes`; threads from
//! `RAYON_NUM_THREADS`. Each shape: three warm-up products, then the best of five
//! timings of ten.

use std::time::Instant;

use dnalm_nn::matmul::{matmul, product_split_inner, MatRef};

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
        let flop = 2.0 * (m * n * k) as f64;
        let rate = gflops(flop, &mut || matmul(&mut out, lhs, rhs, false));
        println!("gemm crate {name}: {rate:.1} GFLOP/s");
        if lhs_transposed && !rhs_transposed {
            let rate = gflops(flop, &mut || {
                std::hint::black_box(product_split_inner(lhs, rhs));
            });
            println!("split inner {name}: {rate:.1} GFLOP/s");
        }
    }
}

/// GFLOP/s of `run` (`flop` a call): three warm-up calls, then the best of five
/// timings of ten.
fn gflops(flop: f64, run: &mut dyn FnMut()) -> f64 {
    for _ in 0..3 {
        run();
    }
    let best = (0..5)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..10 {
                run();
            }
            started.elapsed().as_secs_f64() / 10.0
        })
        .fold(f64::MAX, f64::min);
    flop / best / 1e9
}
