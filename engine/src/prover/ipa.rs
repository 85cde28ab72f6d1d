//! The multi-point opening and the inner-product argument, as halo2_proofs 0.4.1's
//! `multiopen::create_proof` and `commitment::create_proof` write them, with the commitments and
//! the generator collapse of every round done by the key's [`Backend`](crate::backend::Backend):
//! two rounds' collapse at once where the backend says that costs less
//! ([`Backend::folds_pairs`](crate::backend::Backend::folds_pairs)), the round in between
//! committing over the generators not yet folded; none after the last round.
//!
//! Multi-point opening (challenges x1, x2): the queried polynomials are grouped by the set of
//! points each is opened at; each group is combined with powers of x1 into `q_i`, each `q_i`
//! divided by `(X - p)` for each point `p` of its set, and the quotients combined with powers
//! of x2 into `q'`, which is committed. After x3 the `q_i(x3)` are written, after x4 the
//! polynomial `q'·x4^m + Σ q_i·x4^(m-1-i)` is opened at x3 by the inner-product argument.
//!
//! Orders follow halo2's: polynomials (commitments) by first query, points by first query,
//! point sets by first polynomial, the points of a set by their first query.

use ff::Field;
use group::Curve;
use halo2_proofs::arithmetic::{compute_inner_product, kate_division};
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use halo2_proofs::transcript::TranscriptWrite;
use rayon::prelude::*;

use super::{ProofTranscript, ProvingKey, challenge, write_point};
use crate::EngineError;
use crate::linear::{Evaluator, scale_add};

/// One query: `poly` opened at `point`; `poly` commits with `blind`. Queries of the same
/// polynomial (at several points) must share the reference: polynomials are told apart by
/// address, as halo2's multiopen prover tells them apart.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    /// Where the polynomial is opened.
    pub point: Fp,
    /// Its coefficients (`n` of them).
    pub poly: &'a [Fp],
    /// Its commitment's blind.
    pub blind: Fp,
}

/// The polynomials grouped by point set.
struct Grouped<'a> {
    /// Per polynomial, in first-query order: the polynomial, its blind, its set.
    polys: Vec<(&'a [Fp], Fp, usize)>,
    /// Per set, its points.
    sets: Vec<Vec<Fp>>,
}

/// halo2's `construct_intermediate_sets` for the prover: only which set each polynomial is in
/// and the points of each set matter.
fn group<'a>(queries: &[Query<'a>]) -> Grouped<'a> {
    let mut points: Vec<Fp> = Vec::new();
    let mut polys: Vec<(&'a [Fp], Fp, Vec<usize>)> = Vec::new();
    for q in queries {
        let point = points.iter().position(|p| *p == q.point).unwrap_or_else(|| {
            points.push(q.point);
            points.len() - 1
        });
        match polys.iter_mut().find(|(p, _, _)| std::ptr::eq(*p, q.poly)) {
            Some((_, _, at)) => at.push(point),
            None => polys.push((q.poly, q.blind, vec![point])),
        }
    }
    let mut sets: Vec<Vec<usize>> = Vec::new();
    let polys = polys
        .into_iter()
        .map(|(poly, blind, mut at)| {
            at.sort_unstable();
            at.dedup();
            let set = sets.iter().position(|s| *s == at).unwrap_or_else(|| {
                sets.push(at);
                sets.len() - 1
            });
            (poly, blind, set)
        })
        .collect();
    let sets = sets.into_iter().map(|s| s.into_iter().map(|i| points[i]).collect()).collect();
    Grouped { polys, sets }
}

