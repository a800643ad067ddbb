#!/usr/bin/env bash
# Basic-unit NMS, side by side on the same logits: dnalm (Rust, rayon) and the
# reference C++ (BasicUnitNMS.cpp from a checkout of github.com/qiaoqiaoLF/MxDNA, built
# here with pybind11 from PyPI at -O3), B = 32, L = 512, 10 experts; the reference also
# checks that the masks are identical. Rounds alternate (ours, then the reference), so
# a host that changes speed between rounds shows in both.
#
# Usage: bash benches/nms_vs_reference.sh PATH/TO/MxDNA-checkout [THREADS] [ROUNDS]
# benches/build_nms_reference.sh compiles the checkout's BasicUnitNMS.cpp.
set -euo pipefail
checkout=$(cd "$1" && pwd)
threads=${2:-2}
rounds=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.venv-bench
build=$(bash benches/build_nms_reference.sh "$checkout")
cargo bench --quiet --no-run -p dnalm-mxdna --bench nms_speed
for round in $(seq "$rounds"); do
    echo "round $round"
    RAYON_NUM_THREADS=$threads cargo bench --quiet -p dnalm-mxdna --bench nms_speed -- "$build" 1000
    taskset -c "0-$((threads - 1))" "$venv/bin/python" benches/reference/nms_reference.py "$build" "$build" 50
done
