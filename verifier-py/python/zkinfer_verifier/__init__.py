"""Verify zkinfer proofs from Python.

    import zkinfer_verifier
    bundle = open("model.zkv", "rb").read()
    result = zkinfer_verifier.verify(bundle, open("proof.zkp", "rb").read())
    print(result["predicted"], result["outputs"][0]["real"])

`verify(bundle, proof)` reads the verifying key from the bundle each call; `Verifier(bundle)`
keeps it for many proofs. Both take `verifier="own"` (the default: zkinfer's verifier with the
bundle's key) or `verifier="stock"` (halo2's keygen from the bundle's model, which must give the
bundle's key, then halo2's verifier). A rejected proof or an unusable bundle raises
`VerificationError` with the reason.
"""

import json as _json

from .zkinfer_verifier_native import VerificationError, _verify_json, _NativeVerifier

__all__ = ["verify", "Verifier", "VerificationError"]


def verify(bundle: bytes, proof: bytes, verifier: str = "own") -> dict:
    """Verify a proof file's bytes against a verification bundle's bytes; return the verified outputs."""
    return _json.loads(_verify_json(bundle, proof, verifier))


class Verifier:
    """A verifier for one bundle that keeps its verifying key across proofs."""

    def __init__(self, bundle: bytes, verifier: str = "own"):
        self._native = _NativeVerifier(bundle, verifier)

    @property
    def choice(self) -> str:
        """The verifier it checks proofs with: "own" or "stock"."""
        return self._native.choice

    @property
    def identity(self) -> str:
        """The circuit identity (hex) this verifier accepts proofs for."""
        return self._native.identity

    def verify(self, proof: bytes) -> dict:
        """Verify one proof file's bytes; return the verified outputs."""
        return _json.loads(self._native.verify_json(proof))
