//! Product chip: the element-wise product of two activations (`Mul` of two tensors, HardSwish's
//! `x · HardSigmoid(x)`, a gate's `x · Sigmoid(x)`), rescaled to its output scale.
//!
//! Gate `product` (enable `q_product`), lanes `a, b` = lanes 0 and 1 (copies of the operands):
//! `acc = a · b`. The rescale gate on the same row rounds the accumulator by the op's shift into
//! `out` and range-checks it ([`super::range`]), as on the last row of a linear chain. All
//! values are small integers (operands of at most 16 bits), so the relation holds over the
//! integers.

use super::range::{RangeInstructions, Rescale};
use crate::builder::{Builder, CellRef, Operand};
use crate::constraints::{Gate, GateBuilder};
use crate::layout::{Layout, NamedFixed};

/// The gate `product`.
pub(crate) fn gates(layout: Layout) -> Vec<Gate> {
    let mut q = GateBuilder::new(layout);
    let q_product = q.named(NamedFixed::QProduct);
    let (a, b) = (q.lane(0), q.lane(1));
    let acc = q.acc(0);
    vec![q.gate("product", vec![("acc = a·b", q_product * (acc - a * b))])]
}

/// Products of two cells.
pub trait ProductInstructions {
    /// `rescale(a · b)`: the product rounded by `rescale.shift` into a range-checked output
    /// cell.
    fn multiply(&mut self, a: CellRef, b: CellRef, rescale: Rescale) -> CellRef;
}

impl ProductInstructions for Builder {
    fn multiply(&mut self, a: CellRef, b: CellRef, rescale: Rescale) -> CellRef {
        let row = self.new_row();
        let lane = |b: &Builder, i| CellRef { column: b.layout.lane(i), row };
        let av = self.place(Operand::Cell(a), lane(self, 0));
        let bv = self.place(Operand::Cell(b), lane(self, 1));
        self.set_fixed(row, self.layout.fixed(NamedFixed::QProduct), 1);
        self.set_advice(row, self.layout.acc(), av * bv);
        self.rescale_row(row, rescale)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::testing::{Forgery, assert_fails_with, mock, test_layout};

    /// `round_shift(a · b, shift)` of two public inputs, as a public output.
    fn circuit(a: i64, b: i64, rescale: Rescale) -> (crate::builder::CircuitSpec, crate::builder::Witness, CellRef) {
        let mut builder = Builder::new(test_layout());
        let x = builder.public_inputs(&[a, b]);
        let y = builder.multiply(x[0], x[1], rescale);
        builder.public_outputs(&[y]);
        let (spec, w) = builder.finish();
        (spec, w, y)
    }

    #[test]
    fn rounded_products_pass() {
        for (a, b, shift) in [(7, 3, 0), (-7, 3, 1), (-128, -128, 6), (127, -1, 2), (0, 55, 3), (45, 45, 4)] {
            for relu in [false, true] {
                let rescale = Rescale::signed_relu(shift, 12, relu);
                let (spec, w, y) = circuit(a, b, rescale);
                let rounded = zkinfer_models::numeric::round_shift(a * b, shift);
                let want = if relu { rounded.max(0) } else { rounded };
                assert_eq!(w.advice[y.column][y.row], want, "{a}·{b} >> {shift}");
                mock(&spec, &w).unwrap_or_else(|f| panic!("{a}·{b}: {f:?}"));
            }
        }
    }

    #[test]
    fn a_wrong_product_fails() {
        let (spec, mut w, y) = circuit(-7, 3, Rescale::signed(0, 12));
        w.advice[y.column][y.row] += 1;
        let n = w.instance.len();
        w.instance[n - 1] += 1;
        assert_fails_with(&spec, &w, &["rescale"]);
    }

    #[test]
    fn a_product_outside_the_output_range_fails() {
        // 100 · 100 = 10,000 does not fit 12 signed bits: the limbs cannot hold it, so the
        // rescale relations fail whatever the prover writes.
        let (spec, w, _) = circuit(100, 100, Rescale::signed(0, 12));
        assert_fails_with(&spec, &w, &["rescale"]);
    }

    // Forgeries that keep every copy, limb and public value consistent, so that only the named
    // relation can fail.

    #[test]
    fn isolates_the_product_relation() {
        let (spec, w, y) = circuit(-7, 3, Rescale::signed(1, 12));
        let row = y.row;
        let mut f = Forgery::new(spec, w);
        let acc = CellRef { column: f.spec.layout.acc(), row };
        f.set(acc, f.get(acc) + 2);
        f.redo_rescale(row);
        f.assert_only(&["product: acc = a·b"]);
    }

    #[test]
    fn isolates_the_operand_copy() {
        // Another operand in lane 1 than the input it copies, with the product and the rescale
        // made consistent with it: only the copy constraint can fail.
        let (spec, w, y) = circuit(-7, 3, Rescale::signed(0, 12));
        let row = y.row;
        let mut f = Forgery::new(spec, w);
        let lane = f.spec.layout.lane(1);
        f.witness.advice[lane][row] = 4;
        let acc = CellRef { column: f.spec.layout.acc(), row };
        f.set(acc, -28);
        f.redo_rescale(row);
        f.assert_only(&["permutation"]);
    }
}
