//! The PLONK half of verification: read the proof's commitments and evaluations in halo2's
//! transcript order, evaluate every constraint at the challenge `x` (the gates from the
//! constraint data, the permutation argument, the lookup arguments), derive the quotient's
//! expected value `h(x)`, and list the openings the multi-point argument must check.

use std::collections::HashMap;

use ff::{Field, PrimeField};
use group::Curve;
use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::poly::Rotation;
use zkinfer_circuits::constraints::key::{PermutationColumn, table_column_index};
use zkinfer_circuits::constraints::{Column, Query};

use super::opening::{Opening, Source};
use super::transcript::Reader;
use super::{PreparedKey, ProofError};
use crate::params::VerifierParams;

/// A commitment as terms `Σ s_i · P_i` (one term for all but the quotient's pieces).
pub type Terms = Vec<(Fp, EqAffine)>;

/// What reading the proof leaves for the opening check.
#[derive(Debug)]
pub struct ReadProof {
    /// Every opening in halo2's query order.
    pub queries: Vec<Opening>,
    /// The commitment of each opened source.
    pub openings: HashMap<Source, Terms>,
}

/// Evaluations of one permutation grand product.
#[derive(Clone, Copy, Debug)]
struct ProductEvals {
    /// At `x`.
    z: Fp,
    /// At `ω x`.
    next: Fp,
}

/// Evaluations of one lookup argument.
#[derive(Clone, Copy, Debug)]
struct LookupEvals {
    /// Grand product at `x`.
    z: Fp,
    /// Grand product at `ω x`.
    next: Fp,
    /// Permuted input at `x`.
    input: Fp,
    /// Permuted input at `ω^-1 x`.
    input_prev: Fp,
    /// Permuted table at `x`.
    table: Fp,
}

