//! The lookup argument's commitments (halo2's "plookup" variant): per lookup, the input and
//! table expressions compressed with θ, a permutation of each such that every input value
//! sits in a run whose first row repeats it in the permuted table, blinded and committed
//! (stage 2); then, after β and γ, the grand product of
//! `(A(x) + β)(S(x) + γ) / ((A'(x) + β)(S'(x) + γ))` (stage 3).

use std::collections::BTreeMap;

use ff::Field;
use group::Curve;
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use rayon::prelude::*;
use zkinfer_circuits::CircuitSpec;
use zkinfer_circuits::constraints::{ConstraintData, Lookup, Query};

use super::{ProofTranscript, ProvingKey, batch_invert, draw_rows_and_blinds, running_product, write_point};
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

/// The random values one lookup's stage 2 draws, in halo2's order: the blinding rows of `A'`,
/// those of `S'`, then the two commitments' blinds.
struct Randomness {
    input_rows: Vec<Fp>,
    table_rows: Vec<Fp>,
    blinds: [Fp; 2],
}

/// Stage 2 for every lookup of the circuit, in order. The random values are drawn first, lookup
/// by lookup in halo2's order (their number does not depend on the witness), so that the
/// lookups can then be permuted and committed in parallel.
pub fn commit_permuted<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    spec: &CircuitSpec,
    advice: &[Vec<Fp>],
    theta: Fp,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<Vec<Permuted>, EngineError> {
    let data = ConstraintData::new(spec.layout);
    let lookups: Vec<&Lookup> = data.lookups().collect();
    let rows = pk.blinding_factors() + 1;
    let mut draw = |count: usize| -> Vec<Fp> { (0..count).map(|_| Fp::random(&mut *rng)).collect() };
    let randomness: Vec<Randomness> = lookups
        .iter()
        .map(|_| {
            let (input_rows, table_rows, blinds) = (draw(rows), draw(rows), draw(2));
            Randomness { input_rows, table_rows, blinds: [blinds[0], blinds[1]] }
        })
        .collect();
    // (Collected before the errors are looked at, so that the first failing lookup in order is
    // the one reported, whichever finished first.)
    let out: Vec<Result<Permuted, EngineError>> = lookups
        .par_iter()
        .zip(randomness)
        .map(|(lookup, random)| permute_and_commit(pk, spec, lookup, advice, theta, random))
        .collect();
    let out = out.into_iter().collect::<Result<Vec<Permuted>, EngineError>>()?;
    for p in &out {
        for &c in &p.commitments {
            write_point(transcript, c)?;
        }
    }
    Ok(out)
}

/// One lookup's stage 2: θ-compression of its input expressions and its table columns
/// (`((e_0·θ + e_1)·θ + ...)`), the permuted pair, its commitments.
fn permute_and_commit(
    pk: &ProvingKey,
    spec: &CircuitSpec,
    lookup: &Lookup,
    advice: &[Vec<Fp>],
    theta: Fp,
    random: Randomness,
) -> Result<Permuted, EngineError> {
    let n = pk.n();
    let fixed = &pk.keys.fixed;
    let value = |row: usize| move |q: Query| q.read(advice, fixed, row);
    let input: Vec<Fp> = (0..n)
        .into_par_iter()
        .map(|row| lookup.inputs.iter().fold(Fp::ZERO, |acc, (e, _)| acc * theta + e.evaluate(&value(row))))
        .collect();
    let tables: Vec<usize> = lookup.inputs.iter().map(|&(_, t)| table_column_index(spec.layout, t)).collect();
    let table: Vec<Fp> =
        (0..n).into_par_iter().map(|row| tables.iter().fold(Fp::ZERO, |acc, &c| acc * theta + fixed[c][row])).collect();
    let (mut permuted_input, mut permuted_table) = permute(pk, &input, &table).map_err(|e| match e {
        PermuteError::NotInTable(v) => {
            let row = input.iter().position(|x| *x == v).unwrap_or_default();
            EngineError::Witness(format!("row {row}: the input of lookup \"{}\" is not in its table", lookup.name))
        }
        PermuteError::TableTooLong => {
            EngineError::Witness(format!("lookup \"{}\": the table is longer than the rows", lookup.name))
        }
    })?;
    permuted_input.extend(random.input_rows);
    permuted_table.extend(random.table_rows);
    let blinds = random.blinds;
    let by_rows = TableRows::new(pk, &tables, &table, theta);
    let (a, s) = rayon::join(
        || by_rows.commit(pk, &permuted_input, blinds[0]),
        || by_rows.commit(pk, &permuted_table, blinds[1]),
    );
    Ok(Permuted { input, table, permuted_input, permuted_table, blinds, commitments: [a, s] })
}

