//! Own keygen: the fixed columns and the permutation of a model circuit computed from its
//! [`CircuitSpec`] directly (no halo2 synthesis), and their commitments, exactly as halo2's
//! `keygen_vk` computes them for [`zkinfer_circuits::ModelCircuit`].
//!
//! What halo2 does and this module repeats (halo2_proofs 0.4.1, `SimpleFloorPlanner`):
//! - Fixed columns in creation order: the layout's fixed columns (row `r` holds the spec's
//!   value), the constants column (the constants in the order synthesis binds them, from row
//!   0), the range table (tag, value) and the function table (tag, input, output), each table
//!   padded with its first row (all zeros). Unassigned cells are zero.
//! - Permutation columns in the order equality is enabled: the constants column, the instance
//!   column, the copy lanes, the `out` column. Copies are applied in synthesis order, which
//!   shapes halo2's cycle merging and so the permutation polynomials: public inputs (as the
//!   advice cells are assigned, column by column), the spec's copies, the constants (after the
//!   region), the public outputs.
//! - Commitments: `commit_lagrange` of each column with halo2's default blind (one).

use ff::{Field, PrimeField};
use group::Curve;
use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::plonk::ConstraintSystem;
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::{EvaluationDomain, LagrangeCoeff, Polynomial};
use zkinfer_circuits::chips::range::range_table;
use zkinfer_circuits::constraints::key;
use zkinfer_circuits::{CellRef, CircuitSpec, TABLE_FILL_ROWS, to_field};

use crate::EngineError;
use crate::backend::{Backend, CpuBackend};
use crate::params::ParamsData;
use crate::permutation::{PermutationAssembly, PermutationColumn};

/// A model circuit's keys as the engine computes them: the constraint system, the domain, the
/// fixed columns and the permutation ([`Keys::commit`] gives the verifying key's commitments).
#[derive(Debug)]
pub struct Keys {
    /// The configured constraint system (the same one halo2 builds from the constraint data).
    pub cs: ConstraintSystem<Fp>,
    /// The evaluation domain (`2^k` rows, extended by the constraint degree).
    pub domain: EvaluationDomain<Fp>,
    /// Fixed columns in halo2's column order, in Lagrange form.
    pub fixed: Vec<Polynomial<Fp, LagrangeCoeff>>,
    /// The permutation polynomials (one per equality-enabled column), in Lagrange form.
    pub permutation: Vec<Polynomial<Fp, LagrangeCoeff>>,
    /// The equality-enabled columns, in the permutation argument's order.
    pub permutation_columns: Vec<PermutationColumn>,
}

pub use zkinfer_circuits::constraints::key::KeyCommitments;
pub use zkinfer_circuits::constraints::key::table_column_index;

/// The constraint system of a spec's layout (halo2's `configure`, from the constraint data).
pub fn constraint_system(spec: &CircuitSpec) -> ConstraintSystem<Fp> {
    zkinfer_circuits::constraints::key::constraint_system(spec.layout)
}

/// Computes the keys of `spec`'s circuit for `params` and the verifying key's commitments.
pub fn keygen(params: &Params<EqAffine>, spec: &CircuitSpec) -> Result<(Keys, KeyCommitments), EngineError> {
    let keys = assemble(params, spec)?;
    let commitments = keys.commit(&ParamsData::new(params)?, &CpuBackend);
    Ok((keys, commitments))
}

/// Computes the keys of `spec`'s circuit for `params`, without commitments.
pub fn assemble(params: &Params<EqAffine>, spec: &CircuitSpec) -> Result<Keys, EngineError> {
    assemble_rows(params.k(), spec)
}

