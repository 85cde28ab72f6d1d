//! Function chip: element-wise functions tabulated over their whole input range (Sigmoid, Tanh,
//! Softmax's exponential). Tables are computed with integers at quantization and stored in the
//! quantized model; here they become rows `(tag, input, output)` of one fixed lookup table.
//!
//! Lookup `function` (enable `q_function`): `(tag, q·x, q·y)` with `x` = lane 0, `y` = lane 1 is a
//! table row. Rows without the enable look up `(0, 0, 0)`, which the table always holds.

use crate::builder::{Builder, CellRef, Operand};
use crate::constraints::{GateBuilder, Lookup, TableColumn};
use crate::layout::{Layout, NamedFixed};
use zkinfer_models::quantized::LookupTable;

/// The function lookup, when the layout has the function table.
pub(crate) fn lookups(layout: Layout) -> Vec<Lookup> {
    if !layout.function_table {
        return Vec::new();
    }
    let mut q = GateBuilder::new(layout);
    let on = q.named(NamedFixed::QFunction);
    let tag = q.named(NamedFixed::FunctionTag);
    let (x, y) = (q.lane(0), q.lane(1));
    let inputs = vec![
        (tag, TableColumn::FunctionTag),
        (on.clone() * x, TableColumn::FunctionInput),
        (on * y, TableColumn::FunctionOutput),
    ];
    vec![q.lookup("function", inputs)]
}

/// Tabulated functions.
pub trait FunctionInstructions {
    /// Registers a table (identical tables share a tag) and returns its tag.
    fn function_table(&mut self, table: &LookupTable) -> i64;
    /// `y = table[x]` for the table with `tag`. An `x` outside the table gets `y = 0`, which
    /// the lookup then rejects.
    fn apply(&mut self, tag: i64, table: &LookupTable, x: CellRef) -> CellRef;
}

impl FunctionInstructions for Builder {
    fn function_table(&mut self, table: &LookupTable) -> i64 {
        let mut tag = 1;
        let mut start = 0;
        // Tables are stored one after another; find an identical one by content.
        while start < self.function_table.len() {
            let len = self.function_table[start..].iter().take_while(|r| r[0] == tag).count();
            let same = len == table.values.len()
                && self.function_table[start..start + len]
                    .iter()
                    .zip(table.values.iter().enumerate())
                    .all(|(r, (i, &v))| r[1] == table.input_min + i as i64 && r[2] == v);
            if same {
                return tag;
            }
            start += len;
            tag += 1;
        }
        for (i, &v) in table.values.iter().enumerate() {
            self.function_table.push([tag, table.input_min + i as i64, v]);
        }
        tag
    }

    fn apply(&mut self, tag: i64, table: &LookupTable, x: CellRef) -> CellRef {
        let row = self.new_row();
        let xv = self.place(Operand::Cell(x), CellRef { column: self.layout.lane(0), row });
        self.set_fixed(row, self.layout.fixed(NamedFixed::QFunction), 1);
        self.set_fixed(row, self.layout.fixed(NamedFixed::FunctionTag), tag);
        self.set_advice(row, self.layout.lane(1), table.get(xv).unwrap_or(0))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::testing::{assert_fails_with, mock, test_layout};

    fn square_table() -> LookupTable {
        LookupTable { input_min: -4, values: (-4..=4i64).map(|v| v * v).collect() }
    }

    fn circuit(x: i64) -> (crate::builder::CircuitSpec, crate::builder::Witness, CellRef) {
        let mut layout = test_layout();
        layout.function_table = true;
        let mut b = Builder::new(layout);
        let xs = b.public_inputs(&[x]);
        let t = square_table();
        let tag = b.function_table(&t);
        assert_eq!(b.function_table(&t), tag, "identical tables share a tag");
        let y = b.apply(tag, &t, xs[0]);
        b.public_outputs(&[y]);
        let (s, w) = b.finish();
        (s, w, y)
    }

    /// A circuit looking up `x = 1` in a table of `len` rows (`y = x`).
    fn with_table_rows(len: usize) -> (crate::builder::CircuitSpec, crate::builder::Witness) {
        let mut layout = test_layout();
        layout.function_table = true;
        let mut b = Builder::new(layout);
        let xs = b.public_inputs(&[1]);
        let t = LookupTable { input_min: 0, values: (0..len as i64).collect() };
        let tag = b.function_table(&t);
        let y = b.apply(tag, &t, xs[0]);
        b.public_outputs(&[y]);
        b.finish()
    }

    #[test]
    fn a_table_filling_the_budget_keeps_its_k_and_one_row_more_raises_it() {
        let (small, _) = with_table_rows(2);
        let budget = crate::circuit::function_table_budget(&small);
        let (spec, w) = with_table_rows(budget);
        assert_eq!(crate::circuit::required_k(&spec), crate::circuit::required_k(&small));
        // halo2 fills a table column after its last row: a table ending on the last usable
        // row would fail synthesis (`NotEnoughRowsAvailable`) here.
        mock(&spec, &w).expect("a table of the budget's rows fits");
        let (bigger, w) = with_table_rows(budget + 1);
        assert_eq!(crate::circuit::required_k(&bigger), crate::circuit::required_k(&small) + 1);
        mock(&bigger, &w).expect("one row more fits at the next k");
    }

    #[test]
    fn table_values_pass() {
        for x in -4..=4 {
            let (spec, w, y) = circuit(x);
            assert_eq!(w.advice[y.column][y.row], x * x);
            mock(&spec, &w).expect("in table");
        }
    }

    #[test]
    fn a_wrong_output_fails_the_lookup() {
        let (spec, mut w, y) = circuit(3);
        w.advice[y.column][y.row] = 10;
        let n = w.instance.len();
        w.instance[n - 1] = 10;
        assert_fails_with(&spec, &w, &["function lookup"]);
    }

    #[test]
    fn an_input_outside_the_table_fails_the_lookup() {
        let (spec, w, _) = circuit(5);
        assert_fails_with(&spec, &w, &["function lookup"]);
    }

    #[test]
    fn isolates_the_function_lookup() {
        // A wrong output with everything around it consistent: only the lookup can fail.
        let (spec, w, y) = circuit(3);
        let mut f = crate::testing::Forgery::new(spec, w);
        f.set(y, 10);
        assert_eq!(f.witness.instance.last(), Some(&10));
        f.assert_only(&["function lookup"]);
    }
}
