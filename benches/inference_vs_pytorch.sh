#!/usr/bin/env bash
# Inference beside PyTorch CPU f32, same weights, same inputs, same threads, alternating
# rounds: the paper-size MxDNA forward pass (benches/paper_checkpoint.sh), then MxDNA
# and BERT embeddings and LSTM scoring in one Python process
# (benches/reference/inference_vs_pytorch.py, dnalm through its Python package).
#
# Usage: bash benches/inference_vs_pytorch.sh PATH/TO/MxDNA-full-model-checkout [THREADS] [ROUNDS]
# Builds the Python package (release) into .venv-bench (torch and transformers from
# benches/paper_checkpoint.sh). The BERT (small preset) and LSTM (small preset, 2 x 256)
# runs are trained for a few steps on the shipped chr20 sample: their speed does not
# depend on what they have learnt.
set -euo pipefail
checkout=$(cd "$1" && pwd)
threads=${2:-2}
rounds=${3:-3}
cd "$(dirname "$0")/.."
bash benches/paper_checkpoint.sh "$checkout" "$threads" "$rounds"
venv=.venv-bench
"$venv/bin/pip" install --quiet "maturin>=1.9.4,<2"
(cd python && VIRTUAL_ENV=$PWD/../$venv PATH=$PWD/../$venv/bin:$PATH maturin develop --quiet --release)
cargo build --release --quiet -p dnalm-cli
runs=target/inference-bench
mkdir -p "$runs"
sample=data/sample/chr20_200kb.fa.gz
if [ ! -f "$runs/bert/model.safetensors" ]; then
    rm -rf "$runs/bert"
    target/release/dnalm train mlm --preset small --steps 2 --batch-size 4 --eval-every 0 -o "$runs/bert" "$sample" >&2
fi
if [ ! -f "$runs/lstm/model.safetensors" ]; then
    rm -rf "$runs/lstm"
    target/release/dnalm train lm --model lstm --preset small --steps 2 --batch-size 4 --eval-every 0 -o "$runs/lstm" "$sample" >&2
fi
nms=$(bash benches/build_nms_reference.sh "$checkout")
RAYON_NUM_THREADS=$threads PYTHONPATH=benches/reference "$venv/bin/python" \
    benches/reference/inference_vs_pytorch.py "$checkout" "$nms" target/paper-checkpoint \
    "$runs/bert" "$runs/lstm" "$sample" data/sample/genes_300.csv.gz "$threads" "$rounds"
