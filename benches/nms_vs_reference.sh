#!/usr/bin/env bash
# Basic-unit NMS, side by side on the same logits: dnalm (Rust, rayon) and the
# reference C++ (BasicUnitNMS.cpp from a checkout of github.com/qiaoqiaoLF/MxDNA, built
# here with pybind11 from PyPI at -O3), B = 32, L = 512, 10 experts; the reference also
# checks that the masks are identical.
#
# Usage: bash benches/nms_vs_reference.sh PATH/TO/MxDNA-checkout [THREADS]
# The checkout's root BasicUnitNMS.cpp (commit ad3808d / main) is compiled as is; the
# two headers it forgets (<numeric>, <cstring>) are force-included on the command line.
set -euo pipefail
checkout=$(cd "$1" && pwd)
threads=${2:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.venv-bench
if ! "$venv/bin/python" -c 'import pybind11, numpy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet pybind11 numpy
fi
build=target/nms-reference
mkdir -p "$build"
suffix=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
c++ -O3 -shared -std=c++17 -fPIC $("$venv/bin/python" -m pybind11 --includes) \
    -include numeric -include cstring "$checkout/BasicUnitNMS.cpp" -o "$build/BasicUnitNMS$suffix"
RAYON_NUM_THREADS=$threads cargo bench --quiet -p dnalm-mxdna --bench nms_speed -- "$build" 200
taskset -c "0-$((threads - 1))" "$venv/bin/python" benches/reference/nms_reference.py "$build" "$build" 50
