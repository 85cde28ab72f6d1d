//! The row builder: chips emit rows into it through their instruction traits, and it records
//! everything a circuit needs as plain integers: fixed values, advice values (the witness),
//! copy constraints, constants and the public-input bindings. [`Builder::finish`] splits that
//! into a [`CircuitSpec`] (what keygen needs; identical with or without a witness) and a
//! [`Witness`].

use serde::{Deserialize, Serialize};

use crate::layout::Layout;

/// An advice cell: column index (see [`Layout`]) and row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CellRef {
    /// Advice column index.
    pub column: usize,
    /// Row.
    pub row: usize,
}

/// A row operand: an existing cell (copied) or a constant (bound to halo2's constants column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// Copy of this cell.
    Cell(CellRef),
    /// This constant.
    Constant(i64),
}

/// Everything about a circuit that does not depend on the input: keygen builds the same spec
/// with and without a witness.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitSpec {
    /// Column counts.
    pub layout: Layout,
    /// Rows used by the model.
    pub rows: usize,
    /// Fixed values, `[column][row]`, `rows` long.
    pub fixed: Vec<Vec<i64>>,
    /// Copy constraints between advice cells.
    pub copies: Vec<(CellRef, CellRef)>,
    /// Advice cells bound to constants.
    pub constants: Vec<(CellRef, i64)>,
    /// Advice cells copied from the instance column: `(cell, instance row)`.
    pub instance_inputs: Vec<(CellRef, usize)>,
    /// Advice cells exposed in the instance column: `(cell, instance row)`.
    pub instance_outputs: Vec<(CellRef, usize)>,
    /// Number of public values (instance rows).
    pub instance_len: usize,
    /// Function table rows `(tag, input, output)`, without the all-zero row.
    pub function_table: Vec<[i64; 3]>,
}

/// Advice values and public values of one proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// Advice values, `[column][row]`.
    pub advice: Vec<Vec<i64>>,
    /// Public values, in instance order.
    pub instance: Vec<i64>,
}

/// Collects rows. Chips add rows through their instruction traits.
#[derive(Debug)]
pub struct Builder {
    pub(crate) layout: Layout,
    fixed: Vec<Vec<i64>>,
    advice: Vec<Vec<i64>>,
    copies: Vec<(CellRef, CellRef)>,
    constants: Vec<(CellRef, i64)>,
    instance_inputs: Vec<(CellRef, usize)>,
    instance_outputs: Vec<(CellRef, usize)>,
    instance: Vec<i64>,
    pub(crate) function_table: Vec<[i64; 3]>,
    /// The most limbs any rescale row needed (may exceed `layout.limbs`; see `limbs_needed`).
    pub(crate) limbs_needed: usize,
    /// The first rescale `(shift, bits)` wider than
    /// [`MAX_RESCALE_BITS`](zkinfer_models::numeric::MAX_RESCALE_BITS): its row was left
    /// empty, and compilation fails with [`CompileError::RescaleTooWide`](crate::CompileError).
    pub(crate) too_wide: Option<(u32, u32)>,
    /// Tests only: `delta` is added to whatever is written into this cell, and everything
    /// computed from it afterwards follows, as a dishonest prover's witness generation would.
    #[cfg(test)]
    pub(crate) tamper: Option<(CellRef, i64)>,
}

impl Builder {
    /// An empty builder for `layout`.
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            fixed: vec![Vec::new(); layout.fixed_columns()],
            advice: vec![Vec::new(); layout.advice_columns()],
            copies: Vec::new(),
            constants: Vec::new(),
            instance_inputs: Vec::new(),
            instance_outputs: Vec::new(),
            instance: Vec::new(),
            function_table: Vec::new(),
            limbs_needed: 0,
            too_wide: None,
            #[cfg(test)]
            tamper: None,
        }
    }

    /// Rows used so far.
    pub fn rows(&self) -> usize {
        self.advice.first().map_or(0, Vec::len)
    }

    /// Appends an all-zero row and returns its index.
    pub(crate) fn new_row(&mut self) -> usize {
        let row = self.rows();
        self.fixed.iter_mut().for_each(|c| c.push(0));
        self.advice.iter_mut().for_each(|c| c.push(0));
        row
    }

    pub(crate) fn set_fixed(&mut self, row: usize, column: usize, value: i64) {
        self.fixed[column][row] = value;
    }

    pub(crate) fn set_advice(&mut self, row: usize, column: usize, value: i64) -> CellRef {
        let cell = CellRef { column, row };
        #[cfg(test)]
        let value = match self.tamper {
            Some((c, delta)) if c == cell => value + delta,
            _ => value,
        };
        self.advice[column][row] = value;
        cell
    }

    /// The witness value of a cell.
    pub fn value(&self, cell: CellRef) -> i64 {
        self.advice[cell.column][cell.row]
    }

    /// Places `operand` into `dst` (copying a cell's value with a copy constraint, or binding
    /// a constant) and returns its value.
    pub(crate) fn place(&mut self, operand: Operand, dst: CellRef) -> i64 {
        let v = match operand {
            Operand::Cell(src) => {
                self.copies.push((src, dst));
                self.value(src)
            }
            Operand::Constant(c) => {
                self.constants.push((dst, c));
                c
            }
        };
        self.advice[dst.column][dst.row] = v;
        v
    }

    /// Public inputs: places `values` into the copy lanes of fresh rows, each copied from the next
    /// instance row. Returns their cells in order.
    pub fn public_inputs(&mut self, values: &[i64]) -> Vec<CellRef> {
        let mut cells = Vec::with_capacity(values.len());
        for chunk in values.chunks(self.layout.copy_lanes()) {
            let row = self.new_row();
            for (lane, &v) in chunk.iter().enumerate() {
                let cell = self.set_advice(row, self.layout.lane(lane), v);
                self.instance_inputs.push((cell, self.instance.len()));
                self.instance.push(v);
                cells.push(cell);
            }
        }
        cells
    }

    /// Exposes cells as the next public values.
    pub fn public_outputs(&mut self, cells: &[CellRef]) {
        for &cell in cells {
            self.instance_outputs.push((cell, self.instance.len()));
            self.instance.push(self.value(cell));
        }
    }

    /// Splits the builder into the spec and the witness.
    pub fn finish(self) -> (CircuitSpec, Witness) {
        let rows = self.rows();
        let spec = CircuitSpec {
            layout: self.layout,
            rows,
            fixed: self.fixed,
            copies: self.copies,
            constants: self.constants,
            instance_inputs: self.instance_inputs,
            instance_outputs: self.instance_outputs,
            instance_len: self.instance.len(),
            function_table: self.function_table,
        };
        (spec, Witness { advice: self.advice, instance: self.instance })
    }
}

impl CircuitSpec {
    /// Rows the lookup tables need (the all-zero row included).
    pub fn table_rows(&self) -> usize {
        self.range_table_rows().max(self.function_table.len() + 1)
    }

    /// Rows of the range table.
    pub fn range_table_rows(&self) -> usize {
        (1usize << (self.layout.range_bits + 1)) - 1
    }
}
