#!/usr/bin/env bash
# One run on a machine with a GPU: build, list the adapters, time every kernel against the CPU
# (MSM, small-scalar MSM, FFT, the IPA's generator collapse; each GPU result checked equal), then
# prove the MLP 784-128-10 and the LeNet-style CNN on the CPU engine and with each primitive on
# the GPU (every proof checked byte-equal to the CPU engine's). Prints the adapter with every
# table; BENCHMARKS.md records the figures with it.
#
#   bash scripts/gpu_device_run.sh [gpu|gpu:N] [max_log]
#
# (max_log: the largest kernel size as log2, 20 by default; on a software adapter use 12.)
set -euo pipefail
cd "$(dirname "$0")/.."
device=${1:-gpu}
max_log=${2:-20}

step() { echo; echo "== $* ($(date +%T)) =="; }

step "build"
cargo build --release --bin zkinfer
cargo build --release -p zkinfer-gpu --examples

step "adapters"
target/release/zkinfer devices

step "kernels: CPU against GPU, up to 2^$max_log"
target/release/examples/gpu_bench "$device" "$max_log"

step "end to end: the CPU engine against the GPU, per primitive"
target/release/examples/prove_bench "$device" mlp_784_128_10 lenet_28

step "done"
