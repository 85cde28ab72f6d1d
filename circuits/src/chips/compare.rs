//! Compare chip: maximum and minimum of two values, and the index of an argmax.
//!
//! Gate `compare` (enable `q_max`), lanes `a, b, s, m, n` = lanes 0..5:
//! `s ∈ {0, 1}`, `m = b + s·(a - b)`, `n = a + b - m`, and the accumulator holds
//! `d = s·(a - b) + (1 - s)·(b - a - 1)`, which the rescale gate on the same row range-checks
//! to `[0, 2^w)`. So `s = 1` exactly when `a ≥ b` (ties keep `a`), `m = max(a, b)` and
//! `n = min(a, b)`. Operands must lie within `w - 1` signed bits for the check to be sound,
//! which the producers' range checks guarantee.
//!
//! Gate `argmax` (enable `q_argmax`) on a compare row, lanes 5 and 6:
//! `i_new = s · i_prev + (1 - s) · j` with `j` a fixed column: the running index of the first
//! maximum when the row compares the running maximum `a` with element `j` as `b`.

use super::range::{RangeInstructions, Rescale};
use crate::builder::{Builder, CellRef, Operand};
use crate::constraints::{Expr, Gate, GateBuilder};
use crate::layout::{Layout, NamedFixed};

const A: usize = 0;
const B: usize = 1;
const S: usize = 2;
const M: usize = 3;
const N: usize = 4;
const I_PREV: usize = 5;
const I_NEW: usize = 6;

/// The gates `compare` and `argmax`.
pub(crate) fn gates(layout: Layout) -> Vec<Gate> {
    let mut q = GateBuilder::new(layout);
    let q_max = q.named(NamedFixed::QMax);
    let (a, b, s, m, n) = (q.lane(A), q.lane(B), q.lane(S), q.lane(M), q.lane(N));
    let d = q.acc(0);
    let one = Expr::Constant(1);
    let compare = q.gate(
        "compare",
        vec![
            ("s is boolean", q_max.clone() * (s.clone() * s.clone() - s.clone())),
            ("m = b + s·(a - b)", q_max.clone() * (m.clone() - b.clone() - s.clone() * (a.clone() - b.clone()))),
            ("n = a + b - m", q_max.clone() * (n - a.clone() - b.clone() + m)),
            (
                "d = s·(a - b) + (1 - s)·(b - a - 1)",
                q_max * (d - s.clone() * (a.clone() - b.clone()) - (one.clone() - s) * (b - a - one)),
            ),
        ],
    );
    let mut q = GateBuilder::new(layout);
    let q_arg = q.named(NamedFixed::QArgMax);
    let j = q.named(NamedFixed::ArgMaxIndex);
    let (s, i_prev, i_new) = (q.lane(S), q.lane(I_PREV), q.lane(I_NEW));
    let one = Expr::Constant(1);
    let argmax =
        q.gate("argmax", vec![("i_new = s·i_prev + (1 - s)·j", q_arg * (i_new - s.clone() * i_prev - (one - s) * j))]);
    vec![compare, argmax]
}

/// Cells of one comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compared {
    /// `max(a, b)`.
    pub max: CellRef,
    /// `min(a, b)`.
    pub min: CellRef,
    /// The row (for the argmax index lanes).
    pub row: usize,
}

/// Comparisons.
pub trait CompareInstructions {
    /// `max(a, b)` and `min(a, b)` of two operands within `bits - 1` signed bits... see module docs;
    /// `bits` is the width of the difference check.
    fn compare(&mut self, a: Operand, b: Operand, bits: u32) -> Compared;

    /// Index of the first maximum of `values` (each within `bits - 1` signed bits).
    fn argmax(&mut self, values: &[CellRef], bits: u32) -> CellRef;
}

impl CompareInstructions for Builder {
    fn compare(&mut self, a: Operand, b: Operand, bits: u32) -> Compared {
        let row = self.new_row();
        let lane = |i| CellRef { column: self.layout.lane(i), row };
        let (la, lb, ls, lm, ln) = (lane(A), lane(B), lane(S), lane(M), lane(N));
        let av = self.place(a, la);
        let bv = self.place(b, lb);
        let s = i64::from(av >= bv);
        let (m, n) = if s == 1 { (av, bv) } else { (bv, av) };
        let d = if s == 1 { av - bv } else { bv - av - 1 };
        self.set_advice(row, ls.column, s);
        let max = self.set_advice(row, lm.column, m);
        let min = self.set_advice(row, ln.column, n);
        self.set_advice(row, self.layout.acc(), d);
        self.set_fixed(row, self.layout.fixed(NamedFixed::QMax), 1);
        self.rescale_row(row, Rescale::unsigned(bits));
        Compared { max, min, row }
    }

