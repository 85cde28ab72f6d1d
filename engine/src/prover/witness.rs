//! Stage 1: the verifying key and the instance commitment absorbed, the advice columns blinded
//! and committed.

use ff::Field;
use group::Curve;
use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::transcript::{Transcript, TranscriptWrite};
use rayon::prelude::*;
use zkinfer_circuits::{CircuitSpec, Witness};

use super::{ProofTranscript, ProvingKey};
use crate::EngineError;
use crate::msm::commit_mixed;

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
    let instance = pk.backend.msm_small(&witness.instance, &g[..witness.instance.len()]) + pk.params.w;
    transcript.common_point(instance.to_affine()).map_err(io)?;

    // Random blinding rows, column by column, then one blind per column (drawn first, in
    // halo2's order; the columns are then converted and committed in parallel).
    let blinding_rows: Vec<Vec<Fp>> =
        witness.advice.iter().map(|_| (start..n).map(|_| Fp::random(&mut *rng)).collect()).collect();
    let blinds: Vec<Fp> = witness.advice.iter().map(|_| Fp::random(&mut *rng)).collect();
    let advice: Vec<Vec<Fp>> = witness
        .advice
        .par_iter()
        .zip(blinding_rows)
        .map(|(column, random)| {
            let mut values: Vec<Fp> = column.iter().map(|&v| crate::field(v)).collect();
            values.resize(start, Fp::ZERO);
            values.extend(random);
            values
        })
        .collect();
    // The witness rows (zeros up to the blinding rows) by small-scalar MSM, the rest in full.
    let commitments: Vec<EqAffine> = (0..advice.len())
        .into_par_iter()
        .map(|c| {
            let mut rows = witness.advice[c].clone();
            rows.resize(start, 0);
            commit_mixed(pk.backend.as_ref(), g, pk.params.w, &rows, &advice[c][start..], blinds[c]).to_affine()
        })
        .collect();
    for &c in &commitments {
        transcript.write_point(c).map_err(io)?;
    }
    Ok(CommittedWitness { advice, blinds, commitments })
}

/// The instance column over all rows (public values, then zeros).
pub fn instance_column(pk: &ProvingKey, instance: &[i64]) -> Vec<Fp> {
    let mut v: Vec<Fp> = instance.iter().map(|&x| crate::field(x)).collect();
    v.resize(pk.n(), Fp::ZERO);
    v
}
