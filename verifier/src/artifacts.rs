//! The artifacts: compiled model, proof envelope, params file.

use serde::{Deserialize, Serialize};
use zkinfer_circuits::{CompileError, Layout, MAX_K, compile};
use zkinfer_models::QuantizedModel;

use crate::format::{ArtifactKind, FormatError, decode, encode};

/// Largest compiled model file (64 MiB).
pub const MAX_MODEL_BYTES: usize = 64 << 20;
/// Largest proof envelope (16 MiB).
pub const MAX_PROOF_BYTES: usize = 16 << 20;

/// A 32-byte digest (BLAKE2b-256).
pub type Digest = [u8; 32];

/// BLAKE2b-256 of `bytes` with a domain-separation personalisation.
pub fn digest(personal: &[u8; 16], bytes: &[u8]) -> Digest {
    let hash = blake2b_simd::Params::new().hash_length(32).personal(personal).hash(bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(hash.as_bytes());
    out
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A quantized model with the circuit layout chosen for it: everything needed to rebuild the
/// circuit (and so the verifying key, given params for `k`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompiledModel {
    /// File name of the source model, for reports.
    pub source: String,
    /// The integer model (the interpreter's spec).
    pub model: QuantizedModel,
    /// Column layout.
    pub layout: Layout,
    /// `log2` of the circuit's rows.
    pub k: u32,
}

/// Why a compiled model is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// Bad bytes.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The quantized model is inconsistent.
    #[error(transparent)]
    Model(#[from] zkinfer_models::ModelFormatError),
    /// The layout cannot hold the model.
    #[error("the layout does not fit the model: {0}")]
    Layout(#[from] CompileError),
    /// Layout or k outside the supported bounds.
    #[error("unsupported circuit shape: {0}")]
    Bounds(String),
    /// The declared k differs from what the layout needs.
    #[error("the model declares k = {declared}, its circuit needs k = {needed}")]
    K {
        /// In the file.
        declared: u32,
        /// Computed.
        needed: u32,
    },
}

impl CompiledModel {
    /// Serializes with the artifact header.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(ArtifactKind::CompiledModel, self)
    }

    /// Decodes and validates untrusted bytes: the quantized model's consistency, the layout's
    /// bounds, that the layout is exactly the one the planner derives from the model for the
    /// layout's own choices (linear layout, lanes; see `zkinfer_circuits::plan::check_layout`),
    /// and that its circuit needs exactly the declared `k`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let m = Self::from_bytes_unplanned(bytes)?;
        m.check_plan()?;
        Ok(m)
    }

    /// Decodes and validates untrusted bytes like [`CompiledModel::from_bytes`] but without
    /// planning the model again (the costly part: a tenth of a second for a LeNet-sized model):
    /// enough for zkinfer's own verifier, whose circuit is fixed by the verifying key and pinned
    /// by the circuit identity, and which reads only the model's public interface. Whatever
    /// builds a circuit from the model (keygen) needs [`CompiledModel::check_plan`] too.
    pub fn from_bytes_unplanned(bytes: &[u8]) -> Result<Self, ModelError> {
        let m: Self = decode::<_, MAX_MODEL_BYTES>(ArtifactKind::CompiledModel, bytes)?;
        m.model.validate()?;
        let l = m.layout;
        if !(zkinfer_circuits::layout::MIN_LANES..=256).contains(&l.lanes)
            || !(1..=64).contains(&l.limbs)
            || !(1..=16).contains(&l.range_bits)
            || m.k > MAX_K
        {
            return Err(ModelError::Bounds(format!("layout {l:?} with k = {}", m.k)));
        }
        Ok(m)
    }

    /// The layout is exactly the one the planner derives from the model for the layout's own
    /// choices, and its circuit needs exactly the declared `k`.
    pub fn check_plan(&self) -> Result<(), ModelError> {
        let needed = zkinfer_circuits::plan::check_layout(&self.model, self.layout)?.k;
        if needed != self.k {
            return Err(ModelError::K { declared: self.k, needed });
        }
        Ok(())
    }

    /// The circuit spec (no witness).
    pub fn spec(&self) -> Result<zkinfer_circuits::CircuitSpec, CompileError> {
        Ok(compile::compile(&self.model, self.layout, None)?.0)
    }

    /// Number of public values: the input, then every output.
    pub fn public_len(&self) -> usize {
        self.model.tensor(self.model.input).len()
            + self.model.outputs.iter().map(|&o| self.model.tensor(o).len()).sum::<usize>()
    }
}

/// A proof of one inference, with what a verifier needs besides the model and params.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofEnvelope {
    /// Hash of the verifying key (`vk.pinned()`): which circuit this proof is for.
    pub circuit_identity: Digest,
    /// `log2` of the circuit's rows.
    pub k: u32,
    /// Hash of the params the proof was made with.
    pub params_hash: Digest,
    /// Public values as integers: the input tensor, then every output tensor (row-major).
    pub public_values: Vec<i64>,
    /// Scales of the input and of each output (real value = integer / 2^scale).
    pub scales: Vec<i32>,
    /// Length of `proof` in bytes (checked against the proof and against what verification reads).
    pub proof_len: u32,
    /// The halo2 proof.
    #[serde(with = "crate::format::bytes")]
    pub proof: Vec<u8>,
}

impl ProofEnvelope {
    /// Serializes with the artifact header.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(ArtifactKind::Proof, self)
    }

    /// Decodes untrusted bytes (structure only; [`crate::verify`] checks the content).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        decode::<_, MAX_PROOF_BYTES>(ArtifactKind::Proof, bytes)
    }
}
