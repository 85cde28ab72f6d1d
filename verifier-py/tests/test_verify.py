"""The Python wheel: the valid proof of the conformance set (written by the Rust tests to
target/conformance/digits_mlp) verifies to the same outputs as in Rust, and every tamper case
raises VerificationError with the expected message."""

import json
import os
import pathlib
import time

import pytest

import zkinfer_verifier
from zkinfer_verifier import VerificationError, Verifier, verify

ROOT = pathlib.Path(__file__).resolve().parents[2]
DIR = pathlib.Path(os.environ.get("ZKINFER_CONFORMANCE", ROOT / "target" / "conformance" / "digits_mlp"))


def read(name):
    return (DIR / name).read_bytes()


EXPECTED = json.loads(read("expected.json"))
CASES = json.loads(read("cases.json"))


def test_the_valid_proof_verifies_to_the_expected_outputs():
    t0 = time.perf_counter()
    result = verify(read("bundle.zkv"), read("proof.zkp"))
    first = time.perf_counter() - t0
    assert result == EXPECTED
    assert result["predicted"]["label"] == str(result["predicted"]["class"])

    verifier = Verifier(read("bundle.zkv"))
    assert verifier.identity == EXPECTED["circuit_identity"]
    t1 = time.perf_counter()
    assert verifier.verify(read("proof.zkp")) == EXPECTED
    repeated = time.perf_counter() - t1
    print(f"python: first verification {first * 1000:.0f} ms (with key rebuild), repeated {repeated * 1000:.1f} ms")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_tamper_case_is_rejected(case):
    with pytest.raises(VerificationError) as e:
        verify(read(case["bundle"]), read(case["proof"]))
    assert case["error"] in str(e.value)


def test_the_stock_verifier_gives_the_same_outputs_and_rejects_a_tampered_proof():
    assert verify(read("bundle.zkv"), read("proof.zkp"), verifier="stock") == EXPECTED
    stock = Verifier(read("bundle.zkv"), verifier="stock")
    assert (stock.choice, Verifier(read("bundle.zkv")).choice) == ("stock", "own")
    (case,) = [c for c in CASES if c["name"] == "altered_output"]
    with pytest.raises(VerificationError) as e:
        stock.verify(read(case["proof"]))
    assert case["error"] in str(e.value)
    with pytest.raises(VerificationError, match="unknown verifier 'other'"):
        verify(read("bundle.zkv"), read("proof.zkp"), verifier="other")


def test_the_exception_is_an_exception_and_exported():
    assert issubclass(zkinfer_verifier.VerificationError, Exception)
    with pytest.raises(TypeError):
        verify("not bytes", read("proof.zkp"))
