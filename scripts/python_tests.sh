#!/usr/bin/env bash
# The Python package's tests: creates .venv-py (ignored by git) with the test
# dependencies, builds the native module into it (maturin develop, the dev profile, so
# it shares the compiled dependencies of `cargo test`), and runs pytest on
# python/tests. The tests compare with the `dnalm` binary of the same profile, built
# by `cargo test --workspace --no-run` (with the features that `cargo test` resolves,
# so that after `cargo test` nothing is built again).
#
# Usage: bash scripts/python_tests.sh [PYTEST ARGS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=$root/.venv-py
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    "maturin>=1.9.4,<2" "numpy>=1.24" "pytest>=8" "ray[data]>=2.40" "pyarrow>=14" "pandas>=2"
cargo test --quiet --workspace --no-run
(cd python && VIRTUAL_ENV=$venv PATH=$venv/bin:$PATH maturin develop --quiet --profile dev)
cd python
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" tests
