//! The vanishing argument (stage 4): a random polynomial committed first (it blinds `h`), then,
//! after the challenge `y`, the quotient `h(X) = Σ y^i · c_i(X) / (X^n - 1)` over every
//! constraint `c_i` in halo2's order (the gates' constraints, the permutation's, the lookups'),
//! written as one program ([`crate::numerator`]) that the backend evaluates on the extended
//! coset domain, then split into pieces of `n` coefficients, each blinded and committed.

use ff::{Field, PrimeField, WithSmallOrderMulGroup};
use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::poly::{Coeff, Polynomial};
use zkinfer_circuits::CircuitSpec;
use zkinfer_circuits::constraints::ConstraintData;

use super::{ProofTranscript, ProvingKey, WitnessPolys, write_point};
use crate::EngineError;
use crate::keygen::table_column_index;
use crate::numerator::{NumeratorProgram, ProgramBuilder, Source};
use crate::permutation::PermutationColumn;

/// The random polynomial that blinds `h`.
#[derive(Debug)]
pub struct Random {
    /// Its coefficients.
    pub poly: Polynomial<Fp, Coeff>,
    /// Its blind.
    pub blind: Fp,
}

/// The quotient's pieces.
#[derive(Debug)]
pub struct Quotient {
    /// `h` split into pieces of `n` coefficients.
    pub pieces: Vec<Polynomial<Fp, Coeff>>,
    /// Their blinds.
    pub blinds: Vec<Fp>,
    /// Their commitments.
    pub commitments: Vec<EqAffine>,
}

/// Commits the random polynomial (`n` random coefficients, then its blind).
pub fn commit_random<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<Random, EngineError> {
    let mut poly = pk.keys.domain.empty_coeff();
    for c in poly.iter_mut() {
        *c = Fp::random(&mut *rng);
    }
    let blind = Fp::random(&mut *rng);
    write_point(transcript, commit_coeff(pk, &poly, blind))?;
    Ok(Random { poly, blind })
}

/// A commitment in the monomial basis, as halo2's `Params::commit`.
fn commit_coeff(pk: &ProvingKey, poly: &[Fp], blind: Fp) -> EqAffine {
    use group::Curve;
    crate::msm::commit_blinded(pk.backend.as_ref(), &pk.params.g, pk.params.w, poly, blind).to_affine()
}

/// The challenges the quotient needs.
#[derive(Clone, Copy, Debug)]
pub struct Challenges {
    /// Lookup compression.
    pub theta: Fp,
    /// Permutation and lookup products.
    pub beta: Fp,
    /// Permutation and lookup products.
    pub gamma: Fp,
    /// Combines the constraints.
    pub y: Fp,
}

/// Values of a column over the extended coset domain.
type Coset = Vec<Fp>;

/// Computes `h`, commits its pieces (blinds drawn after the split) and writes the commitments.
pub fn commit_quotient<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    spec: &CircuitSpec,
    polys: &WitnessPolys,
    ch: Challenges,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<Quotient, EngineError> {
    let domain = &pk.keys.domain;
    let n = pk.n();
    let ext = domain.extended_len();
    let step = ext / n;
    let transforms = pk.transforms();
    // Every witness polynomial onto the coset, one transform per thread at a time (each
    // transform's own parallelism leaves a thread idle in its sequential parts).
    let all: Vec<&Polynomial<Fp, Coeff>> = std::iter::once(&polys.instance)
        .chain(&polys.advice)
        .chain(&polys.permutation)
        .chain(polys.lookups.iter().flatten())
        .collect();
    let mut cosets = super::parallel_map(&all, |p| transforms.coeff_to_extended(p)).into_iter();
    let mut take = |count: usize| -> Vec<Coset> { cosets.by_ref().take(count).collect() };
    let instance = take(1).pop().unwrap_or_default();
    let advice = take(polys.advice.len());
    let z_perm = take(polys.permutation.len());
    let mut lookup_columns = take(3 * polys.lookups.len()).into_iter();
    let lookup_cosets: Vec<[Coset; 3]> =
        polys.lookups.iter().map(|_| std::array::from_fn(|_| lookup_columns.next().unwrap_or_default())).collect();
    let pre = &pk.precomputed;
    let (fixed, sigma) = (&pre.fixed_cosets, &pre.sigma_cosets);
    let (l0, l_last, l_blind) = (&pre.l0, &pre.l_last, &pre.l_blind);

    let data = ConstraintData::new(spec.layout);
    let program = numerator_program(pk, &data, spec, polys, ch);
    // The coset's points: X at point j is ζ · ω_ext^j.
    let points: Coset = std::iter::successors(Some(<Fp as WithSmallOrderMulGroup<3>>::ZETA), |x| {
        Some(*x * domain.get_extended_omega())
    })
    .take(ext)
    .collect();
    let columns: Vec<&[Fp]> = program
        .columns
        .iter()
        .map(|source| match *source {
            Source::Advice(i) => advice[i].as_slice(),
            Source::Fixed(i) => fixed[i].as_slice(),
            Source::Instance => instance.as_slice(),
            Source::Sigma(i) => sigma[i].as_slice(),
            Source::PermutationProduct(i) => z_perm[i].as_slice(),
            Source::LookupPermutedInput(i) => lookup_cosets[i][0].as_slice(),
            Source::LookupPermutedTable(i) => lookup_cosets[i][1].as_slice(),
            Source::LookupProduct(i) => lookup_cosets[i][2].as_slice(),
            Source::FirstRow => l0.as_slice(),
            Source::LastRow => l_last.as_slice(),
            Source::BlindingRows => l_blind.as_slice(),
            Source::CosetPoint => points.as_slice(),
        })
        .collect();
    let numerator = pk.backend.evaluate_numerator(&program, &columns, ext, ch.y, step);

    let mut h = domain.empty_extended();
    h.iter_mut().zip(numerator).for_each(|(h, v)| *h = v);
    let h =
        transforms.extended_to_coeff(domain.divide_by_vanishing_poly(h).to_vec(), domain.get_quotient_poly_degree());
    let pieces: Vec<Polynomial<Fp, Coeff>> = h.chunks_exact(n).map(|p| domain.coeff_from_vec(p.to_vec())).collect();
    let blinds: Vec<Fp> = pieces.iter().map(|_| Fp::random(&mut *rng)).collect();
    let commitments: Vec<EqAffine> = pieces.iter().zip(&blinds).map(|(p, &b)| commit_coeff(pk, p, b)).collect();
    for &cm in &commitments {
        write_point(transcript, cm)?;
    }
    Ok(Quotient { pieces, blinds, commitments })
}

