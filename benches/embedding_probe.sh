#!/usr/bin/env bash
# Frozen embeddings of a GUE task from any encoder dnalm opens, probed by logistic
# regression (test AUROC, MCC), as the 2025 benchmark of DNA foundation models does.
# Usage: bash benches/embedding_probe.sh MODEL TASK_DIR OUT_DIR [dnalm embed flags...]
# e.g.   bash benches/embedding_probe.sh runs/mxdna ../shared/data/gue/prom_core_tata /tmp/probe
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 task=$2 out=$3
shift 3
venv=.venv-bench
if ! "$venv/bin/python" -c 'import sklearn, numpy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet numpy scikit-learn >&2
fi
cargo build --release --quiet
mkdir -p "$out"
for split in train dev test; do
    ./target/release/dnalm embed -m "$model" -o "$out/$split.npy" "$@" "$task/$split.csv.gz"
done
"$venv/bin/python" benches/reference/embedding_probe.py "$task" "$out/train.npy" "$out/dev.npy" "$out/test.npy"
