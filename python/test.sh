#!/usr/bin/env bash
# Builds the Python package into a venv (python/.venv, created if missing) and runs
# its pytest suite. Used by .ci/run; works on a fresh machine with Python >= 3.9,
# a Rust toolchain and PyPI access. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "== creating python/.venv"
    "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
echo "== pip install -r python/requirements-dev.txt"
python -m pip install -q --upgrade pip
python -m pip install -q -r requirements-dev.txt

echo "== maturin develop --release (python/)"
maturin develop --release --quiet

echo "== pytest (python/tests)"
# A hang must fail CI, not stall it.
timeout 900 python -m pytest -q -p no:cacheprovider tests "$@"
