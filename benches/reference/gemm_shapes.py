"""GFLOP/s of PyTorch's matrix product (MKL on x86) on the models' shapes: the same
list, operand layouts and timing as crates/nn/benches/gemm_shapes.rs
(`benches/gemm_vs_mkl.sh` alternates the two).

Usage: python gemm_shapes.py THREADS
"""
import sys
import time

import torch

torch.set_num_threads(int(sys.argv[1]))
SHAPES = [
    ("paper x W^T 8000x512x2048", 8000, 512, 2048, False, True),
    ("paper x W^T 8000x2048x512", 8000, 2048, 512, False, True),
    ("paper qkv x W^T 8000x512x1536", 8000, 512, 1536, False, True),
    ("paper dY^T X 512x8000x2048", 512, 8000, 2048, True, False),
    ("decoder x W^T 8192x128x512", 8192, 128, 512, False, True),
    ("decoder dY W 8192x512x128", 8192, 512, 128, False, False),
    ("decoder dY^T X 512x8192x128", 512, 8192, 128, True, False),
    ("lstm x W^T 8192x128x1024", 8192, 128, 1024, False, True),
    ("paper 2048x8000x512", 2048, 8000, 512, False, False),
]
with torch.inference_mode():
    for name, m, k, n, lhs_transposed, rhs_transposed in SHAPES:
        lhs = torch.rand(k, m).t() if lhs_transposed else torch.rand(m, k)
        rhs = torch.rand(n, k).t() if rhs_transposed else torch.rand(k, n)
        out = torch.empty(m, n)
        for _ in range(3):
            torch.mm(lhs, rhs, out=out)
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(10):
                torch.mm(lhs, rhs, out=out)
            best = min(best, (time.perf_counter() - started) / 10)
        print(f"MKL {name}: {2 * m * n * k / best / 1e9:.1f} GFLOP/s", flush=True)
