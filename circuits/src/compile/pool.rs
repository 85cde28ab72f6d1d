//! MaxPool: a chain of comparisons over each window (padding never takes part).

use ndarray::ArrayD;
use zkinfer_models::graph::ops::Window2d;
use zkinfer_models::kernels;

use super::OpInputs;
use super::activation::diff_bits;
use crate::builder::{Builder, CellRef, Operand};
use crate::chips::compare::CompareInstructions;

pub(super) fn max_pool(b: &mut Builder, window: &Window2d, x: &OpInputs) -> ArrayD<CellRef> {
    let bits = diff_bits(x.tensors[0].bits);
    kernels::window_reduce(x.cells[0], window, |taps| {
        let (&first, rest) = taps.split_first().expect("every window covers an input cell");
        rest.iter().fold(first, |best, &t| b.compare(Operand::Cell(best), Operand::Cell(t), bits).max)
    })
}