    fn argmax(&mut self, values: &[CellRef], bits: u32) -> CellRef {
        let Some((&first, rest)) = values.split_first() else {
            unreachable!("argmax over an empty axis is rejected by shape inference");
        };
        let mut best = first;
        let mut index: Option<CellRef> = None;
        for (j, &v) in rest.iter().enumerate() {
            let c = self.compare(Operand::Cell(best), Operand::Cell(v), bits);
            let prev = CellRef { column: self.layout.lane(I_PREV), row: c.row };
            let i_prev = self.place(index.map_or(Operand::Constant(0), Operand::Cell), prev);
            let s = self.value(CellRef { column: self.layout.lane(S), row: c.row });
            let i_new = if s == 1 { i_prev } else { (j + 1) as i64 };
            self.set_fixed(c.row, self.layout.fixed(NamedFixed::QArgMax), 1);
            self.set_fixed(c.row, self.layout.fixed(NamedFixed::ArgMaxIndex), (j + 1) as i64);
            index = Some(self.set_advice(c.row, self.layout.lane(I_NEW), i_new));
            best = c.max;
        }
        match index {
            Some(i) => i,
            None => {
                // A single element: the index is the constant 0, held in a fresh row's lane.
                let row = self.new_row();
                let cell = CellRef { column: self.layout.lane(0), row };
                self.place(Operand::Constant(0), cell);
                cell
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::testing::{assert_fails_with, mock, test_layout};

    fn max_circuit(a: i64, b: i64) -> (crate::builder::CircuitSpec, crate::builder::Witness, Compared) {
        let mut builder = Builder::new(test_layout());
        let x = builder.public_inputs(&[a, b]);
        let c = builder.compare(Operand::Cell(x[0]), Operand::Cell(x[1]), 9);
        builder.public_outputs(&[c.max, c.min]);
        let (spec, w) = builder.finish();
        (spec, w, c)
    }

    #[test]
    fn honest_comparisons_pass() {
        for (a, b) in [(3, 5), (5, 3), (4, 4), (-128, 127), (127, -128), (0, 0), (-1, 0)] {
            let (spec, w, c) = max_circuit(a, b);
            assert_eq!(w.advice[c.max.column][c.max.row], a.max(b));
            assert_eq!(w.advice[c.min.column][c.min.row], a.min(b));
            mock(&spec, &w).unwrap_or_else(|e| panic!("{a} vs {b}: {e:?}"));
        }
    }

    #[test]
    fn claiming_the_smaller_value_as_max_fails() {
        // Swap the outputs and flip s: m, n and s are consistent, the difference is negative.
        let (spec, mut w, c) = max_circuit(3, 5);
        let s = CellRef { column: spec.layout.lane(S), row: c.row };
        w.advice[s.column][s.row] = 1;
        w.advice[c.max.column][c.max.row] = 3;
        w.advice[c.min.column][c.min.row] = 5;
        let acc = spec.layout.acc();
        w.advice[acc][c.row] = -2; // d = a - b
        let n = w.instance.len();
        w.instance[n - 2] = 3;
        w.instance[n - 1] = 5;
        assert_fails_with(&spec, &w, &["rescale"]);
    }

    #[test]
    fn a_non_boolean_selector_fails() {
        let (spec, mut w, c) = max_circuit(3, 5);
        w.advice[spec.layout.lane(S)][c.row] = 2;
        assert_fails_with(&spec, &w, &["compare"]);
    }

    #[test]
    fn ties_keep_the_first_index() {
        let mut b = Builder::new(test_layout());
        let xs = b.public_inputs(&[2, 7, 7, -3, 7]);
        let idx = b.argmax(&xs, 9);
        assert_eq!(b.value(idx), 1);
        b.public_outputs(&[idx]);
        let (spec, mut w) = b.finish();
        mock(&spec, &w).expect("honest argmax");
        // Claim the later tie (index 2): the selector on that row would have to be 0 with d = -1.
        let n = w.instance.len();
        w.instance[n - 1] = 2;
        assert_fails_with(&spec, &w, &["permutation"]);
    }

    #[test]
    fn a_wrong_index_fails_the_argmax_gate() {
        let mut b = Builder::new(test_layout());
        let xs = b.public_inputs(&[2, 9, 4]);
        let idx = b.argmax(&xs, 9);
        b.public_outputs(&[idx]);
        let (spec, mut w) = b.finish();
        w.advice[idx.column][idx.row] = 2;
        let n = w.instance.len();
        w.instance[n - 1] = 2;
        assert_fails_with(&spec, &w, &["argmax"]);
    }

    // Forgeries that keep every copy, limb and public value consistent, so that only the named
    // relation can fail.

    use crate::testing::Forgery;

    fn forgery(a: i64, b: i64) -> (Forgery, usize) {
        let (spec, w, c) = max_circuit(a, b);
        (Forgery::new(spec, w), c.row)
    }

    fn cell(f: &Forgery, lane: usize, row: usize) -> CellRef {
        CellRef { column: f.spec.layout.lane(lane), row }
    }

    #[test]
    fn isolates_the_boolean_selector() {
        // s = 2 for (5, 3): m = 3 + 2·2 = 7, n = 1, d = 2·2 + (1 - 2)·(3 - 5 - 1) = 7, all consistent.
        let (mut f, row) = forgery(5, 3);
        f.set(cell(&f, S, row), 2);
        f.set(cell(&f, M, row), 7);
        f.set(cell(&f, N, row), 1);
        f.set(CellRef { column: f.spec.layout.acc(), row }, 7);
        f.redo_rescale(row);
        f.assert_only(&["compare: s is boolean"]);
    }

    #[test]
    fn isolates_each_output_relation() {
        let (mut f, row) = forgery(5, 3);
        // A larger maximum with the minimum lowered to match: only m's relation breaks.
        f.set(cell(&f, M, row), 6);
        f.set(cell(&f, N, row), 2);
        f.assert_only(&["compare: m = b + s·(a - b)"]);
        let (mut f, row) = forgery(5, 3);
        f.set(cell(&f, N, row), 4);
        f.assert_only(&["compare: n = a + b - m"]);
        let (mut f, row) = forgery(5, 3);
        f.set(CellRef { column: f.spec.layout.acc(), row }, 3);
        f.redo_rescale(row);
        f.assert_only(&["compare: d = s·(a - b) + (1 - s)·(b - a - 1)"]);
    }

    #[test]
    fn isolates_the_difference_range_check() {
        // Claim max(3, 5) = 3: s = 1, m = 3, n = 5 and d = a - b = -2 satisfy every compare
        // relation; d's single limb holds -2 so the rescale relations hold too: only the range
        // lookup can refuse it.
        let (mut f, row) = forgery(3, 5);
        f.set(cell(&f, S, row), 1);
        f.set(cell(&f, M, row), 3);
        f.set(cell(&f, N, row), 5);
        let l = f.spec.layout;
        f.set(CellRef { column: l.acc(), row }, -2);
        f.set(CellRef { column: l.limb(0), row }, -2);
        f.set(CellRef { column: l.out(), row }, -2);
        f.set(CellRef { column: l.limb(1), row }, 0);
        f.assert_only(&["range lookup"]);
    }

    #[test]
    fn isolates_the_argmax_gate_and_ties_need_the_range_check() {
        let argmax = |values: &[i64]| {
            let mut b = Builder::new(test_layout());
            let xs = b.public_inputs(values);
            let idx = b.argmax(&xs, 9);
            b.public_outputs(&[idx]);
            let (spec, w) = b.finish();
            (Forgery::new(spec, w), idx)
        };
        // A wrong index on the last row, everything else honest.
        let (mut f, idx) = argmax(&[2, 9, 4]);
        f.set(idx, 2);
        f.assert_only(&["argmax: i_new = s·i_prev + (1 - s)·j"]);
        // Ties keep the first index: claiming the later 7 (index 2) needs s = 0 on the row that
        // compares 7 with 7, so d = b - a - 1 = -1, which only the range lookup refuses; the
        // later rows carry the forged index through their (honest) argmax relation.
        let (mut f, idx) = argmax(&[2, 7, 7, -3, 7]);
        let l = f.spec.layout;
        let q_arg = l.fixed(NamedFixed::QArgMax);
        let rows: Vec<usize> = (0..f.spec.rows).filter(|&r| f.spec.fixed[q_arg][r] == 1).collect();
        let tie = rows[1];
        assert_eq!((f.get(cell(&f, A, tie)), f.get(cell(&f, B, tie))), (7, 7));
        f.set(cell(&f, S, tie), 0);
        f.set(CellRef { column: l.acc(), row: tie }, -1);
        f.set(CellRef { column: l.limb(0), row: tie }, -1);
        f.set(CellRef { column: l.out(), row: tie }, -1);
        f.set(cell(&f, I_NEW, tie), 2);
        for &row in &rows[2..] {
            let (s, prev, j) = (
                f.get(cell(&f, S, row)),
                f.get(cell(&f, I_PREV, row)),
                f.spec.fixed[l.fixed(NamedFixed::ArgMaxIndex)][row],
            );
            f.set(cell(&f, I_NEW, row), s * prev + (1 - s) * j);
        }
        assert_eq!(f.get(idx), 2, "the forged index reaches the output");
        f.assert_only(&["range lookup"]);
    }
}
