//! Verification: a verifying key (from a bundle's key data, or rebuilt from the compiled model),
//! the envelope checked against the model and params, then the proof checked by zkinfer's own
//! verifier ([`crate::plonk`]) or halo2's stock `verify_proof` ([`VerifierChoice`]), which must
//! read the proof to its last byte.
//!
//! The circuit identity hashes halo2's pinned verifying key (domain, constraint system, every
//! fixed and permutation commitment) together with the model's public interface (the input's and
//! outputs' names, shapes, scales and ranges): everything a verifier relies on to accept a proof
//! and to read its public values. Class labels are display data and not part of it.

use std::io::Cursor;

use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::plonk::{SingleVerifier, VerifyingKey, keygen_vk, verify_proof};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bRead, Challenge255};
use serde::Serialize;
use std::sync::Arc;
use zkinfer_circuits::{ModelCircuit, instance_values, with_layout};
use zkinfer_models::numeric::dequantize;

use crate::artifacts::{CompiledModel, Digest, ProofEnvelope, digest, hex};
use crate::bundle::{BundleError, VerificationBundle};
use crate::format::FormatError;
use crate::params::VerifierParams;
use crate::plonk::{KeyCommitments, KeyError, PreparedKey, ProofError};

/// Domain separation of the circuit identity.
const PERSONAL: &[u8; 16] = b"zkinfer-circuit\0";

/// Why a proof was not accepted. [`VerifyError::is_malformed`] separates unusable input from
/// a well-formed proof that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The compiled model cannot be turned into a circuit.
    #[error("the compiled model cannot be rebuilt into a circuit: {0}")]
    Model(String),
    /// The verifying key's data does not fit the model's circuit.
    #[error("the verifying key does not fit the model: {0}")]
    Key(#[from] KeyError),
    /// The proof is for a circuit of another size.
    #[error("the proof is for k = {found}, the model's circuit has k = {expected}")]
    K {
        /// Model's k.
        expected: u32,
        /// Envelope's k.
        found: u32,
    },
    /// The params differ from the ones the proof was made with.
    #[error("the proof was made with params {found}, these params are {expected}")]
    Params {
        /// Hash of the given params.
        expected: String,
        /// Hash in the envelope.
        found: String,
    },
    /// The proof is for another circuit (another model, layout or weights).
    #[error("the proof is for circuit {found}, this model's circuit is {expected}")]
    Identity {
        /// This model's identity.
        expected: String,
        /// The envelope's identity.
        found: String,
    },
    /// Wrong number of public values.
    #[error("the proof carries {found} public values, the model has {expected}")]
    PublicCount {
        /// Model's count.
        expected: usize,
        /// Envelope's count.
        found: usize,
    },
    /// Scales differ from the model's.
    #[error("the proof's scales {found:?} differ from the model's {expected:?}")]
    Scales {
        /// Model's.
        expected: Vec<i32>,
        /// Envelope's.
        found: Vec<i32>,
    },
    /// A public value outside its tensor's range.
    #[error("public value {index} = {value} is outside its tensor's range [{min}, {max}]")]
    PublicRange {
        /// Index among the public values.
        index: usize,
        /// The value.
        value: i64,
        /// Range min.
        min: i64,
        /// Range max.
        max: i64,
    },
    /// The declared proof length differs from the proof.
    #[error("the envelope declares {declared} proof bytes, it holds {found}")]
    ProofLength {
        /// Declared.
        declared: u32,
        /// Actual.
        found: usize,
    },
    /// Bytes after the end of the proof.
    #[error("{0} unread bytes after the proof")]
    TrailingBytes(usize),
    /// halo2 rejected the proof.
    #[error("the proof is invalid: {0}")]
    InvalidProof(String),
    /// The proof file does not decode.
    #[error("not a usable proof file: {0}")]
    Envelope(#[from] FormatError),
}

impl VerifyError {
    /// True when the input does not fit the model (as opposed to a proof that fails to verify).
    pub fn is_malformed(&self) -> bool {
        !matches!(self, VerifyError::InvalidProof(_) | VerifyError::TrailingBytes(_) | VerifyError::Identity { .. })
    }
}

/// One verified tensor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifiedTensor {
    /// Name in the model.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Scale: real = integer / 2^scale.
    pub scale: i32,
    /// Integer values.
    pub values: Vec<i64>,
    /// Real values.
    pub real: Vec<f64>,
}

