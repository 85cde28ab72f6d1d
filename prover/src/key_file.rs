//! The key file (`.zkkey`, written by `zkinfer setup`): a compiled model's verifying-key
//! commitments, so that `zkinfer prove --key` skips computing them, the costliest part of
//! keygen (2.2 of 3.9 s for the LeNet CNN). The rest of the proving key (the fixed columns,
//! the permutation, their extended forms) is still computed by every prover process: it is
//! megabytes per column on the extended domain, cheaper to recompute than to read.
//!
//! The file is bound to what it was made for: the compiled model (a digest of its bytes), the
//! params (their hash) and the circuit identity. [`KeyFile::check`] refuses a file for another
//! model or params, and [`crate::Prover::with_key_file`] refuses one whose commitments do not
//! give the recorded identity. A file that passes gives exactly the key keygen would compute
//! (the commitments are a function of the model and params); one that was altered consistently
//! only yields proofs for another circuit identity, which verifiers of the real model reject.

use group::GroupEncoding;
use halo2_proofs::pasta::EqAffine;
use serde::{Deserialize, Serialize};
use zkinfer_circuits::constraints::key::KeyCommitments;
use zkinfer_verifier::format::{ArtifactKind, FormatError, decode, encode};
use zkinfer_verifier::{CompiledModel, Digest, hex};

/// Domain separation of the model digest.
const PERSONAL: &[u8; 16] = b"zkinfer-model\0\0\0";
/// Largest key file: 2^16 commitments and room for the rest.
pub const MAX_KEY_FILE_BYTES: usize = (1 << 16) * 40 + 4096;

/// A compressed curve point.
type PointBytes = [u8; 32];

/// The file's body as stored.
#[derive(Serialize, Deserialize)]
struct Body {
    model_digest: Digest,
    params_hash: Digest,
    circuit_identity: Digest,
    fixed: Vec<PointBytes>,
    permutation: Vec<PointBytes>,
}

/// A decoded key file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFile {
    /// Digest of the compiled model's bytes.
    pub model_digest: Digest,
    /// The params' content hash.
    pub params_hash: Digest,
    /// The circuit identity of the model with these commitments.
    pub circuit_identity: Digest,
    /// The verifying key's commitments.
    pub commitments: KeyCommitments,
}

/// Why a key file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// Bad bytes.
    #[error("not a usable key file: {0}")]
    Format(#[from] FormatError),
    /// A commitment that is not a curve point.
    #[error("the key file's commitment {0} is not a curve point")]
    Point(usize),
    /// Made for another compiled model.
    #[error("the key file was made for another compiled model (run zkinfer setup again)")]
    Model,
    /// Made with other params.
    #[error("the key file was made with params {found}, these params are {expected}")]
    Params {
        /// The params at hand.
        expected: String,
        /// Recorded in the file.
        found: String,
    },
    /// The commitments give another identity than the file records.
    #[error("the key file records circuit {recorded}, its commitments give circuit {actual}")]
    Identity {
        /// Recorded in the file.
        recorded: String,
        /// From the commitments.
        actual: String,
    },
}

/// The digest a key file records for a compiled model.
pub fn model_digest(compiled: &CompiledModel) -> Digest {
    zkinfer_verifier::artifacts::digest(PERSONAL, &compiled.to_bytes())
}

impl KeyFile {
    /// The key file of `compiled` with params `params_hash`, these commitments and the identity
    /// they give.
    pub fn new(
        compiled: &CompiledModel,
        params_hash: Digest,
        commitments: KeyCommitments,
        circuit_identity: Digest,
    ) -> Self {
        Self { model_digest: model_digest(compiled), params_hash, circuit_identity, commitments }
    }

    /// Serializes with the artifact header.
    pub fn to_bytes(&self) -> Vec<u8> {
        let bytes = |points: &[EqAffine]| points.iter().map(|p| p.to_bytes()).collect();
        let body = Body {
            model_digest: self.model_digest,
            params_hash: self.params_hash,
            circuit_identity: self.circuit_identity,
            fixed: bytes(&self.commitments.fixed),
            permutation: bytes(&self.commitments.permutation),
        };
        encode(ArtifactKind::KeyCommitments, &body)
    }

    /// Decodes untrusted bytes (every commitment must be a curve point).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyFileError> {
        let body: Body = decode::<_, MAX_KEY_FILE_BYTES>(ArtifactKind::KeyCommitments, bytes)?;
        let mut index = 0;
        let mut points = |encoded: &[PointBytes]| -> Result<Vec<EqAffine>, KeyFileError> {
            encoded
                .iter()
                .map(|b| {
                    index += 1;
                    Option::from(EqAffine::from_bytes(b)).ok_or(KeyFileError::Point(index - 1))
                })
                .collect()
        };
        let commitments = KeyCommitments { fixed: points(&body.fixed)?, permutation: points(&body.permutation)? };
        Ok(Self {
            model_digest: body.model_digest,
            params_hash: body.params_hash,
            circuit_identity: body.circuit_identity,
            commitments,
        })
    }

    /// Refuses the file unless it was made for `compiled` with the params of `params_hash`.
    pub fn check(&self, compiled: &CompiledModel, params_hash: &Digest) -> Result<(), KeyFileError> {
        if self.model_digest != model_digest(compiled) {
            return Err(KeyFileError::Model);
        }
        if &self.params_hash != params_hash {
            return Err(KeyFileError::Params { expected: hex(params_hash), found: hex(&self.params_hash) });
        }
        Ok(())
    }
}
