//! Conv → [`Conv2d`]: 2-D, groups 1, dilation 1, constant weights. A 1-D convolution (an
//! `[N, C, L]` input) is a 2-D one over `[N, C, 1, L]` between two reshapes; 1-D pooling the same
//! (see [`window_2d`] and [`lift_1d`]). ConvTranspose → [`ConvTranspose2d`]: 2-D, groups 1,
//! dilation 1, explicit pads or VALID, with output padding.

use ndarray::{Array1, Ix1, Ix3, Ix4};

use super::{ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;
use crate::graph::ops::{Conv2d, ConvTranspose2d, Reshape, TransposedWindow, Window2d};
use crate::graph::{Op, TensorId};

pub(super) const OPS: &[(&str, ImportFn)] = &[("Conv", conv), ("ConvTranspose", conv_transpose)];

fn conv(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let (x, padding) = imp.window_input(ctx)?;
    let weight = imp.constant_input(ctx, 1)?.to_f32();
    let weight = match weight.ndim() {
        // 1-D: [O, C, K] becomes [O, C, 1, K].
        3 => weight.into_dimensionality::<Ix3>().map(|w| w.insert_axis(ndarray::Axis(2))),
        _ => weight.into_dimensionality::<Ix4>(),
    }
    .map_err(|_| ctx.bad_attr("W", "only 1-D and 2-D convolutions (a 3-D or 4-D weight tensor) are supported"))?;
    let bias = constant_bias(imp, ctx)?;
    ctx.require_int("group", 1, 1, "grouped and depthwise convolutions are not supported")?;
    let kernel = [weight.shape()[2], weight.shape()[3]];
    let window = with_padding(ctx, window_2d(imp, ctx, x, Some(kernel))?, padding)?;
    lift_1d(imp, ctx, x, Op::Conv2d(Conv2d { weight, bias, window }))
}

/// Input 2 of a Conv or ConvTranspose: a constant 1-D bias, if any.
fn constant_bias(imp: &Importer, ctx: &NodeCtx) -> Result<Option<Array1<f32>>, ImportError> {
    match imp.optional_input(ctx, 2)? {
        None => Ok(None),
        Some(Value::Constant(c)) => {
            Ok(Some(c.to_f32().into_dimensionality::<Ix1>().map_err(|_| ctx.bad_attr("B", "bias must be 1-D"))?))
        }
        Some(_) => {
            Err(ImportError::ExpectedConstant { node: ctx.name.clone(), op_type: ctx.op_type.to_string(), input: 2 })
        }
    }
}

/// A transposed convolution as PyTorch's `ConvTranspose2d` and `ConvTranspose1d` export it:
/// weight `[C_in, C_out, kh, kw]` (or `[C_in, C_out, k]` over an `[N, C, L]` input, taken as
/// height 1), strides, pads, output padding.
fn conv_transpose(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let x = imp.tensor_input(ctx, 0)?;
    let shape = imp.shape(x).to_vec();
    let one_d = match shape.len() {
        3 => true,
        4 => false,
        _ => {
            return Err(ImportError::Unsupported {
                what: format!(
                    "node '{}': only 1-D and 2-D transposed convolutions (an NCL or NCHW input) are supported, got {shape:?}",
                    ctx.name
                ),
            });
        }
    };
    let weight = imp.constant_input(ctx, 1)?.to_f32();
    let weight = if one_d {
        weight.into_dimensionality::<Ix3>().map(|w| w.insert_axis(ndarray::Axis(2)))
    } else {
        weight.into_dimensionality::<Ix4>()
    }
    .map_err(|_| ctx.bad_attr("W", "must have the input's rank (a 3-D weight for 1-D, 4-D for 2-D)"))?;
    let bias = constant_bias(imp, ctx)?;
    ctx.require_int("group", 1, 1, "grouped transposed convolutions are not supported")?;
    if let Some(d) = ctx.ints("dilations")?
        && d.iter().any(|&v| v != 1)
    {
        return Err(ctx.bad_attr("dilations", format!("= {d:?}: only dilation 1 is supported")));
    }
    if ctx.ints("output_shape")?.is_some() {
        return Err(ctx.bad_attr("output_shape", "is not supported: give pads and output_padding instead"));
    }
    // Per spatial axis; a 1-D form's single axis is the width (height 1, stride 1, no padding).
    let axes = if one_d { 1 } else { 2 };
    let values = |name: &str, default: usize, min: i64| -> Result<Vec<usize>, ImportError> {
        let v = ctx.ints(name)?.unwrap_or(vec![default as i64; axes]);
        if v.len() != axes || v.iter().any(|&x| x < min) {
            return Err(ctx.bad_attr(name, format!("= {v:?}: expected {axes} value(s) of at least {min}")));
        }
        let v: Vec<usize> = v.iter().map(|&x| x as usize).collect();
        Ok(if one_d { vec![default, v[0]] } else { v })
    };
    let kernel = [weight.shape()[2], weight.shape()[3]];
    let declared = if one_d { vec![kernel[1] as i64] } else { vec![kernel[0] as i64, kernel[1] as i64] };
    if ctx.ints("kernel_shape")?.is_some_and(|k| k != declared) {
        return Err(ctx.bad_attr("kernel_shape", "differs from the weight's kernel"));
    }
    let stride = values("strides", 1, 1)?;
    let output_padding = values("output_padding", 0, 0)?;
    let pads = match ctx.string("auto_pad", "NOTSET")?.as_str() {
        "NOTSET" => {
            let p = ctx.ints("pads")?.unwrap_or(vec![0; 2 * axes]);
            if p.len() != 2 * axes || p.iter().any(|&v| v < 0) {
                return Err(ctx.bad_attr("pads", format!("= {p:?}: expected {} value(s) of at least 0", 2 * axes)));
            }
            let p: Vec<usize> = p.iter().map(|&v| v as usize).collect();
            if one_d { [0, p[0], 0, p[1]] } else { [p[0], p[1], p[2], p[3]] }
        }
        "VALID" => [0; 4],
        other => return Err(ctx.bad_attr("auto_pad", format!("= {other} is not supported: give pads instead"))),
    };
    let window = TransposedWindow {
        kernel,
        stride: [stride[0], stride[1]],
        pads,
        output_padding: [output_padding[0], output_padding[1]],
    };
    lift_1d(imp, ctx, x, Op::ConvTranspose2d(ConvTranspose2d { weight, bias, window }))
}

/// Adds the zeros of a Pad node in front of the window op to the op's own padding.
pub(super) fn with_padding(ctx: &NodeCtx, mut window: Window2d, padding: [usize; 4]) -> Result<Window2d, ImportError> {
    if padding == [0; 4] {
        return Ok(window);
    }
    let auto = ctx.string("auto_pad", "NOTSET")?;
    if auto != "NOTSET" && auto != "VALID" {
        return Err(ctx.bad_attr("auto_pad", format!("= {auto} after a Pad node is not supported")));
    }
    for (own, extra) in window.pads.iter_mut().zip(padding) {
        *own += extra;
    }
    Ok(window)
}

/// Emits `op` (a 2-D window op) on `x`; an `[N, C, L]` input goes through as `[N, C, 1, L]` and
/// the result comes back as `[N, C', L']`.
pub(super) fn lift_1d(imp: &mut Importer, ctx: &NodeCtx, x: TensorId, op: Op) -> Result<(), ImportError> {
    let shape = imp.shape(x).to_vec();
    if shape.len() != 3 {
        return imp.emit(ctx, op, vec![x], true).map(drop);
    }
    let lifted =
        imp.emit(ctx, Op::Reshape(Reshape { shape: vec![shape[0], shape[1], 1, shape[2]] }), vec![x], false)?;
    let y = imp.emit(ctx, op, vec![lifted], false)?;
    let [n, c, _, l] = imp.shape(y) else { unreachable!("window ops keep four dimensions") };
    let back = vec![*n, *c, *l];
    imp.emit(ctx, Op::Reshape(Reshape { shape: back }), vec![y], true).map(drop)
}

/// Reads `kernel_shape`, `strides`, `pads`, `dilations` and `auto_pad` of a Conv or pooling node.
/// `weight_kernel` is the kernel implied by a Conv weight (pooling has none).
pub(super) fn window_2d(
    imp: &Importer,
    ctx: &NodeCtx,
    x: crate::graph::TensorId,
    weight_kernel: Option<[usize; 2]>,
) -> Result<Window2d, ImportError> {
    let shape = imp.shape(x);
    // 1-D windows over [N, C, L] are 2-D windows of height 1 over [N, C, 1, L].
    let one_d = shape.len() == 3;
    let shape: Vec<usize> = if one_d { vec![shape[0], shape[1], 1, shape[2]] } else { shape.to_vec() };
    let pair = |name: &str, v: Vec<i64>| -> Result<[usize; 2], ImportError> {
        match (v.as_slice(), one_d) {
            ([a, b], false) if *a > 0 && *b > 0 => Ok([*a as usize, *b as usize]),
            ([a], true) if *a > 0 => Ok([1, *a as usize]),
            _ => Err(ctx
                .bad_attr(name, format!("= {v:?}: expected {} positive value(s)", if one_d { "one" } else { "two" }))),
        }
    };
    let kernel = match (ctx.ints("kernel_shape")?, weight_kernel) {
        (Some(k), w) => {
            let k = pair("kernel_shape", k)?;
            if w.is_some_and(|w| w != k) {
                return Err(ctx.bad_attr("kernel_shape", "differs from the weight's kernel"));
            }
            k
        }
        (None, Some(w)) => w,
        (None, None) => return Err(ctx.bad_attr("kernel_shape", "is required")),
    };
    let stride = pair("strides", ctx.ints("strides")?.unwrap_or(if one_d { vec![1] } else { vec![1, 1] }))?;
    if let Some(d) = ctx.ints("dilations")?
        && d.iter().any(|&v| v != 1)
    {
        return Err(ctx.bad_attr("dilations", format!("= {d:?}: only dilation 1 is supported")));
    }
    if shape.len() != 4 {
        return Err(ImportError::Unsupported {
            what: format!("node '{}' needs an NCL or NCHW input, got {shape:?}", ctx.name),
        });
    }
    let pads = match ctx.string("auto_pad", "NOTSET")?.as_str() {
        "NOTSET" => match ctx.ints("pads")? {
            None => [0; 4],
            Some(p) => match (p.as_slice(), one_d) {
                ([a, b, c, d], false) if p.iter().all(|&v| v >= 0) => {
                    [*a as usize, *b as usize, *c as usize, *d as usize]
                }
                ([a, b], true) if p.iter().all(|&v| v >= 0) => [0, *a as usize, 0, *b as usize],
                _ => {
                    return Err(ctx.bad_attr(
                        "pads",
                        format!("= {p:?}: expected {} non-negative values", if one_d { "two" } else { "four" }),
                    ));
                }
            },
        },
        "VALID" => [0; 4],
        mode @ ("SAME_UPPER" | "SAME_LOWER") => {
            let mut pads = [0; 4];
            for axis in 0..2 {
                let n = shape[2 + axis];
                let out = n.div_ceil(stride[axis]);
                let total = ((out - 1) * stride[axis] + kernel[axis]).saturating_sub(n);
                let small = total / 2;
                let (begin, end) = if mode == "SAME_UPPER" { (small, total - small) } else { (total - small, small) };
                pads[axis] = begin;
                pads[axis + 2] = end;
            }
            pads
        }
        other => return Err(ctx.bad_attr("auto_pad", format!("= {other} is not a known mode"))),
    };
    Ok(Window2d { kernel, stride, pads })
}
