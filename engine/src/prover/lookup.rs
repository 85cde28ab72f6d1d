//! The lookup argument's commitments (halo2's "plookup" variant): per lookup, the input and
//! table expressions compressed with θ, a permutation of each such that every input value
//! sits in a run whose first row repeats it in the permuted table, blinded and committed
//! (stage 2); then, after β and γ, the grand product of
//! `(A(x) + β)(S(x) + γ) / ((A'(x) + β)(S'(x) + γ))` (stage 3).

use std::collections::BTreeMap;

use ff::Field;
use group::Curve;
use halo2_proofs::pasta::{EqAffine, Fp};
use zkinfer_circuits::CircuitSpec;
use zkinfer_circuits::constraints::{ConstraintData, Query};

use super::{ProofTranscript, ProvingKey, batch_invert, write_point};
use crate::EngineError;
use crate::keygen::table_column_index;

/// One lookup after stage 2.
#[derive(Debug)]
pub struct Permuted {
    /// The compressed input expression over all rows.
    pub input: Vec<Fp>,
    /// The compressed table expression over all rows.
    pub table: Vec<Fp>,
    /// The permuted input `A'`, blinding rows included.
    pub permuted_input: Vec<Fp>,
    /// The permuted table `S'`, blinding rows included.
    pub permuted_table: Vec<Fp>,
    /// Blinds of the two commitments.
    pub blinds: [Fp; 2],
    /// The commitments to `A'` and `S'`.
    pub commitments: [EqAffine; 2],
}

/// One lookup's grand product after stage 3.
#[derive(Debug)]
pub struct Product {
    /// `z` over all rows, blinding rows included.
    pub z: Vec<Fp>,
    /// Its blind.
    pub blind: Fp,
    /// Its commitment.
    pub commitment: EqAffine,
}

/// Stage 2 for every lookup of the circuit, in order.
pub fn commit_permuted<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    spec: &CircuitSpec,
    advice: &[Vec<Fp>],
    theta: Fp,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<Vec<Permuted>, EngineError> {
    let n = pk.n();
    let fixed = &pk.keys.fixed;
    let value = |row: usize| move |q: Query| q.read(advice, fixed, row);
    let data = ConstraintData::new(spec.layout);
    let mut out = Vec::new();
    for lookup in data.lookups() {
        // θ-compression, input expressions and table columns alike: ((e_0·θ + e_1)·θ + ...).
        let input: Vec<Fp> = (0..n)
            .map(|row| lookup.inputs.iter().fold(Fp::ZERO, |acc, (e, _)| acc * theta + e.evaluate(&value(row))))
            .collect();
        let tables: Vec<usize> = lookup.inputs.iter().map(|&(_, t)| table_column_index(spec.layout, t)).collect();
        let table: Vec<Fp> =
            (0..n).map(|row| tables.iter().fold(Fp::ZERO, |acc, &c| acc * theta + fixed[c][row])).collect();
        let (permuted_input, permuted_table) = permute(pk, &input, &table, rng)?;
        let blinds = [Fp::random(&mut *rng), Fp::random(&mut *rng)];
        let by_rows = TableRows::new(pk, &tables, &table, theta);
        let commitments =
            [by_rows.commit(pk, &permuted_input, blinds[0]), by_rows.commit(pk, &permuted_table, blinds[1])];
        for &c in &commitments {
            write_point(transcript, c)?;
        }
        out.push(Permuted { input, table, permuted_input, permuted_table, blinds, commitments });
    }
    Ok(out)
}

/// A lookup's table as small integers, to commit a permuted column by small-scalar MSMs: each
/// usable row of `A'` and `S'` is the compressed value `Σ_i θ^(m-1-i) · t_i(r)` of some table
/// row `r`, so `Commit(A') = Σ_i θ^(m-1-i) · Commit(t_i(r_j) over the rows j)`, where the
/// `t_i` are the table's columns (tags, values: integers of a few bits).
struct TableRows {
    /// Per table column, its integer values (`None` if a value is not a small integer).
    columns: Option<Vec<Vec<i64>>>,
    /// A table row holding each compressed value.
    row_of: BTreeMap<Fp, usize>,
    /// `θ^(m-1-i)` for each table column `i`.
    powers: Vec<Fp>,
}

