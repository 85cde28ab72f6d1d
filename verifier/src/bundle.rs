//! The verification bundle (`.zkv`): everything a verifier needs for one model and nothing a
//! prover needs.
//!
//! It holds the compiled model (the circuit description: quantized model, layout, `k`), the
//! params for that `k` (generating params is far too slow for a verifier, so they travel here,
//! with their content hash), the verifying key's commitments (fixed columns and permutation:
//! what keygen computes; the rest of the key follows from the layout), the circuit identity the
//! bundle was made for, and a description of the outputs (name, shape, scale, optional class
//! labels). Each part is a nested zkinfer artifact or plain data, and decoding checks every one
//! of them: sizes, versions, hashes, that the params are for the model's `k`, that every
//! commitment is a curve point, and that the output description matches the model.
//! [`crate::Verifier::from_bundle`] then rebuilds the key from its commitments (no keygen) and
//! refuses a bundle whose circuit identity differs from the one the key and model give.
//!
//! Trust: the identity hashes the whole verifying key (constraint system, every commitment,
//! which depend on the weights and on the params) and the model's public interface, so an
//! integrator who pins the identity it expects (for example the one `zkinfer setup` printed on
//! a trusted machine, or the one a contract records) is protected from a bundle with
//! substituted params, weights or key data. The own verifier does not re-derive the
//! commitments from the bundle's weights: that is what `zkinfer export-verifier` checked when
//! it wrote the bundle, and what [`crate::VerifierChoice::Stock`] checks again (halo2's keygen,
//! seconds instead of milliseconds). Params are also checked on their own: only the standard
//! params of each `k` load ([`crate::params::KNOWN_PARAMS_HASHES`]). Class labels are display
//! data, outside the identity.

use ff::PrimeField;
use group::{Curve, Group};
use halo2_proofs::arithmetic::{Coordinates, CurveAffine};
use halo2_proofs::pasta::{Eq, EqAffine};
use halo2_proofs::poly::commitment::Params;
use serde::{Deserialize, Serialize};

use crate::artifacts::{CompiledModel, Digest, MAX_MODEL_BYTES, ModelError, hex};
use crate::format::{ArtifactKind, FormatError, HEADER_LEN, decode, encode};
use crate::params::{
    ParamsError, UNCOMPRESSED_POINT_BYTES, VerifierParams, check_params_bytes, halo2_params_len, params_from_bytes,
    params_to_bytes, point_from_uncompressed, uncompressed,
};
use crate::plonk::KeyCommitments;
use crate::verify::VerifyError;

/// Largest bundle: the largest compiled model, params for the largest `k`, and room for labels.
pub const MAX_BUNDLE_BYTES: usize = MAX_MODEL_BYTES
    + HEADER_LEN
    + 36
    + halo2_params_len(zkinfer_circuits::MAX_K)
    + (1 << zkinfer_circuits::MAX_K) * UNCOMPRESSED_POINT_BYTES
    + (1 << 20);

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
    #[serde(with = "crate::format::bytes")]
    model: Vec<u8>,
    #[serde(with = "crate::format::bytes")]
    params: Vec<u8>,
    /// The params' points a verifier uses, uncompressed (`x ‖ y`): the generators `G`, then the
    /// Lagrange prefix for the public values, so that loading needs no square roots; each must
    /// compress to the hashed params' bytes.
    #[serde(with = "crate::format::bytes")]
    generators: Vec<u8>,
    key: KeyBody,
    circuit_identity: Digest,
    outputs: Vec<OutputDescription>,
}

/// The verifying key's commitments as stored: uncompressed points (`x ‖ y`, as the
/// generators; the identity, a commitment to a column of zeros, as 64 zero bytes, pasta's
/// `(0, 0)`), so that loading needs no square roots.
#[derive(Serialize, Deserialize)]
struct KeyBody {
    #[serde(with = "crate::format::bytes")]
    fixed: Vec<u8>,
    #[serde(with = "crate::format::bytes")]
    permutation: Vec<u8>,
}

impl KeyBody {
    fn new(key: &KeyCommitments) -> Self {
        let bytes = |points: &[EqAffine]| {
            let mut out = Vec::with_capacity(points.len() * UNCOMPRESSED_POINT_BYTES);
            for p in points {
                match Option::<Coordinates<EqAffine>>::from(p.coordinates()) {
                    Some(c) => {
                        out.extend_from_slice(c.x().to_repr().as_ref());
                        out.extend_from_slice(c.y().to_repr().as_ref());
                    }
                    None => out.extend_from_slice(&[0; UNCOMPRESSED_POINT_BYTES]),
                }
            }
            out
        };
        Self { fixed: bytes(&key.fixed), permutation: bytes(&key.permutation) }
    }

    fn decode(&self) -> Result<KeyCommitments, BundleError> {
        let points = |what: &str, bytes: &[u8]| -> Result<Vec<EqAffine>, BundleError> {
            if !bytes.len().is_multiple_of(UNCOMPRESSED_POINT_BYTES) {
                return Err(BundleError::KeyPoint(format!(
                    "{what} commitments are {} bytes, not a whole number of points",
                    bytes.len()
                )));
            }
            bytes
                .chunks_exact(UNCOMPRESSED_POINT_BYTES)
                .enumerate()
                .map(|(i, xy)| {
                    if xy.iter().all(|&b| b == 0) {
                        return Ok(Eq::identity().to_affine());
                    }
                    point_from_uncompressed(xy)
                        .map_err(|_| BundleError::KeyPoint(format!("{what} commitment {i} is not a curve point")))
                })
                .collect()
        };
        Ok(KeyCommitments {
            fixed: points("fixed", &self.fixed)?,
            permutation: points("permutation", &self.permutation)?,
        })
    }
}