/// What a verified proof establishes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verified {
    /// The circuit identity, hex.
    pub circuit_identity: String,
    /// The public input.
    pub input: VerifiedTensor,
    /// The outputs, in model order.
    pub outputs: Vec<VerifiedTensor>,
    /// The class the first output predicts, when it is a single sample's scores or a class index.
    pub predicted: Option<Prediction>,
}

/// A predicted class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Prediction {
    /// Class index: the first largest score (ties: first index), or the value of an ArgMax output.
    pub class: usize,
    /// Its label, when the bundle has labels.
    pub label: Option<String>,
}

/// The predicted class of an output: an ArgMax output's single integer value, or the first
/// largest of a single sample's scores; None for batched outputs.
pub fn predicted_class(t: &VerifiedTensor) -> Option<usize> {
    if t.scale == 0 && t.values.len() == 1 {
        return usize::try_from(t.values[0]).ok();
    }
    if t.shape.iter().rev().skip(1).any(|&d| d != 1) {
        return None;
    }
    let mut best: Option<(usize, i64)> = None;
    for (i, &v) in t.values.iter().enumerate() {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

/// Which verifier checks proofs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VerifierChoice {
    /// zkinfer's own verifier ([`crate::plonk`]) from the key's commitments: no keygen.
    #[default]
    Own,
    /// halo2's `keygen_vk` from the compiled model and its `verify_proof`. From a bundle it also
    /// checks that the bundle's key data is the key keygen gives for the bundle's model.
    Stock,
}

impl VerifierChoice {
    /// Every choice, for help texts.
    pub const ALL: [VerifierChoice; 2] = [VerifierChoice::Own, VerifierChoice::Stock];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            VerifierChoice::Own => "own",
            VerifierChoice::Stock => "stock",
        }
    }
}

impl std::str::FromStr for VerifierChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("unknown verifier '{s}' (expected own or stock)"))
    }
}

/// The key a verifier checks proofs with, and the params it needs.
#[derive(Debug)]
enum Key {
    /// Commitments, checked by zkinfer's own verifier.
    Own { key: Box<PreparedKey>, params: Box<VerifierParams> },
    /// halo2's verifying key, checked by its `verify_proof`.
    Stock { vk: Box<VerifyingKey<EqAffine>>, params: Box<Params<EqAffine>> },
}

/// A verifier for one model and params; keeps its verifying key for repeated use.
#[derive(Debug)]
pub struct Verifier {
    compiled: CompiledModel,
    params_hash: Digest,
    key: Key,
    identity: Digest,
    /// Class labels per output (empty: none).
    labels: Vec<Vec<String>>,
}

