//! Mul of two tensors: one product row per output element, its operands broadcast as numpy
//! does, the product rounded into the output's range (with a following Relu fused into the
//! rescale like the linear ops').

use ndarray::{ArrayD, IxDyn};
use zkinfer_models::quantized::QMul;

use super::OpInputs;
use crate::builder::{Builder, CellRef};
use crate::chips::product::ProductInstructions;
use crate::chips::range::Rescale;

pub(super) fn mul(b: &mut Builder, m: &QMul, x: &OpInputs) -> ArrayD<CellRef> {
    let rescale = Rescale::signed_relu(m.shift, x.output.bits, x.fuse_relu).clamped(x.fuse_clamp);
    let shape = IxDyn(&x.output.shape);
    let lhs = x.cells[0].broadcast(shape.clone()).expect("shape validated");
    let rhs = x.cells[1].broadcast(shape.clone()).expect("shape validated");
    let out: Vec<CellRef> = lhs.iter().zip(rhs.iter()).map(|(&l, &r)| b.multiply(l, r, rescale)).collect();
    ArrayD::from_shape_vec(shape, out).expect("one cell per output element")
}
