//! Relu, LeakyRelu and Clip as comparisons; Sigmoid, Tanh, Erf, Exp, Log and GELU as table
//! lookups.

use ndarray::ArrayD;
use zkinfer_models::quantized::{QClip, QLeakyRelu, QLookup, QTensor};

use super::table;
use super::{CompileError, OpInputs};
use crate::builder::{Builder, CellRef, Operand};
use crate::chips::compare::CompareInstructions;
use crate::chips::function::FunctionInstructions;
use crate::chips::linear::LinearInstructions;
use crate::chips::range::Rescale;

/// Width of the difference check for operands of `bits` signed bits.
pub(super) fn diff_bits(bits: u32) -> u32 {
    bits + 1
}

pub(super) fn relu(b: &mut Builder, x: &OpInputs) -> ArrayD<CellRef> {
    if x.bounds[0].0 >= 0 {
        // Never negative already: the Relu is the identity.
        return x.cells[0].clone();
    }
    let bits = diff_bits(x.tensors[0].bits);
    x.cells[0].mapv(|c| b.compare(Operand::Cell(c), Operand::Constant(0), bits).max)
}

/// `y = max(x, round_shift(x·alpha, shift))`, equal to the interpreter's rule for `0 ≤ alpha ≤ 2^shift`.
pub(super) fn leaky_relu(b: &mut Builder, l: &QLeakyRelu, x: &OpInputs) -> Result<ArrayD<CellRef>, CompileError> {
    if l.alpha < 0 || l.alpha > 1i64 << l.shift {
        return Err(CompileError::Unsupported {
            node: x.node.to_string(),
            op: "LeakyRelu".into(),
            reason: "the circuit supports slopes in [0, 1]".into(),
        });
    }
    let t = x.tensors[0];
    let bits = diff_bits(t.bits);
    Ok(x.cells[0].mapv(|c| {
        let scaled = b.linear(&[(c, l.alpha)], 0, Rescale::signed(l.shift, t.bits));
        b.compare(Operand::Cell(c), Operand::Cell(scaled), bits).max
    }))
}

/// `min(x, max)` for the non-negative output of a rescale with a fused Relu (the rest of a clamp
/// from 0); no comparison when `max` is at or above the tensor's range.
pub(super) fn clamp_above(b: &mut Builder, cells: ArrayD<CellRef>, max: i64, t: &QTensor) -> ArrayD<CellRef> {
    if max >= t.range().1 {
        return cells;
    }
    let bits = diff_bits(t.bits);
    cells.mapv(|cell| b.compare(Operand::Cell(cell), Operand::Constant(max), bits).min)
}

/// `clamp(x, min, max)`, with only the comparisons the input's bounds do not already answer
/// (a QDQ pair after a Relu restates its zero, and costs nothing for it).
pub(super) fn clip(b: &mut Builder, c: &QClip, x: &OpInputs) -> ArrayD<CellRef> {
    let bits = diff_bits(x.tensors[0].bits);
    let (lo, hi) = x.bounds[0];
    x.cells[0].mapv(|cell| {
        let low = if c.min > lo { b.compare(Operand::Cell(cell), Operand::Constant(c.min), bits).max } else { cell };
        if c.max < hi { b.compare(Operand::Cell(low), Operand::Constant(c.max), bits).min } else { low }
    })
}

/// `y = table[round_shift(x, input_shift)]`, through the whole table or a trimmed one as the
/// layout says. The shift is a rescale row whose result is range-checked to the bits a shifted
/// value can take (`round_shift` of the largest input rounds up to `2^(bits - 1 - shift)`).
pub(super) fn lookup(b: &mut Builder, l: &QLookup, x: &OpInputs) -> ArrayD<CellRef> {
    let t = table::for_layout(b.layout, &l.table);
    let tag = b.function_table(&t.table);
    let (bits, out_bits) = (x.tensors[0].bits, x.output.bits);
    let shifted_bits = if l.input_shift == 0 { bits } else { bits - l.input_shift + 1 };
    x.cells[0].mapv(|c| {
        let c = match l.input_shift {
            0 => c,
            shift => b.linear(&[(c, 1)], 0, Rescale::signed(shift, shifted_bits)),
        };
        table::apply(b, tag, &t, c, shifted_bits, out_bits)
    })
}
