//! A fast check of a witness against the constraint data, without halo2: every gate on every
//! usable row, every lookup, every copy constraint, every public-value binding and constant.
//! It evaluates exactly the expressions `configure` gives halo2, over the same field, and names
//! each relation that fails with its row. The chips' tests run it beside MockProver and require
//! the same verdict (see `crate::testing`).

use std::collections::HashSet;

use ff::{Field, PrimeField};
use halo2_proofs::pasta::Fp;

use super::{ConstraintData, Query, TableColumn};
use crate::builder::{CellRef, CircuitSpec, Witness};
use crate::chips::range::range_table;
use crate::circuit::{required_k, to_field, usable_rows};

/// One relation that does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A gate's constraint is not zero on a row.
    Gate {
        /// Gate name.
        gate: &'static str,
        /// Constraint name.
        constraint: &'static str,
        /// The row.
        row: usize,
    },
    /// A lookup's input tuple is not in its table on a row.
    Lookup {
        /// Index among the circuit's lookups.
        index: usize,
        /// The lookup's name (`range`, `function`).
        name: &'static str,
        /// The row.
        row: usize,
    },
    /// Two copy-constrained cells differ.
    Copy {
        /// One cell.
        a: CellRef,
        /// The other.
        b: CellRef,
    },
    /// A cell bound to a public value differs from it.
    Instance {
        /// The cell.
        cell: CellRef,
        /// The public value's index.
        index: usize,
    },
    /// A cell bound to a constant differs from it.
    Constant {
        /// The cell.
        cell: CellRef,
        /// The constant.
        value: i64,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Gate { gate, constraint, row } => write!(f, "gate '{gate}', constraint '{constraint}', row {row}"),
            Failure::Lookup { index, name, row } => write!(f, "lookup {index} ({name}), row {row}"),
            Failure::Copy { a, b } => write!(f, "copy {a:?} = {b:?}"),
            Failure::Instance { cell, index } => write!(f, "cell {cell:?} = public value {index}"),
            Failure::Constant { cell, value } => write!(f, "cell {cell:?} = constant {value}"),
        }
    }
}

/// Checks `witness` against every relation of the circuit of `spec`. Returns every failure
/// (at most `MAX_FAILURES_PER_RELATION` rows per gate constraint or lookup).
pub fn check_witness(spec: &CircuitSpec, witness: &Witness) -> Result<(), Vec<Failure>> {
    let data = ConstraintData::new(spec.layout);
    let n = 1usize << required_k(spec);
    let usable = usable_rows(spec);
    let column = |values: &[i64]| -> Vec<Fp> {
        let mut c: Vec<Fp> = values.iter().map(|&v| to_field(v)).collect();
        c.resize(n, Fp::ZERO);
        c
    };
    let advice: Vec<Vec<Fp>> = witness.advice.iter().map(|c| column(c)).collect();
    let fixed: Vec<Vec<Fp>> = spec.fixed.iter().map(|c| column(c)).collect();
    let (advice, fixed) = (&advice, &fixed);
    let at = move |row: usize| move |q: Query| q.read(advice, fixed, row);
    let mut failures = Vec::new();
    for gate in data.gates() {
        for (name, e) in &gate.constraints {
            let rows = (0..usable).filter(|&row| !bool::from(e.evaluate(&at(row)).is_zero()));
            failures.extend(rows.take(MAX_FAILURES_PER_RELATION).map(|row| Failure::Gate {
                gate: gate.name,
                constraint: name,
                row,
            }));
        }
    }
    let tables = Tables::new(spec);
    for (index, lookup) in data.lookups().enumerate() {
        let table = tables.get(lookup.inputs.iter().map(|(_, t)| *t));
        let rows = (0..usable).filter(|&row| {
            let tuple: Vec<[u8; 32]> = lookup.inputs.iter().map(|(e, _)| e.evaluate(&at(row)).to_repr()).collect();
            !table.contains(&tuple)
        });
        failures.extend(rows.take(MAX_FAILURES_PER_RELATION).map(|row| Failure::Lookup {
            index,
            name: lookup.name,
            row,
        }));
    }
    let value = |c: CellRef| witness.advice[c.column][c.row];
    failures.extend(spec.copies.iter().filter(|(a, b)| value(*a) != value(*b)).map(|&(a, b)| Failure::Copy { a, b }));
    for &(cell, index) in spec.instance_inputs.iter().chain(&spec.instance_outputs) {
        if witness.instance.get(index) != Some(&value(cell)) {
            failures.push(Failure::Instance { cell, index });
        }
    }
    for &(cell, c) in &spec.constants {
        if value(cell) != c {
            failures.push(Failure::Constant { cell, value: c });
        }
    }
    if failures.is_empty() { Ok(()) } else { Err(failures) }
}

/// Rows reported per failing gate constraint or lookup.
const MAX_FAILURES_PER_RELATION: usize = 8;

/// The table rows, as canonical field encodings.
struct Tables {
    range: HashSet<Vec<[u8; 32]>>,
    function: HashSet<Vec<[u8; 32]>>,
}

impl Tables {
    fn new(spec: &CircuitSpec) -> Self {
        let encode = |row: &[i64]| row.iter().map(|&v| to_field::<Fp>(v).to_repr()).collect::<Vec<_>>();
        let range = range_table(spec.layout.range_bits).map(|(w, v)| encode(&[w as i64, v as i64])).collect();
        let function =
            std::iter::once([0, 0, 0]).chain(spec.function_table.iter().copied()).map(|r| encode(&r)).collect();
        Self { range, function }
    }

    /// The table a lookup reads: its columns are all range or all function columns, in table order.
    fn get(&self, columns: impl Iterator<Item = TableColumn>) -> &HashSet<Vec<[u8; 32]>> {
        let columns: Vec<TableColumn> = columns.collect();
        if columns == [TableColumn::RangeTag, TableColumn::RangeValue] {
            &self.range
        } else {
            assert_eq!(
                columns,
                [TableColumn::FunctionTag, TableColumn::FunctionInput, TableColumn::FunctionOutput],
                "a lookup reads the columns of one table in order"
            );
            &self.function
        }
    }
}
