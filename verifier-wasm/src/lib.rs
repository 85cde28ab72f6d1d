//! # zkinfer-verifier-wasm
//!
//! [`zkinfer_verifier`] for JavaScript: built for `wasm32-unknown-unknown` and wrapped by
//! wasm-bindgen (`js/` holds the package, its web page and tests). Two entry points:
//!
//! - [`verify`]`(bundle, proof)`: one-shot; rebuilds the verifying key, verifies, returns the
//!   verified outputs as a JSON string (the JS wrapper parses it);
//! - [`Verifier`]: built once from a bundle, keeps the rebuilt verifying key, then
//!   `verify(proof)` per proof.
//!
//! Every rejection is a JS `Error` whose message is the typed error's message.
//!
//! ```no_run
//! let bundle = std::fs::read("model.zkv").unwrap();
//! let proof = std::fs::read("proof.zkp").unwrap();
//! let json = zkinfer_verifier_wasm::verify_json(&bundle, &proof).unwrap();
//! assert!(json.contains("\"circuit_identity\""));
//! ```

use wasm_bindgen::prelude::*;
use zkinfer_verifier::Verified;

/// The verified outputs as JSON (the same document on every target).
fn to_json(v: &Verified) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// One-shot verification without wasm-bindgen types (what [`verify`] wraps).
pub fn verify_json(bundle: &[u8], proof: &[u8]) -> Result<String, String> {
    let verifier = zkinfer_verifier::Verifier::from_bundle_bytes(bundle).map_err(|e| e.to_string())?;
    verifier.verify_bytes(proof).map(|v| to_json(&v)).map_err(|e| e.to_string())
}

/// Verifies `proof` (a `.zkp` file's bytes) against `bundle` (a `.zkv` file's bytes); returns
/// the verified outputs as JSON, or throws an `Error` with the reason.
#[wasm_bindgen]
pub fn verify(bundle: &[u8], proof: &[u8]) -> Result<String, JsError> {
    verify_json(bundle, proof).map_err(|e| JsError::new(&e))
}

/// A verifier for one bundle that keeps the rebuilt verifying key across proofs.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Verifier {
    inner: zkinfer_verifier::Verifier,
}

#[wasm_bindgen]
impl Verifier {
    /// Decodes and checks the bundle and rebuilds its verifying key (the slow step).
    #[wasm_bindgen(constructor)]
    pub fn new(bundle: &[u8]) -> Result<Verifier, JsError> {
        zkinfer_verifier::Verifier::from_bundle_bytes(bundle)
            .map(|inner| Verifier { inner })
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The circuit identity (hex) this verifier accepts proofs for.
    #[wasm_bindgen(getter)]
    pub fn identity(&self) -> String {
        zkinfer_verifier::hex(&self.inner.identity())
    }

    /// Verifies one proof file's bytes; returns the verified outputs as JSON or throws.
    pub fn verify(&self, proof: &[u8]) -> Result<String, JsError> {
        self.inner.verify_bytes(proof).map(|v| to_json(&v)).map_err(|e| JsError::new(&e.to_string()))
    }
}
