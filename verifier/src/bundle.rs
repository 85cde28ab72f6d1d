//! The verification bundle (`.zkv`): everything a verifier needs for one model and nothing a
//! prover needs.
//!
//! It holds the compiled model (the circuit description: quantized model, layout, `k`), the
//! params for that `k` (halo2_proofs 0.4.1 cannot serialize a verifying key, so the verifier
//! rebuilds it; generating params is far too slow for a verifier, so they travel here, with
//! their content hash), the circuit identity the bundle was made for, and a description of the
//! outputs (name, shape, scale, optional class labels). Each part is a nested zkinfer artifact
//! or plain data, and decoding checks every one of them: sizes, versions, hashes, that the
//! params are for the model's `k`, and that the output description matches the model.
//! [`crate::Verifier::from_bundle`] then rebuilds the verifying key and refuses a bundle whose
//! circuit identity differs from the key's.
//!
//! Trust: the identity ties a bundle to one circuit *and* one set of params (the fixed-column
//! commitments depend on both). An integrator who pins the identity it expects (for example the
//! one `zkinfer setup` printed on a trusted machine, or the one a contract records) is
//! therefore protected from a bundle with substituted params or weights. Params are also
//! checked on their own: only the standard params of each `k` load
//! ([`crate::params::KNOWN_PARAMS_HASHES`]).

use halo2_proofs::pasta::EqAffine;
use halo2_proofs::poly::commitment::Params;
use serde::{Deserialize, Serialize};

use crate::artifacts::{CompiledModel, Digest, MAX_MODEL_BYTES, ModelError, hex};
use crate::format::{ArtifactKind, FormatError, HEADER_LEN, decode, encode};
use crate::params::{ParamsError, halo2_params_len, params_from_bytes, params_to_bytes};
use crate::verify::VerifyError;

/// Largest bundle: the largest compiled model, params for the largest `k`, and room for labels.
pub const MAX_BUNDLE_BYTES: usize =
    MAX_MODEL_BYTES + HEADER_LEN + 36 + halo2_params_len(zkinfer_circuits::MAX_K) + (1 << 20);

/// Most labels per output, and the longest label in bytes.
pub const MAX_LABELS: usize = 4096;
/// Longest label, in bytes.
pub const MAX_LABEL_BYTES: usize = 256;

/// What a bundle says about one model output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputDescription {
    /// Tensor name in the model.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Real value = integer / 2^scale.
    pub scale: i32,
    /// One label per class (entry of the last axis), or empty.
    pub labels: Vec<String>,
}

/// The bundle's body as stored: nested artifacts for the model and params.
#[derive(Serialize, Deserialize)]
struct BundleBody {
    model: Vec<u8>,
    params: Vec<u8>,
    circuit_identity: Digest,
    outputs: Vec<OutputDescription>,
}

/// A decoded, checked verification bundle.
#[derive(Clone, Debug)]
pub struct VerificationBundle {
    /// The circuit description.
    pub compiled: CompiledModel,
    /// Params for `compiled.k`.
    pub params: Params<EqAffine>,
    /// Their content hash.
    pub params_hash: Digest,
    /// The circuit identity the bundle was made for.
    pub circuit_identity: Digest,
    /// The model's outputs, in order.
    pub outputs: Vec<OutputDescription>,
}

