//! Linear chip: multiply-accumulate rows with constant coefficients, for every op that is a
//! linear combination of cells (Dense, Conv, Add/Sub, constants, pooling sums), followed by
//! the rescale chip.
//!
//! Gate `linear` (enable `q_mac`), one row holding up to [`Layout::copy_lanes`] terms:
//! `acc = cont · acc[prev] + Σ_l w_l · x_l + bias`, where `cont` is 0 on a chain's first row
//! and the `x_l` are copies in the lanes. The chain's last row is also its rescale row.
//!
//! With [`LinearLayout::OuterProduct`], outputs that read the same inputs (a Dense layer's
//! outputs; a Conv's output channels at one position) are computed `lanes` at a time:
//! - gate `outer` (enable `q_outer`), one row per input `x` (a copy in the `out` column):
//!   `lane_l = cont · lane_l[prev] + w_l · x` for every lane `l`, so lane `l` accumulates output `l`;
//! - gate `shift` (enable `q_shift`), one row per output after the last `outer` row:
//!   `acc = lane_0[prev] + bias` and `lane_l = lane_(l+1)[prev]`, which hands the accumulators to
//!   the rescale column one per row; each shift row is also that output's rescale row.
//!
//! Inputs whose weights are all zero take no row. Weight columns hold `w + weight_offset`
//! ([`Layout::weight_offset`](crate::layout::Layout::weight_offset)); the gates subtract the
//! offset, so a lane without a term has stored weight `weight_offset`, i.e. weight 0.
//!
//! [`Layout::copy_lanes`]: crate::layout::Layout::copy_lanes

use super::range::{RangeInstructions, Rescale};
use crate::builder::{Builder, CellRef, Operand};
use crate::constraints::{Expr, Gate, GateBuilder};
use crate::layout::{Layout, LinearLayout, NamedFixed};

/// The gates `linear`, and `outer` and `shift` for [`LinearLayout::OuterProduct`].
pub(crate) fn gates(layout: Layout) -> Vec<Gate> {
    let offset = || Expr::Constant(i64::from(layout.weight_offset));
    let mut q = GateBuilder::new(layout);
    let q_mac = q.named(NamedFixed::QMac);
    let cont = q.named(NamedFixed::Cont);
    let bias = q.named(NamedFixed::Bias);
    let acc = q.acc(0);
    let prev = q.acc(-1);
    let mut sum = bias;
    for l in 0..layout.copy_lanes() {
        let w = q.fixed(layout.weight(l)) - offset();
        sum = sum + w * q.lane(l);
    }
    let linear = q.gate("linear", vec![("acc = cont·acc_prev + Σ w·x + bias", q_mac * (acc - cont * prev - sum))]);
    if layout.linear != LinearLayout::OuterProduct {
        return vec![linear];
    }

    let mut q = GateBuilder::new(layout);
    let q_outer = q.named(NamedFixed::QOuter);
    let cont = q.named(NamedFixed::Cont);
    let x = q.out();
    let constraints = (0..layout.lanes)
        .map(|l| {
            let (cur, prev) = (q.lane(l), q.lane_at(l, -1));
            let w = q.fixed(layout.weight(l)) - offset();
            ("lane = cont·lane_prev + w·x", q_outer.clone() * (cur - cont.clone() * prev - w * x.clone()))
        })
        .collect();
    let outer = q.gate("outer", constraints);

    let mut q = GateBuilder::new(layout);
    let q_shift = q.named(NamedFixed::QShift);
    let bias = q.named(NamedFixed::Bias);
    let acc = q.acc(0);
    let mut constraints = vec![("acc = lane0_prev + bias", q_shift.clone() * (acc - q.lane_at(0, -1) - bias))];
    for l in 0..layout.lanes - 1 {
        let (cur, next_prev) = (q.lane(l), q.lane_at(l + 1, -1));
        constraints.push(("lane = next lane_prev", q_shift.clone() * (cur - next_prev)));
    }
    vec![linear, outer, q.gate("shift", constraints)]
}

