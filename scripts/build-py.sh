#!/usr/bin/env bash
# Builds the Python wheel of the verifier (pyo3, abi3) with maturin into target/wheels/.
# maturin is installed into target/py-build (a venv) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/py-build
if [ ! -x "$venv/bin/maturin" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "maturin==1.16.0"
fi
rm -rf target/wheels
"$venv/bin/maturin" build --release --manifest-path verifier-py/Cargo.toml --out target/wheels
ls target/wheels
