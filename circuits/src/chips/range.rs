//! Range chip: rescale with rounding and range checks, by decomposition into limbs that are
//! looked up in a tagged range table.
//!
//! Rounding rule (see `zkinfer_models::numeric`): `y = floor((acc + 2^(n-1)) / 2^n)`. With
//! remainder `r` this is `acc + half = y·2^n + r`, `0 ≤ r < 2^n`. Shifting `y` into
//! `[0, 2^bits)` by its range minimum `lo`, the value `V = acc + half - lo·2^n = (y - lo)·2^n + r`
//! lies in `[0, 2^(n+bits))`; its limbs (low `n` bits: `r`, high `bits` bits: `y - lo`) each have
//! a width `w ≤ range_bits` and are looked up as `(w, limb)` in the range table, which holds
//! every `(w, v)` with `v < 2^w` (and `(0, 0)` for rows without a check).
//!
//! Gate `rescale` (enable `q_rescale`), on the last row of a linear chain or a comparison row:
//! `acc + C = Σ coef_i · limb_i` and `out + Y0 = Σ ycoef_i · limb_i`, with `C = half - lo·2^n`,
//! `Y0 = -lo`, `coef_i = 2^(position of limb i)`, `ycoef_i = 2^(position - n)` for high limbs, 0
//! for low ones. All limb sums stay far below the field modulus, so the relations hold over
//! the integers: `out` is exactly the rounded rescale of `acc` and lies in `[lo, lo + 2^bits)`.
//!
//! Gate `rescale relu` (enable `q_rescale_relu`, used instead of `q_rescale` when a Relu follows a
//! linear op and nothing else reads the linear op's output): the same accumulator relation, and
//! `out = s · (Σ ycoef_i · limb_i - Y0)` where `s` is the last limb column, which then holds
//! the top bit of `y - lo` (width tag 1). For the signed range `lo = -2^(bits-1)` that bit is 1
//! exactly when `y ≥ 0`, so `out = max(y, 0)`: the Relu costs no row.
//!
//! Gate `rescale clamp` (only in layouts with [`ClampForm::InRescale`]; enable `q_rescale_clamp`,
//! instead of the other two): `out = clamp(y, M, H)` for fixed bounds `M ≤ 0 ≤ H`, in the same
//! row. The limbs are those of the fused Relu (the last limb column holds the sign `s` of `y`),
//! and two more parts: a boolean `t` in the limb column before the sign (width tag 1) and the
//! limbs of a difference `d` (coefficients `dcoef_i`, 0 for the other limbs). With
//! `T = M + s·(H - M)` (the bound on `y`'s side of 0) and `e = (2s - 1)·(T - y)`:
//! `acc + C = Σ coef·limb`, `out = y + t·(T - y)` and `Σ dcoef·limb = e - t·(2e + 1)`. The
//! difference is range-checked to `[0, 2^(bits-1))`, so `t = 0` forces `e ≥ 0` (`y` within its
//! side's bound: `out = y`) and `t = 1` forces `e ≤ -1` (beyond it: `out = T`). The accumulator
//! relation and the sign are exactly the Relu's, so `y` is range-checked to the same signed
//! range as without the clamp.

use zkinfer_models::numeric::MAX_RESCALE_BITS;

use crate::builder::{Builder, CellRef};
use crate::constraints::{Expr, Gate, GateBuilder, Lookup, TableColumn};
use crate::layout::{ClampFixed, ClampForm, Layout, NamedFixed};

/// How a value is rescaled and range-checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rescale {
    /// Right shift with rounding (0: none).
    pub shift: u32,
    /// Smallest allowed result.
    pub lo: i64,
    /// The result lies in `[lo, lo + 2^bits)`.
    pub bits: u32,
    /// Apply Relu to the result (requires the signed range `lo = -2^(bits-1)`).
    pub relu: bool,
    /// Clamp the result into these bounds (a layout with [`ClampForm::InRescale`] only; requires
    /// the signed range, and instead of `relu`: a clamp from 0 is a Relu and an upper bound).
    pub clamp: Option<Clamp>,
}

