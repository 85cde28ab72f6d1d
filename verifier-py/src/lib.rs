//! # zkinfer-verifier-py
//!
//! [`zkinfer_verifier`] for Python: a pyo3 extension module (abi3, so one wheel serves every
//! CPython from 3.9), built with maturin from `verifier-py/`. The Python package
//! `zkinfer_verifier` (in `python/`) wraps it: `verify(bundle, proof) -> dict` and a
//! `Verifier(bundle)` class that keeps the rebuilt verifying key. Rejections raise
//! `zkinfer_verifier.VerificationError` with the typed error's message.
//!
//! The native functions return the verified outputs as JSON (the same document as the CLI's
//! `--json` and the JavaScript package), which the Python wrapper parses.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(zkinfer_verifier_native, VerificationError, PyException, "A proof or bundle was rejected.");

fn to_json(v: &zkinfer_verifier::Verified) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| VerificationError::new_err(e.to_string()))
}

/// Verifies a proof file's bytes against a bundle's bytes; returns the outputs as JSON.
#[pyfunction]
fn _verify_json(py: Python<'_>, bundle: Vec<u8>, proof: Vec<u8>) -> PyResult<String> {
    let verified = py.detach(|| {
        let verifier = zkinfer_verifier::Verifier::from_bundle_bytes(&bundle).map_err(|e| e.to_string())?;
        verifier.verify_bytes(&proof).map_err(|e| e.to_string())
    });
    to_json(&verified.map_err(VerificationError::new_err)?)
}

/// A verifier for one bundle that keeps the rebuilt verifying key.
#[pyclass(frozen)]
struct _NativeVerifier {
    inner: zkinfer_verifier::Verifier,
}

#[pymethods]
impl _NativeVerifier {
    #[new]
    fn new(py: Python<'_>, bundle: Vec<u8>) -> PyResult<Self> {
        py.detach(|| zkinfer_verifier::Verifier::from_bundle_bytes(&bundle))
            .map(|inner| Self { inner })
            .map_err(|e| VerificationError::new_err(e.to_string()))
    }

    #[getter]
    fn identity(&self) -> String {
        zkinfer_verifier::hex(&self.inner.identity())
    }

    fn verify_json(&self, py: Python<'_>, proof: Vec<u8>) -> PyResult<String> {
        let verified =
            py.detach(|| self.inner.verify_bytes(&proof)).map_err(|e| VerificationError::new_err(e.to_string()))?;
        to_json(&verified)
    }
}

#[pymodule]
fn zkinfer_verifier_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("VerificationError", m.py().get_type::<VerificationError>())?;
    m.add_function(wrap_pyfunction!(_verify_json, m)?)?;
    m.add_class::<_NativeVerifier>()?;
    Ok(())
}
