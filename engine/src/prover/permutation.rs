//! The permutation argument's grand products (stage 3). The equality-enabled columns are split
//! into chunks of `degree - 2`; chunk `c` has the product
//! `z_c(ω^(i+1)) = z_c(ω^i) · Π_j (p_j(ω^i) + β·δ^j·ω^i + γ) / (p_j(ω^i) + β·σ_j(ω^i) + γ)`,
//! starting from 1 for the first chunk and from the previous chunk's last usable value for the
//! others, with random values on the last `blinding_factors` rows.

use ff::{Field, PrimeField};
use halo2_proofs::pasta::{EqAffine, Fp};
use rayon::prelude::*;

use super::{ProofTranscript, ProvingKey, batch_invert, draw_rows_and_blinds, running_product, write_point};
use crate::EngineError;
use crate::permutation::PermutationColumn;

/// The permutation's grand products, one per chunk of columns.
#[derive(Debug)]
pub struct Products {
    /// `z` per chunk over all rows.
    pub z: Vec<Vec<Fp>>,
    /// Their blinds.
    pub blinds: Vec<Fp>,
    /// Their commitments.
    pub commitments: Vec<EqAffine>,
}

/// Computes, commits and writes the products. The random values (per chunk, its blinding rows
/// then its blind) are drawn first, in halo2's order; each chunk's ratios and their running
/// product from 1 are then computed in parallel, scaled by the previous chunk's last usable
/// value in order, and committed in parallel.
pub fn commit_products<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    advice: &[Vec<Fp>],
    instance: &[Fp],
    beta: Fp,
    gamma: Fp,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<Products, EngineError> {
    let n = pk.n();
    let bf = pk.blinding_factors();
    let chunk = pk.keys.cs.degree() - 2;
    let values = |c: PermutationColumn| -> &[Fp] {
        match c {
            PermutationColumn::Advice(i) => &advice[i],
            PermutationColumn::Fixed(i) => &pk.keys.fixed[i],
            PermutationColumn::Instance => instance,
        }
    };
    let omega = pk.keys.domain.get_omega();
    let sets: Vec<(usize, &[PermutationColumn], &[_])> = pk
        .keys
        .permutation_columns
        .chunks(chunk)
        .zip(pk.keys.permutation.chunks(chunk))
        .enumerate()
        .map(|(set, (columns, sigmas))| (set * chunk, columns, sigmas))
        .collect();
    let randomness = draw_rows_and_blinds(rng, sets.len(), bf);
    // Per chunk, `Π_{j<i} ratio(ω^j)` for every row i (1 on the first).
    let mut running: Vec<Vec<Fp>> = sets
        .par_iter()
        .map(|&(first, columns, sigmas)| {
            let mut ratio = vec![Fp::ONE; n];
            for (&c, sigma) in columns.iter().zip(sigmas) {
                for ((r, &p), &s) in ratio.iter_mut().zip(values(c)).zip(sigma.iter()) {
                    *r *= beta * s + gamma + p;
                }
            }
            batch_invert(&mut ratio);
            for (i, &c) in columns.iter().enumerate() {
                // δ^j for the column's index j among all equality-enabled columns.
                let mut x = Fp::DELTA.pow_vartime([(first + i) as u64]);
                for (r, &p) in ratio.iter_mut().zip(values(c)) {
                    *r *= x * beta + gamma + p;
                    x *= omega;
                }
            }
            running_product(&ratio[..n - 1])
        })
        .collect();
    // Each chunk starts from the previous chunk's last usable value; the last rows are random.
    let mut last_z = Fp::ONE;
    for (z, (rows, _)) in running.iter_mut().zip(&randomness) {
        if last_z != Fp::ONE {
            z.par_iter_mut().for_each(|v| *v *= last_z);
        }
        last_z = z[n - (bf + 1)];
        z[n - bf..].copy_from_slice(rows);
    }
    let blinds: Vec<Fp> = randomness.iter().map(|&(_, blind)| blind).collect();
    let commitments: Vec<EqAffine> = running.par_iter().zip(&blinds).map(|(z, &blind)| pk.commit(z, blind)).collect();
    for &c in &commitments {
        write_point(transcript, c)?;
    }
    Ok(Products { z: running, blinds, commitments })
}