/// Inclusive bounds `min ≤ 0 ≤ max` of a clamp computed in a rescale row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clamp {
    /// Lower bound, at most 0.
    pub min: i64,
    /// Upper bound, at least 0.
    pub max: i64,
}

impl Rescale {
    /// The signed range of `bits` bits, after `shift`.
    pub fn signed(shift: u32, bits: u32) -> Self {
        Self { shift, lo: -(1i64 << (bits - 1)), bits, relu: false, clamp: None }
    }
    /// The signed range of `bits` bits, after `shift`, followed by Relu when `relu`.
    pub fn signed_relu(shift: u32, bits: u32, relu: bool) -> Self {
        Self { relu, ..Self::signed(shift, bits) }
    }
    /// `[0, 2^bits)` without a shift.
    pub fn unsigned(bits: u32) -> Self {
        Self { shift: 0, lo: 0, bits, relu: false, clamp: None }
    }
    /// This signed rescale followed by `clamp` (which replaces a Relu) when there is one.
    pub fn clamped(self, clamp: Option<Clamp>) -> Self {
        match clamp {
            Some(c) => Self { relu: false, clamp: Some(c), ..self },
            None => self,
        }
    }
}

/// The gate `rescale`.
pub(crate) fn gates(layout: Layout) -> Vec<Gate> {
    let mut q = GateBuilder::new(layout);
    let q_rr = q.named(NamedFixed::QRescale);
    let q_relu = q.named(NamedFixed::QRescaleRelu);
    let c = q.named(NamedFixed::RescaleC);
    let y0 = q.named(NamedFixed::RescaleY0);
    let acc = q.acc(0);
    let out = q.out();
    let mut v = Expr::Constant(0);
    let mut y = Expr::Constant(0);
    for i in 0..layout.limbs {
        let limb = q.limb(i);
        v = v + q.fixed(layout.coef(i)) * limb.clone();
        y = y + q.fixed(layout.ycoef(i)) * limb;
    }
    let sign = q.limb(layout.limbs - 1);
    let rescale = q.gate(
        "rescale",
        vec![
            ("acc + C = Σ coef·limb", (q_rr.clone() + q_relu.clone()) * (acc + c - v)),
            ("out + Y0 = Σ ycoef·limb", q_rr * (out.clone() + y0.clone() - y.clone())),
            ("out = s·(Σ ycoef·limb - Y0)", q_relu * (out - sign * (y - y0))),
        ],
    );
    match layout.clamps {
        ClampForm::Compared => vec![rescale],
        ClampForm::InRescale => vec![rescale, clamp_gate(layout)],
    }
}

/// The gate `rescale clamp` (see the module docs).
fn clamp_gate(layout: Layout) -> Gate {
    let mut q = GateBuilder::new(layout);
    let q_clamp = q.fixed(layout.clamp_fixed(ClampFixed::QRescaleClamp));
    let c = q.named(NamedFixed::RescaleC);
    let y0 = q.named(NamedFixed::RescaleY0);
    let min = q.fixed(layout.clamp_fixed(ClampFixed::Min));
    let max = q.fixed(layout.clamp_fixed(ClampFixed::Max));
    let acc = q.acc(0);
    let out = q.out();
    let (mut v, mut y, mut d) = (Expr::Constant(0), Expr::Constant(0), Expr::Constant(0));
    for i in 0..layout.limbs {
        let limb = q.limb(i);
        v = v + q.fixed(layout.coef(i)) * limb.clone();
        y = y + q.fixed(layout.ycoef(i)) * limb.clone();
        d = d + q.fixed(layout.dcoef(i)) * limb;
    }
    let y = y - y0;
    let s = q.limb(layout.limbs - 1);
    let t = q.limb(layout.clamp_flag_limb());
    let bound = min.clone() + s.clone() * (max - min);
    let e = (Expr::Constant(2) * s - Expr::Constant(1)) * (bound.clone() - y.clone());
    q.gate(
        "rescale clamp",
        vec![
            ("acc + C = Σ coef·limb", q_clamp.clone() * (acc + c - v)),
            ("out = y + t·(T - y)", q_clamp.clone() * (out - y.clone() - t.clone() * (bound - y))),
            (
                "Σ dcoef·limb = e - t·(2e + 1)",
                q_clamp * (d - e.clone() + t * (Expr::Constant(2) * e + Expr::Constant(1))),
            ),
        ],
    )
}

