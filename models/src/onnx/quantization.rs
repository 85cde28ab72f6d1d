//! QDQ models: QuantizeLinear / DequantizeLinear.
//!
//! - DequantizeLinear of a constant (int8/uint8 weights) folds to a float constant, exactly.
//! - QuantizeLinear of a constant folds to an integer constant.
//! - A QuantizeLinear → DequantizeLinear pair on a run-time tensor becomes [`Op::FakeQuantize`],
//!   which the float graph evaluates exactly as onnxruntime does. zkinfer's own quantizer then
//!   replaces the file's scale grid with its power-of-two scales and keeps the pair's clamping
//!   range (see `quantize`).

use ndarray::{ArrayD, IxDyn};

use super::proto::data_type;
use super::{Constant, ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;
use crate::graph::Op;
use crate::graph::ops::FakeQuantize;

pub(super) const OPS: &[(&str, ImportFn)] =
    &[("QuantizeLinear", quantize_linear), ("DequantizeLinear", dequantize_linear)];

/// Scale and zero point inputs, broadcast for `axis` (per-channel) when they are 1-D.
fn params(imp: &Importer, ctx: &NodeCtx, rank: usize) -> Result<(ArrayD<f32>, ArrayD<i64>, i32), ImportError> {
    let scale = imp.constant_input(ctx, 1)?.to_f32();
    let (zero, dt) = match imp.optional_input(ctx, 2)? {
        None => (ArrayD::zeros(IxDyn(&[])), data_type::UINT8),
        Some(_) => match imp.constant_input(ctx, 2)? {
            Constant::Int { values, data_type } => (values, data_type),
            Constant::Float(_) => {
                return Err(ctx.bad_attr("y_zero_point", "must be an integer tensor"));
            }
        },
    };
    if scale.len() > 1 || zero.len() > 1 {
        let axis = ctx.axis("axis", ctx.int("axis", 1)?, rank)?;
        let mut shape = vec![1; rank];
        shape[axis] = scale.len();
        let s = scale.into_shape_with_order(IxDyn(&shape)).map_err(|_| ctx.bad_attr("x_scale", "bad shape"))?;
        let z = if zero.len() > 1 {
            zero.into_shape_with_order(IxDyn(&shape)).map_err(|_| ctx.bad_attr("x_zero_point", "bad shape"))?
        } else {
            zero
        };
        return Ok((s, z, dt));
    }
    Ok((scale, zero, dt))
}

pub(super) fn range_of(dt: i32, ctx: &NodeCtx) -> Result<(i32, i32), ImportError> {
    match dt {
        data_type::INT8 => Ok((-128, 127)),
        data_type::UINT8 => Ok((0, 255)),
        other => Err(ctx.bad_attr("y_zero_point", format!("data type {other}: only int8 and uint8 QDQ are supported"))),
    }
}

fn quantize_linear(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    match imp.input(ctx, 0)? {
        Value::Constant(c) => {
            let x = c.to_f32();
            let (scale, zero, dt) = params(imp, ctx, x.ndim())?;
            let (lo, hi) = range_of(dt, ctx)?;
            let q = crate::kernels::broadcast_zip(&x, &scale, |v, s| (v / s).round_ties_even() as i64);
            let q = crate::kernels::broadcast_zip(&q, &zero, |v, z| (v + z).clamp(lo as i64, hi as i64));
            imp.bind(ctx, Value::Constant(Constant::Int { values: q, data_type: dt }));
            Ok(())
        }
        Value::Tensor(x) => {
            let rank = imp.shape(x).len();
            let (scale, zero, dt) = params(imp, ctx, rank)?;
            if scale.len() != 1 || zero.len() != 1 {
                return Err(ctx.bad_attr("y_scale", "per-channel quantization of activations is not supported"));
            }
            let (qmin, qmax) = range_of(dt, ctx)?;
            let scale = scale.iter().copied().next().unwrap_or(1.0);
            if !(scale.is_finite() && scale > 0.0) {
                return Err(ctx.bad_attr("y_scale", format!("= {scale} must be positive")));
            }
            let zero_point = zero.iter().copied().next().unwrap_or(0) as i32;
            imp.bind(ctx, Value::Quantized { tensor: x, quant: FakeQuantize { scale, zero_point, qmin, qmax } });
            Ok(())
        }
        Value::Quantized { .. } => Err(ctx.bad_attr("x", "is already quantized")),
        Value::Padded { .. } => Err(ctx.bad_attr("x", super::pad::ONLY_WINDOW_READERS)),
        Value::Dynamic(_) => Err(ctx.bad_attr("x", super::dynamic::ONLY_INTEGER_READERS)),
    }
}

fn dequantize_linear(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    match imp.input(ctx, 0)? {
        Value::Constant(c) => {
            let q = c.to_i64("DequantizeLinear's input")?;
            let (scale, zero, _) = params(imp, ctx, q.ndim())?;
            let centered = crate::kernels::broadcast_zip(&q, &zero, |v, z| v - z);
            let x = crate::kernels::broadcast_zip(&centered.mapv(|v| v as f32), &scale, |v, s| v * s);
            imp.bind(ctx, Value::Constant(Constant::Float(x)));
            Ok(())
        }
        Value::Quantized { tensor, quant } => {
            let (scale, zero, _) = params(imp, ctx, imp.shape(tensor).len())?;
            let same = scale.len() == 1
                && scale.iter().next() == Some(&quant.scale)
                && zero.iter().next().copied().unwrap_or(0) == quant.zero_point as i64;
            if !same {
                return Err(ctx.bad_attr("x_scale", "must equal the scale and zero point of its QuantizeLinear"));
            }
            imp.emit(ctx, Op::FakeQuantize(quant), vec![tensor], true).map(drop)
        }
        Value::Tensor(_) | Value::Padded { .. } => {
            Err(ctx.bad_attr("x", "DequantizeLinear of a float tensor (integer model inputs are not supported)"))
        }
        Value::Dynamic(_) => Err(ctx.bad_attr("x", super::dynamic::ONLY_INTEGER_READERS)),
    }
}
