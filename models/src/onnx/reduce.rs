//! ReduceMean and ReduceSum over any axes of a run-time tensor, as a spatial mean: the reduced
//! axes are moved last, the tensor is viewed as `[1, M, 1, n]` (M kept values, n reduced ones),
//! averaged by [`Op::GlobalAveragePool`] (the circuit's exact-reciprocal mean), scaled by `n`
//! for a sum, and reshaped to the output. Only the mean (and the scale) cost rows.

use ndarray::{ArrayD, IxDyn};

use super::folding::axes;
use super::{ImportFn, Importer, NodeCtx};
use crate::ImportError;
use crate::graph::Op;
use crate::graph::ops::{Reshape, Transpose};

pub(super) const OPS: &[(&str, ImportFn)] = &[("ReduceMean", reduce_mean), ("ReduceSum", reduce_sum)];

/// Opset from which ReduceSum takes its axes as an input.
const SUM_AXES_INPUT_OPSET: i64 = 13;
/// Opset from which ReduceMean takes its axes as an input.
const MEAN_AXES_INPUT_OPSET: i64 = 18;

fn reduce_mean(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    reduce(imp, ctx, MEAN_AXES_INPUT_OPSET, false)
}

fn reduce_sum(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    reduce(imp, ctx, SUM_AXES_INPUT_OPSET, true)
}

fn reduce(imp: &mut Importer, ctx: &NodeCtx, input_opset: i64, sum: bool) -> Result<(), ImportError> {
    let x = imp.tensor_input(ctx, 0)?;
    let shape = imp.shape(x).to_vec();
    let rank = shape.len();
    let keepdims = ctx.int("keepdims", 1)? != 0;
    // No axes: every axis, ONNX's default.
    let reduced: Vec<usize> = match axes(imp, ctx, input_opset)? {
        Some(a) if !a.is_empty() => {
            let mut axes = a.iter().map(|&v| ctx.axis("axes", v, rank)).collect::<Result<Vec<_>, _>>()?;
            axes.sort_unstable();
            axes.dedup();
            axes
        }
        Some(_) if ctx.int("noop_with_empty_axes", 0)? != 0 => {
            return Err(ctx.bad_attr("noop_with_empty_axes", "an empty reduction (the identity) is not supported"));
        }
        _ => (0..rank).collect(),
    };
    let kept: Vec<usize> = (0..rank).filter(|a| !reduced.contains(a)).collect();
    let out_shape: Vec<usize> = if keepdims {
        (0..rank).map(|a| if reduced.contains(&a) { 1 } else { shape[a] }).collect()
    } else {
        kept.iter().map(|&a| shape[a]).collect()
    };
    if out_shape.is_empty() {
        return Err(ctx.bad_attr("keepdims", "= 0 over every axis gives a scalar, which is not supported"));
    }
    let perm: Vec<usize> = kept.iter().chain(&reduced).copied().collect();
    let mut t = x;
    if perm.iter().enumerate().any(|(i, &p)| i != p) {
        t = imp.emit(ctx, Op::Transpose(Transpose { perm }), vec![t], false)?;
    }
    let m: usize = kept.iter().map(|&a| shape[a]).product();
    let n: usize = reduced.iter().map(|&a| shape[a]).product();
    t = imp.emit(ctx, Op::Reshape(Reshape { shape: vec![1, m, 1, n] }), vec![t], false)?;
    t = imp.emit(ctx, Op::GlobalAveragePool, vec![t], false)?;
    if sum {
        let count = ArrayD::from_elem(IxDyn(&[]), n as f32);
        t = imp.emit(ctx, Op::MulConstant(count), vec![t], false)?;
    }
    imp.emit(ctx, Op::Reshape(Reshape { shape: out_shape }), vec![t], true).map(drop)
}