/// One range lookup per limb column: `(width tag, limb)` is a row of the range table.
pub(crate) fn lookups(layout: Layout) -> Vec<Lookup> {
    (0..layout.limbs)
        .map(|i| {
            let mut q = GateBuilder::new(layout);
            let inputs = vec![(q.fixed(layout.tag(i)), TableColumn::RangeTag), (q.limb(i), TableColumn::RangeValue)];
            q.lookup("range", inputs)
        })
        .collect()
}

/// The range table rows `(width, value)`: `(0, 0)`, then every `v < 2^w` for `1 ≤ w ≤ range_bits`.
pub fn range_table(range_bits: u32) -> impl Iterator<Item = (u64, u64)> {
    std::iter::once((0, 0)).chain((1..=range_bits as u64).flat_map(|w| (0..1u64 << w).map(move |v| (w, v))))
}

/// Splits `bits` into limb widths of at most `range_bits`.
fn widths(bits: u32, range_bits: u32) -> impl Iterator<Item = u32> {
    let full = bits / range_bits;
    let rest = bits % range_bits;
    std::iter::repeat_n(range_bits, full as usize).chain((rest > 0).then_some(rest))
}

/// Rescale and range checks.
pub trait RangeInstructions {
    /// Fills the rescale columns of `row` from the value its accumulator cell holds (the caller
    /// sets it first): writes `y = round_shift(acc, shift)` into the row's output cell and
    /// returns that cell.
    fn rescale_row(&mut self, row: usize, rescale: Rescale) -> CellRef;
}

/// One limb of a decomposition: `width` bits of the decomposed value starting at bit `pos`;
/// `ypos` is the limb's position within the output `y - lo` (None for remainder limbs).
#[derive(Clone, Copy)]
struct Limb {
    width: u32,
    pos: u32,
    ypos: Option<u32>,
}

impl Builder {
    /// Writes `limb` of `v = (y - lo)·2^shift + r` into limb column `column` of `row`.
    fn put_limb(&mut self, row: usize, column: usize, v: i64, limb: Limb) {
        if column >= self.layout.limbs {
            return; // counted in `limbs_needed`; the planner re-runs with enough columns
        }
        let mask = (1i64 << limb.width) - 1;
        self.set_advice(row, self.layout.limb(column), (v >> limb.pos) & mask);
        self.set_fixed(row, self.layout.coef(column), 1i64 << limb.pos);
        self.set_fixed(row, self.layout.ycoef(column), limb.ypos.map_or(0, |p| 1i64 << p));
        self.set_fixed(row, self.layout.tag(column), i64::from(limb.width));
    }
}