/// A decoded, checked verification bundle.
#[derive(Clone, Debug)]
pub struct VerificationBundle {
    /// The circuit description.
    pub compiled: CompiledModel,
    /// Params for `compiled.k`, as a params artifact (checked: the standard params of that
    /// `k`); [`VerificationBundle::params`] parses them for halo2.
    pub params_bytes: Vec<u8>,
    /// Their content hash.
    pub params_hash: Digest,
    /// The points of the params the own verifier uses.
    pub verifier_params: VerifierParams,
    /// The verifying key's commitments (the rest of the key follows from the model's layout).
    pub key: KeyCommitments,
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
    /// A verifying-key commitment does not decode.
    #[error("the bundle's verifying key: {0}")]
    KeyPoint(String),
    /// The bundle's key data is not what keygen gives for its model (checked by the stock
    /// verifier).
    #[error(
        "the bundle's verifying key (circuit {bundle}) differs from the key keygen rebuilds from its model (circuit {keygen})"
    )]
    KeyData {
        /// Identity with the bundle's key.
        bundle: String,
        /// Identity with keygen's key.
        keygen: String,
    },
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
        params: &Params<EqAffine>,
        params_hash: Digest,
        key: KeyCommitments,
        circuit_identity: Digest,
        labels: &[Vec<String>],
    ) -> Result<Self, BundleError> {
        let outputs = describe_outputs(&compiled, labels);
        let verifier_params = VerifierParams::from_params(params, compiled.public_len())?;
        let params_bytes = params_to_bytes(params);
        Ok(Self { compiled, params_bytes, params_hash, verifier_params, key, circuit_identity, outputs })
    }

    /// The params parsed for halo2 (the stock verifier; seconds at large `k`).
    pub fn params(&self) -> Result<Params<EqAffine>, ParamsError> {
        params_from_bytes(&self.params_bytes).map(|(params, _)| params)
    }

    /// Serializes with the artifact header.
    pub fn to_bytes(&self) -> Result<Vec<u8>, BundleError> {
        let body = BundleBody {
            model: self.compiled.to_bytes(),
            params: self.params_bytes.clone(),
            generators: uncompressed(self.verifier_params.g.iter().chain(&self.verifier_params.g_lagrange))?,
            key: KeyBody::new(&self.key),
            circuit_identity: self.circuit_identity,
            outputs: self.outputs.clone(),
        };
        Ok(encode(ArtifactKind::Bundle, &body))
    }

    /// Decodes and checks untrusted bytes (everything but the identity, which needs the
    /// verifying key: [`crate::Verifier::from_bundle`] checks it).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BundleError> {
        let body: BundleBody = decode::<_, MAX_BUNDLE_BYTES>(ArtifactKind::Bundle, bytes)?;
        // Not planned again: the own verifier does not need it, the stock path checks it
        // before keygen (`Verifier::from_bundle_with`).
        let compiled = CompiledModel::from_bytes_unplanned(&body.model)?;
        let checked = check_params_bytes(&body.params)?;
        if checked.k != compiled.k {
            return Err(BundleError::K { model: compiled.k, params: checked.k });
        }
        check_outputs(&compiled, &body.outputs)?;
        let verifier_params = VerifierParams::from_checked(&checked, &body.generators, compiled.public_len())?;
        let key = body.key.decode()?;
        Ok(Self {
            compiled,
            params_hash: checked.hash,
            params_bytes: body.params,
            verifier_params,
            key,
            circuit_identity: body.circuit_identity,
            outputs: body.outputs,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Key commitments round-trip through their stored form, the identity included; a point
    /// off the curve and a length that is not whole points are refused.
    #[test]
    fn key_commitments_are_stored_uncompressed() {
        let g = Eq::generator();
        let key = KeyCommitments {
            fixed: vec![Eq::identity().to_affine(), g.to_affine(), (g + g).to_affine()],
            permutation: vec![(-g).to_affine()],
        };
        let body = KeyBody::new(&key);
        assert_eq!(body.fixed.len(), 3 * UNCOMPRESSED_POINT_BYTES);
        let back = body.decode().expect("decodes");
        assert_eq!((back.fixed, back.permutation), (key.fixed.clone(), key.permutation.clone()));

        let mut off_curve = KeyBody::new(&key);
        off_curve.fixed[UNCOMPRESSED_POINT_BYTES] ^= 1;
        let e = off_curve.decode().map(|_| ()).expect_err("refused").to_string();
        assert!(e.contains("fixed commitment 1 is not a curve point"), "{e}");

        let mut short = KeyBody::new(&key);
        short.permutation.pop();
        let e = short.decode().map(|_| ()).expect_err("refused").to_string();
        assert!(e.contains("permutation commitments are 63 bytes"), "{e}");
    }
}
