#!/usr/bin/env python3
"""Side-by-side comparison of zkinfer and EZKL on the same ONNX models, inputs and machine.

    python3 scripts/compare_ezkl.py --install                 # first time: venv with ezkl==23.0.5
    python3 scripts/compare_ezkl.py --models digits_mlp mlp_784_128_10 lenet_28

--install creates .venv-ezkl (ezkl==23.0.5, onnx) and re-runs the script inside it. The script
builds zkinfer (cargo build --release), then per model runs EZKL's own pipeline (gen_settings,
calibrate_settings with target "resources", compile_circuit, gen_srs, setup, gen_witness, prove,
verify) and zkinfer's (compile, setup with an empty params cache, prove with its own engine,
prove with halo2's stock prover, verify), each step in its
own process so that its wall time and peak memory (ru_maxrss from wait4) are its own. It prints
one table per model with the ratio EZKL/zkinfer and checks both give the same argmax. Results
also go to --out as JSON. Only ratios measured in one run are meaningful: figures drift with
machine load.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv-ezkl")
ZOO = os.path.join(ROOT, "models", "zoo")
ZKINFER = os.path.join(ROOT, "target", "release", "zkinfer")

# One EZKL step, run in a child process; prints its own wall time as JSON on the last line.
EZKL_STEP = r"""
import json, sys, time, asyncio, ezkl
step, args = sys.argv[1], json.loads(sys.argv[2])
t = time.perf_counter()
fn = getattr(ezkl, step)
if step == "gen_settings":
    run_args = ezkl.PyRunArgs()
    run_args.input_visibility = "public"
    run_args.output_visibility = "public"
    run_args.param_visibility = "fixed"
    out = fn(args[0], args[1], py_run_args=run_args)
else:
    out = fn(*args)
if asyncio.iscoroutine(out):
    out = asyncio.run(out)
elapsed = time.perf_counter() - t
extra = None
if step == "gen_witness":
    extra = json.load(open(args[2]))["pretty_elements"]["rescaled_outputs"]
print(json.dumps({"seconds": elapsed, "extra": extra}))
"""


def run(cmd, env=None):
    """Runs cmd; returns (stdout, wall seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.decode()[-3000:]}")
    return out.decode(), wall, usage.ru_maxrss / 1024.0


def ezkl_step(step, *args):
    out, wall, rss = run([sys.executable, "-c", EZKL_STEP, step, json.dumps(list(args))])
    last = json.loads(out.strip().splitlines()[-1])
    return last["seconds"], rss, last["extra"]


def argmax(values):
    flat = [float(v) for v in values]
    return max(range(len(flat)), key=lambda i: (flat[i], -i))


def run_ezkl(model, work):
    onnx_path = os.path.join(ZOO, model + ".onnx")
    data = os.path.join(ZOO, model + ".input.json")
    p = lambda name: os.path.join(work, name)
    r = {}
    r["gen_settings"], _, _ = ezkl_step("gen_settings", onnx_path, p("settings.json"))
    r["calibrate"], _, _ = ezkl_step("calibrate_settings", data, onnx_path, p("settings.json"), "resources")
    r["compile"], _, _ = ezkl_step("compile_circuit", onnx_path, p("model.compiled"), p("settings.json"))
    settings = json.load(open(p("settings.json")))
    logrows = settings["run_args"]["logrows"]
    r["gen_srs"], r["gen_srs_rss"], _ = ezkl_step("gen_srs", p("kzg.srs"), logrows)
    r["setup"], r["setup_rss"], _ = ezkl_step("setup", p("model.compiled"), p("vk.key"), p("pk.key"), p("kzg.srs"))
    r["witness"], _, outputs = ezkl_step("gen_witness", data, p("model.compiled"), p("witness.json"), p("vk.key"), p("kzg.srs"))
    r["prove"], r["prove_rss"], _ = ezkl_step("prove", p("witness.json"), p("model.compiled"), p("pk.key"), p("proof.json"), p("kzg.srs"))
    r["verify"], r["verify_rss"], _ = ezkl_step("verify", p("proof.json"), p("settings.json"), p("vk.key"), p("kzg.srs"))
    proof = json.load(open(p("proof.json")))
    r["logrows"] = logrows
    r["proof_file_bytes"] = os.path.getsize(p("proof.json"))
    raw = proof.get("proof", "")
    r["proof_bytes"] = len(raw) // 2 if isinstance(raw, str) else len(raw)
    r["argmax"] = argmax(outputs[0])
    return r