/// Outputs that read the same inputs with different coefficients: output `o` is
/// `Σ_j weights[o][j] · inputs[j] + biases[o]` (one Dense row, or a Conv's output channels at
/// one position).
#[derive(Clone, Copy, Debug)]
pub struct SharedInputs<'a> {
    /// The input cells.
    pub inputs: &'a [CellRef],
    /// Coefficients per output, each as long as `inputs`.
    pub weights: &'a [Vec<i64>],
    /// Constant term per output.
    pub biases: &'a [i64],
}

/// Linear combinations with constant coefficients.
pub trait LinearInstructions {
    /// `y = round_shift(Σ c_i · x_i + bias, shift)`, with `y` range-checked as `rescale` says.
    /// Returns the cell holding `y`.
    fn linear(&mut self, terms: &[(CellRef, i64)], bias: i64, rescale: Rescale) -> CellRef;

    /// Every output of `group`, rescaled and range-checked as `rescale` says, laid out as the
    /// layout's [`LinearLayout`] says. Returns the output cells in order.
    fn linear_shared(&mut self, group: SharedInputs, rescale: Rescale) -> Vec<CellRef>;
}

impl LinearInstructions for Builder {
    fn linear(&mut self, terms: &[(CellRef, i64)], bias: i64, rescale: Rescale) -> CellRef {
        let lanes = self.layout.copy_lanes();
        let chunks: Vec<&[(CellRef, i64)]> = if terms.is_empty() { vec![&[]] } else { terms.chunks(lanes).collect() };
        let mut acc = 0i64;
        let mut row = 0;
        for (i, chunk) in chunks.iter().enumerate() {
            row = self.new_row();
            self.set_fixed(row, self.layout.fixed(NamedFixed::QMac), 1);
            if i == 0 {
                self.set_fixed(row, self.layout.fixed(NamedFixed::Bias), bias);
                acc = bias;
            } else {
                self.set_fixed(row, self.layout.fixed(NamedFixed::Cont), 1);
            }
            for l in 0..lanes {
                // Unused lanes get weight 0, so their (unconstrained) cells cannot add anything.
                let coef = chunk.get(l).map_or(0, |&(cell, coef)| {
                    let x = self.place(Operand::Cell(cell), CellRef { column: self.layout.lane(l), row });
                    acc += coef * x;
                    coef
                });
                self.set_fixed(row, self.layout.weight(l), self.layout.stored_weight(coef));
            }
            self.set_advice(row, self.layout.acc(), acc);
        }
        self.rescale_row(row, rescale)
    }

    fn linear_shared(&mut self, group: SharedInputs, rescale: Rescale) -> Vec<CellRef> {
        debug_assert_eq!(group.weights.len(), group.biases.len());
        match self.layout.linear {
            LinearLayout::DotProduct => group
                .weights
                .iter()
                .zip(group.biases)
                .map(|(w, &bias)| {
                    let terms: Vec<_> =
                        group.inputs.iter().zip(w).filter(|&(_, &c)| c != 0).map(|(&x, &c)| (x, c)).collect();
                    self.linear(&terms, bias, rescale)
                })
                .collect(),
            LinearLayout::OuterProduct => {
                let lanes = self.layout.lanes;
                let mut out = Vec::with_capacity(group.weights.len());
                for (weights, biases) in group.weights.chunks(lanes).zip(group.biases.chunks(lanes)) {
                    out.extend(self.outer_product(group.inputs, weights, biases, rescale));
                }
                out
            }
        }
    }
}

impl Builder {
    /// Up to `lanes` outputs over the same inputs: `outer` rows, then `shift` rows.
    fn outer_product(
        &mut self,
        inputs: &[CellRef],
        weights: &[Vec<i64>],
        biases: &[i64],
        rescale: Rescale,
    ) -> Vec<CellRef> {
        let lanes = self.layout.lanes;
        let mut accs = vec![0i64; lanes];
        let mut rows = 0;
        for (j, &x) in inputs.iter().enumerate() {
            if weights.iter().any(|w| w[j] != 0) {
                self.outer_row(Operand::Cell(x), |l| weights.get(l).map_or(0, |w| w[j]), &mut accs, rows == 0);
                rows += 1;
            }
        }
        if rows == 0 {
            // All weights are zero: one row of zero accumulators for the shift rows to read.
            self.outer_row(Operand::Constant(0), |_| 0, &mut accs, true);
        }
        let mut out = Vec::with_capacity(weights.len());
        for &bias in biases {
            let row = self.new_row();
            self.set_fixed(row, self.layout.fixed(NamedFixed::QShift), 1);
            self.set_fixed(row, self.layout.fixed(NamedFixed::Bias), bias);
            let acc = accs[0] + bias;
            self.set_advice(row, self.layout.acc(), acc);
            accs.rotate_left(1);
            accs[lanes - 1] = 0;
            for (l, &v) in accs.iter().enumerate() {
                self.set_advice(row, self.layout.lane(l), v);
            }
            out.push(self.rescale_row(row, rescale));
        }
        out
    }

