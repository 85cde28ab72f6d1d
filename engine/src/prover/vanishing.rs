//! The vanishing argument (stage 4): a random polynomial committed first (it blinds `h`), then,
//! after the challenge `y`, the quotient `h(X) = Σ y^i · c_i(X) / (X^n - 1)` over every
//! constraint `c_i` in halo2's order (the gates' constraints, the permutation's, the lookups'),
//! evaluated point by point on the extended coset domain, split into pieces of `n`
//! coefficients, each blinded and committed.

use ff::{Field, PrimeField, WithSmallOrderMulGroup};
use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::poly::{Coeff, Polynomial};
use zkinfer_circuits::CircuitSpec;
use zkinfer_circuits::constraints::{Column, ConstraintData, Expr};

use super::{ProofTranscript, ProvingKey, WitnessPolys, write_point};
use crate::EngineError;
use crate::gates::GateProgram;
use crate::keygen::table_column_index;
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
    let step = (ext / n) as i64;
    let transforms = pk.transforms();
    let coset = |p: &Polynomial<Fp, Coeff>| -> Coset { transforms.coeff_to_extended(p) };
    let advice: Vec<Coset> = super::parallel_map(&polys.advice, coset);
    let pre = &pk.precomputed;
    let (fixed, sigma) = (&pre.fixed_cosets, &pre.sigma_cosets);
    let instance = coset(&polys.instance);
    let bf = pk.blinding_factors();
    let (l0, l_last, l_blind) = (&pre.l0, &pre.l_last, &pre.l_blind);
    let z_perm: Vec<Coset> = polys.permutation.iter().map(coset).collect();
    let lookup_cosets: Vec<[Coset; 3]> = polys.lookups.iter().map(|l| l.each_ref().map(coset)).collect();

    let at = |v: &Coset, j: usize, rotation: i64| v[(j as i64 + rotation * step).rem_euclid(ext as i64) as usize];
    let data = ConstraintData::new(spec.layout);
    let chunk = pk.keys.cs.degree() - 2;
    let last_rotation = -((bf + 1) as i64);
    let omega_ext = domain.get_extended_omega();
    let zeta = <Fp as WithSmallOrderMulGroup<3>>::ZETA;
    // δ^(c·chunk): the first δ power of each chunk of permutation columns.
    let chunk_deltas: Vec<Fp> = (0..z_perm.len()).map(|i| Fp::DELTA.pow_vartime([(i * chunk) as u64])).collect();

    // The gates' constraints, by the backend; the lookups' inputs compiled once against the
    // cosets.
    let program = GateProgram::new(&data);
    let program_columns: Vec<&[Fp]> = program
        .columns
        .iter()
        .map(|c| match *c {
            Column::Advice(i) => advice[i].as_slice(),
            Column::Fixed(i) => fixed[i].as_slice(),
        })
        .collect();
    let gate_values = pk.backend.evaluate_gates(&program, &program_columns, ext, ch.y, step as usize);
    let compile = |e: &Expr| Compiled::new(e, &advice, fixed, step);
    let lookup_inputs: Vec<Vec<Compiled>> =
        data.lookups().map(|l| l.inputs.iter().map(|(e, _)| compile(e)).collect()).collect();

    let numerator: Vec<Fp> = parallel_range(
        ext,
        |j, x| {
            let (l0, l_last, l_blind) = (l0[j], l_last[j], l_blind[j]);
            let active = Fp::ONE - (l_last + l_blind);
            // Gates.
            let mut h = gate_values[j];
            let mut push = |v: Fp| h = h * ch.y + v;
            // Permutation.
            let column = |p: PermutationColumn| match p {
                PermutationColumn::Advice(i) => advice[i][j],
                PermutationColumn::Fixed(i) => fixed[i][j],
                PermutationColumn::Instance => instance[j],
            };
            if let Some(first) = z_perm.first() {
                push((Fp::ONE - first[j]) * l0);
            }
            if let Some(last) = z_perm.last() {
                push((last[j] * last[j] - last[j]) * l_last);
            }
            for (set, previous) in z_perm.iter().skip(1).zip(&z_perm) {
                push((set[j] - at(previous, j, last_rotation)) * l0);
            }
            for (index, ((z, columns), sigmas)) in
                z_perm.iter().zip(pk.keys.permutation_columns.chunks(chunk)).zip(sigma.chunks(chunk)).enumerate()
            {
                let mut left = at(z, j, 1);
                for (&col, s) in columns.iter().zip(sigmas) {
                    left *= column(col) + ch.beta * s[j] + ch.gamma;
                }
                let mut right = z[j];
                let mut delta = ch.beta * chunk_deltas[index];
                for &col in columns {
                    right *= column(col) + delta * x + ch.gamma;
                    delta *= Fp::DELTA;
                }
                push((left - right) * active);
            }
            // Lookups.
            for ((lookup, inputs), [a_perm, s_perm, z]) in data.lookups().zip(&lookup_inputs).zip(&lookup_cosets) {
                let input = inputs.iter().fold(Fp::ZERO, |acc, c| acc * ch.theta + c.evaluate(j, ext));
                let table = lookup
                    .inputs
                    .iter()
                    .fold(Fp::ZERO, |acc, &(_, t)| acc * ch.theta + fixed[table_column_index(spec.layout, t)][j]);
                push((Fp::ONE - z[j]) * l0);
                push((z[j] * z[j] - z[j]) * l_last);
                let left = at(z, j, 1) * (a_perm[j] + ch.beta) * (s_perm[j] + ch.gamma);
                let right = z[j] * (input + ch.beta) * (table + ch.gamma);
                push((left - right) * active);
                push((a_perm[j] - s_perm[j]) * l0);
                push((a_perm[j] - s_perm[j]) * (a_perm[j] - at(a_perm, j, -1)) * active);
            }
            h
        },
        zeta,
        omega_ext,
    );

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

