//! [`ModelCircuit`]: a [`CircuitSpec`] (and, when proving, a [`Witness`]) as a halo2 circuit.

use std::sync::Arc;

use ff::PrimeField;
use halo2_proofs::circuit::{Cell, Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::dev::{MockProver, VerifyFailure};
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};

use crate::builder::{CellRef, CircuitSpec, Witness};
use crate::chips::ModelConfig;
use crate::chips::range::range_table;
use crate::layout::{MIN_K, current_layout, with_layout};

/// A compiled model as a halo2 circuit. Configure it only inside [`with_layout`] with
/// `spec.layout` (the prover and verifier crates do this for you).
#[derive(Clone, Debug)]
pub struct ModelCircuit {
    spec: Arc<CircuitSpec>,
    witness: Option<Arc<Witness>>,
}

/// An `i64` as a field element (negative values as `p - |v|`).
pub fn to_field<F: PrimeField>(v: i64) -> F {
    if v >= 0 { F::from(v as u64) } else { -F::from(v.unsigned_abs()) }
}

impl ModelCircuit {
    /// A circuit for keygen (no witness) or proving (with one).
    pub fn new(spec: Arc<CircuitSpec>, witness: Option<Arc<Witness>>) -> Self {
        Self { spec, witness }
    }

    /// The spec.
    pub fn spec(&self) -> &CircuitSpec {
        &self.spec
    }
}

/// The public values as field elements.
pub fn instance_values<F: PrimeField>(values: &[i64]) -> Vec<F> {
    values.iter().map(|&v| to_field(v)).collect()
}

/// The smallest `k` whose usable rows hold the spec's rows, tables, constants and public values
/// (the instance column has as many usable rows as the advice columns).
pub fn required_k(spec: &CircuitSpec) -> u32 {
    k_holding(spec, spec.table_rows(), blinding_factors(spec))
}

/// Usable rows a lookup table leaves free after its own: halo2_proofs 0.4.1's floor planner
/// fills each table column from its first unused row on with the table's first value, and
/// refuses (`NotEnoughRowsAvailable`, in keygen and MockProver alike) when that row is not a
/// usable one. A table that ends on the last usable row therefore does not fit.
pub const TABLE_FILL_ROWS: usize = 1;

/// The smallest `k` whose usable rows hold the spec's rows, constants, public values and
/// `table_rows` table rows (with the row after them, [`TABLE_FILL_ROWS`]).
fn k_holding(spec: &CircuitSpec, table_rows: usize, blinding: usize) -> u32 {
    let tables = table_rows + TABLE_FILL_ROWS;
    let needed = spec.rows.max(tables).max(spec.constants.len()).max(spec.instance_len) + blinding + 1;
    let mut k = MIN_K;
    while (1usize << k) < needed && k < 63 {
        k += 1;
    }
    k
}

/// Rows the function tables may take together without raising `k` above what everything else
/// (rows, the range table, constants, public values) needs.
pub fn function_table_budget(spec: &CircuitSpec) -> usize {
    let blinding = blinding_factors(spec);
    let k = k_holding(spec, spec.range_table_rows(), blinding);
    // Usable rows less the all-zero row and the row the planner fills after the table.
    (1usize << k) - blinding - 1 - 1 - TABLE_FILL_ROWS
}

/// halo2's blinding rows for the spec's layout.
fn blinding_factors(spec: &CircuitSpec) -> usize {
    with_layout(spec.layout, || {
        // Any prime field gives the same count; pasta's Fp is the one in use.
        let mut cs = ConstraintSystem::<halo2_proofs::pasta::Fp>::default();
        ModelConfig::configure(&mut cs, spec.layout);
        cs.blinding_factors()
    })
}

/// Rows on which halo2 checks the gates and lookups at the spec's required `k`: all but the
/// blinding rows and the last row.
pub fn usable_rows(spec: &CircuitSpec) -> usize {
    (1usize << required_k(spec)) - blinding_factors(spec) - 1
}

