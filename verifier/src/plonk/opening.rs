//! The multi-point opening and the inner-product argument, checked as halo2_proofs 0.4.1's
//! `multiopen::verify_proof` and `commitment::verify_proof` check them, ending in one
//! multi-scalar multiplication (`msm.rs`) that must be the identity.
//!
//! Grouping (halo2's `construct_intermediate_sets`): commitments in first-query order, told
//! apart by source (halo2 tells them apart by reference); points in first-query order; each
//! commitment's set of points sorted by that order; sets numbered by their first commitment.

use std::collections::HashMap;

use super::ProofError;
use super::argument::Terms;
use super::msm::Msm;
use super::transcript::Reader;
use crate::params::VerifierParams;
use ff::Field;
use halo2_proofs::arithmetic::{eval_polynomial, lagrange_interpolate};
use halo2_proofs::pasta::Fp;

/// What a commitment commits to. Two openings are of the same commitment exactly when their
/// sources are equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The instance column.
    Instance,
    /// An advice column.
    Advice(usize),
    /// A permutation grand product (one per chunk of columns).
    PermutationProduct(usize),
    /// A lookup's grand product.
    LookupProduct(usize),
    /// A lookup's permuted input.
    LookupInput(usize),
    /// A lookup's permuted table.
    LookupTable(usize),
    /// A fixed column of the key.
    Fixed(usize),
    /// A permutation polynomial of the key.
    Sigma(usize),
    /// The quotient (its pieces combined).
    Quotient,
    /// The random polynomial of the vanishing argument.
    Random,
}

/// One claimed evaluation: the committed polynomial of `source` at `point` is `eval`.
#[derive(Clone, Copy, Debug)]
pub struct Opening {
    /// Which commitment.
    pub source: Source,
    /// Where.
    pub point: Fp,
    /// The claimed value.
    pub eval: Fp,
}

/// A commitment grouped with the evaluations claimed for it.
struct Grouped {
    source: Source,
    set: usize,
    /// Evaluations in the order of the set's points.
    evals: Vec<Fp>,
}

/// halo2's intermediate sets: the commitments (first-query order) and each set's points.
fn group(queries: &[Opening]) -> Result<(Vec<Grouped>, Vec<Vec<Fp>>), ProofError> {
    let mut points: Vec<Fp> = Vec::new();
    let mut commitments: Vec<(Source, Vec<(usize, Fp)>)> = Vec::new();
    for q in queries {
        let point = points.iter().position(|p| *p == q.point).unwrap_or_else(|| {
            points.push(q.point);
            points.len() - 1
        });
        match commitments.iter_mut().find(|(s, _)| *s == q.source) {
            Some((_, at)) => at.push((point, q.eval)),
            None => commitments.push((q.source, vec![(point, q.eval)])),
        }
    }
    let mut sets: Vec<Vec<usize>> = Vec::new();
    let mut grouped = Vec::with_capacity(commitments.len());
    for (source, mut at) in commitments {
        at.sort_by_key(|&(point, _)| point);
        if at.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(ProofError::DuplicateOpening);
        }
        let indices: Vec<usize> = at.iter().map(|&(p, _)| p).collect();
        let set = sets.iter().position(|s| *s == indices).unwrap_or_else(|| {
            sets.push(indices);
            sets.len() - 1
        });
        grouped.push(Grouped { source, set, evals: at.into_iter().map(|(_, e)| e).collect() });
    }
    let sets = sets.into_iter().map(|s| s.into_iter().map(|i| points[i]).collect()).collect();
    Ok((grouped, sets))
}

/// Adds `scalar · terms` to `msm`.
fn add_terms(msm: &mut Msm, scalar: Fp, terms: &Terms) {
    for &(s, p) in terms {
        msm.append_term(scalar * s, p);
    }
}

