//! # zkinfer-verifier-wasm
//!
//! [`zkinfer_verifier`] for JavaScript: built for `wasm32-unknown-unknown` and wrapped by
//! wasm-bindgen (`js/` holds the package, its web page and tests). Two entry points:
//!
//! - [`verify`]`(bundle, proof, verifier)`: one-shot; takes the verifying key from the bundle,
//!   verifies, returns the verified outputs as a JSON string (the JS wrapper parses it);
//! - [`Verifier`]: built once from a bundle, keeps the verifying key, then `verify(proof)` per
//!   proof.
//!
//! `verifier` is `"own"` (the default: zkinfer's verifier with the bundle's key) or `"stock"`
//! (halo2's keygen from the bundle's model, which must give the bundle's key, and halo2's
//! verifier: seconds in a browser).
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
use zkinfer_verifier::{VerificationBundle, Verified, VerifierChoice};

/// The verified outputs as JSON (the same document on every target).
fn to_json(v: &Verified) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// The verifier a name chooses (`None`: the own one).
fn choice(name: Option<String>) -> Result<VerifierChoice, String> {
    name.as_deref().unwrap_or(VerifierChoice::Own.name()).parse()
}

fn verifier(bundle: &[u8], choice: VerifierChoice) -> Result<zkinfer_verifier::Verifier, String> {
    let bundle = VerificationBundle::from_bytes(bundle).map_err(|e| e.to_string())?;
    zkinfer_verifier::Verifier::from_bundle_with(bundle, choice).map_err(|e| e.to_string())
}

/// One-shot verification with the own verifier, without wasm-bindgen types.
pub fn verify_json(bundle: &[u8], proof: &[u8]) -> Result<String, String> {
    verify_json_with(bundle, proof, VerifierChoice::Own)
}

/// One-shot verification with the chosen verifier (what [`verify`] wraps).
pub fn verify_json_with(bundle: &[u8], proof: &[u8], choice: VerifierChoice) -> Result<String, String> {
    verifier(bundle, choice)?.verify_bytes(proof).map(|v| to_json(&v)).map_err(|e| e.to_string())
}

/// Verifies `proof` (a `.zkp` file's bytes) against `bundle` (a `.zkv` file's bytes) with
/// `verifier` (`"own"` when absent, or `"stock"`); returns the verified outputs as JSON, or
/// throws an `Error` with the reason.
#[wasm_bindgen]
pub fn verify(bundle: &[u8], proof: &[u8], verifier: Option<String>) -> Result<String, JsError> {
    choice(verifier).and_then(|c| verify_json_with(bundle, proof, c)).map_err(|e| JsError::new(&e))
}

/// A verifier for one bundle that keeps its verifying key across proofs.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Verifier {
    inner: zkinfer_verifier::Verifier,
}

#[wasm_bindgen]
impl Verifier {
    /// Decodes and checks the bundle and prepares its verifying key with `verifier` (`"own"`
    /// when absent, or `"stock"`: halo2's keygen, the slow step).
    #[wasm_bindgen(constructor)]
    pub fn new(bundle: &[u8], verifier: Option<String>) -> Result<Verifier, JsError> {
        choice(verifier)
            .and_then(|c| self::verifier(bundle, c))
            .map(|inner| Verifier { inner })
            .map_err(|e| JsError::new(&e))
    }

    /// The verifier it checks proofs with (`"own"` or `"stock"`).
    #[wasm_bindgen(getter)]
    pub fn choice(&self) -> String {
        self.inner.choice().name().to_string()
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
