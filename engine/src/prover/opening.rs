//! Stage 5: the evaluations at the challenge `x` (instance, advice and fixed queries, the
//! random polynomial, the permutation polynomials and products, the lookups), then the
//! multi-point opening of every queried polynomial ([`super::ipa`]).

use ff::Field;
use halo2_proofs::pasta::Fp;
use halo2_proofs::poly::Rotation;
use halo2_proofs::transcript::TranscriptWrite;
use rayon::prelude::*;
use zkinfer_circuits::CircuitSpec;
pub use zkinfer_circuits::constraints::key::QueryLists;

use super::ipa::{Query, open};
use super::{ProofTranscript, ProvingKey, ThroughQuotient, challenge};
use crate::EngineError;
use crate::linear::{Evaluator, scale_add};

/// Writes the evaluations at `x` and the opening proof.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_and_open<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    spec: &CircuitSpec,
    stages: &ThroughQuotient,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<(), EngineError> {
    let io = |e: std::io::Error| EngineError::Transcript(e.to_string());
    let domain = &pk.keys.domain;
    let n = pk.n() as u64;
    let x = challenge(transcript);
    let xn = x.pow_vartime([n]);
    let at = |r: i32| domain.rotate_omega(x, Rotation(r));
    let lists = QueryLists::new(spec.layout);
    let ThroughQuotient { committed: c, polys, random, quotient } = stages;
    let (instance_poly, advice, z_perm, lookups) = (&polys.instance, &polys.advice, &polys.permutation, &polys.lookups);
    let (fixed, sigma) = (&pk.precomputed.fixed_polys, &pk.precomputed.sigma_polys);
    let last = -((pk.blinding_factors() + 1) as i32);

    // Every (polynomial, point) pair in the transcript's order, evaluated in parallel.
    let mut at_points: Vec<(&[Fp], Fp)> = vec![(instance_poly, x)];
    at_points.extend(lists.advice.iter().map(|&(col, r)| (&advice[col][..], at(r))));
    at_points.extend(lists.fixed.iter().map(|&col| (&fixed[col][..], x)));
    at_points.push((&random.poly, x));
    at_points.extend(sigma.iter().map(|s| (&s[..], x)));
    for (i, z) in z_perm.iter().enumerate() {
        at_points.push((z, x));
        at_points.push((z, at(1)));
        if i + 1 < z_perm.len() {
            at_points.push((z, at(last)));
        }
    }
    for [a, s, z] in lookups {
        at_points.extend([(&z[..], x), (z, at(1)), (a, x), (a, at(-1)), (s, x)]);
    }
    // One evaluator (the point's powers) per distinct point; each pair names its point's.
    let mut points: Vec<Fp> = Vec::new();
    let point_of: Vec<usize> = at_points
        .iter()
        .map(|&(_, point)| {
            points.iter().position(|p| *p == point).unwrap_or_else(|| {
                points.push(point);
                points.len() - 1
            })
        })
        .collect();
    let evaluators: Vec<Evaluator> = points.par_iter().map(|&point| Evaluator::new(point, pk.n())).collect();
    let evals: Vec<Fp> =
        at_points.par_iter().zip(&point_of).map(|(&(poly, _), &p)| evaluators[p].evaluate(poly)).collect();
    for e in evals {
        transcript.write_scalar(e).map_err(io)?;
    }

    // h(X) = Σ_i h_i(X) · X^(n·i), opened at x as one polynomial with the matching blind.
    let mut h = vec![Fp::ZERO; pk.n()];
    let mut h_blind = Fp::ZERO;
    for (piece, &blind) in quotient.pieces.iter().zip(&quotient.blinds).rev() {
        scale_add(&mut h, xn, piece);
        h_blind = h_blind * xn + blind;
    }
    let h = domain.coeff_from_vec(h);

    fn query(point: Fp, poly: &[Fp], blind: Fp) -> Query<'_> {
        Query { point, poly, blind }
    }
    let one = Fp::ONE;
    let mut queries = vec![query(x, instance_poly, one)];
    queries.extend(lists.advice.iter().map(|&(col, r)| query(at(r), &advice[col], c.witness.blinds[col])));
    for (z, &b) in z_perm.iter().zip(&c.permutation.blinds) {
        queries.push(query(x, z, b));
        queries.push(query(at(1), z, b));
    }
    for (z, &b) in z_perm.iter().zip(&c.permutation.blinds).rev().skip(1) {
        queries.push(query(at(last), z, b));
    }
    for (([a, s, z], l), p) in lookups.iter().zip(&c.lookups).zip(&c.lookup_products) {
        queries.push(query(x, z, p.blind));
        queries.push(query(x, a, l.blinds[0]));
        queries.push(query(x, s, l.blinds[1]));
        queries.push(query(at(-1), a, l.blinds[0]));
        queries.push(query(at(1), z, p.blind));
    }
    queries.extend(lists.fixed.iter().map(|&col| query(x, &fixed[col], one)));
    queries.extend(sigma.iter().map(|s| query(x, s, one)));
    queries.push(query(x, &h, h_blind));
    queries.push(query(x, &random.poly, random.blind));
    open(pk, &queries, rng, transcript)
}
