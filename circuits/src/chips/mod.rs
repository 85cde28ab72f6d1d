//! Chips, one per op family, halo2_gadgets style: each file holds its gate (`configure`), the
//! instruction trait the compiler calls, that trait's implementation on the [`Builder`](crate::builder::Builder)
//! (which emits rows), and MockProver tests with honest and tampered witnesses.
//!
//! All chips share one set of columns ([`ModelConfig`]), created here in a fixed, documented
//! order (the transcript and the circuit identity depend on it):
//! 1. advice: `lanes` lane columns, the accumulator, the rescaled output, `limbs` limb columns;
//! 2. fixed: one weight column per lane, the [`NamedFixed`] columns in their declared order,
//!    then per limb its coefficient, output coefficient and width tag;
//! 3. the constants column, the instance column;
//! 4. table columns: the range table (tag, value), then the function table (tag, input,
//!    output) when the layout has one;
//! 5. gates in the order linear (with outer product and shift for
//!    [`LinearLayout::OuterProduct`](crate::layout::LinearLayout)), rescale, compare, argmax,
//!    division; lookups: one range lookup per limb, then the function lookup.
//!
//! Equality is enabled on the instance column, the `out` column and the first
//! [`Layout::copy_lanes`] lanes: every copy constraint lands in one of them.
//!
//! Gate enables are plain fixed columns, not `Selector`s (see ARCHITECTURE.md).

pub mod compare;
pub mod division;
pub mod function;
pub mod linear;
pub mod range;

use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Expression, Fixed, Instance, TableColumn};
use halo2_proofs::poly::Rotation;

use crate::layout::{Layout, NamedFixed};

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
    /// Creates every column, gate and lookup for `layout` (order: see the module docs).
    pub fn configure<F: ff::PrimeField>(meta: &mut ConstraintSystem<F>, layout: Layout) -> Self {
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
        linear::configure(meta, &config);
        range::configure(meta, &config);
        compare::configure(meta, &config);
        division::configure(meta, &config);
        function::configure(meta, &config);
        config
    }
}

/// Shorthands for querying the shared columns inside a gate.
pub(crate) struct Query<'a, 'b, F: ff::Field> {
    pub meta: &'a mut halo2_proofs::plonk::VirtualCells<'b, F>,
    pub config: &'a ModelConfig,
}

impl<F: ff::Field> Query<'_, '_, F> {
    pub fn lane(&mut self, i: usize) -> Expression<F> {
        self.lane_at(i, Rotation::cur())
    }
    pub fn lane_at(&mut self, i: usize, rotation: Rotation) -> Expression<F> {
        self.meta.query_advice(self.config.advice[self.config.layout.lane(i)], rotation)
    }
    pub fn acc(&mut self, rotation: Rotation) -> Expression<F> {
        self.meta.query_advice(self.config.advice[self.config.layout.acc()], rotation)
    }
    pub fn out(&mut self) -> Expression<F> {
        self.meta.query_advice(self.config.advice[self.config.layout.out()], Rotation::cur())
    }
    pub fn limb(&mut self, i: usize) -> Expression<F> {
        self.meta.query_advice(self.config.advice[self.config.layout.limb(i)], Rotation::cur())
    }
    pub fn fixed(&mut self, column: usize) -> Expression<F> {
        self.meta.query_fixed(self.config.fixed[column])
    }
    pub fn named(&mut self, f: NamedFixed) -> Expression<F> {
        let c = self.config.layout.fixed(f);
        self.fixed(c)
    }
}