/// Checks the opening of `queries` (commitments in `openings`) and the inner-product argument
/// that ends the proof.
pub(crate) fn verify_opening(
    params: &VerifierParams,
    k: u32,
    queries: &[Opening],
    openings: &HashMap<Source, Terms>,
    t: &mut Reader<'_>,
) -> Result<(), ProofError> {
    let x1 = t.challenge();
    let x2 = t.challenge();
    let (grouped, sets) = group(queries)?;

    // Per set: q_i = Σ x1-combination of its commitments (Horner in first-query order) and
    // the same combination of their evaluations at each of the set's points.
    let mut q_msms: Vec<Msm> = sets.iter().map(|_| Msm::default()).collect();
    let mut q_evals: Vec<Vec<Fp>> = sets.iter().map(|s| vec![Fp::ZERO; s.len()]).collect();
    let mut x1_powers = vec![Fp::ONE; sets.len()];
    for g in grouped.iter().rev() {
        let power = x1_powers[g.set];
        let terms = openings.get(&g.source).ok_or(ProofError::Opening)?;
        add_terms(&mut q_msms[g.set], power, terms);
        for (acc, e) in q_evals[g.set].iter_mut().zip(&g.evals) {
            *acc += *e * power;
        }
        x1_powers[g.set] *= x1;
    }

    let q_prime = t.point()?;
    let x3 = t.challenge();
    let u = t.scalars(sets.len())?;
    // The value the combined polynomial must take at x3.
    let mut msm_eval = Fp::ZERO;
    for ((points, evals), &proof_eval) in sets.iter().zip(&q_evals).zip(&u) {
        let r = lagrange_interpolate(points, evals);
        let mut eval = proof_eval - eval_polynomial(&r, x3);
        for &p in points {
            let inverse = Option::<Fp>::from((x3 - p).invert()).ok_or(ProofError::DegenerateChallenge("x3"))?;
            eval *= inverse;
        }
        msm_eval = msm_eval * x2 + eval;
    }
    let x4 = t.challenge();
    let mut msm = Msm::default();
    msm.append_term(Fp::ONE, q_prime);
    let mut v = msm_eval;
    for (q, &q_eval) in q_msms.iter().zip(&u) {
        msm.scale(x4);
        msm.add_msm(q);
        v = v * x4 + q_eval;
    }
    inner_product(params, msm, k, x3, v, t)
}

/// The inner-product argument's check (halo2's `commitment::verify_proof` and the single
/// verifier's final multi-scalar multiplication): `msm` is the commitment opened at `x` to `v`.
fn inner_product(
    params: &VerifierParams,
    mut msm: Msm,
    k: u32,
    x: Fp,
    v: Fp,
    t: &mut Reader<'_>,
) -> Result<(), ProofError> {
    // -v · G_0
    msm.add_to_g_scalars(&[-v]);
    let s_commitment = t.point()?;
    let xi = t.challenge();
    msm.append_term(xi, s_commitment);
    let z = t.challenge();
    let mut rounds = Vec::with_capacity(k as usize);
    for _ in 0..k {
        let (l, r) = (t.point()?, t.point()?);
        rounds.push((l, r, t.challenge()));
    }
    let mut u = Vec::with_capacity(rounds.len());
    for (l, r, u_j) in rounds {
        let u_j_inv = Option::<Fp>::from(u_j.invert()).ok_or(ProofError::DegenerateChallenge("u_j"))?;
        msm.append_term(u_j_inv, l);
        msm.append_term(u_j, r);
        u.push(u_j);
    }
    let c = t.scalar()?;
    let f = t.scalar()?;
    msm.add_to_u_scalar(-c * b_at(x, &u) * z);
    msm.add_to_w_scalar(-f);
    msm.add_to_g_scalars(&s_coefficients(&u, -c));
    match msm.is_identity(params) {
        Some(true) => Ok(()),
        Some(false) | None => Err(ProofError::Opening),
    }
}

/// `Π_i (1 + u_(k-1-i) · x^(2^i))`: the folded powers of `x`.
fn b_at(x: Fp, u: &[Fp]) -> Fp {
    let (mut product, mut power) = (Fp::ONE, x);
    for u_j in u.iter().rev() {
        product *= Fp::ONE + *u_j * power;
        power = power.square();
    }
    product
}

/// The coefficients of `init · Π_i (1 + u_(k-1-i) · X^(2^i))`: the scalars of the folded
/// generator `G'_0 = <s, G>`.
fn s_coefficients(u: &[Fp], init: Fp) -> Vec<Fp> {
    let mut s = vec![Fp::ZERO; 1 << u.len()];
    s[0] = init;
    for (i, u_j) in u.iter().rev().enumerate() {
        let len = 1 << i;
        let (left, right) = s.split_at_mut(len);
        for (r, l) in right[..len].iter_mut().zip(left.iter()) {
            *r = *l * u_j;
        }
    }
    s
}
