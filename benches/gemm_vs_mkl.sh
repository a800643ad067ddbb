#!/usr/bin/env bash
# The `gemm` crate (what dnalm and candle multiply with) and PyTorch's MKL on the
# models' matrix shapes, alternating rounds, same threads.
#
# Usage: bash benches/gemm_vs_mkl.sh [THREADS] [ROUNDS]
# PyTorch from .venv-bench (benches/nn_vs_pytorch.sh installs it).
set -euo pipefail
threads=${1:-2}
rounds=${2:-3}
cd "$(dirname "$0")/.."
cargo bench --quiet -p dnalm-nn --bench gemm_shapes --no-run
for round in $(seq "$rounds"); do
    echo "round $round"
    RAYON_NUM_THREADS=$threads cargo bench --quiet -p dnalm-nn --bench gemm_shapes
    .venv-bench/bin/python benches/reference/gemm_shapes.py "$threads"
done
