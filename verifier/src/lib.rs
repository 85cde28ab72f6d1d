//! # zkinfer-verifier
//!
//! Checks zkinfer proofs. Owns the artifact formats ([`format`]: magic, version, kind, size
//! limits), validated decoding of compiled models ([`CompiledModel`]), proof envelopes
//! ([`ProofEnvelope`]), params ([`params`]) and verification bundles ([`bundle`]: everything a
//! verifier needs for one model in one file, the verifying key's commitments included), the
//! circuit identity, and verification ([`Verifier`]) by zkinfer's own halo2 verifier
//! ([`plonk`]: the key from the bundle, no keygen) or by halo2's stock one
//! ([`VerifierChoice::Stock`]: `keygen_vk` from the compiled model). The same code builds for
//! wasm32 (the JavaScript package) and for Python (the wheel).
//!
//! The circuit identity hashes halo2's pinned verifying key and the model's public interface.
//! [`Verifier::verify`] enforces the exact public-value count, each value's range, and that
//! verification reads the proof to its last byte (the stock `verify_proof` alone accepts
//! trailing bytes and zero-padded public inputs). Untrusted bytes give typed errors, never
//! panics.
//!
//! Dependencies stay short (no prover, no ONNX, no rayon) so the crate builds for wasm32.
//!
//! From a bundle (`zkinfer export-verifier`):
//!
//! ```no_run
//! let verifier = zkinfer_verifier::Verifier::from_bundle_bytes(&std::fs::read("model.zkv")?)?;
//! let verified = verifier.verify_bytes(&std::fs::read("proof.zkp")?)?;   // keep `verifier` for more
//! println!("{:?} {:?}", verified.predicted, verified.outputs[0].real);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! From a compiled model and params, with halo2's keygen and verifier:
//!
//! ```no_run
//! use zkinfer_verifier::{CompiledModel, ProofEnvelope, Verifier, params::params_from_bytes};
//! let model = CompiledModel::from_bytes(&std::fs::read("model.zkm")?)?;
//! let (params, params_hash) = params_from_bytes(&std::fs::read("params-k10.zkpar")?)?;
//! let verifier = Verifier::new(model, params, params_hash)?;    // rebuilds the verifying key once
//! let proof = ProofEnvelope::from_bytes(&std::fs::read("proof.zkp")?)?;
//! let verified = verifier.verify(&proof)?;
//! println!("{:?}", verified.outputs[0].real);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod artifacts;
pub mod bundle;
pub mod format;
mod limb32;
pub mod params;
pub mod plonk;
mod verify;

pub use artifacts::{CompiledModel, Digest, ModelError, ProofEnvelope, hex};
pub use bundle::{BundleError, OutputDescription, VerificationBundle};
pub use format::FormatError;
pub use verify::{
    Prediction, Verified, VerifiedTensor, Verifier, VerifierChoice, VerifyError, circuit_identity, predicted_class,
    public_interface, verify, verifying_key,
};