/// A lookup's table as small integers, to commit a permuted column by small-scalar MSMs: each
/// usable row of `A'` and `S'` is the compressed value `Σ_i θ^(m-1-i) · t_i(r)` of some table
/// row `r`, so `Commit(A') = Σ_i θ^(m-1-i) · Commit(t_i(r_j) over the rows j)`, where the
/// `t_i` are the table's columns (tags, values: integers of a few bits).
struct TableRows {
    /// Per table column, its integer values (`None` if a value is not a small integer).
    columns: Option<Vec<Vec<i64>>>,
    /// A table row holding each compressed value, by its canonical value.
    row_of: BTreeMap<Canonical, usize>,
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
        for (row, v) in compressed[..usable].iter().enumerate() {
            row_of.entry(canonical(v)).or_insert(row);
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
        let rows: Option<Vec<usize>> =
            values[..usable].par_iter().map(|v| self.row_of.get(&canonical(v)).copied()).collect();
        let (Some(columns), Some(rows)) = (&self.columns, rows) else {
            return pk.commit(values, blind);
        };
        let g = &pk.params.g_lagrange;
        let backend = pk.backend.as_ref();
        let components: Vec<Eq> = columns
            .par_iter()
            .zip(&self.powers)
            .map(|(column, power)| {
                let ints: Vec<i64> = rows.iter().map(|&r| column[r]).collect();
                backend.msm_small(&ints, &g[..usable]) * power
            })
            .collect();
        let rest = crate::msm::commit_blinded(backend, &g[usable..], pk.params.w, &values[usable..], blind);
        components.into_iter().fold(rest, |acc, c| acc + c).to_affine()
    }
}

/// The permuted pair over the usable rows: the input sorted; the table holding each distinct
/// input value on the row where its run starts, and its other values (with their multiplicity)
/// on the rows that repeat an input value, filled from the last such row backwards in value
/// order. The caller appends the random blinding rows.
fn permute(pk: &ProvingKey, input: &[Fp], table: &[Fp]) -> Result<(Vec<Fp>, Vec<Fp>), PermuteError> {
    let usable = pk.unusable_rows_start();
    let mut sorted: Vec<(Canonical, Fp)> = input[..usable].par_iter().map(|v| (canonical(v), *v)).collect();
    // Equal keys are equal values, so the order among them does not matter.
    sorted.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut leftover: BTreeMap<Canonical, (Fp, u32)> = BTreeMap::new();
    for v in &table[..usable] {
        leftover.entry(canonical(v)).or_insert((*v, 0)).1 += 1;
    }
    let mut permuted_table = vec![Fp::ZERO; usable];
    let mut repeated_rows = Vec::new();
    for row in 0..usable {
        let (key, v) = sorted[row];
        if row == 0 || key != sorted[row - 1].0 {
            permuted_table[row] = v;
            match leftover.get_mut(&key) {
                Some((_, count)) if *count > 0 => *count -= 1,
                _ => return Err(PermuteError::NotInTable(v)),
            }
        } else {
            repeated_rows.push(row);
        }
    }
    for &(v, count) in leftover.values() {
        for _ in 0..count {
            let row = repeated_rows.pop().ok_or(PermuteError::TableTooLong)?;
            permuted_table[row] = v;
        }
    }
    Ok((sorted.into_iter().map(|(_, v)| v).collect(), permuted_table))
}

/// Why a lookup's columns cannot be permuted.
enum PermuteError {
    /// This input value is not in the table.
    NotInTable(Fp),
    /// The table has more rows than the usable rows can hold beside the input's runs.
    TableTooLong,
}

/// A field element's canonical value as four limbs, most significant first: ordered as `Fp`
/// is (by canonical value), without leaving Montgomery form again at every comparison.
type Canonical = [u64; 4];

fn canonical(v: &Fp) -> Canonical {
    let [l0, l1, l2, l3] = crate::limbs(v);
    [l3, l2, l1, l0]
}

/// Stage 3 for every lookup, in order: `z(ω^0) = 1`, `z(ω^(i+1)) = z(ω^i) · (A_i + β)(S_i + γ) /
/// ((A'_i + β)(S'_i + γ))`, random on the last `blinding_factors` rows. The random values (per
/// lookup, its blinding rows then its blind) are drawn first, in halo2's order, and the products
/// computed and committed in parallel.
pub fn commit_products<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    lookups: &[Permuted],
    beta: Fp,
    gamma: Fp,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<Vec<Product>, EngineError> {
    let (n, bf) = (pk.n(), pk.blinding_factors());
    let randomness = draw_rows_and_blinds(rng, lookups.len(), bf);
    let products: Vec<Product> = lookups
        .par_iter()
        .zip(randomness)
        .map(|(l, (rows, blind))| {
            let mut ratio: Vec<Fp> =
                l.permuted_input.iter().zip(&l.permuted_table).map(|(&a, &s)| (beta + a) * (gamma + s)).collect();
            batch_invert(&mut ratio);
            for ((r, &a), &s) in ratio.iter_mut().zip(&l.input).zip(&l.table) {
                *r *= (a + beta) * (s + gamma);
            }
            let mut z = running_product(&ratio[..n - bf - 1]);
            z.extend(rows);
            let commitment = pk.commit(&z, blind);
            Product { z, blind, commitment }
        })
        .collect();
    for p in &products {
        write_point(transcript, p.commitment)?;
    }
    Ok(products)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn canonical_keys_order_as_the_field_does() {
        let rng = &mut StdRng::seed_from_u64(5);
        let mut values: Vec<Fp> = (0..300).map(|_| Fp::random(&mut *rng)).collect();
        let big = Fp::from(u64::MAX);
        values.extend([Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::from(2), -Fp::from(2), big, big + Fp::ONE, big * big]);
        // Repeated values.
        values.extend(values.clone().into_iter().step_by(15));
        for a in &values {
            for b in values.iter().step_by(7) {
                assert_eq!(canonical(a).cmp(&canonical(b)), a.cmp(b), "{a:?} against {b:?}");
            }
        }
        let mut by_field = values.clone();
        by_field.sort();
        values.sort_by_key(canonical);
        assert_eq!(values, by_field);
    }
}