/// Reads everything up to the multi-point opening and evaluates the constraints at `x`.
pub(crate) fn read_and_evaluate(
    key: &PreparedKey,
    params: &VerifierParams,
    instance: &[Fp],
    t: &mut Reader<'_>,
) -> Result<ReadProof, ProofError> {
    let n = 1usize << key.k;
    let bf = key.blinding_factors;
    if instance.len() > n.saturating_sub(bf + 1) || instance.len() > params.g_lagrange.len() {
        return Err(ProofError::InstanceTooLarge(instance.len()));
    }
    // halo2 commits the instance column in the Lagrange basis with the default blind (one)
    // times `W`; zero values add nothing.
    let (mut scalars, mut bases): (Vec<Fp>, Vec<EqAffine>) = instance
        .iter()
        .zip(&params.g_lagrange)
        .filter(|(v, _)| !bool::from(v.is_zero()))
        .map(|(&v, &g)| (v, g))
        .unzip();
    scalars.push(Fp::ONE);
    bases.push(params.w);
    let instance_commitment = super::msm::public_multiexp(&scalars, &bases).to_affine();

    // Commitments, in transcript order.
    t.absorb_scalar(key.transcript_repr)?;
    t.absorb_point(instance_commitment)?;
    let advice = t.points(key.layout.advice_columns())?;
    let theta = t.challenge();
    let lookups = key.constraints.lookups().count();
    let mut permuted = Vec::with_capacity(lookups);
    for _ in 0..lookups {
        permuted.push([t.point()?, t.point()?]);
    }
    let (beta, gamma) = (t.challenge(), t.challenge());
    let chunk = key.degree - 2;
    let sets = key.permutation_columns.len().div_ceil(chunk);
    let z_permutation = t.points(sets)?;
    let z_lookup = t.points(lookups)?;
    let random = t.point()?;
    let y = t.challenge();
    let pieces = t.points(key.domain.get_quotient_poly_degree())?;
    let x = t.challenge();

    // Evaluations, in transcript order.
    let instance_eval = t.scalar()?;
    let advice_evals = t.scalars(key.queries.advice.len())?;
    let fixed_evals = t.scalars(key.queries.fixed.len())?;
    let random_eval = t.scalar()?;
    let sigma_evals = t.scalars(key.permutation_columns.len())?;
    let mut products = Vec::with_capacity(sets);
    // z_i at ω^(last) x, for every set but the last.
    let mut products_last = Vec::with_capacity(sets.saturating_sub(1));
    for i in 0..sets {
        products.push(ProductEvals { z: t.scalar()?, next: t.scalar()? });
        if i + 1 < sets {
            products_last.push(t.scalar()?);
        }
    }
    let mut lookup_evals = Vec::with_capacity(lookups);
    for _ in 0..lookups {
        let (z, next, input, input_prev, table) = (t.scalar()?, t.scalar()?, t.scalar()?, t.scalar()?, t.scalar()?);
        lookup_evals.push(LookupEvals { z, next, input, input_prev, table });
    }

    // The constraints at x, combined with powers of y in halo2's order.
    let xn = x.pow_vartime([n as u64]);
    let l = key.domain.l_i_range(x, xn, -((bf + 1) as i32)..=0);
    let (l_last, l_0) = (l[0], l[bf + 1]);
    let l_blind: Fp = l[1..=bf].iter().sum();
    let active = Fp::ONE - (l_last + l_blind);
    // Every query is in the lists (checked when the key was prepared), so the fallback is
    // never taken.
    let value = |q: Query| -> Fp {
        match q.column {
            Column::Advice(c) => key.queries.advice_index(c, q.rotation).map(|i| advice_evals[i]),
            Column::Fixed(c) => key.queries.fixed_index(c).map(|i| fixed_evals[i]),
        }
        .unwrap_or(Fp::ZERO)
    };
    let column_eval = |c: PermutationColumn| match c {
        PermutationColumn::Advice(c) => value(Query { column: Column::Advice(c), rotation: 0 }),
        PermutationColumn::Fixed(c) => value(Query { column: Column::Fixed(c), rotation: 0 }),
        PermutationColumn::Instance => instance_eval,
    };
    let mut h = Fp::ZERO;
    let mut push = |v: Fp| h = h * y + v;
    for gate in key.constraints.gates() {
        for (_, e) in &gate.constraints {
            push(e.evaluate(&value));
        }
    }
    if let Some(first) = products.first() {
        push(l_0 * (Fp::ONE - first.z));
    }
    if let Some(last) = products.last() {
        push((last.z.square() - last.z) * l_last);
    }
    for (set, previous_last) in products.iter().skip(1).zip(&products_last) {
        push((set.z - previous_last) * l_0);
    }
    for (index, ((set, columns), sigmas)) in
        products.iter().zip(key.permutation_columns.chunks(chunk)).zip(sigma_evals.chunks(chunk)).enumerate()
    {
        let mut left = set.next;
        for (&c, s) in columns.iter().zip(sigmas) {
            left *= column_eval(c) + beta * s + gamma;
        }
        let mut right = set.z;
        let mut delta = beta * x * Fp::DELTA.pow_vartime([(index * chunk) as u64]);
        for &c in columns {
            right *= column_eval(c) + delta + gamma;
            delta *= Fp::DELTA;
        }
        push((left - right) * active);
    }
    for (lookup, ev) in key.constraints.lookups().zip(&lookup_evals) {
        let input = lookup.inputs.iter().fold(Fp::ZERO, |acc, (e, _)| acc * theta + e.evaluate(&value));
        let table = lookup.inputs.iter().fold(Fp::ZERO, |acc, &(_, t)| {
            acc * theta + value(Query { column: Column::Fixed(table_column_index(key.layout, t)), rotation: 0 })
        });
        push(l_0 * (Fp::ONE - ev.z));
        push(l_last * (ev.z.square() - ev.z));
        let left = ev.next * (ev.input + beta) * (ev.table + gamma);
        let right = ev.z * (input + beta) * (table + gamma);
        push((left - right) * active);
        push(l_0 * (ev.input - ev.table));
        push((ev.input - ev.table) * (ev.input - ev.input_prev) * active);
    }
    let vanishing = Option::<Fp>::from((xn - Fp::ONE).invert()).ok_or(ProofError::DegenerateChallenge("x^n = 1"))?;
    let expected_h = h * vanishing;

    // The openings, in halo2's query order.
    let at = |r: i32| key.domain.rotate_omega(x, Rotation(r));
    let last = -((bf + 1) as i32);
    let open = |source, point, eval| Opening { source, point, eval };
    let mut queries = vec![open(Source::Instance, x, instance_eval)];
    queries.extend(key.queries.advice.iter().zip(&advice_evals).map(|(&(c, r), &e)| open(Source::Advice(c), at(r), e)));
    for (i, set) in products.iter().enumerate() {
        queries.push(open(Source::PermutationProduct(i), x, set.z));
        queries.push(open(Source::PermutationProduct(i), at(1), set.next));
    }
    for (i, &e) in products_last.iter().enumerate().rev() {
        queries.push(open(Source::PermutationProduct(i), at(last), e));
    }
    for (i, ev) in lookup_evals.iter().enumerate() {
        queries.push(open(Source::LookupProduct(i), x, ev.z));
        queries.push(open(Source::LookupInput(i), x, ev.input));
        queries.push(open(Source::LookupTable(i), x, ev.table));
        queries.push(open(Source::LookupInput(i), at(-1), ev.input_prev));
        queries.push(open(Source::LookupProduct(i), at(1), ev.next));
    }
    queries.extend(key.queries.fixed.iter().zip(&fixed_evals).map(|(&c, &e)| open(Source::Fixed(c), x, e)));
    queries.extend(sigma_evals.iter().enumerate().map(|(i, &e)| open(Source::Sigma(i), x, e)));
    queries.push(open(Source::Quotient, x, expected_h));
    queries.push(open(Source::Random, x, random_eval));

    // What each source commits to.
    let one = |p: EqAffine| vec![(Fp::ONE, p)];
    let mut openings: HashMap<Source, Terms> = HashMap::new();
    openings.insert(Source::Instance, one(instance_commitment));
    openings.extend(advice.iter().enumerate().map(|(i, &p)| (Source::Advice(i), one(p))));
    openings.extend(z_permutation.iter().enumerate().map(|(i, &p)| (Source::PermutationProduct(i), one(p))));
    for (i, (&[a, s], &z)) in permuted.iter().zip(&z_lookup).enumerate() {
        openings.insert(Source::LookupInput(i), one(a));
        openings.insert(Source::LookupTable(i), one(s));
        openings.insert(Source::LookupProduct(i), one(z));
    }
    openings.extend(key.commitments.fixed.iter().enumerate().map(|(i, &p)| (Source::Fixed(i), one(p))));
    openings.extend(key.commitments.permutation.iter().enumerate().map(|(i, &p)| (Source::Sigma(i), one(p))));
    // h(X) = Σ_i h_i(X) · X^(n·i), committed as Σ_i x^(n·i) · H_i.
    let mut power = Fp::ONE;
    let quotient = pieces
        .iter()
        .map(|&p| {
            let term = (power, p);
            power *= xn;
            term
        })
        .collect();
    openings.insert(Source::Quotient, quotient);
    openings.insert(Source::Random, one(random));
    Ok(ReadProof { queries, openings })
}