    /// One `outer` row: streams `x` into the `out` column and adds `weight(l) · x` to lane `l`.
    fn outer_row(&mut self, x: Operand, weight: impl Fn(usize) -> i64, accs: &mut [i64], first: bool) {
        let row = self.new_row();
        self.set_fixed(row, self.layout.fixed(NamedFixed::QOuter), 1);
        if !first {
            self.set_fixed(row, self.layout.fixed(NamedFixed::Cont), 1);
        }
        let xv = self.place(x, CellRef { column: self.layout.out(), row });
        for (l, acc) in accs.iter_mut().enumerate() {
            let w = weight(l);
            self.set_fixed(row, self.layout.weight(l), self.layout.stored_weight(w));
            *acc = if first { 0 } else { *acc } + w * xv;
            self.set_advice(row, self.layout.lane(l), *acc);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::testing::{assert_fails_with, mock, test_layout};

    fn dot_circuit() -> (Builder, CellRef) {
        let mut b = Builder::new(test_layout());
        // 11 terms span two rows of 8 lanes: 3·x0 - 2·x1 + ... then rescale by 2 bits.
        let xs = b.public_inputs(&[5, -7, 3, 0, 9, -1, 2, 4, -6, 8, 1]);
        let coefs = [3, -2, 1, 4, -5, 6, 7, -8, 2, 1, -1];
        let terms: Vec<_> = xs.iter().copied().zip(coefs).collect();
        let y = b.linear(&terms, 10, Rescale { shift: 2, lo: -128, bits: 8, relu: false, clamp: None });
        b.public_outputs(&[y]);
        (b, y)
    }

    #[test]
    fn honest_dot_product_passes() {
        let (b, y) = dot_circuit();
        let acc: i64 = [5, -7, 3, 0, 9, -1, 2, 4, -6, 8, 1]
            .iter()
            .zip([3, -2, 1, 4, -5, 6, 7, -8, 2, 1, -1])
            .map(|(x, c)| x * c)
            .sum::<i64>()
            + 10;
        assert_eq!(b.value(y), zkinfer_models::numeric::round_shift(acc, 2));
        let (spec, witness) = b.finish();
        mock(&spec, &witness).expect("honest witness");
    }

    #[test]
    fn tampered_accumulator_fails_the_linear_gate() {
        let (b, _) = dot_circuit();
        let (spec, mut witness) = b.finish();
        let layout = spec.layout;
        // The first accumulator cell of the chain (row 2: after the two input rows).
        witness.advice[layout.acc()][2] += 1;
        assert_fails_with(&spec, &witness, &["linear"]);
    }

    #[test]
    fn tampered_lane_breaks_the_copy_constraint() {
        let (b, _) = dot_circuit();
        let (spec, mut witness) = b.finish();
        witness.advice[spec.layout.lane(0)][2] += 1;
        assert_fails_with(&spec, &witness, &["linear", "permutation"]);
    }

    #[test]
    fn an_unused_lane_has_weight_zero() {
        // The chain's second row uses 3 of 8 lanes; lane 5 is unused and unconstrained.
        let (b, y) = dot_circuit();
        let (spec, mut witness) = b.finish();
        let row = y.row;
        let layout = spec.layout;
        assert_eq!(spec.fixed[layout.weight(5)][row], i64::from(layout.weight_offset), "stored weight 0");
        witness.advice[layout.lane(5)][row] = 77;
        mock(&spec, &witness).expect("an unused lane cannot change the accumulator");
        // So a prover who wants a different accumulator through it is caught by the gate.
        witness.advice[layout.acc()][row] += 77;
        assert_fails_with(&spec, &witness, &["linear", "rescale"]);
    }

    const OUTER_INPUTS: [i64; 5] = [5, -7, 3, 9, -1];

    /// 14 outputs over 5 inputs with 12 lanes: two groups (12 + 2); input 3 has only zero
    /// weights (no row), and output 13 has only zero weights.
    fn outer_weights() -> (Vec<Vec<i64>>, Vec<i64>) {
        let weights = (0..14i64)
            .map(|o| (0..5i64).map(|j| if j == 3 || o == 13 { 0 } else { (o * 7 + j * 3) % 11 - 5 }).collect())
            .collect();
        let biases = (0..14).map(|o| o * 3 - 20).collect();
        (weights, biases)
    }

    fn outer_layout() -> crate::layout::Layout {
        crate::layout::Layout { lanes: 12, linear: LinearLayout::OuterProduct, ..test_layout() }
    }

    fn outer_circuit() -> (CircuitSpec, Witness, Vec<CellRef>) {
        let mut b = Builder::new(outer_layout());
        let xs = b.public_inputs(&OUTER_INPUTS);
        let (weights, biases) = outer_weights();
        let rescale = Rescale { shift: 1, lo: -128, bits: 8, relu: false, clamp: None };
        let ys = b.linear_shared(SharedInputs { inputs: &xs, weights: &weights, biases: &biases }, rescale);
        b.public_outputs(&ys);
        let (spec, witness) = b.finish();
        (spec, witness, ys)
    }

    use crate::builder::{CircuitSpec, Witness};

    #[test]
    fn honest_outer_product_passes_and_equals_the_naive_sum() {
        let (spec, witness, ys) = outer_circuit();
        let (weights, biases) = outer_weights();
        for (o, y) in ys.iter().enumerate() {
            let acc: i64 = weights[o].iter().zip(OUTER_INPUTS).map(|(w, x)| w * x).sum::<i64>() + biases[o];
            assert_eq!(witness.advice[y.column][y.row], zkinfer_models::numeric::round_shift(acc, 1), "output {o}");
        }
        // One input row, 4 + 12 rows for the first group, 4 + 2 for the second.
        assert_eq!(spec.rows, 1 + 16 + 6);
        mock(&spec, &witness).expect("honest witness");
    }

    #[test]
    fn outer_product_equals_the_dot_product_layout() {
        let (_, outer, _) = outer_circuit();
        let mut b = Builder::new(test_layout());
        let xs = b.public_inputs(&OUTER_INPUTS);
        let (weights, biases) = outer_weights();
        let rescale = Rescale { shift: 1, lo: -128, bits: 8, relu: false, clamp: None };
        let ys = b.linear_shared(SharedInputs { inputs: &xs, weights: &weights, biases: &biases }, rescale);
        b.public_outputs(&ys);
        assert_eq!(b.finish().1.instance, outer.instance);
    }

    #[test]
    fn tampered_lane_accumulator_fails_the_outer_gate() {
        let (spec, mut witness, _) = outer_circuit();
        // Row 1 is the first outer row; lane 10 is beyond the copy lanes.
        witness.advice[spec.layout.lane(10)][1] += 1;
        assert_fails_with(&spec, &witness, &["outer"]);
    }

    #[test]
    fn tampered_streamed_input_fails_the_copy_and_the_gate() {
        let (spec, mut witness, _) = outer_circuit();
        witness.advice[spec.layout.out()][2] += 1;
        assert_fails_with(&spec, &witness, &["outer", "permutation"]);
    }

    #[test]
    fn tampered_shift_row_fails_the_shift_gate() {
        let (spec, mut witness, _) = outer_circuit();
        // Row 5 is the first shift row; its lane 0 feeds the next row's accumulator.
        witness.advice[spec.layout.lane(0)][5] += 1;
        assert_fails_with(&spec, &witness, &["shift"]);
        // Its own accumulator: the shift relation and the rescale both break.
        let (spec, mut witness, _) = outer_circuit();
        witness.advice[spec.layout.acc()][5] += 1;
        assert_fails_with(&spec, &witness, &["shift", "rescale"]);
    }

    // Forgeries that keep every copy, limb and public value consistent, so that only the named
    // relation can fail.

    use crate::testing::Forgery;

    const LINEAR: &str = "linear: acc = cont·acc_prev + Σ w·x + bias";

    #[test]
    fn isolates_the_linear_gate() {
        // The chain's last accumulator one higher, rescaled honestly, the output claimed.
        let (b, y) = dot_circuit();
        let (spec, witness) = b.finish();
        let honest = witness.advice[y.column][y.row];
        let mut f = Forgery::new(spec, witness);
        let acc = CellRef { column: f.spec.layout.acc(), row: y.row };
        f.set(acc, f.get(acc) + 4);
        f.redo_rescale(y.row);
        assert_eq!(f.get(y), honest + 1, "the output moved by 4 >> 2");
        assert_eq!(f.witness.instance.last(), Some(&(honest + 1)));
        f.assert_only(&[LINEAR]);
    }

    #[test]
    fn isolates_the_outer_gate() {
        // Lane 10 of the last outer row (row 4) one higher; the shift rows hand the forged value
        // down to lane 0 and into the accumulator of output 10, which is rescaled honestly.
        let (spec, witness, ys) = outer_circuit();
        let l = spec.layout;
        let mut f = Forgery::new(spec, witness);
        let bump = |f: &mut Forgery, column: usize, row: usize| {
            let cell = CellRef { column, row };
            f.set(cell, f.get(cell) + 1);
        };
        bump(&mut f, l.lane(10), 4);
        for t in 0..10 {
            bump(&mut f, l.lane(9 - t), 5 + t);
        }
        bump(&mut f, l.acc(), 15);
        f.redo_rescale(15);
        assert_eq!(ys[10].row, 15);
        f.assert_only(&["outer: lane = cont·lane_prev + w·x"]);
    }

    #[test]
    fn isolates_each_shift_constraint() {
        let (spec, witness, ys) = outer_circuit();
        let l = spec.layout;
        // The first shift row's accumulator one higher (output 0 moves).
        let mut f = Forgery::new(spec.clone(), witness.clone());
        let acc = CellRef { column: l.acc(), row: ys[0].row };
        f.set(acc, f.get(acc) + 1);
        f.redo_rescale(ys[0].row);
        f.assert_only(&["shift: acc = lane0_prev + bias"]);
        // Lane 2 of the first shift row one higher, handed down to output 3.
        let mut f = Forgery::new(spec, witness);
        for (column, row) in [(l.lane(2), 5), (l.lane(1), 6), (l.lane(0), 7), (l.acc(), 8)] {
            let cell = CellRef { column, row };
            f.set(cell, f.get(cell) + 1);
        }
        f.redo_rescale(8);
        assert_eq!(ys[3].row, 8);
        f.assert_only(&["shift: lane = next lane_prev"]);
    }

    #[test]
    fn junk_in_the_free_shift_cells_is_accepted_with_the_outputs_unchanged() {
        // On a shift row, the last lane is unconstrained (nothing shifts into it), and what the
        // following shift rows hand down from it never reaches lane 0 before the group ends: a
        // group has at most `lanes` outputs. Fill every such cell with junk, keep the `shift`
        // relation by handing the junk down, and nothing the circuit exposes changes.
        let (spec, witness, _) = outer_circuit();
        let l = spec.layout;
        let honest = witness.instance.clone();
        let shift_rows: Vec<usize> =
            (0..spec.rows).filter(|&r| spec.fixed[l.fixed(NamedFixed::QShift)][r] == 1).collect();
        assert_eq!(shift_rows.len(), 14);
        let mut f = Forgery::new(spec, witness);
        for (n, &row) in shift_rows.iter().enumerate() {
            f.set(CellRef { column: l.lane(l.lanes - 1), row }, 1_000_003 * (n as i64 + 1));
            let mut r = row + 1;
            let mut lane = l.lanes - 1;
            // Hand the junk down while the next rows are shift rows of the same group.
            while lane > 0 && shift_rows.contains(&r) {
                lane -= 1;
                let above = f.get(CellRef { column: l.lane(lane + 1), row: r - 1 });
                f.set(CellRef { column: l.lane(lane), row: r }, above);
                r += 1;
            }
            // It reaches lane 0 at most on the group's last shift row, which no row reads.
            assert!(!shift_rows.contains(&r), "junk would reach the accumulator of row {r}");
        }
        f.assert_accepted();
        assert_eq!(f.witness.instance, honest);
    }
}
