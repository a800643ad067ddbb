#!/usr/bin/env bash
# Embedding throughput of the same MxDNA model three ways, alternating rounds, same
# threads: the `dnalm embed` command (the whole run: load, read, embed, write), the
# Python package (`model.embed` on the same sequences; the load and the read apart),
# and the reference PyTorch MxDNA on the model exported to the authors' layout.
#
# Usage: bash benches/python_embed.sh MODEL TABLE MXDNA_FULL_MODEL_CHECKOUT [THREADS] [ROUNDS]
# Needs .venv-py (bash scripts/python_tests.sh makes it) and .venv-bench (torch,
# transformers, torchvision, pybind11; benches/paper_checkpoint.sh installs them).
set -euo pipefail
model=$(cd "$1" && pwd)
table=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
checkout=$(cd "$3" && pwd)
threads=${4:-2}
rounds=${5:-3}
cd "$(dirname "$0")/.."
cargo build --release --quiet -p dnalm-cli
(cd python && VIRTUAL_ENV=$PWD/../.venv-py PATH=$PWD/../.venv-py/bin:$PATH maturin develop --quiet --release)
nms=$(bash benches/build_nms_reference.sh "$checkout")
exported=target/python-embed/exported
rm -rf "$exported" && mkdir -p target/python-embed
target/release/dnalm export --naming full-model -m "$model" "$exported" >&2
export RAYON_NUM_THREADS=$threads
for round in $(seq 1 "$rounds"); do
    echo "== round $round"
    rm -f target/python-embed/cli.npy target/python-embed/cli.npy.ids.txt
    started=$(date +%s.%N)
    target/release/dnalm embed -m "$model" -o target/python-embed/cli.npy "$table" 2>/dev/null
    echo "dnalm embed (command): $(echo "$(date +%s.%N) - $started" | bc) s"
    .venv-py/bin/python - "$model" "$table" <<'PY'
import sys, time
import numpy as np
import dnalm
started = time.perf_counter()
model = dnalm.load(sys.argv[1])
seqs = [s for _, s, _ in dnalm.read_sequences(sys.argv[2])]
loaded = time.perf_counter()
embeddings = model.embed(seqs)
done = time.perf_counter()
print(f"python model.embed: {len(seqs)} sequences in {done - loaded:.2f} s "
      f"({len(seqs) / (done - loaded):.0f} seq/s); load + read {loaded - started:.2f} s")
cli = np.load("target/python-embed/cli.npy")
print(f"  max |python - command| = {np.abs(embeddings - cli).max():.2e}")
PY
    PYTHONPATH=benches/reference .venv-bench/bin/python benches/reference/mxdna_embed.py \
        "$checkout" "$nms" "$exported" "$table" "$threads" 32 1 2>/dev/null
done
