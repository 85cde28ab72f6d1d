#!/usr/bin/env python3
"""Throughput of the proving service: jobs per minute with 1, 2, ... worker processes.

For each worker count: a fresh job database (a new SQLite file; with `--database URL`, give an
empty PostgreSQL database per run), `zkinfer serve --models DIR --workers 0` as the API, N
`zkinfer worker` processes, `--jobs` submissions of distinct calibration samples; the time from
the first submission until every job is done. Every job must end done. Workers load their
models before the clock starts.

    python3 scripts/prove_service_load.py --workers 1 2 --jobs 60

Compiles the digits MLP (and writes its key file) into a temporary models directory unless
`--models DIR` is given. Stdlib only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def request(addr, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://{addr}{path}", data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def start_api(zkinfer, models, database, env):
    api = subprocess.Popen([zkinfer, "serve", "--models", models, "--database", database, "--workers", "0",
                            "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, env=env)
    for line in api.stdout:
        if line.startswith("listening on http://"):
            return api, line.strip().removeprefix("listening on http://")
    raise SystemExit("the API did not start")


def start_worker(zkinfer, models, database, env):
    worker = subprocess.Popen([zkinfer, "worker", "--models", models, "--database", database],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    for line in worker.stderr:
        if " ready (" in line:
            # Keep reading its log, or the pipe fills and the worker blocks.
            threading.Thread(target=lambda: [None for _ in worker.stderr], daemon=True).start()
            return worker
    raise SystemExit("a worker did not start")


def run(args, models, samples, workers, env):
    scratch = tempfile.mkdtemp(prefix="zkinfer-jobs-")
    database = args.database or "sqlite://" + os.path.join(scratch, "jobs.db")
    api, addr = start_api(args.zkinfer, models, database, env)
    procs = [start_worker(args.zkinfer, models, database, env) for _ in range(workers)]
    try:
        start = time.monotonic()
        ids = []
        for i in range(args.jobs):
            status, job = request(addr, "POST", "/v1/prove",
                                  {"model": args.model, "input": {"input_data": [samples[i % len(samples)]]}})
            assert status == 202, (status, job)
            ids.append(job["id"])
        prove_ms = []
        for job_id in ids:
            while True:
                status, job = request(addr, "GET", f"/v1/jobs/{job_id}")
                assert status == 200, (status, job)
                if job["state"] in ("done", "failed"):
                    break
                time.sleep(0.05)
            assert job["state"] == "done", job
            prove_ms.append(job["timings"]["prove_ms"])
        elapsed = time.monotonic() - start
    finally:
        for p in procs + [api]:
            p.kill()
            p.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    prove_ms.sort()
    return {"workers": workers, "jobs": args.jobs, "seconds": round(elapsed, 2),
            "jobs_per_minute": round(args.jobs * 60 / elapsed, 1),
            "prove_ms_p50": prove_ms[len(prove_ms) // 2], "prove_ms_max": prove_ms[-1]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--jobs", type=int, default=60)
    ap.add_argument("--models", help="models directory (default: the digits MLP, compiled here)")
    ap.add_argument("--model", default="digits_mlp", help="the model jobs name")
    ap.add_argument("--samples", default=os.path.join(ROOT, "models/zoo/digits_mlp.calibration.json"))
    ap.add_argument("--database", help="job database URL (default: a new SQLite file per run)")
    ap.add_argument("--zkinfer", default=os.path.join(ROOT, "target", "release", "zkinfer"))
    args = ap.parse_args()
    env = dict(os.environ)
    env.setdefault("ZKINFER_PARAMS_DIR", os.path.join(ROOT, "target", "zkinfer-params"))
    models = args.models
    if models is None:
        models = tempfile.mkdtemp(prefix="zkinfer-models-")
        zkm = os.path.join(models, "digits_mlp.zkm")
        subprocess.run([args.zkinfer, "compile", os.path.join(ROOT, "models/zoo/digits_mlp.onnx"), "--calibration",
                        os.path.join(ROOT, "models/zoo/digits_mlp.calibration.json"), "-o", zkm, "--json"],
                       check=True, stdout=subprocess.DEVNULL, env=env)
        subprocess.run([args.zkinfer, "setup", zkm, "--json"], check=True, stdout=subprocess.DEVNULL, env=env)
    with open(args.samples) as f:
        samples = json.load(f)["input_data"]
    print(f"cores: {os.cpu_count()}", file=sys.stderr)
    for workers in args.workers:
        print(json.dumps(run(args, models, samples, workers, env)))


if __name__ == "__main__":
    main()