impl RangeInstructions for Builder {
    fn rescale_row(&mut self, row: usize, rescale: Rescale) -> CellRef {
        let acc = self.value(CellRef { column: self.layout.acc(), row });
        let Rescale { shift, lo, bits, relu, clamp } = rescale;
        // Bounds beyond the signed range clamp nothing there (and keep the difference small).
        let half_range = 1i64 << (bits.clamp(1, MAX_RESCALE_BITS) - 1);
        let clamp = clamp.map(|c| Clamp { min: c.min.max(-half_range), max: c.max.min(half_range - 1) });
        let within = shift.checked_add(bits).is_some_and(|w| w <= MAX_RESCALE_BITS)
            && lo.checked_shl(shift).is_some_and(|l| l >> shift == lo);
        if !within {
            // The decomposition below would wrap in i64: refuse (see `Builder::too_wide`).
            self.too_wide.get_or_insert((shift, bits));
            return self.set_advice(row, self.layout.out(), 0);
        }
        // A Relu or a clamp reads the sign of y from the decomposition's top bit.
        let split_sign = relu || clamp.is_some();
        debug_assert!(!split_sign || lo == -(1i64 << (bits - 1)), "Relu and clamp fusion need the signed range");
        let t = self.layout.range_bits;
        let y = zkinfer_models::numeric::round_shift(acc, shift);
        let half = if shift == 0 { 0 } else { 1i64 << (shift - 1) };
        // v = acc + half - lo·2^shift = (y - lo)·2^shift + r, with 0 ≤ r < 2^shift.
        let v = acc + half - (lo << shift);
        let enable = match (clamp, relu) {
            (Some(_), _) => self.clamp_column(ClampFixed::QRescaleClamp),
            (None, true) => self.layout.fixed(NamedFixed::QRescaleRelu),
            (None, false) => self.layout.fixed(NamedFixed::QRescale),
        };
        self.set_fixed(row, enable, 1);
        self.set_fixed(row, self.layout.fixed(NamedFixed::RescaleC), half - (lo << shift));
        self.set_fixed(row, self.layout.fixed(NamedFixed::RescaleY0), -lo);
        // Remainder limbs, then output limbs; with a fused Relu or clamp the output's top bit
        // (the sign of y) is left out here and goes to the last limb column.
        let body_bits = if split_sign { bits - 1 } else { bits };
        let mut limbs = Vec::new();
        let mut pos = 0;
        for width in widths(shift, t) {
            limbs.push(Limb { width, pos, ypos: None });
            pos += width;
        }
        for width in widths(body_bits, t) {
            limbs.push(Limb { width, pos, ypos: Some(pos - shift) });
            pos += width;
        }
        for (column, &limb) in limbs.iter().enumerate() {
            self.put_limb(row, column, v, limb);
        }
        let mut needed = limbs.len();
        let out = match clamp {
            Some(c) => {
                needed += self.clamp_limbs(row, needed, y, bits, c);
                y.clamp(c.min, c.max)
            }
            None if relu => y.max(0),
            None => y,
        };
        if split_sign {
            let sign = Limb { width: 1, pos, ypos: Some(pos - shift) };
            if let Some(last) = self.layout.limbs.checked_sub(1).filter(|&l| l >= needed) {
                self.put_limb(row, last, v, sign);
            }
            needed += 1;
        }
        self.limbs_needed = self.limbs_needed.max(needed);
        self.set_advice(row, self.layout.out(), out)
    }
}

impl Builder {
    /// A clamp column of the layout.
    ///
    /// # Panics
    /// When the layout computes clamps by comparisons: the compiler asks for a clamp in the
    /// rescale only in layouts with [`ClampForm::InRescale`].
    fn clamp_column(&self, f: ClampFixed) -> usize {
        assert_eq!(self.layout.clamps, ClampForm::InRescale, "a clamp in the rescale needs the layout's clamp columns");
        self.layout.clamp_fixed(f)
    }

