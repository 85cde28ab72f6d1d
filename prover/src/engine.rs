//! The engine seam: which prover turns a circuit's spec and witness into proof bytes.
//!
//! - [`StockEngine`]: halo2_proofs 0.4.1's `keygen_pk` and `create_proof`, the reference.
//! - [`CpuEngine`]: zkinfer's own engine ([`zkinfer_engine`]): keygen from the spec, proving
//!   from the constraint data; with the same RNG its proofs are the stock prover's bytes.
//! - [`CheckingEngine`]: runs two engines on the same randomness (a seed drawn from the
//!   caller's RNG) and refuses unless their proofs are equal byte for byte; its CPU engine also
//!   checks the witness against the constraint data first.
//!
//! Whatever the engine, [`crate::Prover`] verifies every proof before returning it, with
//! zkinfer's own verifier from the engine's verifying-key commitments (the verifier tests
//! require its verdicts to equal halo2's), and what a proof is accepted against is the circuit
//! identity, which `zkinfer export-verifier` checks against halo2's keygen.

use std::sync::Arc;

use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use halo2_proofs::plonk::{ProvingKey, create_proof, keygen_pk, keygen_vk};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bWrite, Challenge255};
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_circuits::{CircuitSpec, ModelCircuit, Witness, instance_values, with_layout};
use zkinfer_engine::backend::{Backend, CheckingBackend, CpuBackend};
use zkinfer_engine::keygen::KeyCommitments;
use zkinfer_engine::numerator::NumeratorProgram;

use crate::ProveError;

/// Which engine proves (`zkinfer prove --engine`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineKind {
    /// halo2's `create_proof`.
    Stock,
    /// zkinfer's own engine.
    #[default]
    Cpu,
    /// Both, on the same randomness; the proofs must be equal.
    Check,
}

impl EngineKind {
    /// Every kind, for help texts.
    pub const ALL: [EngineKind; 3] = [EngineKind::Stock, EngineKind::Cpu, EngineKind::Check];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Stock => "stock",
            EngineKind::Cpu => "cpu",
            EngineKind::Check => "check",
        }
    }
}

impl std::str::FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown engine '{s}' (expected stock, cpu or check)"))
    }
}

/// A prover for one circuit: its keys are made once, then it proves witnesses.
pub trait ProvingEngine: std::fmt::Debug + Send + Sync {
    /// The engine's name.
    fn name(&self) -> &'static str;
    /// The halo2 proof bytes for `witness`.
    fn prove(&self, spec: &CircuitSpec, witness: &Witness, rng: &mut dyn rand_core::Rng)
    -> Result<Vec<u8>, ProveError>;
    /// The proving key's precomputed polynomials, encoded for a key file, if the engine has
    /// them (zkinfer's engine).
    fn key_polynomials(&self) -> Option<Vec<u8>> {
        None
    }
}

/// What a key file gives an engine (`zkinfer setup`): the verifying key's commitments and
/// perhaps the precomputed polynomials' encoding.
pub struct StoredKey<'a> {
    /// The verifying key's commitments.
    pub commitments: &'a KeyCommitments,
    /// [`zkinfer_engine::prover::Precomputed::to_bytes`]'s encoding, read as it is decoded
    /// (bytes in memory or a key file's [`crate::key_file::PolynomialsReader`]).
    pub polynomials: Option<&'a mut (dyn std::io::Read + Send)>,
}

impl std::fmt::Debug for StoredKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("commitments", self.commitments)
            .field("polynomials", &self.polynomials.is_some())
            .finish()
    }
}

/// Builds the engine of `kind` for `spec`'s circuit and returns it with the verifying key's
/// commitments (from zkinfer's keygen). `gpu`: a GPU backend for the engine's primitives. With
/// [`EngineKind::Check`] every primitive then runs on the CPU and the GPU and must agree
/// (`CheckingBackend`), and the proof must equal the stock prover's. The stock and checking
/// engines also require zkinfer's keygen to give halo2's verifying key.
pub fn build(
    kind: EngineKind,
    params: &Params<EqAffine>,
    spec: &Arc<CircuitSpec>,
    gpu: Option<Arc<dyn Backend>>,
) -> Result<(Box<dyn ProvingEngine>, KeyCommitments), ProveError> {
    build_with(kind, params, spec, gpu, None)
}

