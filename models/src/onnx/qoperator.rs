//! onnxruntime's QOperator format: integer ops between a QuantizeLinear and a
//! DequantizeLinear. `QLinearConv`, `QLinearMatMul` and `QGemm` (domain `com.microsoft`) take a
//! quantized input and give a quantized output; here each is its float meaning, exactly: the
//! input's dequantization ([`Op::FakeQuantize`] of the pending quantization), the layer with the
//! int8 weights and int32 bias dequantized (per channel where the file says so), and the
//! output's quantization left pending for the next integer op or DequantizeLinear, as
//! QuantizeLinear leaves it. MaxPool, Flatten and Reshape pass quantized values through (they
//! commute with rounding and clamping).

use ndarray::{Array1, Array2, ArrayD, Axis, Ix2, Ix4};

use super::conv::window_2d;
use super::proto::data_type;
use super::quantization::range_of;
use super::tensor::one_per_channel;
use super::{Constant, ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;
use crate::graph::ops::{Conv2d, Dense, FakeQuantize};
use crate::graph::{Op, TensorId};

pub(super) const OPS: &[(&str, ImportFn)] = &[("QLinearConv", qlinear_conv), ("QLinearMatMul", qlinear_matmul)];

/// Ops of onnxruntime's own domain.
pub(super) const MS_OPS: &[(&str, ImportFn)] = &[("QGemm", qgemm)];

/// A constant scale, one value.
fn scalar(imp: &Importer, ctx: &NodeCtx, i: usize) -> Result<f32, ImportError> {
    let s = imp.constant_input(ctx, i)?.to_f32();
    match s.iter().copied().collect::<Vec<_>>().as_slice() {
        [v] if v.is_finite() && *v > 0.0 => Ok(*v),
        _ => Err(ctx.bad_attr(&format!("input {i}"), "must be one positive scale")),
    }
}

/// A zero point (absent: 0 as uint8) and its integer type.
fn zero_points(imp: &Importer, ctx: &NodeCtx, i: usize) -> Result<(Vec<i64>, i32), ImportError> {
    match imp.optional_input(ctx, i)? {
        None => Ok((vec![0], data_type::UINT8)),
        Some(Value::Constant(Constant::Int { values, data_type })) => Ok((values.iter().copied().collect(), data_type)),
        Some(_) => Err(ctx.bad_attr(&format!("input {i}"), "must be a constant integer zero point")),
    }
}

/// Scales and zero points of a weight: one each, or one per output channel.
fn weight_params(
    imp: &Importer,
    ctx: &NodeCtx,
    scale_i: usize,
    zero_i: usize,
    channels: usize,
) -> Result<(Vec<f32>, Vec<i64>), ImportError> {
    let scales: Vec<f32> = imp.constant_input(ctx, scale_i)?.to_f32().iter().copied().collect();
    let (zeros, _) = zero_points(imp, ctx, zero_i)?;
    match (one_per_channel(&scales, channels), one_per_channel(&zeros, channels)) {
        (Some(scales), Some(zeros)) if scales.iter().all(|s| s.is_finite() && *s > 0.0) => Ok((scales, zeros)),
        _ => Err(ctx.bad_attr("w_scale", format!("expected one positive scale or {channels} (per channel)"))),
    }
}

/// The node's quantized input 0, dequantized: its pending quantization must be the one the node
/// declares (inputs 1 and 2). Returns the dequantized tensor and the input's scale.
fn dequantized_input(imp: &mut Importer, ctx: &NodeCtx) -> Result<(TensorId, f32), ImportError> {
    let Value::Quantized { tensor, quant } = imp.input(ctx, 0)? else {
        return Err(ctx.bad_attr("x", "must be the integer output of a QuantizeLinear or a QOperator op"));
    };
    let scale = scalar(imp, ctx, 1)?;
    let (zero, _) = zero_points(imp, ctx, 2)?;
    if scale != quant.scale || zero.as_slice() != [i64::from(quant.zero_point)] {
        return Err(ctx.bad_attr("x_scale", "must equal the scale and zero point its input was quantized with"));
    }
    Ok((imp.emit(ctx, Op::FakeQuantize(quant), vec![tensor], false)?, scale))
}

/// Leaves `y`'s quantization (scale and zero point at inputs `scale_i`, `zero_i`) pending.
fn requantize(
    imp: &mut Importer,
    ctx: &NodeCtx,
    y: TensorId,
    scale_i: usize,
    zero_i: usize,
) -> Result<(), ImportError> {
    let scale = scalar(imp, ctx, scale_i)?;
    let (zero, dt) = zero_points(imp, ctx, zero_i)?;
    let (qmin, qmax) = range_of(dt, ctx)?;
    let &[zero_point] = zero.as_slice() else {
        return Err(ctx.bad_attr("y_zero_point", "must be one value"));
    };
    let quant = FakeQuantize { scale, zero_point: zero_point as i32, qmin, qmax };
    imp.bind(ctx, Value::Quantized { tensor: y, quant });
    Ok(())
}

/// An int32 bias at scale `x_scale · w_scale[c]`, as reals.
fn bias(
    imp: &Importer,
    ctx: &NodeCtx,
    i: usize,
    x_scale: f32,
    w_scales: &[f32],
) -> Result<Option<Array1<f32>>, ImportError> {
    let Some(_) = imp.optional_input(ctx, i)? else { return Ok(None) };
    let b = imp.constant_input(ctx, i)?.to_i64("bias")?;
    if b.len() != w_scales.len() {
        return Err(ctx.bad_attr("B", format!("has {} values for {} channels", b.len(), w_scales.len())));
    }
    Ok(Some(b.iter().zip(w_scales).map(|(&v, &s)| (v as f64 * f64::from(x_scale) * f64::from(s)) as f32).collect()))
}

fn qlinear_conv(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    ctx.require_int("group", 1, 1, "grouped and depthwise convolutions are not supported")?;
    let w = imp
        .constant_input(ctx, 3)?
        .to_i64("w")?
        .into_dimensionality::<Ix4>()
        .map_err(|_| ctx.bad_attr("w", "only 2-D convolutions (a 4-D weight) are supported"))?;
    let channels = w.shape()[0];
    let (scales, zeros) = weight_params(imp, ctx, 4, 5, channels)?;
    let mut weight = w.mapv(|v| v as f32);
    for (c, mut k) in weight.axis_iter_mut(Axis(0)).enumerate() {
        k.mapv_inplace(|v| (v - zeros[c] as f32) * scales[c]);
    }
    let (x, x_scale) = dequantized_input(imp, ctx)?;
    let bias = bias(imp, ctx, 8, x_scale, &scales)?;
    let window = window_2d(imp, ctx, x, Some([weight.shape()[2], weight.shape()[3]]))?;
    let y = imp.emit(ctx, Op::Conv2d(Conv2d { weight, bias, window }), vec![x], false)?;
    requantize(imp, ctx, y, 6, 7)
}

/// A `[K, N]` int8 matrix dequantized per column into a Dense weight `[N, K]`, times `alpha`.
fn dense_weight(
    imp: &Importer,
    ctx: &NodeCtx,
    b: Array2<i64>,
    scale_i: usize,
    zero_i: usize,
    alpha: f32,
) -> Result<(Array2<f32>, Vec<f32>), ImportError> {
    let (scales, zeros) = weight_params(imp, ctx, scale_i, zero_i, b.ncols())?;
    let weight =
        Array2::from_shape_fn((b.ncols(), b.nrows()), |(n, k)| (b[[k, n]] - zeros[n]) as f32 * scales[n] * alpha);
    Ok((weight, scales))
}

fn qlinear_matmul(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let b = imp
        .constant_input(ctx, 3)?
        .to_i64("b")?
        .into_dimensionality::<Ix2>()
        .map_err(|_| ctx.bad_attr("b", "must be a constant 2-D matrix"))?;
    let (weight, _) = dense_weight(imp, ctx, b, 4, 5, 1.0)?;
    let (x, _) = dequantized_input(imp, ctx)?;
    let y = imp.emit(ctx, Op::Dense(Dense { weight, bias: None }), vec![x], false)?;
    requantize(imp, ctx, y, 6, 7)
}

fn qgemm(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    ctx.require_int("transA", 0, 0, "a transposed left operand is not supported")?;
    let alpha = ctx.float("alpha", 1.0)?;
    let b: ArrayD<i64> = imp.constant_input(ctx, 3)?.to_i64("B")?;
    let b = b.into_dimensionality::<Ix2>().map_err(|_| ctx.bad_attr("B", "must be a constant 2-D matrix"))?;
    let b = if ctx.int("transB", 0)? != 0 { b.t().to_owned() } else { b };
    let (weight, scales) = dense_weight(imp, ctx, b, 4, 5, alpha)?;
    let (x, x_scale) = dequantized_input(imp, ctx)?;
    let scaled: Vec<f32> = scales.iter().map(|s| s * alpha).collect();
    let bias = bias(imp, ctx, 6, x_scale, &scaled)?;
    let dense = Op::Dense(Dense { weight, bias });
    if imp.optional_input(ctx, 7)?.is_none() {
        // No output scale: the result is a float tensor.
        return imp.emit(ctx, dense, vec![x], true).map(drop);
    }
    let y = imp.emit(ctx, dense, vec![x], false)?;
    requantize(imp, ctx, y, 7, 8)
}
