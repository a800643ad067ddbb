#!/usr/bin/env bash
# Builds the dnalm command line with candle's CUDA backend (`--features cuda`) on any
# x86-64 Linux machine, with or without a GPU: CUDA 13.0 from PyPI wheels into .cuda/
# (scripts/cuda_env.sh says how and why), the build in target/cuda.
#
# Usage: bash scripts/build_cuda.sh [COMPUTE_CAPABILITY] [cargo build arguments...]
#   COMPUTE_CAPABILITY: 90 for H100/H200 (the default), 80 for A100, 89 for L4/L40...
# The binary: target/cuda/release/dnalm (its rpath finds the wheels' libraries).
set -euo pipefail
cd "$(dirname "$0")/.."

compute_capability=${1:-90}
shift || true
source scripts/cuda_env.sh
echo "nvcc: $(nvcc --version | tail -2 | head -1); compute capability $compute_capability"
time cargo build --release -p dnalm-cli --features cuda "$@"
echo "built target/cuda/release/dnalm (runs where an NVIDIA driver >= 580 is installed)"