def run_zkinfer(model, work):
    params = os.path.join(work, "params")
    shutil.rmtree(params, ignore_errors=True)
    env = dict(os.environ, ZKINFER_PARAMS_DIR=params)
    onnx_path = os.path.join(ZOO, model + ".onnx")
    p = lambda name: os.path.join(work, name)
    z = lambda *a: run([ZKINFER, *a, "--json"], env=env)
    r = {}
    out, r["compile"], _ = z("compile", onnx_path, "--calibration", os.path.join(ZOO, model + ".calibration.json"), "-o", p("model.zkm"))
    plan = json.loads(out)["plan"]
    r["k"], r["rows"], r["advice_columns"] = plan["k"], plan["rows"], plan["advice_columns"]
    r["function_table_rows"] = plan["function_table_rows"]
    out, wall, r["setup_rss"] = z("setup", p("model.zkm"))
    s = json.loads(out)
    r["params_generate"], r["keygen"], r["setup_total"] = s["params_seconds"], s["keygen_seconds"], wall
    # The operator's flow: setup wrote the key file, so prove runs no keygen.
    out, wall, r["prove_rss"] = z("prove", p("model.zkm"), "--input", os.path.join(ZOO, model + ".input.json"), "-o", p("proof.zkp"), "--key", p("model.zkkey"))
    pr = json.loads(out)
    t = {x["step"]: x["seconds"] for x in pr["timings"]}
    r["prove"], r["prove_keygen"], r["prove_cli_total"] = t["prove (incl. self-check)"], t["key file"], wall
    r["proof_file_bytes"] = pr["proof_bytes"]
    r["argmax"] = pr["predicted_class"]
    # The same circuit proven by halo2's own prover: the engine's speed-up over it.
    out, wall, _ = z("prove", p("model.zkm"), "--input", os.path.join(ZOO, model + ".input.json"), "-o", p("proof-stock.zkp"), "--engine", "stock")
    t = {x["step"]: x["seconds"] for x in json.loads(out)["timings"]}
    r["prove_stock"], r["prove_stock_cli_total"] = t["prove (incl. self-check)"], wall
    out, wall, r["verify_rss"] = z("verify", p("model.zkm"), p("proof.zkp"))
    v = {x["step"]: x["seconds"] for x in json.loads(out)["timings"]}
    r["verify_with_vk"], r["verify_only"], r["verify_cli_total"] = v["verifying key"] + v["verify"], v["verify"], wall
    return r


def table(model, e, z):
    rows = [
        ("logrows / k", e["logrows"], z["k"], None),
        ("zkinfer rows used / function table rows", None, f'{z["rows"]} / {z["function_table_rows"]}', None),
        ("first setup (s): EZKL gen_srs+setup / zkinfer params+keygen", e["gen_srs"] + e["setup"], z["params_generate"] + z["keygen"], True),
        ("setup, params cached (s): EZKL setup / zkinfer keygen", e["setup"], z["keygen"], True),
        ("prove (s)", e["prove"], z["prove"], True),
        ("prove, whole CLI call (s): zkinfer with the key file (no keygen)", None, z["prove_cli_total"], None),
        ("prove (s), halo2's stock prover on zkinfer's circuit", None, z["prove_stock"], None),
        ("verify (s): zkinfer includes the verifying-key rebuild", e["verify"], z["verify_with_vk"], True),
        ("proof file (bytes)", e["proof_file_bytes"], z["proof_file_bytes"], True),
        ("proof bytes (raw)", e["proof_bytes"], z["proof_file_bytes"], True),
        ("peak memory, prove (MiB)", e["prove_rss"], z["prove_rss"], True),
        ("peak memory, setup (MiB)", max(e["setup_rss"], e["gen_srs_rss"]), z["setup_rss"], True),
        ("argmax", e["argmax"], z["argmax"], None),
    ]
    print(f"\n## {model}\n")
    print("| metric | EZKL 23.0.5 | zkinfer | EZKL / zkinfer |")
    print("| --- | --- | --- | --- |")
    for name, a, b, ratio in rows:
        fa = "" if a is None else (f"{a:.3f}" if isinstance(a, float) else str(a))
        fb = "" if b is None else (f"{b:.3f}" if isinstance(b, float) else str(b))
        fr = f"{a / b:.2f}x" if ratio and a is not None and b else ""
        print(f"| {name} | {fa} | {fb} | {fr} |")
    print(f"\nzkinfer's engine against halo2's stock prover on the same circuit: {z['prove_stock'] / z['prove']:.2f}x "
          f"(prove incl. self-check {z['prove']:.3f} s against {z['prove_stock']:.3f} s)")
    same = e["argmax"] == z["argmax"]
    print(f"\nsame argmax: {'yes' if same else 'NO'} (EZKL {e['argmax']}, zkinfer {z['argmax']})")
    return same


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--install", action="store_true", help="create .venv-ezkl with ezkl==23.0.5 and re-run inside it")
    ap.add_argument("--models", nargs="+", default=["digits_mlp", "digits_cnn", "digits_mlp_sigmoid", "digits_mlp_tanh",
                                                    "mlp_784_128_10", "lenet_28"])
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "compare-ezkl"))
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "compare-ezkl", "results.json"))
    args = ap.parse_args()
    if args.install and not sys.prefix == VENV:
        if not os.path.exists(os.path.join(VENV, "bin", "python")):
            subprocess.check_call([sys.executable, "-m", "venv", VENV])
            subprocess.check_call([os.path.join(VENV, "bin", "pip"), "install", "-q", "ezkl==23.0.5", "onnx==1.23.2"])
        os.execv(os.path.join(VENV, "bin", "python"), [os.path.join(VENV, "bin", "python"), *[a for a in sys.argv if a != "--install"]])
    try:
        import ezkl  # noqa: F401
    except ImportError:
        sys.exit("ezkl is not installed here: run with --install (creates .venv-ezkl)")
    subprocess.check_call(["cargo", "build", "--release", "--quiet"], cwd=ROOT)
    results, ok = {}, True
    for model in args.models:
        work = os.path.join(args.work, model)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(os.path.join(work, "ezkl"))
        os.makedirs(os.path.join(work, "zkinfer"))
        print(f"running {model} ...", file=sys.stderr)
        try:
            e = run_ezkl(model, os.path.join(work, "ezkl"))
            z = run_zkinfer(model, os.path.join(work, "zkinfer"))
        except RuntimeError as err:
            print(f"\n## {model}\n\nFAILED: {str(err)[-600:]}")
            ok = False
            continue
        ok &= table(model, e, z)
        results[model] = {"ezkl": e, "zkinfer": z}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    json.dump(results, open(args.out, "w"), indent=1)
    print(f"\nmachine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}; results in {args.out}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