/// Writes the multi-point opening of `queries` (halo2's `multiopen::create_proof`).
pub fn open<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    queries: &[Query<'_>],
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<(), EngineError> {
    let io = |e: std::io::Error| EngineError::Transcript(e.to_string());
    let n = pk.n();
    let x1 = challenge(transcript);
    let x2 = challenge(transcript);
    let grouped = group(queries);

    // q_i = Σ x1-combination of the polynomials of set i (in polynomial order), and its blind;
    // the sets in parallel, and each combination over the rows in parallel.
    let q: Vec<(Vec<Fp>, Fp)> = (0..grouped.sets.len())
        .into_par_iter()
        .map(|set| {
            let mut members = grouped.polys.iter().filter(|&&(_, _, s)| s == set);
            let &(first, first_blind, _) = members.next().ok_or_else(empty_set)?;
            let (mut acc, mut acc_blind) = (first.to_vec(), first_blind);
            for &(poly, blind, _) in members {
                scale_add(&mut acc, x1, poly);
                acc_blind = acc_blind * x1 + blind;
            }
            Ok((acc, acc_blind))
        })
        .collect::<Result<_, EngineError>>()?;

    // q' = Σ x2-combination of q_i / Π (X - p), p over set i (the divisions in parallel).
    let divided: Vec<Vec<Fp>> = q
        .par_iter()
        .zip(&grouped.sets)
        .map(|((poly, _), points)| {
            let mut divided = points.iter().fold(poly.clone(), |p, &point| kate_division(&p, point));
            divided.resize(n, Fp::ZERO);
            divided
        })
        .collect();
    let mut divided = divided.into_iter();
    let mut q_prime = divided.next().ok_or_else(empty_set)?;
    for d in divided {
        scale_add(&mut q_prime, x2, &d);
    }
    let q_prime_blind = Fp::random(&mut *rng);
    write_point(transcript, commit_coeff(pk, &q_prime, q_prime_blind))?;

    let x3 = challenge(transcript);
    let at_x3 = Evaluator::new(x3, n);
    let q_at_x3: Vec<Fp> = q.par_iter().map(|(poly, _)| at_x3.evaluate(poly)).collect();
    for value in q_at_x3 {
        transcript.write_scalar(value).map_err(io)?;
    }
    let x4 = challenge(transcript);
    let (mut p, mut p_blind) = (q_prime, q_prime_blind);
    for (poly, blind) in &q {
        scale_add(&mut p, x4, poly);
        p_blind = p_blind * x4 + blind;
    }
    inner_product_argument(pk, p, p_blind, &at_x3, rng, transcript)
}

fn empty_set() -> EngineError {
    EngineError::Transcript("nothing to open".into())
}

/// A commitment in the monomial basis with blind `blind` (halo2's `Params::commit`).
fn commit_coeff(pk: &ProvingKey, coeffs: &[Fp], blind: Fp) -> EqAffine {
    crate::msm::commit_blinded(pk.backend.as_ref(), &pk.params.g, pk.params.w, coeffs, blind).to_affine()
}

/// The IPA opening of `p` (committed with `p_blind`) at `x3` (halo2's
/// `commitment::create_proof`): a random polynomial vanishing at x3 committed, then `k` rounds
/// halving the polynomial, the powers of x3 and the generators, each writing two commitments.
fn inner_product_argument<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    p: Vec<Fp>,
    p_blind: Fp,
    at_x3: &Evaluator,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<(), EngineError> {
    let io = |e: std::io::Error| EngineError::Transcript(e.to_string());
    let backend = pk.backend.as_ref();
    let (u, w) = (pk.params.u, pk.params.w);
    let n = pk.n();
    assert_eq!(p.len(), n, "the opened polynomial has n coefficients");

    let mut s: Vec<Fp> = (0..n).map(|_| Fp::random(&mut *rng)).collect();
    let x3 = at_x3.point();
    let s_at_x3 = at_x3.evaluate(&s);
    s[0] -= s_at_x3;
    let s_blind = Fp::random(&mut *rng);
    write_point(transcript, commit_coeff(pk, &s, s_blind))?;
    let xi = challenge(transcript);
    let z = challenge(transcript);

    let mut p_prime = s.clone();
    scale_add(&mut p_prime, xi, &p);
    let v = at_x3.evaluate(&p_prime);
    p_prime[0] -= v;
    let mut f = s_blind * xi + p_blind;
    let mut b: Vec<Fp> = std::iter::successors(Some(Fp::ONE), |x| Some(*x * x3)).take(n).collect();
    let mut g = pk.params.g.clone();
    // A round's challenge whose generator collapse waits to be folded together with the next
    // round's (where the backend folds pairs of rounds for less): `g` then holds twice as many
    // generators as `p_prime` has coefficients.
    let mut deferred: Option<Fp> = None;

    let rounds = pk.params.k;
    for round in 0..rounds {
        let half = p_prime.len() / 2;
        let (l, r) = match deferred {
            None => (backend.msm(&p_prime[half..], &g[..half]), backend.msm(&p_prime[..half], &g[half..])),
            Some(u) => {
                // The folded generators would be g[i] + u·g[i + m]: each term over both.
                let m = p_prime.len();
                let l = msm_unfolded(backend, &p_prime[half..], u, &g[..half], &g[m..m + half]);
                let r = msm_unfolded(backend, &p_prime[..half], u, &g[half..m], &g[m + half..]);
                (l, r)
            }
        };
        let value_l = compute_inner_product(&p_prime[half..], &b[..half]);
        let value_r = compute_inner_product(&p_prime[..half], &b[half..]);
        let (l_blind, r_blind) = (Fp::random(&mut *rng), Fp::random(&mut *rng));
        // Both corrections over the same two generators, as one batch.
        let corrections = backend.msm_shared_bases(&[&[value_l * z, l_blind], &[value_r * z, r_blind]], &[u, w]);
        let (l, r) = ((l + corrections[0]).to_affine(), (r + corrections[1]).to_affine());
        transcript.write_point(l).map_err(io)?;
        transcript.write_point(r).map_err(io)?;

        let u_j = challenge(transcript);
        let u_j_inv = u_j.invert().unwrap_or(Fp::ZERO);
        for i in 0..half {
            p_prime[i] = p_prime[i] + p_prime[i + half] * u_j_inv;
            b[i] = b[i] + b[i + half] * u_j;
        }
        p_prime.truncate(half);
        b.truncate(half);
        // After the last round the generators are not needed.
        let last = round + 1 == rounds;
        match deferred.take() {
            Some(first) if !last => backend.fold_generators_twice(&mut g, first, u_j),
            None if !last && backend.folds_pairs(g.len()) => deferred = Some(u_j),
            None if !last => backend.fold_generators(&mut g, u_j),
            _ => {}
        }
        f += l_blind * u_j_inv + r_blind * u_j;
    }
    transcript.write_scalar(p_prime[0]).map_err(io)?;
    transcript.write_scalar(f).map_err(io)?;
    Ok(())
}

/// `Σ scalars[i] · (lower[i] + u · upper[i])`: a round's commitment over generators whose last
/// collapse (by `u`) is deferred, as one MSM over both halves.
fn msm_unfolded(
    backend: &dyn crate::backend::Backend,
    scalars: &[Fp],
    u: Fp,
    lower: &[EqAffine],
    upper: &[EqAffine],
) -> Eq {
    let terms: Vec<Fp> = scalars.iter().copied().chain(scalars.iter().map(|s| *s * u)).collect();
    let bases: Vec<EqAffine> = lower.iter().chain(upper).copied().collect();
    backend.msm(&terms, &bases)
}
