//! The engine's prover, stage by stage in halo2's transcript order, drawing randomness in the
//! order halo2's `create_proof` draws it, so that with the same seeded RNG every byte it writes
//! equals the stock prover's.
//!
//! Built so far, the first stage ([`commit_witness`]): the verifying key's transcript
//! representation and the instance commitment are absorbed, the advice columns get their
//! random blinding rows and blinds, and their commitments are written, with the witness rows
//! committed by [`small_msm`](crate::msm::small_msm). The lookup, permutation and vanishing
//! arguments and the opening follow (until then proofs come from the stock prover).

use ff::{Field, FromUniformBytes};
use group::Curve;
use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bWrite, Challenge255, Transcript, TranscriptWrite};
use zkinfer_circuits::{CircuitSpec, Witness};

use crate::EngineError;
use crate::keygen::{Keys, keygen};
use crate::msm::{commit_mixed, small_msm};
use crate::params::ParamsData;

/// The transcript zkinfer proofs use.
pub type ProofTranscript = Blake2bWrite<Vec<u8>, EqAffine, Challenge255<EqAffine>>;

/// What proving a circuit needs besides the witness: the keys, the params' points and the
/// verifying key's transcript representation.
#[derive(Debug)]
pub struct ProvingKey {
    /// The keys of the circuit.
    pub keys: Keys,
    /// The params' generators.
    pub params: ParamsData,
    /// The scalar halo2 absorbs first: a hash of the pinned verifying key.
    pub transcript_repr: Fp,
}

impl ProvingKey {
    /// Keygen for `spec`'s circuit.
    pub fn new(params: &Params<EqAffine>, spec: &CircuitSpec) -> Result<Self, EngineError> {
        let keys = keygen(params, spec)?;
        let transcript_repr = transcript_repr(&keys.pinned_text());
        Ok(Self { keys, params: ParamsData::new(params)?, transcript_repr })
    }

    fn n(&self) -> usize {
        1 << self.params.k
    }

    /// First row of the blinding rows (the last `blinding_factors + 1` rows).
    fn unusable_rows_start(&self) -> usize {
        self.n() - (self.keys.cs.blinding_factors() + 1)
    }
}

/// halo2's transcript representation of a verifying key: BLAKE2b-512 (personal
/// `Halo2-Verify-Key`) of the pinned text's length (u64, little endian) and the text, as a
/// field element from 64 uniform bytes.
pub fn transcript_repr(pinned_text: &str) -> Fp {
    let mut state = blake2b_simd::Params::new().hash_length(64).personal(b"Halo2-Verify-Key").to_state();
    state.update(&(pinned_text.len() as u64).to_le_bytes());
    state.update(pinned_text.as_bytes());
    let mut bytes = [0u8; 64];
    bytes.copy_from_slice(state.finalize().as_bytes());
    Fp::from_uniform_bytes(&bytes)
}

/// The advice columns after the first stage.
#[derive(Debug)]
pub struct CommittedWitness {
    /// Advice values per column over all `2^k` rows, blinding rows included.
    pub advice: Vec<Vec<Fp>>,
    /// The commitment blind of each advice column.
    pub blinds: Vec<Fp>,
    /// The commitments written to the transcript.
    pub commitments: Vec<EqAffine>,
}

/// The first stage of a proof: absorbs the verifying key and the instance commitment, blinds and
/// commits the advice columns and writes their commitments.
pub fn commit_witness<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    spec: &CircuitSpec,
    witness: &Witness,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<CommittedWitness, EngineError> {
    let io = |e: std::io::Error| EngineError::Transcript(e.to_string());
    let n = pk.n();
    let start = pk.unusable_rows_start();
    if witness.advice.len() != spec.layout.advice_columns()
        || witness.advice.iter().any(|c| c.len() != spec.rows)
        || spec.rows > start
        || witness.instance.len() > start
    {
        return Err(EngineError::Witness("advice or public values do not match the circuit".into()));
    }
    transcript.common_scalar(pk.transcript_repr).map_err(io)?;
    // The instance column, committed without a random blind (halo2 uses the blind 1).
    let g = &pk.params.g_lagrange;
    let instance = small_msm(&witness.instance, &g[..witness.instance.len()]) + pk.params.w;
    transcript.common_point(instance.to_affine()).map_err(io)?;

    // Random blinding rows, column by column, then one blind per column.
    let mut advice: Vec<Vec<Fp>> = Vec::with_capacity(witness.advice.len());
    for column in &witness.advice {
        let mut values: Vec<Fp> = column.iter().map(|&v| crate::field(v)).collect();
        values.resize(start, Fp::ZERO);
        values.extend((start..n).map(|_| Fp::random(&mut *rng)));
        advice.push(values);
    }
    let blinds: Vec<Fp> = advice.iter().map(|_| Fp::random(&mut *rng)).collect();
    let columns: Vec<(&Vec<i64>, (&Vec<Fp>, Fp))> = witness.advice.iter().zip(advice.iter().zip(blinds.iter().copied())).collect();
    let commitments = parallel_map(&columns, |&(small, (values, blind))| {
        let mut rows = small.clone();
        rows.resize(start, 0);
        commit_mixed(g, pk.params.w, &rows, &values[start..], blind).to_affine()
    });
    for &c in &commitments {
        transcript.write_point(c).map_err(io)?;
    }
    Ok(CommittedWitness { advice, blinds, commitments })
}

/// `f` over `items` on as many threads as the machine has, results in order.
fn parallel_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(items.len()).max(1);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> =
            items.chunks(chunk).map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<U>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}