/// Why a bundle cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Bad bytes.
    #[error("not a usable verification bundle: {0}")]
    Format(#[from] FormatError),
    /// The compiled model inside is unusable.
    #[error("the bundle's model: {0}")]
    Model(#[from] ModelError),
    /// The params inside are unusable.
    #[error("the bundle's params: {0}")]
    Params(#[from] ParamsError),
    /// Params for another `k`.
    #[error("the bundle's params are for k = {params}, its model needs k = {model}")]
    K {
        /// The model's k.
        model: u32,
        /// The params' k.
        params: u32,
    },
    /// The output description does not match the model.
    #[error("the bundle's output description does not match its model: {0}")]
    Outputs(String),
    /// The verifying key rebuilt from the bundle has another identity than the bundle claims.
    #[error("the bundle claims circuit {claimed}, its model and params give circuit {actual}")]
    Identity {
        /// Claimed in the bundle.
        claimed: String,
        /// Computed.
        actual: String,
    },
    /// The verifying key cannot be rebuilt.
    #[error("the bundle's model cannot be verified: {0}")]
    Verifier(#[from] VerifyError),
}

/// The output description of a compiled model, with `labels[i]` for output `i` (missing or
/// empty: none).
pub fn describe_outputs(compiled: &CompiledModel, labels: &[Vec<String>]) -> Vec<OutputDescription> {
    let m = &compiled.model;
    m.outputs
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let t = m.tensor(id);
            OutputDescription {
                name: t.name.clone(),
                shape: t.shape.clone(),
                scale: t.scale,
                labels: labels.get(i).cloned().unwrap_or_default(),
            }
        })
        .collect()
}

impl VerificationBundle {
    /// A bundle for `compiled` with its params, the identity of its verifying key, and
    /// `labels[i]` as the class labels of output `i` (missing or empty: none).
    pub fn new(
        compiled: CompiledModel,
        params: Params<EqAffine>,
        params_hash: Digest,
        circuit_identity: Digest,
        labels: &[Vec<String>],
    ) -> Self {
        let outputs = describe_outputs(&compiled, labels);
        Self { compiled, params, params_hash, circuit_identity, outputs }
    }

    /// Serializes with the artifact header.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = BundleBody {
            model: self.compiled.to_bytes(),
            params: params_to_bytes(&self.params),
            circuit_identity: self.circuit_identity,
            outputs: self.outputs.clone(),
        };
        encode(ArtifactKind::Bundle, &body)
    }

    /// Decodes and checks untrusted bytes (everything but the identity, which needs the
    /// verifying key: [`crate::Verifier::from_bundle`] checks it).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BundleError> {
        let body: BundleBody = decode::<_, MAX_BUNDLE_BYTES>(ArtifactKind::Bundle, bytes)?;
        let compiled = CompiledModel::from_bytes(&body.model)?;
        let (params, params_hash) = params_from_bytes(&body.params)?;
        if params.k() != compiled.k {
            return Err(BundleError::K { model: compiled.k, params: params.k() });
        }
        check_outputs(&compiled, &body.outputs)?;
        Ok(Self { compiled, params, params_hash, circuit_identity: body.circuit_identity, outputs: body.outputs })
    }

    /// The identity as hex.
    pub fn identity_hex(&self) -> String {
        hex(&self.circuit_identity)
    }
}

fn check_outputs(compiled: &CompiledModel, outputs: &[OutputDescription]) -> Result<(), BundleError> {
    let expected = describe_outputs(compiled, &[]);
    if outputs.len() != expected.len() {
        return Err(BundleError::Outputs(format!(
            "{} outputs described, the model has {}",
            outputs.len(),
            expected.len()
        )));
    }
    for (got, want) in outputs.iter().zip(&expected) {
        if (&got.name, &got.shape, got.scale) != (&want.name, &want.shape, want.scale) {
            return Err(BundleError::Outputs(format!(
                "output '{}' {:?} at scale {} described as '{}' {:?} at scale {}",
                want.name, want.shape, want.scale, got.name, got.shape, got.scale
            )));
        }
        let classes = want.shape.last().copied().unwrap_or(1);
        if !got.labels.is_empty() && got.labels.len() != classes {
            return Err(BundleError::Outputs(format!(
                "output '{}' has {classes} classes, {} labels",
                want.name,
                got.labels.len()
            )));
        }
        if got.labels.len() > MAX_LABELS || got.labels.iter().any(|l| l.len() > MAX_LABEL_BYTES) {
            return Err(BundleError::Outputs(format!("output '{}': too many or too long labels", want.name)));
        }
    }
    Ok(())
}