/// The numerator's program: every gate's constraints (from the constraint data), then the
/// permutation's and the lookups' constraints, in halo2's order, with the challenges as
/// constants.
fn numerator_program(
    pk: &ProvingKey,
    data: &ConstraintData,
    spec: &CircuitSpec,
    polys: &WitnessPolys,
    ch: Challenges,
) -> NumeratorProgram {
    let mut b = ProgramBuilder::default();
    // Gates.
    for gate in data.gates() {
        for (_, e) in &gate.constraints {
            b.expression(e).constraint();
        }
    }
    // `1 - (l_last + l_blind)`: 1 on the rows the products' steps constrain.
    let active = |b: &mut ProgramBuilder| {
        b.query(Source::LastRow, 0).query(Source::BlindingRows, 0).add().one_minus();
    };
    // Permutation.
    let sets = polys.permutation.len();
    let last_rotation = -i32::try_from(pk.blinding_factors() + 1).unwrap_or(i32::MAX);
    if sets > 0 {
        // z_0 starts at 1; the last set's product ends at 0 or 1.
        b.query(Source::PermutationProduct(0), 0).one_minus().query(Source::FirstRow, 0).multiply().constraint();
        let last = Source::PermutationProduct(sets - 1);
        b.query(last, 0).query(last, 0).multiply().query(last, 0).subtract();
        b.query(Source::LastRow, 0).multiply().constraint();
    }
    // Each set starts where the previous one ended.
    for set in 1..sets {
        b.query(Source::PermutationProduct(set), 0).query(Source::PermutationProduct(set - 1), last_rotation);
        b.subtract().query(Source::FirstRow, 0).multiply().constraint();
    }
    let chunk = pk.keys.cs.degree() - 2;
    let column = |p: PermutationColumn| match p {
        PermutationColumn::Advice(i) => Source::Advice(i),
        PermutationColumn::Fixed(i) => Source::Fixed(i),
        PermutationColumn::Instance => Source::Instance,
    };
    for (set, columns) in pk.keys.permutation_columns.chunks(chunk).enumerate() {
        let z = Source::PermutationProduct(set);
        // z(ωX) · Π (column + β·σ + γ)
        b.query(z, 1);
        for (i, &c) in columns.iter().enumerate() {
            b.query(column(c), 0).query(Source::Sigma(set * chunk + i), 0).constant(ch.beta).multiply().add();
            b.constant(ch.gamma).add().multiply();
        }
        // z(X) · Π (column + β·δ^c·X + γ), c the column's index among all.
        b.query(z, 0);
        for (i, &c) in columns.iter().enumerate() {
            let delta = ch.beta * Fp::DELTA.pow_vartime([(set * chunk + i) as u64]);
            b.query(column(c), 0).query(Source::CosetPoint, 0).constant(delta).multiply().add();
            b.constant(ch.gamma).add().multiply();
        }
        b.subtract();
        active(&mut b);
        b.multiply().constraint();
    }
    // Lookups.
    for (index, lookup) in data.lookups().enumerate() {
        let (a, s, z) =
            (Source::LookupPermutedInput(index), Source::LookupPermutedTable(index), Source::LookupProduct(index));
        b.query(z, 0).one_minus().query(Source::FirstRow, 0).multiply().constraint();
        b.query(z, 0).query(z, 0).multiply().query(z, 0).subtract().query(Source::LastRow, 0).multiply().constraint();
        // z(ωX)(a' + β)(s' + γ) - z(X)(input + β)(table + γ), the input and the table compressed
        // by θ.
        b.query(z, 1).query(a, 0).constant(ch.beta).add().multiply().query(s, 0).constant(ch.gamma).add().multiply();
        b.query(z, 0);
        for (i, (e, _)) in lookup.inputs.iter().enumerate() {
            if i > 0 {
                b.constant(ch.theta).multiply();
            }
            b.expression(e);
            if i > 0 {
                b.add();
            }
        }
        b.constant(ch.beta).add().multiply();
        for (i, &(_, t)) in lookup.inputs.iter().enumerate() {
            if i > 0 {
                b.constant(ch.theta).multiply();
            }
            b.query(Source::Fixed(table_column_index(spec.layout, t)), 0);
            if i > 0 {
                b.add();
            }
        }
        b.constant(ch.gamma).add().multiply().subtract();
        active(&mut b);
        b.multiply().constraint();
        // a'(X) = s'(X) on the first row; elsewhere a' repeats its previous row or equals s'.
        b.query(a, 0).query(s, 0).subtract().query(Source::FirstRow, 0).multiply().constraint();
        b.query(a, 0).query(s, 0).subtract().query(a, 0).query(a, -1).subtract().multiply();
        active(&mut b);
        b.multiply().constraint();
    }
    b.finish()
}
