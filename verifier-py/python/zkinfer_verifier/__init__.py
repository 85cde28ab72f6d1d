"""Verify zkinfer proofs from Python.

    import zkinfer_verifier
    bundle = open("model.zkv", "rb").read()
    result = zkinfer_verifier.verify(bundle, open("proof.zkp", "rb").read())
    print(result["predicted"], result["outputs"][0]["real"])

`verify(bundle, proof)` rebuilds the verifying key each call; `Verifier(bundle)` keeps it for
many proofs. A rejected proof or an unusable bundle raises `VerificationError` with the reason.
"""

import json as _json

from .zkinfer_verifier_native import VerificationError, _verify_json, _NativeVerifier

__all__ = ["verify", "Verifier", "VerificationError"]


def verify(bundle: bytes, proof: bytes) -> dict:
    """Verify a proof file's bytes against a verification bundle's bytes; return the verified outputs."""
    return _json.loads(_verify_json(bundle, proof))


class Verifier:
    """A verifier for one bundle that keeps the rebuilt verifying key across proofs."""

    def __init__(self, bundle: bytes):
        self._native = _NativeVerifier(bundle)

    @property
    def identity(self) -> str:
        """The circuit identity (hex) this verifier accepts proofs for."""
        return self._native.identity

    def verify(self, proof: bytes) -> dict:
        """Verify one proof file's bytes; return the verified outputs."""
        return _json.loads(self._native.verify_json(proof))