/// The circuit identity: BLAKE2b-256 of halo2's pinned verifying-key text (domain, constraint
/// system, fixed and permutation commitments; halo2 absorbs a hash of the same text into every
/// transcript) and of the model's public interface ([`public_interface`]).
pub fn circuit_identity(pinned_text: &str, compiled: &CompiledModel) -> Digest {
    let interface = public_interface(compiled);
    let mut bytes = Vec::with_capacity(pinned_text.len() + interface.len() + 16);
    bytes.extend_from_slice(&(pinned_text.len() as u64).to_le_bytes());
    bytes.extend_from_slice(pinned_text.as_bytes());
    bytes.extend_from_slice(&(interface.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&interface);
    digest(PERSONAL, &bytes)
}

/// What a verifier reads the public values with, canonically encoded: for the input and each
/// output in order, its name, shape, scale and range (the input's from `QuantizedModel::input_range`).
pub fn public_interface(compiled: &CompiledModel) -> Vec<u8> {
    let m = &compiled.model;
    let mut out = Vec::new();
    for id in std::iter::once(m.input).chain(m.outputs.iter().copied()) {
        let t = m.tensor(id);
        out.extend_from_slice(&(t.name.len() as u64).to_le_bytes());
        out.extend_from_slice(t.name.as_bytes());
        out.extend_from_slice(&(t.shape.len() as u64).to_le_bytes());
        for &d in &t.shape {
            out.extend_from_slice(&(d as u64).to_le_bytes());
        }
        out.extend_from_slice(&t.scale.to_le_bytes());
        let (min, max) = m.value_range(id);
        out.extend_from_slice(&min.to_le_bytes());
        out.extend_from_slice(&max.to_le_bytes());
    }
    out
}

/// Rebuilds the verifying key of a compiled model with halo2's `keygen_vk`.
pub fn verifying_key(
    compiled: &CompiledModel,
    params: &Params<EqAffine>,
) -> Result<VerifyingKey<EqAffine>, VerifyError> {
    if params.k() != compiled.k {
        return Err(VerifyError::K { expected: params.k(), found: compiled.k });
    }
    let spec = compiled.spec().map_err(|e| VerifyError::Model(e.to_string()))?;
    let circuit = ModelCircuit::new(Arc::new(spec), None);
    with_layout(compiled.layout, || keygen_vk(params, &circuit)).map_err(|e| VerifyError::Model(e.to_string()))
}

impl Verifier {
    /// Rebuilds the verifying key with halo2's keygen (the expensive step, done once); proofs
    /// are checked by halo2's verifier.
    pub fn new(compiled: CompiledModel, params: Params<EqAffine>, params_hash: Digest) -> Result<Self, VerifyError> {
        let vk = verifying_key(&compiled, &params)?;
        Ok(Self::with_key(compiled, params, params_hash, vk))
    }

    /// A verifier from the verifying key's commitments (from a bundle, or from the prover's own
    /// keygen): no keygen; proofs are checked by zkinfer's own verifier.
    pub fn with_commitments(
        compiled: CompiledModel,
        params: VerifierParams,
        params_hash: Digest,
        commitments: KeyCommitments,
    ) -> Result<Self, VerifyError> {
        if params.k != compiled.k {
            return Err(VerifyError::K { expected: params.k, found: compiled.k });
        }
        if params.g_lagrange.len() < compiled.public_len() {
            return Err(VerifyError::Model(format!(
                "the params hold {} Lagrange generators, the model has {} public values",
                params.g_lagrange.len(),
                compiled.public_len()
            )));
        }
        let key = PreparedKey::new(compiled.layout, compiled.k, commitments)?;
        let identity = circuit_identity(key.pinned_text(), &compiled);
        let key = Key::Own { key: Box::new(key), params: Box::new(params) };
        Ok(Self { compiled, params_hash, key, identity, labels: Vec::new() })
    }

    /// A verifier with a halo2 verifying key the caller already has (e.g. from keygen in a
    /// prover). The key must be the one [`verifying_key`] builds for `compiled` and `params`.
    pub fn with_key(
        compiled: CompiledModel,
        params: Params<EqAffine>,
        params_hash: Digest,
        vk: VerifyingKey<EqAffine>,
    ) -> Self {
        let identity = circuit_identity(&format!("{:?}", vk.pinned()), &compiled);
        let key = Key::Stock { vk: Box::new(vk), params: Box::new(params) };
        Self { compiled, params_hash, key, identity, labels: Vec::new() }
    }

    /// A verifier from a bundle's verifying key with zkinfer's own verifier (no keygen), after
    /// checking that the key and model give the identity the bundle claims. The verifier then
    /// takes the bundle's class labels.
    pub fn from_bundle(bundle: VerificationBundle) -> Result<Self, BundleError> {
        Self::from_bundle_with(bundle, VerifierChoice::Own)
    }

    /// [`Verifier::from_bundle`] with the chosen verifier. [`VerifierChoice::Stock`] rebuilds
    /// the key from the bundle's model with halo2's keygen and refuses a bundle whose key data
    /// differs from it.
    pub fn from_bundle_with(bundle: VerificationBundle, choice: VerifierChoice) -> Result<Self, BundleError> {
        let labels = bundle.outputs.iter().map(|o| o.labels.clone()).collect();
        let mut verifier = match choice {
            VerifierChoice::Own => {
                Self::with_commitments(bundle.compiled, bundle.verifier_params, bundle.params_hash, bundle.key)?
            }
            VerifierChoice::Stock => {
                bundle.compiled.check_plan()?;
                let params = bundle.params()?;
                let own = Self::with_commitments(
                    bundle.compiled.clone(),
                    bundle.verifier_params,
                    bundle.params_hash,
                    bundle.key,
                )?;
                let stock = Self::new(bundle.compiled, params, bundle.params_hash)?;
                if stock.identity != own.identity {
                    return Err(BundleError::KeyData { bundle: hex(&own.identity), keygen: hex(&stock.identity) });
                }
                stock
            }
        };
        if verifier.identity != bundle.circuit_identity {
            return Err(BundleError::Identity {
                claimed: hex(&bundle.circuit_identity),
                actual: hex(&verifier.identity),
            });
        }
        verifier.labels = labels;
        Ok(verifier)
    }

    /// Decodes a bundle's bytes and builds its verifier ([`Verifier::from_bundle`]).
    pub fn from_bundle_bytes(bytes: &[u8]) -> Result<Self, BundleError> {
        Self::from_bundle(VerificationBundle::from_bytes(bytes)?)
    }

    /// Verifies a proof file's bytes ([`ProofEnvelope::from_bytes`], then [`Verifier::verify`]).
    pub fn verify_bytes(&self, proof: &[u8]) -> Result<Verified, VerifyError> {
        self.verify(&ProofEnvelope::from_bytes(proof)?)
    }

    /// The compiled model this verifier checks proofs for.
    pub fn compiled(&self) -> &CompiledModel {
        &self.compiled
    }

    /// Which verifier checks the proofs.
    pub fn choice(&self) -> VerifierChoice {
        match self.key {
            Key::Own { .. } => VerifierChoice::Own,
            Key::Stock { .. } => VerifierChoice::Stock,
        }
    }

    /// This model's circuit identity.
    pub fn identity(&self) -> Digest {
        self.identity
    }

    /// Verifies one proof envelope.
    pub fn verify(&self, env: &ProofEnvelope) -> Result<Verified, VerifyError> {
        let m = &self.compiled.model;
        if env.k != self.compiled.k {
            return Err(VerifyError::K { expected: self.compiled.k, found: env.k });
        }
        if env.params_hash != self.params_hash {
            return Err(VerifyError::Params { expected: hex(&self.params_hash), found: hex(&env.params_hash) });
        }
        if env.circuit_identity != self.identity {
            return Err(VerifyError::Identity { expected: hex(&self.identity), found: hex(&env.circuit_identity) });
        }
        let expected_len = self.compiled.public_len();
        if env.public_values.len() != expected_len {
            return Err(VerifyError::PublicCount { expected: expected_len, found: env.public_values.len() });
        }
        let public: Vec<_> = std::iter::once(m.input).chain(m.outputs.iter().copied()).collect();
        let scales: Vec<i32> = public.iter().map(|&id| m.tensor(id).scale).collect();
        if env.scales != scales {
            return Err(VerifyError::Scales { expected: scales, found: env.scales.clone() });
        }
        let mut index = 0;
        for &id in &public {
            let t = m.tensor(id);
            // The input's as the circuit assumes it: a clamp on the input has no rows.
            let (min, max) = m.value_range(id);
            for &value in &env.public_values[index..index + t.len()] {
                if value < min || value > max {
                    return Err(VerifyError::PublicRange { index, value, min, max });
                }
                index += 1;
            }
        }
        if env.proof_len as usize != env.proof.len() {
            return Err(VerifyError::ProofLength { declared: env.proof_len, found: env.proof.len() });
        }
        let instance: Vec<Fp> = instance_values(&env.public_values);
        match &self.key {
            Key::Own { key, params } => {
                crate::plonk::verify_proof(key, params, &instance, &env.proof).map_err(|e| match e {
                    ProofError::TrailingBytes(n) => VerifyError::TrailingBytes(n),
                    e => VerifyError::InvalidProof(e.to_string()),
                })?
            }
            Key::Stock { vk, params } => {
                let mut reader = Cursor::new(env.proof.as_slice());
                {
                    let mut transcript = Blake2bRead::<_, EqAffine, Challenge255<_>>::init(&mut reader);
                    let strategy = SingleVerifier::new(params);
                    verify_proof(params, vk, strategy, &[&[&instance]], &mut transcript)
                        .map_err(|e| VerifyError::InvalidProof(format!("{e:?}")))?;
                }
                let read = reader.position() as usize;
                if read != env.proof.len() {
                    return Err(VerifyError::TrailingBytes(env.proof.len() - read));
                }
            }
        }
        let mut index = 0;
        let mut verified: Vec<VerifiedTensor> = public
            .iter()
            .map(|&id| {
                let t = m.tensor(id);
                let values = env.public_values[index..index + t.len()].to_vec();
                index += t.len();
                VerifiedTensor {
                    name: t.name.clone(),
                    shape: t.shape.clone(),
                    scale: t.scale,
                    real: values.iter().map(|&v| dequantize(v, t.scale)).collect(),
                    values,
                }
            })
            .collect();
        let input = verified.remove(0);
        let predicted = verified
            .first()
            .and_then(predicted_class)
            .map(|class| Prediction { class, label: self.labels.first().and_then(|l| l.get(class)).cloned() });
        Ok(Verified { circuit_identity: hex(&self.identity), input, outputs: verified, predicted })
    }
}

/// One-shot verification: rebuilds the verifying key and verifies `env`.
pub fn verify(
    compiled: &CompiledModel,
    params: &Params<EqAffine>,
    params_hash: Digest,
    env: &ProofEnvelope,
) -> Result<Verified, VerifyError> {
    Verifier::new(compiled.clone(), params.clone(), params_hash)?.verify(env)
}
