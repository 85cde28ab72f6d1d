#!/usr/bin/env bash
# Every test: the Rust workspace (which also writes the verifier conformance set to
# target/conformance/, and runs the contracts on revm after compiling them with solc-js), then the same conformance set through the JavaScript package in Node
# and in headless Chromium, and through the Python wheel. Installs what is missing (wasm32
# target, wasm-bindgen-cli, npm packages, maturin and pytest in venvs under target/); Chromium
# comes from Debian's `chromium` package (installed here when running as root with apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo; echo "== $* =="; }

step "Rust: cargo test --release --workspace"
# The contract tests compile contracts/sol with solc-js (the npm solc package).
if [ ! -d contracts/node_modules/solc ]; then
    (cd contracts && npm ci --no-audit --no-fund)
fi
cargo test --release --workspace

step "JavaScript: build the package (wasm32 + wasm-bindgen)"
bash scripts/build-js.sh
if [ ! -d js/node_modules/playwright-core ]; then
    (cd js && npm ci --no-audit --no-fund)
fi

step "JavaScript: Node"
(cd js && node --test test/node.test.mjs)

step "JavaScript: headless Chromium"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "Chromium is missing: install Debian's chromium package (or set CHROMIUM=/path/to/chromium)" >&2
        exit 1
    fi
fi
(cd js && node test/browser.test.mjs)

step "Python: build the wheel and test it in a fresh venv"
bash scripts/build-py.sh
rm -rf target/py-test
python3 -m venv target/py-test
target/py-test/bin/pip install --quiet pytest==9.2.0 target/wheels/*.whl
target/py-test/bin/python -m pytest -q verifier-py/tests

echo
echo "all tests passed"
