//! Division chip: `y = round_div(e · P, S)` for Softmax, `P = 2^output_scale`.
//!
//! Gate `division` (enable `q_division`), lanes `e, S, h, y, r` = lanes 0..5 with `h = floor(S/2)`
//! given: `y·S + r = e·P + h`, and the accumulator holds `S - 1 - r`, which the rescale gate on the
//! row checks to be in `[0, 2^w)`. The caller range-checks `r ≥ 0` and `y` (see
//! `compile::output`), so `0 ≤ r < S` and, all values being small, `y = floor((e·P + h) / S)`
//! over the integers: the rounding rule of `zkinfer_models::numeric::round_div`.

use super::range::{RangeInstructions, Rescale};
use crate::builder::{Builder, CellRef, Operand};
use crate::constraints::{Expr, Gate, GateBuilder};
use crate::layout::{Layout, NamedFixed};

/// The gate `division`.
pub(crate) fn gates(layout: Layout) -> Vec<Gate> {
    let mut q = GateBuilder::new(layout);
    let q_div = q.named(NamedFixed::QDivision);
    let p = q.named(NamedFixed::DivisionScale);
    let (e, s, h, y, r) = (q.lane(0), q.lane(1), q.lane(2), q.lane(3), q.lane(4));
    let acc = q.acc(0);
    let one = Expr::Constant(1);
    vec![q.gate(
        "division",
        vec![
            ("y·S + r = e·P + h", q_div.clone() * (y * s.clone() + r.clone() - e * p - h)),
            ("acc = S - 1 - r", q_div * (acc - (s - one - r))),
        ],
    )]
}

/// Cells of one division.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divided {
    /// The quotient `y` (not yet range-checked).
    pub quotient: CellRef,
    /// The remainder `r` (not yet checked to be ≥ 0).
    pub remainder: CellRef,
}

/// Rounded division by a cell.
pub trait DivisionInstructions {
    /// `round_div(e · 2^p_shift, S)` given `half = floor(S / 2)`; `bits` bounds `S`.
    fn divide(&mut self, e: CellRef, sum: CellRef, half: CellRef, p_shift: u32, bits: u32) -> Divided;
}

impl DivisionInstructions for Builder {
    fn divide(&mut self, e: CellRef, sum: CellRef, half: CellRef, p_shift: u32, bits: u32) -> Divided {
        let row = self.new_row();
        let lane = |b: &Builder, i| CellRef { column: b.layout.lane(i), row };
        let ev = self.place(Operand::Cell(e), lane(self, 0));
        let sv = self.place(Operand::Cell(sum), lane(self, 1));
        let hv = self.place(Operand::Cell(half), lane(self, 2));
        let num = (ev << p_shift) + hv;
        let y = if sv > 0 { num.div_euclid(sv) } else { 0 };
        let r = num - y * sv;
        let quotient = self.set_advice(row, self.layout.lane(3), y);
        let remainder = self.set_advice(row, self.layout.lane(4), r);
        self.set_fixed(row, self.layout.fixed(NamedFixed::QDivision), 1);
        self.set_fixed(row, self.layout.fixed(NamedFixed::DivisionScale), 1i64 << p_shift);
        self.set_advice(row, self.layout.acc(), sv - 1 - r);
        self.rescale_row(row, Rescale::unsigned(bits));
        Divided { quotient, remainder }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::chips::linear::LinearInstructions;
    use crate::testing::{assert_fails_with, mock, test_layout};

    fn circuit(e: i64, s: i64) -> (crate::builder::CircuitSpec, crate::builder::Witness, Divided) {
        let mut b = Builder::new(test_layout());
        let x = b.public_inputs(&[e, s]);
        let half = b.linear(&[(x[1], 1)], -1, Rescale { shift: 1, lo: 0, bits: 12, relu: false, clamp: None });
        let d = b.divide(x[0], x[1], half, 4, 12);
        let r = b.linear(&[(d.remainder, 1)], 0, Rescale::unsigned(12));
        let _ = r;
        b.public_outputs(&[d.quotient]);
        let (spec, w) = b.finish();
        (spec, w, d)
    }

    #[test]
    fn rounded_quotients_pass() {
        for (e, s) in [(7, 3), (1, 1), (0, 5), (100, 7), (9, 2), (5, 10)] {
            let (spec, w, d) = circuit(e, s);
            assert_eq!(w.advice[d.quotient.column][d.quotient.row], zkinfer_models::numeric::round_div(e << 4, s));
            mock(&spec, &w).unwrap_or_else(|f| panic!("{e}/{s}: {f:?}"));
        }
    }

    #[test]
    fn a_quotient_one_too_small_fails_the_remainder_check() {
        // y - 1 with r + S keeps the product relation but r ≥ S.
        let (spec, mut w, d) = circuit(100, 7);
        w.advice[d.quotient.column][d.quotient.row] -= 1;
        w.advice[d.remainder.column][d.remainder.row] += 7;
        w.advice[spec.layout.acc()][d.quotient.row] -= 7;
        let n = w.instance.len();
        w.instance[n - 1] -= 1;
        assert_fails_with(&spec, &w, &["rescale", "permutation"]);
    }

    #[test]
    fn a_wrong_quotient_fails_the_division_gate() {
        let (spec, mut w, d) = circuit(100, 7);
        w.advice[d.quotient.column][d.quotient.row] += 1;
        let n = w.instance.len();
        w.instance[n - 1] += 1;
        assert_fails_with(&spec, &w, &["division"]);
    }

    // Forgeries that keep every copy, limb and public value consistent, so that only the named
    // relation can fail.

    use crate::testing::Forgery;

    #[test]
    fn isolates_the_product_relation() {
        let (spec, w, d) = circuit(100, 7);
        let mut f = Forgery::new(spec, w);
        f.set(d.quotient, f.get(d.quotient) + 1);
        f.assert_only(&["division: y·S + r = e·P + h"]);
    }

    #[test]
    fn isolates_the_remainder_relation() {
        let (spec, w, d) = circuit(100, 7);
        let row = d.quotient.row;
        let mut f = Forgery::new(spec, w);
        let acc = CellRef { column: f.spec.layout.acc(), row };
        f.set(acc, f.get(acc) - 1);
        f.redo_rescale(row);
        f.assert_only(&["division: acc = S - 1 - r"]);
    }

    #[test]
    fn isolates_the_remainder_bound() {
        // y - 1 with r + S: the product relation holds, acc = S - 1 - r is negative; its limb
        // holds that negative value so the rescale relations hold, and the remainder's own range
        // row (r ≥ 0) is re-derived honestly: only the range lookup of S - 1 - r can fail.
        let (spec, w, d) = circuit(100, 7);
        let row = d.quotient.row;
        let mut f = Forgery::new(spec, w);
        let l = f.spec.layout;
        f.set(d.quotient, f.get(d.quotient) - 1);
        let r = f.get(d.remainder) + 7;
        f.set(d.remainder, r);
        f.set(CellRef { column: l.acc(), row }, 7 - 1 - r);
        f.set(CellRef { column: l.limb(0), row }, 7 - 1 - r);
        f.set(CellRef { column: l.limb(1), row }, 0);
        f.set(CellRef { column: l.out(), row }, 7 - 1 - r);
        // The remainder's range row: a one-term chain on the next row.
        let check = row + 1;
        f.set(CellRef { column: l.acc(), row: check }, r);
        f.redo_rescale(check);
        f.assert_only(&["range lookup"]);
    }
}