/// [`assemble`] over `2^k` rows (the keys depend on the params only through `k`).
pub fn assemble_rows(k: u32, spec: &CircuitSpec) -> Result<Keys, EngineError> {
    let cs = constraint_system(spec);
    let n = 1usize << k;
    // As stock keygen: the row after the tables must be usable too (`TABLE_FILL_ROWS`).
    let tables = spec.table_rows() + TABLE_FILL_ROWS;
    if n < cs.minimum_rows() || n - (cs.blinding_factors() + 1) < tables.max(spec.rows) {
        return Err(EngineError::TooFewRows { k });
    }
    let usable = n - (cs.blinding_factors() + 1);
    let domain = EvaluationDomain::new(cs.degree() as u32, k);
    let layout = spec.layout;

    // Fixed columns: the layout's, then constants, range table, function table.
    let mut fixed: Vec<Vec<Fp>> = spec.fixed.iter().map(|c| column(n, c.iter().map(|&v| to_field(v)))).collect();
    let constants = bound_constants(spec);
    fixed.push(column(n, constants.iter().map(|&(_, v)| to_field(v))));
    let range: Vec<(u64, u64)> = range_table(layout.range_bits).collect();
    fixed.push(column(n, range.iter().map(|&(w, _)| Fp::from(w))));
    fixed.push(column(n, range.iter().map(|&(_, v)| Fp::from(v))));
    if layout.function_table {
        let rows: Vec<[i64; 3]> = std::iter::once([0, 0, 0]).chain(spec.function_table.iter().copied()).collect();
        for i in 0..3 {
            fixed.push(column(n, rows.iter().map(|r| to_field(r[i]))));
        }
    }

    // The permutation, copies in synthesis order.
    let constants_column = key::constants_column(layout);
    let columns = key::permutation_columns(layout);
    let mut assembly = PermutationAssembly::new(n, usable, columns.clone());
    let advice = |c: CellRef| (PermutationColumn::Advice(c.column), c.row);
    for (cell, i) in instance_inputs_in_assignment_order(spec) {
        assembly.copy((PermutationColumn::Instance, i), advice(cell))?;
    }
    for &(a, b) in &spec.copies {
        assembly.copy(advice(a), advice(b))?;
    }
    for (row, &(cell, _)) in constants.iter().enumerate() {
        assembly.copy((PermutationColumn::Fixed(constants_column), row), advice(cell))?;
    }
    for &(cell, i) in &spec.instance_outputs {
        assembly.copy(advice(cell), (PermutationColumn::Instance, i))?;
    }
    let permutation = assembly.polynomials(&domain);

    let fixed: Vec<Polynomial<Fp, LagrangeCoeff>> = fixed.into_iter().map(|c| lagrange(&domain, c)).collect();
    Ok(Keys { cs, domain, fixed, permutation, permutation_columns: columns })
}

impl Keys {
    /// The verifying key's commitments: each fixed column and permutation polynomial committed
    /// in Lagrange form with the blind halo2 uses for them (`Blind::default()`, one: `+ W`), the
    /// points halo2's `commit_lagrange` gives, computed with far fewer additions:
    /// - fixed columns hold small integers (weights, enables, tables): the backend's
    ///   small-scalar MSM (full-width MSMs of them were 7 of the 10 s of a LeNet keygen);
    /// - permutation column `c` maps row `r` to `δ^c ω^r` wherever the cell is in no copy
    ///   cycle, and `Σ_r ω^r L_r(X) = X`, so its commitment is `δ^c · G_1` plus a sparse MSM
    ///   over the rows whose value differs from `δ^c ω^r`.
    ///
    /// Columns are committed in parallel.
    pub fn commit(&self, params: &ParamsData, backend: &dyn Backend) -> KeyCommitments {
        let fixed = |p: &Polynomial<Fp, LagrangeCoeff>| {
            let small: Option<Vec<i64>> = p.iter().map(|&v| crate::small_integer(v)).collect();
            let point = match small {
                Some(values) => backend.msm_small(&values, &params.g_lagrange) + params.w,
                None => crate::msm::commit_blinded(backend, &params.g_lagrange, params.w, p, Fp::ONE),
            };
            point.to_affine()
        };
        let omega = self.domain.get_omega();
        let omega_powers: Vec<Fp> =
            std::iter::successors(Some(Fp::ONE), |w| Some(*w * omega)).take(params.g_lagrange.len()).collect();
        let columns: Vec<(Fp, &Polynomial<Fp, LagrangeCoeff>)> =
            self.permutation.iter().enumerate().map(|(c, sigma)| (Fp::DELTA.pow_vartime([c as u64]), sigma)).collect();
        let permutation = |&(delta, sigma): &(Fp, &Polynomial<Fp, LagrangeCoeff>)| {
            let (scalars, bases): (Vec<Fp>, Vec<EqAffine>) = sigma
                .iter()
                .zip(&omega_powers)
                .zip(&params.g_lagrange)
                .filter_map(|((&s, &w), &g)| {
                    let moved = s - delta * w;
                    (!bool::from(moved.is_zero())).then_some((moved, g))
                })
                .unzip();
            (params.g[1] * delta + backend.msm(&scalars, &bases) + params.w).to_affine()
        };
        KeyCommitments {
            fixed: crate::prover::parallel_map(&self.fixed, fixed),
            permutation: crate::prover::parallel_map(&columns, permutation),
        }
    }

