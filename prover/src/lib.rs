//! # zkinfer-prover
//!
//! Turns a quantized model into a [`CompiledModel`] (layout planning), manages params
//! ([`params::ParamsCache`]), runs keygen (or reads the proving key from a
//! [`key_file`]), and proves inferences with a proving engine ([`engine`]: zkinfer's own by
//! default, the stock halo2_proofs prover, or both checked against each other). The witness comes from the integer interpreter's trace: the circuit is
//! filled from it and the compiler checks every value against it. Every proof is verified with
//! `zkinfer-verifier` before it is returned, so an inconsistent witness never leaves as a proof.
//!
//! ```no_run
//! use zkinfer_prover::{Prover, compile_model, params::ParamsCache};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let quantized: zkinfer_models::QuantizedModel = unimplemented!();
//! # let input: ndarray::ArrayD<f32> = unimplemented!();
//! let (compiled, _plan) = compile_model(quantized, "model.onnx", Default::default())?;  // plan the layout
//! let params = ParamsCache::new(ParamsCache::default_dir()).load_or_generate(compiled.k)?;
//! let prover = Prover::new(compiled, params.params, params.hash)?;  // keygen
//! let proof = prover.prove(&input, &mut zkinfer_prover::blinding_rng()?)?;
//! # Ok(()) }
//! ```

pub mod conformance;
pub mod device;
pub mod engine;
pub mod key_file;
pub mod params;

use std::sync::Arc;

use halo2_proofs::pasta::EqAffine;
use halo2_proofs::poly::commitment::Params;
use ndarray::ArrayD;
use zkinfer_circuits::constraints::key::KeyCommitments;
use zkinfer_circuits::{CompileError, compile, plan};
use zkinfer_models::interpret::Trace;
use zkinfer_models::quantize::{MIN_TABLE_ROWS, QuantSettings, quantize};
use zkinfer_models::{InterpretError, QuantizedModel};
use zkinfer_verifier::params::VerifierParams;
use zkinfer_verifier::{CompiledModel, Digest, ProofEnvelope, Verified, Verifier, VerifyError};