    /// Writes the clamp part of a `rescale clamp` row for the rescaled value `y` (of `bits`
    /// signed bits): the bounds, the difference's limbs from limb column `first` on, and the
    /// boolean `t`. Returns the number of limb columns it takes (not counting the sign's).
    fn clamp_limbs(&mut self, row: usize, first: usize, y: i64, bits: u32, c: Clamp) -> usize {
        debug_assert!(c.min <= 0 && c.max >= 0, "the gate clamps around 0");
        self.set_fixed(row, self.clamp_column(ClampFixed::Min), c.min);
        self.set_fixed(row, self.clamp_column(ClampFixed::Max), c.max);
        let bound = if y >= 0 { c.max } else { c.min };
        let e = if y >= 0 { bound - y } else { y - bound };
        let beyond = e < 0;
        let d = if beyond { -e - 1 } else { e };
        let mut pos = 0;
        let mut columns = 0;
        // d < 2^(bits - 1) for bounds within the signed range (see the module docs).
        for width in widths(bits - 1, self.layout.range_bits) {
            let column = first + columns;
            if column < self.layout.limbs {
                let mask = (1i64 << width) - 1;
                self.set_advice(row, self.layout.limb(column), (d >> pos) & mask);
                self.set_fixed(row, self.layout.dcoef(column), 1i64 << pos);
                self.set_fixed(row, self.layout.tag(column), i64::from(width));
            }
            pos += width;
            columns += 1;
        }
        let flag = self.layout.clamp_flag_limb();
        if flag >= first + columns {
            self.set_advice(row, self.layout.limb(flag), i64::from(beyond));
            self.set_fixed(row, self.layout.tag(flag), 1);
        }
        columns + 1
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::chips::linear::LinearInstructions;
    use crate::testing::{assert_fails_with, mock, test_layout};

    /// `y = round_shift(x, shift)` in `[lo, lo + 2^bits)` for one public input `x`.
    fn rescale_circuit(x: i64, rescale: Rescale) -> (crate::builder::CircuitSpec, crate::builder::Witness) {
        let mut b = Builder::new(test_layout());
        let xs = b.public_inputs(&[x]);
        let y = b.linear(&[(xs[0], 1)], 0, rescale);
        b.public_outputs(&[y]);
        b.finish()
    }

    #[test]
    fn rounds_half_up_at_every_shift() {
        for shift in 0..12 {
            for x in [-2048, -1024, -3, -2, -1, 0, 1, 2, 3, 1023, 2047] {
                let (spec, w) = rescale_circuit(x, Rescale::signed(shift, 12));
                assert_eq!(*w.instance.last().expect("output"), zkinfer_models::numeric::round_shift(x, shift));
                mock(&spec, &w).unwrap_or_else(|e| panic!("x={x} shift={shift}: {e:?}"));
            }
        }
    }

    #[test]
    fn value_at_the_range_edges_passes_and_just_outside_fails() {
        let r = Rescale::signed(0, 8);
        mock(&rescale_circuit(127, r).0, &rescale_circuit(127, r).1).expect("127 fits 8 bits");
        mock(&rescale_circuit(-128, r).0, &rescale_circuit(-128, r).1).expect("-128 fits 8 bits");
        // One beyond each edge: no decomposition exists; the limb lookup fails.
        assert_fails_with(&rescale_circuit(128, r).0, &rescale_circuit(128, r).1, &["rescale"]);
        assert_fails_with(&rescale_circuit(-129, r).0, &rescale_circuit(-129, r).1, &["rescale"]);
        let u = Rescale::unsigned(10);
        mock(&rescale_circuit(1023, u).0, &rescale_circuit(1023, u).1).expect("1023 fits 10 bits");
        assert_fails_with(&rescale_circuit(1024, u).0, &rescale_circuit(1024, u).1, &["rescale"]);
        assert_fails_with(&rescale_circuit(-1, u).0, &rescale_circuit(-1, u).1, &["rescale"]);
    }

    #[test]
    fn a_wrong_rounding_fails_the_rescale_gate() {
        let (spec, mut w) = rescale_circuit(6, Rescale::signed(2, 8)); // 6/4 = 1.5 -> 2
        let out = spec.layout.out();
        let row = spec.instance_outputs[0].0.row;
        w.advice[out][row] = 1; // rounding down instead of up
        let n = w.instance.len();
        w.instance[n - 1] = 1;
        assert_fails_with(&spec, &w, &["rescale"]);
    }

    #[test]
    fn an_oversized_limb_fails_the_range_lookup() {
        // Move 2^6 (the test layout's limb width) from limb 1 into limb 0: the sums still
        // hold, the lookup does not.
        let (spec, mut w) = rescale_circuit(300, Rescale::signed(0, 12));
        let row = spec.instance_outputs[0].0.row;
        let l0 = spec.layout.limb(0);
        let l1 = spec.layout.limb(1);
        w.advice[l0][row] += 64;
        w.advice[l1][row] -= 1;
        assert_fails_with(&spec, &w, &["range lookup"]);
    }

    fn relu_circuit(x: i64) -> (crate::builder::CircuitSpec, crate::builder::Witness) {
        let mut b = Builder::new(test_layout());
        let xs = b.public_inputs(&[x]);
        let y = b.linear(&[(xs[0], 3)], 1, Rescale::signed_relu(1, 8, true));
        b.public_outputs(&[y]);
        b.finish()
    }

    #[test]
    fn fused_relu_passes_on_both_signs() {
        for x in [-40, -1, 0, 1, 40] {
            let (spec, w) = relu_circuit(x);
            let y = zkinfer_models::numeric::round_shift(3 * x + 1, 1).max(0);
            assert_eq!(*w.instance.last().unwrap(), y, "x = {x}");
            mock(&spec, &w).unwrap_or_else(|e| panic!("x={x}: {e:?}"));
        }
    }

    #[test]
    fn fused_relu_cannot_pass_a_negative_value() {
        // y = round_shift(3·(-40) + 1, 1) = -59: claim out = -59 (no Relu) with s = 0.
        let (spec, mut w) = relu_circuit(-40);
        let row = spec.instance_outputs[0].0.row;
        w.advice[spec.layout.out()][row] = -59;
        let n = w.instance.len();
        w.instance[n - 1] = -59;
        assert_fails_with(&spec, &w, &["rescale"]);
        // Or flip the sign limb to 1 while keeping the sums: the accumulator relation breaks.
        let (spec, mut w) = relu_circuit(-40);
        let sign = spec.layout.limb(spec.layout.limbs - 1);
        w.advice[sign][row] = 1;
        assert_fails_with(&spec, &w, &["rescale"]);
    }

    /// `y = round_shift(3·x + 1, 1)` clamped into `[min, max]` in the rescale row.
    fn clamp_circuit(x: i64, min: i64, max: i64) -> (crate::builder::CircuitSpec, crate::builder::Witness) {
        let layout = crate::layout::Layout { limbs: 8, clamps: ClampForm::InRescale, ..test_layout() };
        let mut b = Builder::new(layout);
        let xs = b.public_inputs(&[x]);
        let y = b.linear(&[(xs[0], 3)], 1, Rescale::signed(1, 8).clamped(Some(Clamp { min, max })));
        b.public_outputs(&[y]);
        assert!(b.limbs_needed <= layout.limbs, "{} limbs needed", b.limbs_needed);
        b.finish()
    }

    #[test]
    fn a_clamp_in_the_rescale_passes_on_every_side_of_its_bounds() {
        for (min, max) in [(0, 20), (-15, 20), (-7, 0), (0, 0), (-128, 127), (-200, 300)] {
            for x in [-85, -40, -11, -10, -6, -1, 0, 1, 6, 13, 14, 40, 84] {
                let (spec, w) = clamp_circuit(x, min, max);
                let y = zkinfer_models::numeric::round_shift(3 * x + 1, 1).clamp(min, max);
                assert_eq!(*w.instance.last().unwrap(), y, "x = {x}, [{min}, {max}]");
                mock(&spec, &w).unwrap_or_else(|e| panic!("x={x} [{min}, {max}]: {e:?}"));
            }
        }
        // The value itself is still range-checked as without the clamp: round_shift(3·86 + 1, 1)
        // = 130 does not fit 8 signed bits, and the clamp does not hide it.
        let (spec, w) = clamp_circuit(86, 0, 20);
        assert!(mock(&spec, &w).is_err(), "y = 130 is outside 8 signed bits");
    }

    fn clamp_forgery(x: i64, min: i64, max: i64) -> (Forgery, usize) {
        let (spec, w) = clamp_circuit(x, min, max);
        let row = spec.instance_outputs[0].0.row;
        (Forgery::new(spec, w), row)
    }

    #[test]
    fn isolates_the_clamp_output_relation() {
        // y = round_shift(3·20 + 1, 1) = 31 > 20: passing 31 through breaks only the output relation.
        let (mut f, row) = clamp_forgery(20, -15, 20);
        let out = CellRef { column: f.spec.layout.out(), row };
        assert_eq!(f.get(out), 20);
        f.set(out, 31);
        f.assert_only(&["rescale clamp: out = y + t·(T - y)"]);
    }

    #[test]
    fn an_unclamped_value_needs_a_negative_difference() {
        // Claim y = 31 is within [-15, 20]: t = 0 and out = 31 satisfy the output relation, and the
        // difference e = 20 - 31 = -11 put into the first difference limb satisfies its relation:
        // only the range lookup refuses it. The same below the lower bound.
        for (x, min, max, y, e) in [(20, -15, 20, 31, -11), (-20, -15, 20, -29, -14)] {
            assert_eq!(zkinfer_models::numeric::round_shift(3 * x + 1, 1), y);
            let (mut f, row) = clamp_forgery(x, min, max);
            let l = f.spec.layout;
            let flag = CellRef { column: l.limb(l.clamp_flag_limb()), row };
            assert_eq!(f.get(flag), 1);
            f.set(flag, 0);
            f.set(CellRef { column: l.out(), row }, y);
            let d_limbs: Vec<usize> = (0..l.limbs).filter(|&i| f.spec.fixed[l.dcoef(i)][row] != 0).collect();
            assert_eq!(f.spec.fixed[l.dcoef(d_limbs[0])][row], 1);
            f.set(CellRef { column: l.limb(d_limbs[0]), row }, e);
            for &i in &d_limbs[1..] {
                f.set(CellRef { column: l.limb(i), row }, 0);
            }
            f.assert_only(&["range lookup"]);
        }
    }

    #[test]
    fn isolates_the_clamp_difference_relation() {
        // An honest row with one more in the difference: only the difference relation breaks.
        let (mut f, row) = clamp_forgery(6, -15, 20);
        let l = f.spec.layout;
        let first = (0..l.limbs).find(|&i| f.spec.fixed[l.dcoef(i)][row] == 1).unwrap();
        let cell = CellRef { column: l.limb(first), row };
        f.set(cell, f.get(cell) + 1);
        f.assert_only(&["rescale clamp: Σ dcoef·limb = e - t·(2e + 1)"]);
        // A flipped sign moves y by 2^7 in the accumulator relation.
        let (mut f, row) = clamp_forgery(6, -15, 20);
        let sign = CellRef { column: l.limb(l.limbs - 1), row };
        f.set(sign, 1 - f.get(sign));
        assert!(mock(&f.spec, &f.witness).is_err());
    }

    #[test]
    fn range_table_has_every_width() {
        let t: Vec<_> = range_table(3).collect();
        assert_eq!(t.len(), 1 + 2 + 4 + 8);
        assert!(t.contains(&(3, 7)) && !t.contains(&(2, 4)));
    }

    // Forgeries that keep every copy, limb and public value consistent, so that only the named
    // relation can fail.

    use crate::testing::Forgery;

    fn forgery(x: i64, rescale: Rescale) -> (Forgery, usize) {
        let (spec, w) = rescale_circuit(x, rescale);
        let row = spec.instance_outputs[0].0.row;
        (Forgery::new(spec, w), row)
    }

    #[test]
    fn isolates_the_accumulator_relation() {
        // 6 + 2 (half) + 128·4 = 520: remainder limb 0; one more keeps it in range.
        let (mut f, row) = forgery(6, Rescale::signed(2, 8));
        let limb = CellRef { column: f.spec.layout.limb(0), row };
        assert_eq!(f.get(limb), 0);
        f.set(limb, 1);
        f.assert_only(&["rescale: acc + C = Σ coef·limb"]);
    }

    #[test]
    fn isolates_the_output_relation() {
        // A wrong rounding: the output one higher, the limbs those of the honest value.
        let (mut f, row) = forgery(6, Rescale::signed(2, 8));
        let out = CellRef { column: f.spec.layout.out(), row };
        f.set(out, f.get(out) + 1);
        f.assert_only(&["rescale: out + Y0 = Σ ycoef·limb"]);
    }

    #[test]
    fn isolates_the_range_lookup() {
        // 128 does not fit 8 signed bits: y - lo = 256 = 0 + 64·4 with a 2-bit top limb of 4.
        // Both relations hold over the integers; only the lookup of that limb can fail.
        let (mut f, row) = forgery(127, Rescale::signed(0, 8));
        let l = f.spec.layout;
        let input = f.spec.instance_inputs[0].0;
        f.set(input, 128);
        f.set(CellRef { column: l.acc(), row }, 128);
        f.set(CellRef { column: l.limb(0), row }, 0);
        f.set(CellRef { column: l.limb(1), row }, 4);
        f.set(CellRef { column: l.out(), row }, 128);
        assert_eq!(f.spec.fixed[l.tag(1)][row], 2, "the top limb is 2 bits wide");
        assert_eq!(f.witness.instance.last(), Some(&128));
        f.assert_only(&["range lookup"]);
    }

    #[test]
    fn isolates_the_fused_relu_relation() {
        // y = -59 passed through as the output: every limb honest, only out = s·y breaks.
        let (spec, w) = relu_circuit(-40);
        let row = spec.instance_outputs[0].0.row;
        let mut f = Forgery::new(spec, w);
        f.set(CellRef { column: f.spec.layout.out(), row }, -59);
        f.assert_only(&["rescale: out = s·(Σ ycoef·limb - Y0)"]);
    }

    #[test]
    fn a_rescale_wider_than_62_bits_is_refused_and_62_bits_is_exact() {
        use zkinfer_models::numeric::MAX_RESCALE_BITS;
        // At the bound: the largest and smallest accumulators round exactly, MockProver agrees.
        let layout = crate::layout::Layout { limbs: 12, ..test_layout() };
        for (x, coef) in [(2047, 1i64 << 50), (-2048, 1 << 50), (1, 1), (-1, 1)] {
            let mut b = Builder::new(layout);
            let xs = b.public_inputs(&[x]);
            let rescale = Rescale::signed(MAX_RESCALE_BITS - 12, 12);
            let y = b.linear(&[(xs[0], coef)], 0, rescale);
            b.public_outputs(&[y]);
            assert!(b.too_wide.is_none());
            let want = zkinfer_models::numeric::round_shift(x * coef, MAX_RESCALE_BITS - 12);
            assert_eq!(b.value(y), want, "x = {x}");
            let (spec, w) = b.finish();
            mock(&spec, &w).unwrap_or_else(|e| panic!("x = {x}: {e:?}"));
        }
        // One bit more (shift + bits = 63): refused instead of wrapping.
        let mut b = Builder::new(layout);
        let xs = b.public_inputs(&[5]);
        b.linear(&[(xs[0], 1)], 0, Rescale::signed(MAX_RESCALE_BITS - 11, 12));
        assert_eq!(b.too_wide, Some((MAX_RESCALE_BITS - 11, 12)));
    }
}
