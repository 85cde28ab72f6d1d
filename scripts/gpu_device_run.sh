#!/usr/bin/env bash
# One run on a machine with a GPU: list the adapters, time every kernel against the CPU in each
# field form (MSM, small-scalar MSM, FFT, the IPA's generator collapse; each GPU result checked
# equal), prove the MLP 784-128-10 and the LeNet-style CNN on the CPU engine and with each
# primitive on the GPU (every proof checked byte-equal to the CPU engine's), then time whole
# `zkinfer prove` calls (stock prover, engine with the key file, engine with `--device auto`).
# Prints the adapter with every table; BENCHMARKS.md records the figures with it.
#
#   bash scripts/gpu_device_run.sh [gpu|gpu:N] [max_log]
#
# (max_log: the largest kernel size as log2, 20 by default; on a software adapter use 12.)
#
# It builds the binaries first. On a machine without a Rust toolchain, build them where there is
# one and carry them:
#
#   bash scripts/gpu_device_run.sh prepare DIR      # builds, strips and copies the binaries
#   ZKINFER_BIN_DIR=DIR bash scripts/gpu_device_run.sh gpu 20
#
# ZKINFER_RUN_PARTS chooses parts (default: all of them, in this order): "stages" (the CPU
# engine's stages), a field form's name (kernels and proofs in that form: lazy13, the default;
# int64, where the adapter has 64-bit integers; rows), "calls" (whole `zkinfer prove` calls).
set -euo pipefail
cd "$(dirname "$0")/.."

binaries() {
    cargo build --release --bin zkinfer
    cargo build --release -p zkinfer-gpu --examples
    cargo build --release -p zkinfer-engine --example stages
}

if [ "${1:-}" = prepare ]; then
    dir=${2:?usage: gpu_device_run.sh prepare DIR}
    binaries
    mkdir -p "$dir"
    for b in target/release/zkinfer target/release/examples/{gpu_bench,prove_bench,stages}; do
        strip -o "$dir/$(basename "$b")" "$b"
    done
    ls -la "$dir"
    exit 0
fi

device=${1:-gpu}
max_log=${2:-20}
parts=${ZKINFER_RUN_PARTS:-stages lazy13 int64 calls rows}
wants() { [[ " $parts " == *" $1 "* ]]; }
# ZKINFER_MODELS: other zoo models (a quick check on a software adapter)
read -r -a models <<< "${ZKINFER_MODELS:-mlp_784_128_10 lenet_28}"

step() { echo; echo "== $* ($(date +%T)) =="; }

if [ -n "${ZKINFER_BIN_DIR:-}" ]; then
    bin=$ZKINFER_BIN_DIR
    examples=$ZKINFER_BIN_DIR
else
    step "build"
    binaries
    bin=target/release
    examples=target/release/examples
fi

step "machine"
nproc
grep -m1 "model name" /proc/cpuinfo || true
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || true

step "adapters"
"$bin/zkinfer" devices

if wants stages; then
    for name in "${models[@]}"; do
        step "$name: the CPU engine's stages, two runs"
        for _ in 1 2; do "$examples/stages" "$name" | tail -3; done
    done
fi

# Kernels and proofs in one field form. The MSM phases of `profile` go to a file beside the log
# ($OUT on the device machine).
gpu_figures() {
    local form=$1
    step "kernels ($form): CPU against GPU, up to 2^$max_log"
    # A form the adapter cannot run (int64 without 64-bit integers) fails alone.
    "$examples/gpu_bench" "$device" "$max_log" "$form" profile 2>"${OUT:-/tmp}/profile-$form.txt" ||
        { echo "(the $form kernels failed: see profile-$form.txt)"; return 0; }
    step "end to end ($form): the CPU engine against the GPU, per primitive"
    "$examples/prove_bench" "$device" "$form" "${models[@]}" || echo "(the $form proofs failed)"
}
for form in lazy13 int64; do
    if wants $form; then gpu_figures $form; fi
done

if wants calls; then
    step "whole zkinfer prove calls"
    work=$(mktemp -d)
    export ZKINFER_PARAMS_DIR=${ZKINFER_PARAMS_DIR:-target/zkinfer-params}
    timings() {
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["engine"], d["device"], "; ".join("%s %.3f s" % (t["step"], t["seconds"]) for t in d["timings"]))'
    }
    for name in "${models[@]}"; do
        zoo=models/zoo/$name
        "$bin/zkinfer" compile "$zoo.onnx" --calibration "$zoo.calibration.json" -o "$work/$name.zkm" >/dev/null
        "$bin/zkinfer" setup "$work/$name.zkm" | tail -1
        for round in 1 2; do
            for engine in "stock" "cpu --key $work/$name.zkkey" "cpu --key $work/$name.zkkey --device auto"; do
                start=$EPOCHREALTIME
                # shellcheck disable=SC2086 # the engine's arguments are words
                out=$("$bin/zkinfer" prove "$work/$name.zkm" --input "$zoo.input.json" -o "$work/p.zkp" --engine $engine --json 2>/dev/null)
                whole=$(awk "BEGIN { printf \"%.3f\", $EPOCHREALTIME - $start }")
                echo "$name round $round: $(echo "$out" | timings), whole call ${whole} s"
            done
        done
    done
    rm -rf "$work"
fi

if wants rows; then gpu_figures rows; fi

step "done"
