//! # zkinfer-verifier-py
//!
//! [`zkinfer_verifier`] for Python: a pyo3 extension module (abi3, so one wheel serves every
//! CPython from 3.9), built with maturin from `verifier-py/`. The Python package
//! `zkinfer_verifier` (in `python/`) wraps it: `verify(bundle, proof, verifier="own") -> dict`
//! and a `Verifier(bundle, verifier="own")` class that keeps the verifying key (`"stock"`:
//! halo2's keygen from the bundle's model, which must give the bundle's key, and halo2's
//! verifier). Rejections raise `zkinfer_verifier.VerificationError` with the typed error's
//! message.
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

fn verifier(bundle: &[u8], choice: &str) -> Result<zkinfer_verifier::Verifier, String> {
    let choice: zkinfer_verifier::VerifierChoice = choice.parse()?;
    let bundle = zkinfer_verifier::VerificationBundle::from_bytes(bundle).map_err(|e| e.to_string())?;
    zkinfer_verifier::Verifier::from_bundle_with(bundle, choice).map_err(|e| e.to_string())
}

/// Verifies a proof file's bytes against a bundle's bytes with the chosen verifier (`own` or
/// `stock`); returns the outputs as JSON.
#[pyfunction]
fn _verify_json(py: Python<'_>, bundle: Vec<u8>, proof: Vec<u8>, verifier: &str) -> PyResult<String> {
    let choice = verifier.to_owned();
    let verified = py.detach(|| self::verifier(&bundle, &choice)?.verify_bytes(&proof).map_err(|e| e.to_string()));
    to_json(&verified.map_err(VerificationError::new_err)?)
}

/// A verifier for one bundle that keeps its verifying key.
#[pyclass(frozen)]
struct _NativeVerifier {
    inner: zkinfer_verifier::Verifier,
}

#[pymethods]
impl _NativeVerifier {
    #[new]
    fn new(py: Python<'_>, bundle: Vec<u8>, verifier: &str) -> PyResult<Self> {
        let choice = verifier.to_owned();
        py.detach(|| self::verifier(&bundle, &choice)).map(|inner| Self { inner }).map_err(VerificationError::new_err)
    }

    #[getter]
    fn choice(&self) -> &'static str {
        self.inner.choice().name()
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