    /// The text halo2 hashes into the transcript and zkinfer hashes into the circuit identity:
    /// the `Debug` form of halo2's pinned verifying key, rebuilt from these keys.
    pub fn pinned_text(&self, commitments: &KeyCommitments) -> String {
        key::pinned_text(&self.domain, &self.cs, &commitments.fixed, &commitments.permutation)
    }
}

/// A column of `n` rows starting with `values`, zero after them.
fn column(n: usize, values: impl Iterator<Item = Fp>) -> Vec<Fp> {
    let mut c: Vec<Fp> = values.take(n).collect();
    c.resize(n, Fp::ZERO);
    c
}

fn lagrange(domain: &EvaluationDomain<Fp>, values: Vec<Fp>) -> Polynomial<Fp, LagrangeCoeff> {
    let mut p = domain.empty_lagrange();
    p.iter_mut().zip(values).for_each(|(p, v)| *p = v);
    p
}

/// Where each advice cell's value comes from in synthesis: a cell bound to a constant takes the
/// constant even when it is also a public input (as `ModelCircuit::synthesize` decides).
fn is_constant(spec: &CircuitSpec) -> impl Fn(CellRef) -> bool + '_ {
    let set: std::collections::HashSet<CellRef> = spec.constants.iter().map(|&(c, _)| c).collect();
    move |c| set.contains(&c)
}

/// The constant-bound cells in the order synthesis binds them (advice column by column, row by
/// row), which is the order of their rows in the constants column.
fn bound_constants(spec: &CircuitSpec) -> Vec<(CellRef, i64)> {
    let mut c = spec.constants.clone();
    // Later bindings of the same cell win in synthesis; keep the last one per cell.
    let mut last = std::collections::HashMap::new();
    for (i, &(cell, _)) in c.iter().enumerate() {
        last.insert(cell, i);
    }
    c = c.iter().enumerate().filter(|&(i, (cell, _))| last[cell] == i).map(|(_, &x)| x).collect();
    c.sort_by_key(|&(cell, _)| (cell.column, cell.row));
    c
}

/// Public-input bindings in the order synthesis assigns their cells (advice column by column,
/// row by row), without cells bound to constants.
fn instance_inputs_in_assignment_order(spec: &CircuitSpec) -> Vec<(CellRef, usize)> {
    let constant = is_constant(spec);
    let mut last = std::collections::HashMap::new();
    for &(cell, i) in &spec.instance_inputs {
        last.insert(cell, i);
    }
    let mut v: Vec<(CellRef, usize)> = last.into_iter().filter(|&(c, _)| !constant(c)).collect();
    v.sort_by_key(|&(cell, _)| (cell.column, cell.row));
    v
}
