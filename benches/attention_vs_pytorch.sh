#!/usr/bin/env bash
# The fused attention op alone beside PyTorch's scaled_dot_product_attention on the
# decoder's shape (crates/nn/benches/attention_step.rs, benches/reference/attention_step.py),
# same thread count, alternating rounds.
#
# Usage: bash benches/attention_vs_pytorch.sh [THREADS] [ROUNDS]
# Uses .venv-bench (made by benches/nn_vs_pytorch.sh).
set -euo pipefail
threads=${1:-2}
rounds=${2:-3}
cd "$(dirname "$0")/.."
venv=.venv-bench
cargo bench --quiet -p dnalm-nn --bench attention_step --no-run
for round in $(seq "$rounds"); do
    echo "round $round"
    RAYON_NUM_THREADS=$threads cargo bench --quiet -p dnalm-nn --bench attention_step
    "$venv/bin/python" benches/reference/attention_step.py "$threads"
done
