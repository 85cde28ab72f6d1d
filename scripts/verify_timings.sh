#!/usr/bin/env bash
# Verification time of one bundle and proof on every target: first (bundle decode, verifying key
# from the bundle, proof) and repeated (key kept); for the CLI also the whole process, start to
# verdict (best of three); Node and Chromium the median and range of five fresh processes or
# browser profiles (`node js/bench/verify.mjs BUNDLE PROOF RUNS` for more). Needs the release
# CLI, js/pkg (scripts/build-js.sh), the npm packages of js/, Chromium and target/py-test
# (scripts/test-all.sh makes it).
# Usage: scripts/verify_timings.sh model.zkv proof.zkp
set -euo pipefail
bundle=$(realpath "$1"); proof=$(realpath "$2")
cd "$(dirname "$0")/.."
echo "bundle $(stat -c %s "$bundle") bytes, proof $(stat -c %s "$proof") bytes"
target/release/zkinfer verify "$bundle" "$proof" --json 2>/dev/null | python3 -c '
import json, sys
t = {x["step"]: x["seconds"] for x in json.load(sys.stdin)["timings"]}
rep = t["verify"]
first = t["bundle and verifying key"] + rep
print(f"rust (native, 2 threads): first {first*1000:.0f} ms, repeated {rep*1000:.1f} ms")'
python3 - "$bundle" "$proof" <<'PY'
import subprocess, sys, time
runs = []
for _ in range(3):
    t = time.perf_counter()
    subprocess.run(["target/release/zkinfer", "verify", sys.argv[1], sys.argv[2]], check=True, capture_output=True)
    runs.append(time.perf_counter() - t)
print(f"rust CLI process, start to verdict: {min(runs)*1000:.0f} ms (best of 3)")
PY
target/py-test/bin/python - "$bundle" "$proof" <<'PY'
import sys, time, zkinfer_verifier as z
b, p = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
t = time.perf_counter(); z.verify(b, p); first = time.perf_counter() - t
v = z.Verifier(b); t = time.perf_counter(); v.verify(p); rep = time.perf_counter() - t
print(f"python (native, 1 thread): first {first*1000:.0f} ms, repeated {rep*1000:.1f} ms")
PY
(cd js && node bench/verify.mjs "$bundle" "$proof")
