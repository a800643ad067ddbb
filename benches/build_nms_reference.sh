#!/usr/bin/env bash
# Builds the reference basic-unit NMS (BasicUnitNMS.cpp of github.com/qiaoqiaoLF/MxDNA:
# the main branch keeps it at the root, the full-model branch in model_source/kernel/)
# as a Python extension with pybind11 from PyPI, at -O3, into target/nms-reference, and
# prints that folder. The two headers the file forgets (<numeric>, <cstring>) are
# force-included on the command line; the source is compiled as is.
#
# Usage: bash benches/build_nms_reference.sh PATH/TO/MxDNA-checkout
set -euo pipefail
checkout=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.venv-bench
if ! "$venv/bin/python" -c 'import pybind11, numpy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet pybind11 numpy >&2
fi
source_file=$checkout/BasicUnitNMS.cpp
[ -f "$source_file" ] || source_file=$checkout/model_source/kernel/BasicUnitNMS.cpp
build=target/nms-reference
mkdir -p "$build"
suffix=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
c++ -O3 -shared -std=c++17 -fPIC $("$venv/bin/python" -m pybind11 --includes) \
    -include numeric -include cstring "$source_file" -o "$build/BasicUnitNMS$suffix" >&2
echo "$root/$build"