impl<F: PrimeField> Circuit<F> for ModelCircuit {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        Self { spec: self.spec.clone(), witness: None }
    }

    fn configure(meta: &mut ConstraintSystem<F>) -> ModelConfig {
        ModelConfig::configure(meta, current_layout())
    }

    fn synthesize(&self, config: ModelConfig, mut layouter: impl Layouter<F>) -> Result<(), Error> {
        let spec = &*self.spec;
        if config.layout != spec.layout {
            return Err(Error::Synthesis);
        }
        layouter.assign_table(
            || "range table",
            |mut table| {
                for (i, (w, v)) in range_table(spec.layout.range_bits).enumerate() {
                    table.assign_cell(|| "width", config.range_table[0], i, || Value::known(F::from(w)))?;
                    table.assign_cell(|| "value", config.range_table[1], i, || Value::known(F::from(v)))?;
                }
                Ok(())
            },
        )?;
        if let Some(columns) = config.function_table {
            layouter.assign_table(
                || "function table",
                |mut table| {
                    let rows = std::iter::once([0, 0, 0]).chain(spec.function_table.iter().copied());
                    for (i, row) in rows.enumerate() {
                        for (c, v) in columns.iter().zip(row) {
                            table.assign_cell(|| "function", *c, i, || Value::known(to_field::<F>(v)))?;
                        }
                    }
                    Ok(())
                },
            )?;
        }
        // How each advice cell is assigned, indexed by `column * rows + row`.
        let rows = spec.rows;
        let at = |c: CellRef| c.column * rows + c.row;
        let mut sources = vec![Source::Witness; config.advice.len() * rows];
        for &(cell, i) in &spec.instance_inputs {
            sources[at(cell)] = Source::Instance(i);
        }
        for &(cell, k) in &spec.constants {
            sources[at(cell)] = Source::Constant(k);
        }
        let outputs = layouter.assign_region(
            || "model",
            |mut region| {
                let mut cells: Vec<Option<Cell>> = vec![None; sources.len()];
                for (c, column) in config.fixed.iter().enumerate() {
                    for (row, &v) in spec.fixed[c].iter().enumerate() {
                        region.assign_fixed(|| "fixed", *column, row, || Value::known(to_field::<F>(v)))?;
                    }
                }
                for (c, column) in config.advice.iter().enumerate() {
                    for row in 0..rows {
                        let cell = match sources[c * rows + row] {
                            Source::Instance(i) => {
                                region.assign_advice_from_instance(|| "input", config.instance, i, *column, row)?
                            }
                            Source::Constant(k) => {
                                region.assign_advice_from_constant(|| "constant", *column, row, to_field::<F>(k))?
                            }
                            Source::Witness => {
                                let value = match &self.witness {
                                    Some(w) => Value::known(to_field::<F>(w.advice[c][row])),
                                    None => Value::unknown(),
                                };
                                region.assign_advice(|| "advice", *column, row, || value)?
                            }
                        };
                        cells[c * rows + row] = Some(cell.cell());
                    }
                }
                let cell = |c: CellRef| cells[at(c)].ok_or(Error::Synthesis);
                for &(a, b) in &spec.copies {
                    region.constrain_equal(cell(a)?, cell(b)?)?;
                }
                spec.instance_outputs.iter().map(|&(c, i)| Ok((cell(c)?, i))).collect::<Result<Vec<_>, Error>>()
            },
        )?;
        for (cell, row) in outputs {
            layouter.constrain_instance(cell, config.instance, row)?;
        }
        Ok(())
    }
}

/// Where an advice cell's value comes from.
#[derive(Clone, Copy)]
enum Source {
    Witness,
    Instance(usize),
    Constant(i64),
}

/// Runs halo2's MockProver on a spec and witness at the spec's required `k`.
pub fn mock_prove(spec: &CircuitSpec, witness: &Witness) -> Result<(), Vec<VerifyFailure>> {
    use halo2_proofs::pasta::Fp;
    let k = required_k(spec);
    let circuit = ModelCircuit::new(Arc::new(spec.clone()), Some(Arc::new(witness.clone())));
    let instance = instance_values::<Fp>(&witness.instance);
    with_layout(spec.layout, || {
        let prover = MockProver::run(k, &circuit, vec![instance]).expect("synthesis succeeds");
        prover.verify()
    })
}