/// Proving failed.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The model cannot be laid out.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// The input is refused by the interpreter (shape, range).
    #[error("the input is refused: {0}")]
    Input(#[from] InterpretError),
    /// Keygen failed.
    #[error("keygen failed: {0}")]
    Keygen(String),
    /// halo2 failed to create the proof.
    #[error("proving failed: {0}")]
    Proof(String),
    /// The checking engine's two engines made different proofs (a bug in the candidate).
    #[error("the {candidate} engine's proof differs from the {reference} engine's from byte {byte}")]
    EnginesDiffer {
        /// The reference engine.
        reference: &'static str,
        /// The engine checked against it.
        candidate: &'static str,
        /// First differing byte.
        byte: usize,
    },
    /// The key file does not fit.
    #[error(transparent)]
    KeyFile(#[from] key_file::KeyFileError),
    /// The fresh proof does not verify: a zkinfer bug, reported instead of writing a bad proof.
    #[error("the fresh proof does not verify ({0}); this is a bug in zkinfer")]
    SelfCheck(#[from] VerifyError),
}

/// The random number generator for a proof's blinding factors: ChaCha12 (`StdRng`), seeded
/// once from the operating system. Drawing each factor from the operating system instead costs
/// one system call apiece (about 17,000 for a proof at `k = 14`).
///
/// # Errors
/// If the operating system gives no randomness.
pub fn blinding_rng() -> Result<rand::rngs::StdRng, rand::rngs::SysError> {
    use rand::SeedableRng;
    rand::rngs::StdRng::try_from_rng(&mut rand::rngs::SysRng)
}

/// Plans the circuit for a quantized model; returns the compiled model and the plan's figures.
pub fn compile_model(
    model: QuantizedModel,
    source: &str,
    options: plan::PlanOptions,
) -> Result<(CompiledModel, plan::Plan), CompileError> {
    let p = plan::plan_with(&model, options)?;
    Ok((CompiledModel { source: source.to_string(), model, layout: p.layout, k: p.k }, p))
}

/// Compiling a float graph failed.
#[derive(Debug, thiserror::Error)]
pub enum GraphCompileError {
    /// Quantization failed.
    #[error("quantizing: {0}")]
    Quantize(#[from] zkinfer_models::QuantizeError),
    /// The circuit cannot be laid out.
    #[error("planning the circuit: {0}")]
    Plan(#[from] CompileError),
}

/// What [`compile_graph`] made.
#[derive(Debug)]
pub struct GraphCompiled {
    /// The quantized model with its layout.
    pub compiled: CompiledModel,
    /// The plan's figures.
    pub plan: plan::Plan,
    /// The table-size limit `compile_graph` chose (None: the settings' own, or none needed).
    pub chosen_table_limit: Option<u32>,
}

/// Quantizes `graph` on calibration `samples` and plans its circuit.
///
/// Without a table-size limit in `settings` ([`QuantSettings::max_table_rows`]), a model whose
/// function tables alone would raise `k` is quantized a second time with a limit that fits them
/// into the rows the rest of the circuit needs (the lookups drop input bits first), and the
/// cheaper plan is kept.
pub fn compile_graph(
    graph: &zkinfer_models::Graph,
    samples: &[ArrayD<f32>],
    settings: &QuantSettings,
    source: &str,
    options: plan::PlanOptions,
) -> Result<GraphCompiled, GraphCompileError> {
    let model = quantize(graph, samples, settings)?;
    let (mut compiled, mut plan) = compile_model(model, source, options)?;
    let mut chosen_table_limit = None;
    let tables = compile::function_tables(&compiled.model);
    if settings.max_table_rows.is_none() && tables > 0 && plan.function_table_rows > plan.function_table_budget {
        let limit = u32::try_from(plan.function_table_budget / tables).unwrap_or(u32::MAX).max(MIN_TABLE_ROWS);
        let limited = QuantSettings { max_table_rows: Some(limit), ..*settings };
        let (c, p) = compile_model(quantize(graph, samples, &limited)?, source, options)?;
        if p.estimated_cost < plan.estimated_cost {
            (compiled, plan) = (c, p);
            chosen_table_limit = Some(limit);
        }
    }
    Ok(GraphCompiled { compiled, plan, chosen_table_limit })
}

/// One model's proving key and verifier, ready for many proofs.
#[derive(Debug)]
pub struct Prover {
    compiled: CompiledModel,
    params_hash: Digest,
    engine: Box<dyn engine::ProvingEngine>,
    identity: Digest,
    verifier: Verifier,
    /// The verifying key's commitments (what a bundle carries).
    commitments: KeyCommitments,
}

/// A proof and what it proves.
#[derive(Debug)]
pub struct Proof {
    /// The envelope to write.
    pub envelope: ProofEnvelope,
    /// The verified public values.
    pub verified: Verified,
    /// The interpreter's trace of the inference.
    pub trace: Trace,
}

impl Prover {
    /// Runs the default engine's keygen for the compiled model.
    pub fn new(compiled: CompiledModel, params: Params<EqAffine>, params_hash: Digest) -> Result<Self, ProveError> {
        Self::with_engine(compiled, params, params_hash, engine::EngineKind::default())
    }

    /// Runs the chosen engine's keygen; the verifying key's commitments give the circuit
    /// identity and the own verifier that checks every proof (no halo2 keygen with the default
    /// engine).
    pub fn with_engine(
        compiled: CompiledModel,
        params: Params<EqAffine>,
        params_hash: Digest,
        kind: engine::EngineKind,
    ) -> Result<Self, ProveError> {
        Self::with_engine_on(compiled, params, params_hash, kind, &device::ChosenDevice::cpu())
    }

    /// The same, with the engine's compute primitives on `device` (the stock engine ignores it).
    pub fn with_engine_on(
        compiled: CompiledModel,
        params: Params<EqAffine>,
        params_hash: Digest,
        kind: engine::EngineKind,
        device: &device::ChosenDevice,
    ) -> Result<Self, ProveError> {
        Self::build(compiled, params, params_hash, kind, device, None)
    }

    /// [`Prover::with_engine_on`] with the proving key from a key file (`zkinfer setup`): the
    /// CPU engine then runs no keygen but the columns' assembly (the stock and checking engines
    /// run theirs anyway). The file must be for this model and params, its commitments must
    /// give the identity it records, and its polynomials must fit the circuit.
    pub fn with_key_file(
        compiled: CompiledModel,
        params: Params<EqAffine>,
        params_hash: Digest,
        kind: engine::EngineKind,
        device: &device::ChosenDevice,
        key: &key_file::KeyFile,
    ) -> Result<Self, ProveError> {
        key.check(&compiled, &params_hash)?;
        let mut bytes = key.polynomials.as_deref();
        let polynomials = bytes.as_mut().map(|b| b as &mut (dyn std::io::Read + Send));
        let stored = engine::StoredKey { commitments: &key.commitments, polynomials };
        let prover = Self::build(compiled, params, params_hash, kind, device, Some(stored))?;
        Self::require_identity(prover, key)
    }

    /// [`Prover::with_key_file`] on the key file at `path`, whose polynomials are decoded as
    /// they are read ([`key_file::KeyFile::open`]): the file is never held whole in memory.
    /// Its digest is checked once it has been read to the end, before the prover is returned.
    pub fn with_key_file_at(
        compiled: CompiledModel,
        params: Params<EqAffine>,
        params_hash: Digest,
        kind: engine::EngineKind,
        device: &device::ChosenDevice,
        path: &std::path::Path,
    ) -> Result<Self, ProveError> {
        Self::from_key_file_at(compiled, params_hash, path, |compiled, stored| {
            Self::build(compiled, params, params_hash, kind, device, Some(stored))
        })
    }

    /// [`Prover::with_key_file_at`] for zkinfer's CPU engine (on `device`'s primitives) with the
    /// params' points alone ([`params::ParamsCache::load_points`]): no halo2 `Params` is read,
    /// so each point is decompressed once and in parallel.
    pub fn with_key_file_points(
        compiled: CompiledModel,
        points: zkinfer_engine::params::ParamsData,
        params_hash: Digest,
        device: &device::ChosenDevice,
        path: &std::path::Path,
    ) -> Result<Self, ProveError> {
        Self::from_key_file_at(compiled, params_hash, path, |compiled, stored| {
            let (spec, _) = compile::compile(&compiled.model, compiled.layout, None)?;
            let lagrange = compiled.public_len().min(points.g_lagrange.len());
            let verifier_params = VerifierParams {
                k: points.k,
                g: points.g.clone(),
                g_lagrange: points.g_lagrange[..lagrange].to_vec(),
                w: points.w,
                u: points.u,
            };
            let (engine, commitments) = engine::build_cpu_from_points(points, &spec, device.backend.clone(), stored)?;
            Self::with_verifier(compiled, params_hash, engine, commitments, verifier_params)
        })
    }

    /// Opens the key file at `path`, checks it is for `compiled` and `params_hash`, builds the
    /// prover with `build` from what it stores (the polynomials decoded as they are read), then
    /// checks the polynomials' digest (a damaged file is reported as such, also when its
    /// polynomials did not decode) and the circuit identity.
    fn from_key_file_at(
        compiled: CompiledModel,
        params_hash: Digest,
        path: &std::path::Path,
        build: impl FnOnce(CompiledModel, engine::StoredKey<'_>) -> Result<Self, ProveError>,
    ) -> Result<Self, ProveError> {
        let (key, mut reader) = key_file::KeyFile::open(path)?;
        key.check(&compiled, &params_hash)?;
        let polynomials = reader.as_mut().map(|r| r as &mut (dyn std::io::Read + Send));
        let built = build(compiled, engine::StoredKey { commitments: &key.commitments, polynomials });
        if let Some(reader) = reader {
            reader.finish()?;
        }
        Self::require_identity(built?, &key)
    }

    /// `prover`, if its circuit identity is the one `key` records.
    fn require_identity(prover: Self, key: &key_file::KeyFile) -> Result<Self, ProveError> {
        if prover.identity != key.circuit_identity {
            return Err(key_file::KeyFileError::Identity {
                recorded: zkinfer_verifier::hex(&key.circuit_identity),
                actual: zkinfer_verifier::hex(&prover.identity),
            }
            .into());
        }
        Ok(prover)
    }

    /// The verification bundle of this prover's model with `params` (the ones it proves with),
    /// its verifying key and identity, and `labels[i]` as the class labels of output `i`.
    pub fn bundle(
        &self,
        params: &Params<EqAffine>,
        labels: &[Vec<String>],
    ) -> Result<zkinfer_verifier::VerificationBundle, zkinfer_verifier::BundleError> {
        let (compiled, commitments) = (self.compiled.clone(), self.commitments.clone());
        zkinfer_verifier::VerificationBundle::new(
            compiled,
            params,
            self.params_hash,
            commitments,
            self.identity,
            labels,
        )
    }

    /// The key file of this prover's model, params and proving key (the precomputed
    /// polynomials only with zkinfer's engine).
    pub fn key_file(&self) -> key_file::KeyFile {
        let polynomials = self.engine.key_polynomials();
        key_file::KeyFile::new(&self.compiled, self.params_hash, self.commitments.clone(), self.identity, polynomials)
    }

    fn build(
        compiled: CompiledModel,
        params: Params<EqAffine>,
        params_hash: Digest,
        kind: engine::EngineKind,
        device: &device::ChosenDevice,
        known: Option<engine::StoredKey<'_>>,
    ) -> Result<Self, ProveError> {
        let (spec, _) = compile::compile(&compiled.model, compiled.layout, None)?;
        let spec = Arc::new(spec);
        let (engine, commitments) = engine::build_with(kind, &params, &spec, device.backend.clone(), known)?;
        let verifier_params = VerifierParams::from_params(&params, compiled.public_len())
            .map_err(|e| ProveError::Keygen(format!("the params: {e}")))?;
        Self::with_verifier(compiled, params_hash, engine, commitments, verifier_params)
    }

    /// The prover of `engine`, with the own verifier of its commitments.
    fn with_verifier(
        compiled: CompiledModel,
        params_hash: Digest,
        engine: Box<dyn engine::ProvingEngine>,
        commitments: KeyCommitments,
        verifier_params: VerifierParams,
    ) -> Result<Self, ProveError> {
        let verifier = Verifier::with_commitments(compiled.clone(), verifier_params, params_hash, commitments.clone())?;
        let identity = verifier.identity();
        Ok(Self { compiled, params_hash, engine, identity, verifier, commitments })
    }

    /// The engine that proves.
    pub fn engine(&self) -> &'static str {
        self.engine.name()
    }

    /// The circuit identity.
    pub fn identity(&self) -> Digest {
        self.identity
    }

    /// The verifying key's commitments, for a verification bundle.
    pub fn key_commitments(&self) -> &KeyCommitments {
        &self.commitments
    }

    /// The compiled model.
    pub fn compiled(&self) -> &CompiledModel {
        &self.compiled
    }

    /// Proves one inference on a real-valued input (refused if outside the calibrated range).
    pub fn prove(&self, input: &ArrayD<f32>, rng: &mut dyn rand_core::Rng) -> Result<Proof, ProveError> {
        let model = &self.compiled.model;
        let trace = model.run(input)?;
        let (spec, witness) = compile::compile(model, self.compiled.layout, Some(&trace))?;
        let proof = self.engine.prove(&spec, &witness, rng)?;
        let scales =
            std::iter::once(model.input).chain(model.outputs.iter().copied()).map(|t| model.tensor(t).scale).collect();
        let envelope = ProofEnvelope {
            circuit_identity: self.identity,
            k: self.compiled.k,
            params_hash: self.params_hash,
            public_values: witness.instance,
            scales,
            proof_len: proof.len() as u32,
            proof,
        };
        let verified = self.verifier.verify(&envelope)?;
        Ok(Proof { envelope, verified, trace })
    }
}

/// The verifying key's commitments of a compiled model's circuit, from zkinfer's keygen (what
/// a verification bundle carries; [`Verifier::with_commitments`] verifies with them).
pub fn key_commitments(compiled: &CompiledModel, params: &Params<EqAffine>) -> Result<KeyCommitments, ProveError> {
    let spec = compiled.spec()?;
    let (_, commitments) =
        zkinfer_engine::keygen::keygen(params, &spec).map_err(|e| ProveError::Keygen(e.to_string()))?;
    Ok(commitments)
}