/// `f(j, x_j)` for `j` in `0..len`, in order, on as many threads as the machine has, where
/// `x_j = start · step^j` (the coset points).
fn parallel_range(len: usize, f: impl Fn(usize, Fp) -> Fp + Sync, start: Fp, step: Fp) -> Vec<Fp> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from).max(1);
    let chunk = len.div_ceil(threads).max(1);
    let ranges: Vec<std::ops::Range<usize>> = (0..len).step_by(chunk).map(|s| s..(s + chunk).min(len)).collect();
    super::parallel_map(&ranges, |r| {
        let mut x = start * step.pow_vartime([r.start as u64]);
        r.clone()
            .map(|j| {
                let v = f(j, x);
                x *= step;
                v
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// An [`Expr`] bound to the coset values it reads: constants converted once, each query a
/// column slice and an offset in extended-domain points.
enum Compiled<'a> {
    Constant(Fp),
    Query(&'a [Fp], usize),
    Negated(Box<Compiled<'a>>),
    Sum(Box<Compiled<'a>>, Box<Compiled<'a>>),
    Product(Box<Compiled<'a>>, Box<Compiled<'a>>),
}

impl<'a> Compiled<'a> {
    fn new(e: &Expr, advice: &'a [Coset], fixed: &'a [Coset], step: i64) -> Self {
        let rec = |e: &Expr| Box::new(Self::new(e, advice, fixed, step));
        match e {
            Expr::Constant(c) => Compiled::Constant(crate::field(*c)),
            Expr::Query(q) => {
                let column: &[Fp] = match q.column {
                    Column::Advice(i) => &advice[i],
                    Column::Fixed(i) => &fixed[i],
                };
                let offset = (i64::from(q.rotation) * step).rem_euclid(column.len() as i64) as usize;
                Compiled::Query(column, offset)
            }
            Expr::Negated(a) => Compiled::Negated(rec(a)),
            Expr::Sum(a, b) => Compiled::Sum(rec(a), rec(b)),
            Expr::Product(a, b) => Compiled::Product(rec(a), rec(b)),
        }
    }

    /// The value at extended point `j` of `ext`.
    fn evaluate(&self, j: usize, ext: usize) -> Fp {
        match self {
            Compiled::Constant(c) => *c,
            Compiled::Query(column, offset) => {
                let i = j + offset;
                column[if i >= ext { i - ext } else { i }]
            }
            Compiled::Negated(a) => -a.evaluate(j, ext),
            Compiled::Sum(a, b) => a.evaluate(j, ext) + b.evaluate(j, ext),
            Compiled::Product(a, b) => a.evaluate(j, ext) * b.evaluate(j, ext),
        }
    }
}
