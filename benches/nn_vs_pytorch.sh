#!/usr/bin/env bash
# Train steps of the LSTM and the transformer decoder, side by side in one run: dnalm
# (candle, with the fused LSTM recurrence op) and PyTorch CPU, same configs, same
# thread count.
#
# Usage: bash benches/nn_vs_pytorch.sh [THREADS] [ROUNDS]
# Each round runs dnalm then PyTorch for each model, so that drift in the machine's
# speed (shared hosts) hits both sides alike; compare the medians over rounds. The
# decoder's PyTorch step uses scaled_dot_product_attention; each round also times it
# with the attention written out (softmax of the scores), as a plain model has it.
# DNALM_SIMD=avx2 (or baseline) caps dnalm's own kernels at that level.
# Installs PyTorch (CPU use of the PyPI wheel) into .venv-bench (ignored by git) on
# first use; that download is a few GB.
set -euo pipefail
threads=${1:-2}
rounds=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.venv-bench
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch==2.15.0 numpy
fi
cargo bench --quiet -p dnalm-nn --bench train_step --no-run
for round in $(seq "$rounds"); do
    echo "round $round"
    for model in lstm gpt; do
        RAYON_NUM_THREADS=$threads cargo bench --quiet -p dnalm-nn --bench train_step -- "$model"
        "$venv/bin/python" "benches/reference/${model}_step.py" "$threads" 2>/dev/null
    done
    "$venv/bin/python" benches/reference/gpt_step.py "$threads" written 2>/dev/null
done
