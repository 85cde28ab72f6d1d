//! BatchNormalization (inference) → a per-channel [`Op::MulConstant`] and [`Op::AddConstant`],
//! which [`crate::optimize`] then folds into the preceding Conv or Dense layer.

use ndarray::{Array1, ArrayD, IxDyn};

use super::{ImportFn, Importer, NodeCtx};
use crate::ImportError;
use crate::graph::Op;

pub(super) const OPS: &[(&str, ImportFn)] = &[("BatchNormalization", batch_norm)];

fn batch_norm(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    ctx.require_int("training_mode", 0, 0, "only inference-mode BatchNormalization is supported")?;
    if ctx.output_count() > 1 {
        return Err(ctx.bad_attr("running_mean", "training outputs are not supported"));
    }
    let x = imp.tensor_input(ctx, 0)?;
    let shape = imp.shape(x).to_vec();
    let channels = *shape.get(1).ok_or_else(|| ctx.bad_attr("X", "input needs a channel axis"))?;
    let vec = |i: usize, what: &str| -> Result<Array1<f32>, ImportError> {
        let c = imp.constant_input(ctx, i)?.to_f32();
        if c.len() != channels {
            return Err(ctx.bad_attr(what, format!("has {} values for {channels} channels", c.len())));
        }
        Ok(Array1::from_iter(c.iter().copied()))
    };
    let (gamma, beta, mean, var) = (vec(1, "scale")?, vec(2, "B")?, vec(3, "input_mean")?, vec(4, "input_var")?);
    let eps = ctx.float("epsilon", 1e-5)?;
    let a = &gamma / &var.mapv(|v| (v + eps).sqrt());
    let c = &beta - &(&mean * &a);
    if a.iter().chain(c.iter()).any(|v| !v.is_finite()) {
        return Err(ctx.bad_attr("input_var", "variance + epsilon must be positive"));
    }
    // Per-channel constants shaped to broadcast over [N, C, ...].
    let mut cshape = vec![channels];
    cshape.extend(std::iter::repeat_n(1, shape.len().saturating_sub(2)));
    let reshape = |v: Array1<f32>| -> ArrayD<f32> {
        v.into_shape_with_order(IxDyn(&cshape)).expect("channel count checked above")
    };
    let scaled = imp.emit(ctx, Op::MulConstant(reshape(a)), vec![x], false)?;
    imp.emit(ctx, Op::AddConstant(reshape(c)), vec![scaled], true).map(drop)
}
