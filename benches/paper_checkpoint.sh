#!/usr/bin/env bash
# A paper-size (~100M parameters) MxDNA checkpoint folder made and saved by the reference
# code, then loaded and run forward (8 x 1,000 nt of the shipped chr20 sample, masked-LM
# logits at every position) by dnalm and by the reference PyTorch model, alternating,
# same threads. Needs torch, transformers, safetensors in .venv-bench (installed here).
# Usage: bash benches/paper_checkpoint.sh PATH/TO/MxDNA-full-model-checkout [THREADS] [ROUNDS]
set -euo pipefail
checkout=$(cd "$1" && pwd)
threads=${2:-2}
rounds=${3:-3}
cd "$(dirname "$0")/.."
venv=.venv-bench
if ! "$venv/bin/python" -c 'import torch, transformers, safetensors' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch transformers safetensors torchvision numpy pybind11 >&2
fi
nms=$(bash benches/build_nms_reference.sh "$checkout")
folder=target/paper-checkpoint
if [ ! -f "$folder/model.safetensors" ]; then
    PYTHONPATH=benches/reference "$venv/bin/python" benches/reference/make_paper_checkpoint.py "$checkout" "$nms" "$folder"
fi
fasta=data/sample/chr20_200kb.fa.gz
cargo build --release --quiet -p dnalm-mxdna --bench paper_checkpoint
bench=$(ls -t target/release/deps/paper_checkpoint-* | grep -v '\.d$' | head -1)
for round in $(seq 1 "$rounds"); do
    echo "== round $round"
    RAYON_NUM_THREADS=$threads "$bench" "$folder" "$fasta" 2
    PYTHONPATH=benches/reference "$venv/bin/python" benches/reference/mxdna_paper_forward.py \
        "$checkout" "$nms" "$folder" "$fasta" "$threads" 2 2>/dev/null
done