/// [`build`], with the proving key already known (a key file) for the CPU engine, which then
/// runs no keygen but the columns' assembly; the stock and checking engines run halo2's keygen
/// and compute it anyway.
pub fn build_with(
    kind: EngineKind,
    params: &Params<EqAffine>,
    spec: &Arc<CircuitSpec>,
    gpu: Option<Arc<dyn Backend>>,
    known: Option<StoredKey<'_>>,
) -> Result<(Box<dyn ProvingEngine>, KeyCommitments), ProveError> {
    Ok(match kind {
        EngineKind::Stock => {
            let (keys, commitments) =
                zkinfer_engine::keygen::keygen(params, spec).map_err(|e| ProveError::Keygen(e.to_string()))?;
            let stock = StockEngine::new(params, spec)?;
            stock.require_pinned_text(&keys.pinned_text(&commitments))?;
            (Box::new(stock), commitments)
        }
        EngineKind::Cpu => {
            let cpu = match known {
                Some(key) => CpuEngine::from_stored(params, spec, key)?,
                None => CpuEngine::new(params, spec)?,
            }
            .on(gpu);
            let commitments = cpu.pk.commitments.clone();
            (Box::new(cpu), commitments)
        }
        EngineKind::Check => {
            let checked: Option<Arc<dyn Backend>> = gpu.map(|gpu| {
                Arc::new(CheckingBackend { trusted: CpuBackend, candidate: SharedBackend(gpu) }) as Arc<dyn Backend>
            });
            let cpu = CpuEngine { check_witness: true, ..CpuEngine::new(params, spec)?.on(checked) };
            let stock = StockEngine::new(params, spec)?;
            stock.require_pinned_text(&cpu.pk.keys.pinned_text(&cpu.pk.commitments))?;
            let commitments = cpu.pk.commitments.clone();
            (Box::new(CheckingEngine { reference: Box::new(stock), candidate: Box::new(cpu) }), commitments)
        }
    })
}

/// A shared backend as a backend value (the checking backend owns its two).
#[derive(Debug)]
struct SharedBackend(Arc<dyn Backend>);

impl Backend for SharedBackend {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn msm(&self, scalars: &[Fp], bases: &[EqAffine]) -> Eq {
        self.0.msm(scalars, bases)
    }
    fn msm_small(&self, values: &[i64], bases: &[EqAffine]) -> Eq {
        self.0.msm_small(values, bases)
    }
    fn msm_shared_bases(&self, sets: &[&[Fp]], bases: &[EqAffine]) -> Vec<Eq> {
        self.0.msm_shared_bases(sets, bases)
    }
    fn fft(&self, values: &mut [Fp], omega: Fp, log_n: u32) {
        self.0.fft(values, omega, log_n)
    }
    fn fold_generators(&self, g: &mut Vec<EqAffine>, challenge: Fp) {
        self.0.fold_generators(g, challenge)
    }
    fn folds_pairs(&self, len: usize) -> bool {
        self.0.folds_pairs(len)
    }
    fn fold_generators_twice(&self, g: &mut Vec<EqAffine>, first: Fp, second: Fp) {
        self.0.fold_generators_twice(g, first, second)
    }
    fn evaluate_numerator(
        &self,
        program: &NumeratorProgram,
        columns: &[&[Fp]],
        points: usize,
        y: Fp,
        step: usize,
    ) -> Vec<Fp> {
        self.0.evaluate_numerator(program, columns, points, y, step)
    }
}

/// halo2's prover.
#[derive(Debug)]
pub struct StockEngine {
    params: Params<EqAffine>,
    pk: ProvingKey<EqAffine>,
}

impl StockEngine {
    /// Runs halo2's `keygen_vk` and `keygen_pk`.
    pub fn new(params: &Params<EqAffine>, spec: &Arc<CircuitSpec>) -> Result<Self, ProveError> {
        let circuit = ModelCircuit::new(spec.clone(), None);
        let keygen = |e: halo2_proofs::plonk::Error| ProveError::Keygen(format!("{e:?}"));
        let vk = with_layout(spec.layout, || keygen_vk(params, &circuit)).map_err(keygen)?;
        let pk = with_layout(spec.layout, || keygen_pk(params, vk, &circuit)).map_err(keygen)?;
        Ok(Self { params: params.clone(), pk })
    }

    /// Refuses unless halo2's verifying key has this pinned text (zkinfer's keygen must give
    /// the same key).
    pub fn require_pinned_text(&self, text: &str) -> Result<(), ProveError> {
        if format!("{:?}", self.pk.get_vk().pinned()) != text {
            return Err(ProveError::Keygen("zkinfer's keygen and halo2's keygen give different verifying keys".into()));
        }
        Ok(())
    }
}

