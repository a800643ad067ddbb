#!/usr/bin/env bash
# MxDNA training step side by side, same configuration ("cpu-small"), same threads:
# dnalm (cargo bench -p dnalm-mxdna --bench train_step) and the reference PyTorch model
# on CPU (benches/reference/mxdna_step.py: flash-attn replaced by scaled_dot_product_attention, the
# reference's NMS kernel built by benches/build_nms_reference.sh).
#
# Usage: bash benches/mxdna_vs_pytorch.sh PATH/TO/MxDNA-full-model-checkout [THREADS] [ROUNDS]
# The checkout is of the reference's full-model branch (model_source/). Installs
# PyTorch 2.15.0, torchvision 0.29.2 (deform_conv2d) and transformers into
# .venv-bench (ignored by git) on first use.
set -euo pipefail
checkout=$(cd "$1" && pwd)
threads=${2:-2}
rounds=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.venv-bench
if ! "$venv/bin/python" -c 'import torch, torchvision, transformers' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch==2.15.0 numpy pillow transformers
    "$venv/bin/pip" install --quiet --no-deps torchvision==0.29.2
fi
build=$(bash benches/build_nms_reference.sh "$checkout")
cargo bench --quiet -p dnalm-mxdna --bench train_step --no-run
for round in $(seq "$rounds"); do
    echo "round $round"
    RAYON_NUM_THREADS=$threads cargo bench --quiet -p dnalm-mxdna --bench train_step -- 10
    "$venv/bin/python" benches/reference/mxdna_step.py "$checkout" "$build" "$threads" 10 2>/dev/null
done
