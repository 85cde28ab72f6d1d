//! The permutation argument's grand products (stage 3). The equality-enabled columns are split
//! into chunks of `degree - 2`; chunk `c` has the product
//! `z_c(ω^(i+1)) = z_c(ω^i) · Π_j (p_j(ω^i) + β·δ^j·ω^i + γ) / (p_j(ω^i) + β·σ_j(ω^i) + γ)`,
//! starting from 1 for the first chunk and from the previous chunk's last usable value for the
//! others, with random values on the last `blinding_factors` rows.

use ff::{Field, PrimeField};
use halo2_proofs::pasta::{EqAffine, Fp};

use super::{ProofTranscript, ProvingKey, batch_invert, write_point};
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

/// Computes, commits and writes the products.
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
    let mut delta_power = Fp::ONE;
    let mut last_z = Fp::ONE;
    let mut products = Products { z: Vec::new(), blinds: Vec::new(), commitments: Vec::new() };
    for (columns, sigmas) in pk.keys.permutation_columns.chunks(chunk).zip(pk.keys.permutation.chunks(chunk)) {
        let mut ratio = vec![Fp::ONE; n];
        for (&c, sigma) in columns.iter().zip(sigmas) {
            for ((r, &p), &s) in ratio.iter_mut().zip(values(c)).zip(sigma.iter()) {
                *r *= beta * s + gamma + p;
            }
        }
        batch_invert(&mut ratio);
        for &c in columns {
            let mut x = delta_power;
            for (r, &p) in ratio.iter_mut().zip(values(c)) {
                *r *= x * beta + gamma + p;
                x *= omega;
            }
            delta_power *= Fp::DELTA;
        }
        let mut z = Vec::with_capacity(n);
        let mut acc = last_z;
        z.push(acc);
        for r in ratio.iter().take(n - 1) {
            acc *= r;
            z.push(acc);
        }
        for v in &mut z[n - bf..] {
            *v = Fp::random(&mut *rng);
        }
        last_z = z[n - (bf + 1)];
        let blind = Fp::random(&mut *rng);
        let commitment = pk.commit(&z, blind);
        write_point(transcript, commitment)?;
        products.z.push(z);
        products.blinds.push(blind);
        products.commitments.push(commitment);
    }
    Ok(products)
}
