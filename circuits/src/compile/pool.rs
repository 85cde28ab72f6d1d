//! MaxPool: a chain of comparisons over each window (padding never takes part).

use ndarray::{ArrayD, IxDyn};
use zkinfer_models::graph::ops::Window2d;

use super::OpInputs;
use super::activation::diff_bits;
use crate::builder::{Builder, CellRef, Operand};
use crate::chips::compare::CompareInstructions;

pub(super) fn max_pool(b: &mut Builder, window: &Window2d, x: &OpInputs) -> ArrayD<CellRef> {
    let input = x.cells[0];
    let bits = diff_bits(x.tensors[0].bits);
    let (n, c, h, w) = (input.shape()[0], input.shape()[1], input.shape()[2], input.shape()[3]);
    let [oh, ow] = window.output_hw(h, w).expect("shape validated");
    let mut out = Vec::new();
    for bn in 0..n {
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut taps = window.taps(oy, ox, h, w).map(|(_, _, iy, ix)| input[[bn, ch, iy, ix]]);
                    let first = taps.next().expect("every window covers an input cell");
                    out.push(taps.fold(first, |best, t| b.compare(Operand::Cell(best), Operand::Cell(t), bits).max));
                }
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&x.output.shape), out).expect("one cell per output element")
}
