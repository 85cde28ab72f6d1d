//! Chips, one per op family, halo2_gadgets style: each file holds its gates and lookups as data
//! (`gates`, `lookups`: see [`crate::constraints`]), the instruction trait the compiler calls,
//! that trait's implementation on the [`Builder`](crate::builder::Builder) (which emits rows),
//! and MockProver tests with honest and tampered witnesses.
//!
//! All chips share one set of columns ([`ModelConfig`]), created here in a fixed, documented
//! order (the transcript and the circuit identity depend on it):
//! 1. advice: `lanes` lane columns, the accumulator, the rescaled output, `limbs` limb columns;
//! 2. fixed: one weight column per lane, the [`NamedFixed`] columns in their declared order,
//!    then per limb its coefficient, output coefficient and width tag; with
//!    [`ClampForm::InRescale`](crate::layout::ClampForm) then per limb its difference
//!    coefficient and the [`ClampFixed`](crate::layout::ClampFixed) columns;
//! 3. the constants column, the instance column;
//! 4. table columns: the range table (tag, value), then the function table (tag, input,
//!    output) when the layout has one;
//! 5. gates in the order linear (with outer product and shift for
//!    [`LinearLayout::OuterProduct`](crate::layout::LinearLayout)), rescale (and rescale clamp
//!    with `ClampForm::InRescale`), compare, argmax,
//!    division, product; lookups: one range lookup per limb, then the function lookup.
//!
//! Equality is enabled on the instance column, the `out` column and the first
//! [`Layout::copy_lanes`] lanes: every copy constraint lands in one of them.
//!
//! Gate enables are plain fixed columns, not `Selector`s (see docs/ARCHITECTURE.md).
//!
//! The constraint system's degree is set to [`CONSTRAINT_DEGREE`] (5) although the gates and
//! lookups need only 4: halo2's extended domain has `n` times the quotient's degree (the
//! constraint degree minus one) rounded up to a power of two, `4n` for degree 4 and 5 alike,
//! while the permutation argument packs degree − 2 equality-enabled columns into each grand
//! product, so degree 5 needs a third fewer grand products (each one a committed column, two
//! FFTs and three openings) at no cost to the domain.

pub mod compare;
pub mod division;
pub mod function;
pub mod linear;
pub mod product;
pub mod range;

use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Expression, Fixed, Instance, TableColumn};
use halo2_proofs::poly::Rotation;

use crate::constraints::{self, ConstraintData, Part, Query};
use crate::layout::Layout;

/// The degree of every model circuit's constraint system (see the module docs).
pub const CONSTRAINT_DEGREE: usize = 5;

/// The columns of a model circuit.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// The layout the columns were created for.
    pub layout: Layout,
    /// Advice columns in [`Layout`] order.
    pub advice: Vec<Column<Advice>>,
    /// Fixed columns in [`Layout`] order.
    pub fixed: Vec<Column<Fixed>>,
    /// The instance column: public inputs, then outputs.
    pub instance: Column<Instance>,
    /// Range table: width tag, value.
    pub range_table: [TableColumn; 2],
    /// Function table: tag, input, output.
    pub function_table: Option<[TableColumn; 3]>,
}

impl ModelConfig {
    /// Creates every column, then every gate and lookup of [`ConstraintData::new`] for
    /// `layout` (order: see the module docs).
    pub fn configure<F: ff::PrimeField>(meta: &mut ConstraintSystem<F>, layout: Layout) -> Self {
        meta.set_minimum_degree(CONSTRAINT_DEGREE);
        let advice: Vec<_> = (0..layout.advice_columns()).map(|_| meta.advice_column()).collect();
        let fixed: Vec<_> = (0..layout.fixed_columns()).map(|_| meta.fixed_column()).collect();
        let constants = meta.fixed_column();
        meta.enable_constant(constants);
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        for i in 0..layout.copy_lanes() {
            meta.enable_equality(advice[layout.lane(i)]);
        }
        meta.enable_equality(advice[layout.out()]);
        let range_table = [meta.lookup_table_column(), meta.lookup_table_column()];
        let function_table = layout
            .function_table
            .then(|| [meta.lookup_table_column(), meta.lookup_table_column(), meta.lookup_table_column()]);
        let config = Self { layout, advice, fixed, instance, range_table, function_table };
        for part in ConstraintData::new(layout).parts {
            match part {
                Part::Gate(gate) => meta.create_gate(gate.name, |meta| {
                    let queried = config.query_all(meta, &gate.queries);
                    let get = |q: Query| queried[gate.queries.iter().position(|&g| g == q).expect("recorded")].clone();
                    gate.constraints.iter().map(|(name, e)| (*name, e.to_halo2(&get))).collect::<Vec<_>>()
                }),
                Part::Lookup(l) => {
                    meta.lookup(|meta| {
                        let queried = config.query_all(meta, &l.queries);
                        let get = |q: Query| queried[l.queries.iter().position(|&g| g == q).expect("recorded")].clone();
                        l.inputs.iter().map(|(e, table)| (e.to_halo2(&get), config.table_column(*table))).collect()
                    });
                }
            }
        }
        config
    }

    /// Makes `queries` in order (halo2 numbers queries by first use; see [`crate::constraints`]).
    fn query_all<F: ff::Field>(
        &self,
        meta: &mut halo2_proofs::plonk::VirtualCells<'_, F>,
        queries: &[Query],
    ) -> Vec<Expression<F>> {
        queries
            .iter()
            .map(|q| match q.column {
                constraints::Column::Advice(c) => meta.query_advice(self.advice[c], Rotation(q.rotation)),
                constraints::Column::Fixed(c) => meta.query_fixed(self.fixed[c]),
            })
            .collect()
    }

    /// The halo2 table column of a lookup table column.
    ///
    /// # Panics
    /// For a function-table column when the layout has no function table (the constraint data
    /// has no such lookup then).
    fn table_column(&self, t: constraints::TableColumn) -> TableColumn {
        use constraints::TableColumn as T;
        let function = || self.function_table.expect("the layout has a function table");
        match t {
            T::RangeTag => self.range_table[0],
            T::RangeValue => self.range_table[1],
            T::FunctionTag => function()[0],
            T::FunctionInput => function()[1],
            T::FunctionOutput => function()[2],
        }
    }
}
