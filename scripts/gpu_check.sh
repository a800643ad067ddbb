#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (driver >= 580): builds with CUDA (scripts/cuda_env.sh)
# and checks and times the GPU path.
#   1. the MxDNA parity fixture on the GPU: the reference PyTorch model's basic units
#      exactly and its logits within 1e-4 (crates/mxdna/tests/model_parity.rs);
#   2. one training step of each model, and the paper preset's (~100M parameters), on
#      the GPU beside the CPU (crates/jobs/benches/device_steps.rs);
#   3. the command line on the GPU: `train mxdna` for 20 steps and `embed` of the
#      shipped sample, the embeddings compared with the CPU's.
# Usage: bash scripts/gpu_check.sh [COMPUTE_CAPABILITY (90)] [STEPS (10)]
set -euo pipefail
cd "$(dirname "$0")/.."

compute_capability=${1:-90}
steps=${2:-10}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
lscpu | grep "Model name"
source scripts/cuda_env.sh

echo "== 1. parity fixture on cuda"
DNALM_TEST_DEVICE=cuda cargo test --release -p dnalm-mxdna --features dnalm-nn/cuda \
    --test model_parity -- --nocapture

echo "== 2. training steps ($steps after warm-up)"
cargo bench -p dnalm-jobs --features dnalm-nn/cuda --bench device_steps --no-run
bench() { cargo bench -q -p dnalm-jobs --features dnalm-nn/cuda --bench device_steps -- "$@"; }
bench --device cuda --steps "$steps" lstm gpt bert mxdna-small mxdna-paper
bench --device cpu --steps 3 lstm gpt bert mxdna-small

echo "== 3. the command line on cuda"
cargo build --release -p dnalm-cli --features cuda
dnalm=$CARGO_TARGET_DIR/release/dnalm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
time "$dnalm" train mxdna --device cuda --preset small --steps 20 --eval-every 10 \
    --batch-size 16 -o "$work/run" data/sample/chr20_200kb.fa.gz
for device in cuda cpu; do
    time "$dnalm" embed --device "$device" -m "$work/run" -o "$work/$device.npy" \
        data/sample/prom_core_tata/test.csv.gz
done
python3 - "$work/cuda.npy" "$work/cpu.npy" <<'EOF'
import struct, sys
def values(path):
    data = open(path, "rb").read()
    header = struct.unpack("<H", data[8:10])[0]
    return struct.unpack(f"<{(len(data) - 10 - header) // 4}f", data[10 + header:])
gpu, cpu = values(sys.argv[1]), values(sys.argv[2])
worst = max(abs(a - b) for a, b in zip(gpu, cpu))
print(f"embeddings: {len(gpu)} values, largest GPU-CPU difference {worst:.2e}")
sys.exit(0 if worst < 1e-3 else 1)
EOF
