//! onnxruntime's dynamic quantization (`quantize_dynamic`): each activation is quantized at run
//! time by `DynamicQuantizeLinear` (a uint8 grid spanning that very input's minimum and
//! maximum), the weights are int8/uint8 constants with constant scales, and the products are
//! `MatMulInteger` or `ConvInteger`, cast to float and multiplied by the two scales:
//!
//! ```text
//! DynamicQuantizeLinear(x) -> (x_q, x_scale, x_zero)
//! Mul(x_scale, w_scale) -> s
//! MatMulInteger(x_q, w_q, x_zero, w_zero) -> Cast(float) -> Mul(., s) [-> Add(bias)]
//! ```
//!
//! which is `x · ((w_q - w_zero) · w_scale)` up to the rounding of `x` on its run-time grid. A
//! circuit cannot follow a grid that depends on the input; zkinfer's calibrated power-of-two
//! grid takes its place (as it replaces a QDQ pair's grid), and the int8 weights are kept
//! exactly (dequantized per tensor or per output channel). Until the Mul by the scales emits the
//! layer, the values in between are [`Pending`].

use ndarray::{Array2, ArrayD, Axis, Ix2, Ix3, Ix4};

use super::conv::{lift_1d, window_2d};
use super::tensor::one_per_channel;
use super::{ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;
use crate::graph::Op;
use crate::graph::TensorId;
use crate::graph::ops::{Conv2d, Dense, Window2d};

/// What is refused for any other reader of a [`Pending`] value.
pub(super) const ONLY_INTEGER_READERS: &str = "is a value of dynamic quantization: only MatMulInteger, ConvInteger, \
Cast and the Mul by the scales may read it";

pub(super) const OPS: &[(&str, ImportFn)] = &[
    ("DynamicQuantizeLinear", dynamic_quantize_linear),
    ("MatMulInteger", matmul_integer),
    ("ConvInteger", conv_integer),
];

/// A value of dynamic quantization between `DynamicQuantizeLinear` and the Mul by the scales.
#[derive(Clone, Debug)]
pub(crate) enum Pending {
    /// `x_q`, the integers of run-time tensor `of`.
    Integers { of: TensorId },
    /// `x_scale` of `of`, times `factor` (the weight's scales once multiplied in).
    Scale { of: TensorId, factor: ArrayD<f32> },
    /// `x_zero` of `of`.
    ZeroPoint { of: TensorId },
    /// The integer product of `of`'s integers and a constant weight centred on its zero points.
    Product { of: TensorId, layer: IntegerLayer },
}

/// The weights of a `MatMulInteger` or `ConvInteger`, centred on their zero points (exact
/// integers held as floats), before their scales.
#[derive(Clone, Debug)]
pub(crate) enum IntegerLayer {
    /// `[out_features, in_features]`.
    Dense(Array2<f32>),
    /// `[out_channels, in_channels, kh, kw]` and the window.
    Conv(ndarray::Array4<f32>, Window2d),
}

impl IntegerLayer {
    fn outputs(&self) -> usize {
        match self {
            IntegerLayer::Dense(w) => w.nrows(),
            IntegerLayer::Conv(w, _) => w.shape()[0],
        }
    }
}

fn pending(imp: &Importer, ctx: &NodeCtx, i: usize) -> Result<Option<Pending>, ImportError> {
    Ok(match imp.optional_input(ctx, i)? {
        Some(Value::Dynamic(p)) => Some(p),
        _ => None,
    })
}

fn dynamic_quantize_linear(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let of = imp.tensor_input(ctx, 0)?;
    let one = ArrayD::from_elem(ndarray::IxDyn(&[]), 1.0f32);
    imp.bind_output(ctx, 0, Value::Dynamic(Pending::Integers { of }));
    imp.bind_output(ctx, 1, Value::Dynamic(Pending::Scale { of, factor: one }));
    imp.bind_output(ctx, 2, Value::Dynamic(Pending::ZeroPoint { of }));
    Ok(())
}

/// ONNX's names of inputs 0, 1, 2 and 3 of the node (for error messages).
fn input_names(ctx: &NodeCtx) -> [&'static str; 4] {
    if ctx.op_type == "ConvInteger" {
        ["x", "w", "x_zero_point", "w_zero_point"]
    } else {
        ["A", "B", "a_zero_point", "b_zero_point"]
    }
}

/// The run-time tensor whose integers input 0 holds; input 2, its zero point, must be the same
/// tensor's (without it the product would not be centred).
fn integer_input(imp: &Importer, ctx: &NodeCtx) -> Result<TensorId, ImportError> {
    let names = input_names(ctx);
    let Some(Pending::Integers { of }) = pending(imp, ctx, 0)? else {
        return Err(ctx.bad_attr(names[0], "must be the integer output of a DynamicQuantizeLinear"));
    };
    match pending(imp, ctx, 2)? {
        Some(Pending::ZeroPoint { of: z }) if z == of => Ok(of),
        _ => Err(ctx.bad_attr(names[2], "must be the zero point of the same DynamicQuantizeLinear")),
    }
}

/// Input 3, the weight's zero points: absent (0), one, or one per output channel.
fn weight_zero_points(imp: &Importer, ctx: &NodeCtx, channels: usize) -> Result<Vec<i64>, ImportError> {
    let zeros: Vec<i64> = match imp.optional_input(ctx, 3)? {
        None => vec![0],
        Some(Value::Constant(c)) => c.to_i64("the weight's zero point")?.iter().copied().collect(),
        Some(_) => return Err(ctx.bad_attr(input_names(ctx)[3], "must be a constant")),
    };
    let n = zeros.len();
    one_per_channel(&zeros, channels).ok_or_else(|| {
        ctx.bad_attr(input_names(ctx)[3], format!("has {n} values: expected 1 or {channels} (per channel)"))
    })
}

/// `MatMulInteger(x_q, W_q [K, N], x_zero, w_zero)`.
fn matmul_integer(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let of = integer_input(imp, ctx)?;
    let w = imp.constant_input(ctx, 1)?.to_i64("MatMulInteger's weight")?;
    let w = w.into_dimensionality::<Ix2>().map_err(|_| ctx.bad_attr(input_names(ctx)[1], "must be a 2-D constant"))?;
    let zeros = weight_zero_points(imp, ctx, w.ncols())?;
    // Dense stores [out, in].
    let centred = Array2::from_shape_fn((w.ncols(), w.nrows()), |(o, i)| (w[[i, o]] - zeros[o]) as f32);
    imp.bind(ctx, Value::Dynamic(Pending::Product { of, layer: IntegerLayer::Dense(centred) }));
    Ok(())
}

/// `ConvInteger(x_q, W_q [O, C, kh, kw] or [O, C, k], x_zero, w_zero)` with Conv's attributes.
fn conv_integer(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let of = integer_input(imp, ctx)?;
    let w = imp.constant_input(ctx, 1)?.to_i64("ConvInteger's weight")?;
    let w = match w.ndim() {
        3 => w.into_dimensionality::<Ix3>().map(|w| w.insert_axis(Axis(2))),
        _ => w.into_dimensionality::<Ix4>(),
    }
    .map_err(|_| ctx.bad_attr("w", "only 1-D and 2-D convolutions (a 3-D or 4-D weight) are supported"))?;
    ctx.require_int("group", 1, 1, "grouped and depthwise convolutions are not supported")?;
    let zeros = weight_zero_points(imp, ctx, w.shape()[0])?;
    let centred = ndarray::Array4::from_shape_fn(w.raw_dim(), |(o, c, y, x)| (w[[o, c, y, x]] - zeros[o]) as f32);
    let window = window_2d(imp, ctx, of, Some([w.shape()[2], w.shape()[3]]))?;
    imp.bind(ctx, Value::Dynamic(Pending::Product { of, layer: IntegerLayer::Conv(centred, window) }));
    Ok(())
}

/// A Mul with an operand of dynamic quantization: a scale times a constant (the weight's
/// scales), or the integer product times its scales, which emits the layer.
pub(super) fn mul(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let (a, b) = (imp.input(ctx, 0)?, imp.input(ctx, 1)?);
    match (a, b) {
        (Value::Dynamic(Pending::Scale { of, factor }), Value::Constant(c))
        | (Value::Constant(c), Value::Dynamic(Pending::Scale { of, factor })) => {
            let factor = crate::kernels::broadcast_zip(&factor, &c.to_f32(), |x, y| x * y);
            imp.bind(ctx, Value::Dynamic(Pending::Scale { of, factor }));
            Ok(())
        }
        (Value::Dynamic(Pending::Product { of, layer }), Value::Dynamic(Pending::Scale { of: s, factor }))
        | (Value::Dynamic(Pending::Scale { of: s, factor }), Value::Dynamic(Pending::Product { of, layer }))
            if s == of =>
        {
            emit_scaled(imp, ctx, of, layer, &factor)
        }
        _ => Err(ImportError::Unsupported {
            what: format!(
                "Mul '{}' of a dynamically quantized value: only the integer product times its input's and weight's scales is supported",
                ctx.name
            ),
        }),
    }
}

/// Emits `layer` on `of` with each output channel's weights times its scale (`factor`: one
/// value, or one per output channel laid out along the output's channel axis).
fn emit_scaled(
    imp: &mut Importer,
    ctx: &NodeCtx,
    of: TensorId,
    layer: IntegerLayer,
    factor: &ArrayD<f32>,
) -> Result<(), ImportError> {
    let channels = layer.outputs();
    // The channel axis of the product: the last for a Dense, axis 1 of NC(H)W for a convolution.
    let rank = imp.shape(of).len();
    let axis = match layer {
        IntegerLayer::Dense(_) => rank.saturating_sub(1),
        IntegerLayer::Conv(..) => 1,
    };
    let scales = crate::optimize::per_channel(factor, channels, axis, rank).ok_or_else(|| {
        let shape = factor.shape();
        ctx.bad_attr(
            input_names(ctx)[1],
            format!("scales of shape {shape:?}: expected one, or one per output channel ({channels})"),
        )
    })?;
    match layer {
        IntegerLayer::Dense(mut weight) => {
            for (mut row, s) in weight.rows_mut().into_iter().zip(&scales) {
                row.mapv_inplace(|v| v * s);
            }
            imp.emit(ctx, Op::Dense(Dense { weight, bias: None }), vec![of], true).map(drop)
        }
        IntegerLayer::Conv(mut weight, window) => {
            for (mut kernel, s) in weight.outer_iter_mut().zip(&scales) {
                kernel.mapv_inplace(|v| v * s);
            }
            lift_1d(imp, ctx, of, Op::Conv2d(Conv2d { weight, bias: None, window }))
        }
    }
}