impl ProvingEngine for StockEngine {
    fn name(&self) -> &'static str {
        "stock"
    }

    fn prove(
        &self,
        spec: &CircuitSpec,
        witness: &Witness,
        rng: &mut dyn rand_core::Rng,
    ) -> Result<Vec<u8>, ProveError> {
        let circuit = ModelCircuit::new(Arc::new(spec.clone()), Some(Arc::new(witness.clone())));
        let instance: Vec<Fp> = instance_values(&witness.instance);
        let mut transcript = Blake2bWrite::<_, EqAffine, Challenge255<_>>::init(vec![]);
        with_layout(spec.layout, || {
            create_proof(&self.params, &self.pk, &[circuit], &[&[&instance]], rng, &mut transcript)
        })
        .map_err(|e| ProveError::Proof(format!("{e:?}")))?;
        Ok(transcript.finalize())
    }
}

/// The CPU engine (on `gpu`'s primitives when given) from the params' points alone and what
/// a key file gives: no halo2 `Params` is read ([`zkinfer_engine::params::ParamsData::from_raw`]).
/// Returns it with the verifying key's commitments.
pub fn build_cpu_from_points(
    points: zkinfer_engine::params::ParamsData,
    spec: &CircuitSpec,
    gpu: Option<Arc<dyn Backend>>,
    key: StoredKey<'_>,
) -> Result<(Box<dyn ProvingEngine>, KeyCommitments), ProveError> {
    let pk =
        zkinfer_engine::prover::ProvingKey::with_points(points, spec, Some(key.commitments.clone()), key.polynomials)
            .map_err(|e| ProveError::Keygen(e.to_string()))?;
    let cpu = CpuEngine { pk, check_witness: false }.on(gpu);
    let commitments = cpu.pk.commitments.clone();
    Ok((Box::new(cpu), commitments))
}

/// zkinfer's own engine.
#[derive(Debug)]
pub struct CpuEngine {
    pk: zkinfer_engine::prover::ProvingKey,
    /// Check the witness against the constraint data before proving.
    pub check_witness: bool,
}

impl CpuEngine {
    /// The engine's keygen (keys and the verifying key's commitments).
    pub fn new(params: &Params<EqAffine>, spec: &CircuitSpec) -> Result<Self, ProveError> {
        let pk =
            zkinfer_engine::prover::ProvingKey::new(params, spec).map_err(|e| ProveError::Keygen(e.to_string()))?;
        Ok(Self { pk, check_witness: false })
    }

    /// The engine's key from a key file: with its polynomials, no keygen but the columns'
    /// assembly; without them, keygen but the commitments.
    pub fn from_stored(params: &Params<EqAffine>, spec: &CircuitSpec, key: StoredKey<'_>) -> Result<Self, ProveError> {
        use zkinfer_engine::prover::ProvingKey;
        let commitments = key.commitments.clone();
        let pk = match key.polynomials {
            Some(reader) => ProvingKey::from_stored(params, spec, commitments, reader),
            None => ProvingKey::with_commitments(params, spec, commitments),
        }
        .map_err(|e| ProveError::Keygen(e.to_string()))?;
        Ok(Self { pk, check_witness: false })
    }

    /// Runs the engine's primitives on `backend` (the CPU backend when `None`).
    pub fn on(self, backend: Option<Arc<dyn Backend>>) -> Self {
        match backend {
            Some(backend) => Self { pk: self.pk.with_backend(backend), ..self },
            None => self,
        }
    }
}

impl ProvingEngine for CpuEngine {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn prove(
        &self,
        spec: &CircuitSpec,
        witness: &Witness,
        rng: &mut dyn rand_core::Rng,
    ) -> Result<Vec<u8>, ProveError> {
        let proof = if self.check_witness {
            zkinfer_engine::prover::prove_checked(&self.pk, spec, witness, rng)
        } else {
            zkinfer_engine::prover::prove(&self.pk, spec, witness, rng)
        };
        proof.map_err(|e| ProveError::Proof(e.to_string()))
    }

    fn key_polynomials(&self) -> Option<Vec<u8>> {
        Some(self.pk.precomputed.to_bytes())
    }
}

/// Two engines on the same randomness; their proofs must be equal.
#[derive(Debug)]
pub struct CheckingEngine {
    reference: Box<dyn ProvingEngine>,
    candidate: Box<dyn ProvingEngine>,
}

impl ProvingEngine for CheckingEngine {
    fn name(&self) -> &'static str {
        "check"
    }

    fn prove(
        &self,
        spec: &CircuitSpec,
        witness: &Witness,
        rng: &mut dyn rand_core::Rng,
    ) -> Result<Vec<u8>, ProveError> {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let expected = self.reference.prove(spec, witness, &mut StdRng::from_seed(seed))?;
        let got = self.candidate.prove(spec, witness, &mut StdRng::from_seed(seed))?;
        if got != expected {
            let at = got.iter().zip(&expected).take_while(|(a, b)| a == b).count();
            return Err(ProveError::EnginesDiffer {
                reference: self.reference.name(),
                candidate: self.candidate.name(),
                byte: at,
            });
        }
        Ok(got)
    }
}
