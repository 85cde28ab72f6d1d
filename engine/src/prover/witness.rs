//! Stage 1: the verifying key and the instance commitment absorbed, the advice columns blinded
//! and committed.

use ff::Field;
use group::Curve;
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use halo2_proofs::transcript::{Transcript, TranscriptWrite};
use rayon::prelude::*;
use zkinfer_circuits::{CircuitSpec, Witness};

use super::{ProofTranscript, ProvingKey};
use crate::EngineError;

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
    // The witness rows (zeros up to the blinding rows) by small-scalar MSMs; the blinding rows
    // and the blind of every column over the same generators, as one batch of MSMs.
    let backend = pk.backend.as_ref();
    let witness_rows: Vec<Eq> = (0..advice.len())
        .into_par_iter()
        .map(|c| backend.msm_small(&witness.advice[c], &g[..witness.advice[c].len()]))
        .collect();
    let blinding: Vec<Vec<Fp>> =
        advice.iter().zip(&blinds).map(|(column, &blind)| [&column[start..], &[blind]].concat()).collect();
    let blinding: Vec<&[Fp]> = blinding.iter().map(Vec::as_slice).collect();
    let blinding_bases: Vec<EqAffine> = g[start..].iter().copied().chain([pk.params.w]).collect();
    let blinded = backend.msm_shared_bases(&blinding, &blinding_bases);
    let sums: Vec<Eq> = witness_rows.iter().zip(&blinded).map(|(a, b)| a + b).collect();
    let mut commitments = vec![EqAffine::default(); sums.len()];
    Eq::batch_normalize(&sums, &mut commitments);
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