impl TableRows {
    fn new(pk: &ProvingKey, tables: &[usize], compressed: &[Fp], theta: Fp) -> Self {
        let usable = pk.unusable_rows_start();
        let columns = tables
            .iter()
            .map(|&c| {
                pk.keys.fixed[c].iter().take(usable).map(|&v| crate::small_integer(v)).collect::<Option<Vec<i64>>>()
            })
            .collect();
        let mut row_of = BTreeMap::new();
        for (row, &v) in compressed[..usable].iter().enumerate() {
            row_of.entry(v).or_insert(row);
        }
        let mut powers: Vec<Fp> =
            std::iter::successors(Some(Fp::ONE), |p| Some(*p * theta)).take(tables.len()).collect();
        powers.reverse();
        Self { columns, row_of, powers }
    }

    /// The commitment of a permuted column (usable rows from the table, then random rows)
    /// with blind `blind`: `pk.commit(values, blind)`, computed from small-scalar MSMs.
    fn commit(&self, pk: &ProvingKey, values: &[Fp], blind: Fp) -> EqAffine {
        let usable = pk.unusable_rows_start();
        let rows: Option<Vec<usize>> = values[..usable].iter().map(|v| self.row_of.get(v).copied()).collect();
        let (Some(columns), Some(rows)) = (&self.columns, rows) else {
            return pk.commit(values, blind);
        };
        let g = &pk.params.g_lagrange;
        let backend = pk.backend.as_ref();
        let components = columns.iter().zip(&self.powers).map(|(column, power)| {
            let ints: Vec<i64> = rows.iter().map(|&r| column[r]).collect();
            backend.msm_small(&ints, &g[..usable]) * power
        });
        let rest = crate::msm::commit_blinded(backend, &g[usable..], pk.params.w, &values[usable..], blind);
        components.fold(rest, |acc, c| acc + c).to_affine()
    }
}

/// The permuted pair over the usable rows: the input sorted; the table holding each distinct
/// input value on the row where its run starts, and its other values (with their multiplicity)
/// on the rows that repeat an input value, filled from the last such row backwards in value
/// order; then the random blinding rows of the input, then of the table.
fn permute<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    input: &[Fp],
    table: &[Fp],
    rng: &mut R,
) -> Result<(Vec<Fp>, Vec<Fp>), EngineError> {
    let usable = pk.unusable_rows_start();
    let mut permuted_input: Vec<Fp> = input[..usable].to_vec();
    permuted_input.sort();
    let mut leftover: BTreeMap<Fp, u32> = BTreeMap::new();
    for &v in &table[..usable] {
        *leftover.entry(v).or_insert(0) += 1;
    }
    let mut permuted_table = vec![Fp::ZERO; usable];
    let mut repeated_rows = Vec::new();
    for row in 0..usable {
        let v = permuted_input[row];
        if row == 0 || v != permuted_input[row - 1] {
            permuted_table[row] = v;
            match leftover.get_mut(&v) {
                Some(count) if *count > 0 => *count -= 1,
                _ => return Err(EngineError::Witness(format!("row {row}: a lookup input is not in its table"))),
            }
        } else {
            repeated_rows.push(row);
        }
    }
    for (&v, &count) in &leftover {
        for _ in 0..count {
            let row = repeated_rows.pop().ok_or_else(|| EngineError::Witness("lookup table too long".into()))?;
            permuted_table[row] = v;
        }
    }
    let blinding = pk.blinding_factors() + 1;
    permuted_input.extend((0..blinding).map(|_| Fp::random(&mut *rng)));
    permuted_table.extend((0..blinding).map(|_| Fp::random(&mut *rng)));
    Ok((permuted_input, permuted_table))
}

/// Stage 3 for one lookup: `z(ω^0) = 1`, `z(ω^(i+1)) = z(ω^i) · (A_i + β)(S_i + γ) /
/// ((A'_i + β)(S'_i + γ))`, random on the last `blinding_factors` rows.
pub fn commit_product<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    l: &Permuted,
    beta: Fp,
    gamma: Fp,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<Product, EngineError> {
    let n = pk.n();
    let mut ratio: Vec<Fp> =
        l.permuted_input.iter().zip(&l.permuted_table).map(|(&a, &s)| (beta + a) * (gamma + s)).collect();
    batch_invert(&mut ratio);
    for ((r, &a), &s) in ratio.iter_mut().zip(&l.input).zip(&l.table) {
        *r *= (a + beta) * (s + gamma);
    }
    let bf = pk.blinding_factors();
    let mut z = Vec::with_capacity(n);
    let mut acc = Fp::ONE;
    z.push(acc);
    for r in ratio.iter().take(n - bf - 1) {
        acc *= r;
        z.push(acc);
    }
    z.extend((0..bf).map(|_| Fp::random(&mut *rng)));
    let blind = Fp::random(&mut *rng);
    let commitment = pk.commit(&z, blind);
    write_point(transcript, commitment)?;
    Ok(Product { z, blind, commitment })
}
