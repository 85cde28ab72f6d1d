#!/usr/bin/env python3
"""Load on the verifier service: verifications per second it sustains for one model.

Starts `zkinfer serve` on a free loopback port with the bundle, sends `--requests` verify
requests of one proof from `--clients` concurrent clients (Python threads, stdlib only), checks
every answer is 200 with an attestation, and prints throughput and latency percentiles.

    python3 scripts/service_load.py --bundle model.zkv --proof proof.zkp --identity HEX
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # test key only


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--proof", required=True)
    ap.add_argument("--identity", required=True, help="circuit identity (hex)")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--max-concurrent", type=int, default=None)
    ap.add_argument("--zkinfer", default=os.path.join(ROOT, "target", "release", "zkinfer"))
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="zkinfer-load-")
    os.makedirs(os.path.join(work, "bundles"))
    with open(args.bundle, "rb") as f, open(os.path.join(work, "bundles", "model.zkv"), "wb") as g:
        g.write(f.read())
    key = os.path.join(work, "service.key")
    with open(key, "w") as f:
        f.write(TEST_KEY)
    cmd = [args.zkinfer, "serve", "--bundle", os.path.join(work, "bundles"), "--key-file", key,
           "--listen", "127.0.0.1:0", "--chain-id", "31337", "--contract", "0x" + "00" * 19 + "01"]
    if args.max_concurrent:
        cmd += ["--max-concurrent", str(args.max_concurrent)]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        addr = None
        for line in server.stdout:
            if line.startswith("listening on "):
                addr = line.split()[-1].strip()
                break
        if not addr:
            sys.exit("the service did not start")
        with open(args.proof, "rb") as f:
            body = json.dumps({"circuit_identity": args.identity, "proof": f.read().hex()}).encode()

        def one(_):
            t = time.perf_counter()
            req = urllib.request.Request(addr + "/v1/verify", data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=120) as r:
                answer = json.load(r)
                ok = r.status == 200 and "attestation" in answer
            return ok, time.perf_counter() - t

        one(0)  # warm-up
        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            results = list(pool.map(one, range(args.requests)))
        elapsed = time.perf_counter() - start
        failed = sum(1 for ok, _ in results if not ok)
        lat = sorted(t for _, t in results)
        pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
        print(f"{args.requests} verifications from {args.clients} clients in {elapsed:.2f} s: "
              f"{args.requests / elapsed:.1f} verifications/s; latency p50 {pct(0.5):.0f} ms, "
              f"p95 {pct(0.95):.0f} ms, max {lat[-1] * 1000:.0f} ms; failed {failed}")
        sys.exit(1 if failed else 0)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
