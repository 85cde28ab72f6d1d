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

/// A 2-D transposed convolution as PyTorch's `ConvTranspose2d` exports it: weight
/// `[C_in, C_out, kh, kw]`, strides, pads, output padding.
fn conv_transpose(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let x = imp.tensor_input(ctx, 0)?;
    let shape = imp.shape(x).to_vec();
    if shape.len() != 4 {
        return Err(ImportError::Unsupported {
            what: format!(
                "node '{}': only 2-D transposed convolutions (an NCHW input) are supported, got {shape:?}",
                ctx.name
            ),
        });
    }
    let weight = imp
        .constant_input(ctx, 1)?
        .to_f32()
        .into_dimensionality::<Ix4>()
        .map_err(|_| ctx.bad_attr("W", "only 2-D transposed convolutions (a 4-D weight) are supported"))?;
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
    let values = |name: &str, default: Vec<i64>, len: usize, min: i64| -> Result<Vec<usize>, ImportError> {
        let v = ctx.ints(name)?.unwrap_or(default);
        if v.len() != len || v.iter().any(|&x| x < min) {
            return Err(ctx.bad_attr(name, format!("= {v:?}: expected {len} values of at least {min}")));
        }
        Ok(v.iter().map(|&x| x as usize).collect())
    };
    let kernel = [weight.shape()[2], weight.shape()[3]];
    if ctx.ints("kernel_shape")?.is_some_and(|k| k != [kernel[0] as i64, kernel[1] as i64]) {
        return Err(ctx.bad_attr("kernel_shape", "differs from the weight's kernel"));
    }
    let stride = values("strides", vec![1, 1], 2, 1)?;
    let output_padding = values("output_padding", vec![0, 0], 2, 0)?;
    let pads = match ctx.string("auto_pad", "NOTSET")?.as_str() {
        "NOTSET" => values("pads", vec![0; 4], 4, 0)?,
        "VALID" => vec![0; 4],
        other => return Err(ctx.bad_attr("auto_pad", format!("= {other} is not supported: give pads instead"))),
    };
    let window = TransposedWindow {
        kernel,
        stride: [stride[0], stride[1]],
        pads: [pads[0], pads[1], pads[2], pads[3]],
        output_padding: [output_padding[0], output_padding[1]],
    };
    imp.emit(ctx, Op::ConvTranspose2d(ConvTranspose2d { weight, bias, window }), vec![x], true).map(drop)
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
