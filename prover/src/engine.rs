//! The engine seam: which prover turns a circuit's spec and witness into proof bytes.
//!
//! - [`StockEngine`]: halo2_proofs 0.4.1's `keygen_pk` and `create_proof`, the reference.
//! - [`CpuEngine`]: zkinfer's own engine ([`zkinfer_engine`]): keygen from the spec, proving
//!   from the constraint data; with the same RNG its proofs are the stock prover's bytes.
//! - [`CheckingEngine`]: runs two engines on the same randomness (a seed drawn from the
//!   caller's RNG) and refuses unless their proofs are equal byte for byte; its CPU engine also
//!   checks the witness against the constraint data first.
//!
//! Whatever the engine, [`crate::Prover`] verifies every proof with the stock verifier before
//! returning it, so soundness never depends on engine code.

use std::sync::Arc;

use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use halo2_proofs::plonk::{ProvingKey, VerifyingKey, create_proof, keygen_pk};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bWrite, Challenge255};
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_circuits::{CircuitSpec, ModelCircuit, Witness, instance_values, with_layout};
use zkinfer_engine::backend::{Backend, CheckingBackend, CpuBackend};

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
}

/// Builds the engine of `kind` for `spec`'s circuit (`vk`: its stock verifying key). `gpu`:
/// a GPU backend for the engine's primitives. With [`EngineKind::Check`] every primitive then
/// runs on the CPU and the GPU and must agree (`CheckingBackend`), and the proof must equal the
/// stock prover's.
pub fn build(
    kind: EngineKind,
    params: &Params<EqAffine>,
    spec: &Arc<CircuitSpec>,
    vk: &VerifyingKey<EqAffine>,
    gpu: Option<Arc<dyn Backend>>,
) -> Result<Box<dyn ProvingEngine>, ProveError> {
    Ok(match kind {
        EngineKind::Stock => Box::new(StockEngine::new(params, spec, vk)?),
        EngineKind::Cpu => Box::new(CpuEngine::new(params, spec, vk)?.on(gpu)),
        EngineKind::Check => {
            let checked: Option<Arc<dyn Backend>> = gpu.map(|gpu| {
                Arc::new(CheckingBackend { trusted: CpuBackend, candidate: SharedBackend(gpu) }) as Arc<dyn Backend>
            });
            Box::new(CheckingEngine {
                reference: Box::new(StockEngine::new(params, spec, vk)?),
                candidate: Box::new(CpuEngine { check_witness: true, ..CpuEngine::new(params, spec, vk)?.on(checked) }),
            })
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
    fn fft(&self, values: &mut [Fp], omega: Fp, log_n: u32) {
        self.0.fft(values, omega, log_n)
    }
    fn fold_generators(&self, g: &mut Vec<EqAffine>, challenge: Fp) {
        self.0.fold_generators(g, challenge)
    }
}

/// halo2's prover.
#[derive(Debug)]
pub struct StockEngine {
    params: Params<EqAffine>,
    pk: ProvingKey<EqAffine>,
}

impl StockEngine {
    /// Runs `keygen_pk`.
    pub fn new(
        params: &Params<EqAffine>,
        spec: &Arc<CircuitSpec>,
        vk: &VerifyingKey<EqAffine>,
    ) -> Result<Self, ProveError> {
        let circuit = ModelCircuit::new(spec.clone(), None);
        let pk = with_layout(spec.layout, || keygen_pk(params, vk.clone(), &circuit))
            .map_err(|e| ProveError::Keygen(format!("{e:?}")))?;
        Ok(Self { params: params.clone(), pk })
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

/// zkinfer's own engine.
#[derive(Debug)]
pub struct CpuEngine {
    pk: zkinfer_engine::prover::ProvingKey,
    /// Check the witness against the constraint data before proving.
    pub check_witness: bool,
}

impl CpuEngine {
    /// The engine's keygen, taking the verifying key's commitments from `vk` (the prover has
    /// it for the self-check anyway) instead of computing them again.
    pub fn new(params: &Params<EqAffine>, spec: &CircuitSpec, vk: &VerifyingKey<EqAffine>) -> Result<Self, ProveError> {
        let pinned = format!("{:?}", vk.pinned());
        let pk = zkinfer_engine::prover::ProvingKey::with_pinned_text(params, spec, &pinned)
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
