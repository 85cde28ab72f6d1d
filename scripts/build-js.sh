#!/usr/bin/env bash
# Builds the JavaScript package: the Rust verifier for wasm32-unknown-unknown, then its
# wasm-bindgen glue into js/pkg/. Installs what is missing: the wasm32 target, and
# wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in Cargo.lock (into
# target/tools, once).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown || rustup +stable target add wasm32-unknown-unknown
fi
# The verifier's tree for wasm32 stays short: no prover, ONNX, threads or GPU crates.
heavy=$(cargo tree -p zkinfer-verifier --target wasm32-unknown-unknown -e normal --prefix none \
    | grep -E '^(zkinfer-prover|prost|rayon|tract|wgpu|tokio) ' || true)
if [ -n "$heavy" ]; then
    echo "zkinfer-verifier's wasm32 dependency tree has crates it must not have:" >&2
    echo "$heavy" >&2
    exit 1
fi
version=$(cargo pkgid -p wasm-bindgen | sed 's/.*[@#]//')
tool=target/tools/bin/wasm-bindgen
if [ ! -x "$tool" ] || [ "$("$tool" --version | awk '{print $2}')" != "$version" ]; then
    echo "installing wasm-bindgen-cli $version into target/tools (once)" >&2
    cargo install wasm-bindgen-cli --version "$version" --root target/tools
fi
cargo build --release --target wasm32-unknown-unknown -p zkinfer-verifier-wasm
rm -rf js/pkg
"$tool" --target web --out-dir js/pkg target/wasm32-unknown-unknown/release/zkinfer_verifier_wasm.wasm
wasm=js/pkg/zkinfer_verifier_wasm_bg.wasm
echo "built js/pkg: $(stat -c %s "$wasm") bytes of wasm, $(gzip -9 -c "$wasm" | wc -c) gzipped" >&2
