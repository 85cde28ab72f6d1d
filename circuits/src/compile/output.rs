//! Output ops: ArgMax (index of the first maximum) and Softmax.
//!
//! Softmax per lane of `N` values `v` (the interpreter's rule, `zkinfer_models::interpret`):
//! `m = max v` (comparisons), `d_j = v_j - m` range-checked to `[-(2^b - 1), 0]` (or, with an
//! input shift `s`, `d_j = round_shift(v_j - m, s)` in the same row, checked to `[-2^(b-s), 2^(b-s))`),
//! `e_j = exp_table[d_j]` (function lookup; with trimmed tables `d_j` is first clamped to where
//! the table is not yet 0, see `table`), `S = Σ e_j`, `h = floor(S/2)` (a rescale of `S - 1`
//! by one bit), then `y_j = round_div(e_j · 2^out_scale, S)` by the division chip, with the
//! remainder checked to be `≥ 0` and `y_j` to fit `[0, 2^(out_scale+1))`.

use ndarray::{ArrayD, Axis};
use zkinfer_models::graph::ops::ArgMax;
use zkinfer_models::quantized::QSoftmax;

use super::OpInputs;
use super::activation::diff_bits;
use super::table;
use crate::builder::{Builder, CellRef, Operand};
use crate::chips::compare::CompareInstructions;
use crate::chips::division::DivisionInstructions;
use crate::chips::function::FunctionInstructions;
use crate::chips::linear::LinearInstructions;
use crate::chips::range::Rescale;

pub(super) fn argmax(b: &mut Builder, a: &ArgMax, x: &OpInputs) -> ArrayD<CellRef> {
    let bits = diff_bits(x.tensors[0].bits);
    let mut out = x.cells[0].map_axis(Axis(a.axis), |lane| {
        let values: Vec<CellRef> = lane.iter().copied().collect();
        b.argmax(&values, bits)
    });
    if a.keepdims {
        out.insert_axis_inplace(Axis(a.axis));
    }
    out
}

/// Bits of the largest possible `S = Σ e` for `n` values.
fn sum_bits(table_max: i64, n: usize) -> u32 {
    let max = (table_max.max(1) as u128) * n as u128;
    128 - max.leading_zeros() + 1
}

pub(super) fn softmax(b: &mut Builder, s: &QSoftmax, x: &OpInputs) -> ArrayD<CellRef> {
    let t = x.tensors[0];
    let bits = t.bits;
    let exp_table = table::for_layout(b.layout, &s.exp_table);
    let tag = b.function_table(&exp_table.table);
    let table_max = s.exp_table.values.iter().copied().max().unwrap_or(1);
    // Signed width of the exponentials (used only if a trimmed table had an identity end).
    let exp_bits = 64 - table_max.max(1).unsigned_abs().leading_zeros() + 1;
    let mut out = x.cells[0].clone();
    for mut lane in out.lanes_mut(Axis(s.axis)) {
        let values: Vec<CellRef> = lane.iter().copied().collect();
        let s_bits = sum_bits(table_max, values.len());
        let max = values[1..]
            .iter()
            .fold(values[0], |m, &v| b.compare(Operand::Cell(m), Operand::Cell(v), diff_bits(bits)).max);
        // d = round_shift(v - max, input_shift) ≤ 0, range-checked to what it can be.
        let (diff, diff_bits_signed) = match s.input_shift {
            0 => (Rescale { shift: 0, lo: -((1i64 << bits) - 1), bits, relu: false, clamp: None }, bits + 1),
            shift => {
                let reach = 1i64 << (bits - shift);
                (Rescale { shift, lo: -reach, bits: bits - shift + 1, relu: false, clamp: None }, bits - shift + 1)
            }
        };
        let exps: Vec<CellRef> = values
            .iter()
            .map(|&v| {
                let d = b.linear(&[(v, 1), (max, -1)], 0, diff);
                table::apply(b, tag, &exp_table, d, diff_bits_signed, exp_bits)
            })
            .collect();
        let terms: Vec<_> = exps.iter().map(|&e| (e, 1)).collect();
        let sum = b.linear(&terms, 0, Rescale::unsigned(s_bits));
        let half = b.linear(&[(sum, 1)], -1, Rescale { shift: 1, lo: 0, bits: s_bits, relu: false, clamp: None });
        for (slot, &e) in lane.iter_mut().zip(&exps) {
            let q = b.divide(e, sum, half, s.output_scale, s_bits);
            b.linear(&[(q.remainder, 1)], 0, Rescale::unsigned(s_bits));
            *slot = b.linear(&[(q.quotient, 1)], 0, Rescale::unsigned(s.output_scale + 1));
        }
    }
    out
}
