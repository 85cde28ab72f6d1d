//! Reshape, Transpose and nearest-neighbour upsampling: pure wiring, no rows. The output cells are the input cells in a new
//! order, using the same reference kernels as the interpreter.

use ndarray::ArrayD;
use zkinfer_models::kernels;

use crate::builder::CellRef;

pub(super) fn reshape(x: &ArrayD<CellRef>, shape: &[usize]) -> ArrayD<CellRef> {
    kernels::reshape(x, shape)
}

pub(super) fn upsample(x: &ArrayD<CellRef>, factors: [usize; 2]) -> ArrayD<CellRef> {
    kernels::upsample_nearest(x, factors)
}

pub(super) fn transpose(x: &ArrayD<CellRef>, perm: &[usize]) -> ArrayD<CellRef> {
    kernels::transpose(x, perm)
}
