//! Relu, LeakyRelu, Sigmoid, Tanh, Erf, Exp, Log, Gelu, Clip, HardSigmoid (as `alpha · x +
//! beta` clipped to [0, 1]), HardSwish (`x` times that), and the output ops Softmax and ArgMax.

use super::{ImportFn, Importer, NodeCtx};
use crate::ImportError;
use crate::graph::ops::{ArgMax, Clip, Softmax};
use crate::graph::{Node, Op, TensorId};

pub(super) const OPS: &[(&str, ImportFn)] = &[
    ("Relu", relu),
    ("LeakyRelu", leaky_relu),
    ("Sigmoid", sigmoid),
    ("Tanh", tanh),
    ("Clip", clip),
    ("HardSigmoid", hard_sigmoid),
    ("HardSwish", hard_swish),
    ("Erf", erf),
    ("Exp", exp),
    ("Log", log),
    ("Gelu", gelu),
    ("Softmax", softmax),
    ("ArgMax", argmax),
];

fn unary(imp: &mut Importer, ctx: &NodeCtx, op: Op) -> Result<(), ImportError> {
    let x = imp.tensor_input(ctx, 0)?;
    imp.emit(ctx, op, vec![x], true).map(drop)
}

fn relu(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    unary(imp, ctx, Op::Relu)
}

fn leaky_relu(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let alpha = ctx.float("alpha", 0.01)?;
    if !(0.0..=1.0).contains(&alpha) {
        return Err(ctx.bad_attr("alpha", format!("= {alpha}: only slopes in [0, 1] are supported")));
    }
    unary(imp, ctx, Op::LeakyRelu { alpha })
}

fn sigmoid(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    unary(imp, ctx, Op::Sigmoid)
}

fn tanh(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    unary(imp, ctx, Op::Tanh)
}

/// Opset ≥ 11 passes the bounds as optional constant inputs; older opsets as attributes.
fn clip(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let bound = |i: usize, attr: &str| -> Result<Option<f32>, ImportError> {
        if let Some(v) = ctx.float_opt(attr)? {
            return Ok(Some(v));
        }
        match imp.optional_input(ctx, i)? {
            None => Ok(None),
            Some(_) => {
                let c = imp.constant_input(ctx, i)?;
                if c.len() != 1 {
                    return Err(ctx.bad_attr(attr, "the bound must be a scalar"));
                }
                Ok(c.to_f32().iter().next().copied())
            }
        }
    };
    let min = bound(1, "min")?;
    let max = bound(2, "max")?;
    if min.is_some_and(f32::is_nan) || max.is_some_and(f32::is_nan) {
        return Err(ctx.bad_attr("min", "Clip bounds must be numbers"));
    }
    if let (Some(a), Some(b)) = (min, max)
        && a > b
    {
        return Err(ctx.bad_attr("min", format!("{a} is above max {b}")));
    }
    unary(imp, ctx, Op::Clip(Clip { min, max }))
}

fn erf(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    unary(imp, ctx, Op::Erf)
}

fn exp(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    unary(imp, ctx, Op::Exp)
}

fn log(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    unary(imp, ctx, Op::Log)
}

/// Opset 20's Gelu; `approximate` is "none" or "tanh".
fn gelu(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let tanh = match ctx.string("approximate", "none")?.as_str() {
        "none" => false,
        "tanh" => true,
        other => return Err(ctx.bad_attr("approximate", format!("= {other:?}: expected \"none\" or \"tanh\""))),
    };
    unary(imp, ctx, Op::Gelu { tanh })
}

/// `max(0, min(1, alpha · x + beta))`: a multiplication and an addition by constants, then a
/// clip, each an op the circuits already have.
fn hard_sigmoid(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let x = imp.tensor_input(ctx, 0)?;
    let alpha = ctx.float("alpha", 0.2)?;
    let beta = ctx.float("beta", 0.5)?;
    if !alpha.is_finite() || !beta.is_finite() {
        return Err(ctx.bad_attr("alpha", "alpha and beta must be numbers"));
    }
    hard_sigmoid_of(imp, ctx, x, alpha, beta, true).map(drop)
}

/// The ops of `max(0, min(1, alpha · x + beta))`; `last` says whether the clip is the node's
/// output.
fn hard_sigmoid_of(
    imp: &mut Importer,
    ctx: &NodeCtx,
    x: TensorId,
    alpha: f32,
    beta: f32,
    last: bool,
) -> Result<TensorId, ImportError> {
    let scalar = |v: f32| ndarray::ArrayD::from_elem(ndarray::IxDyn(&[]), v);
    let scaled = imp.emit(ctx, Op::MulConstant(scalar(alpha)), vec![x], false)?;
    let shifted = imp.emit(ctx, Op::AddConstant(scalar(beta)), vec![scaled], false)?;
    imp.emit(ctx, Op::Clip(Clip { min: Some(0.0), max: Some(1.0) }), vec![shifted], last)
}

/// Opset 14's HardSwish, `x · HardSigmoid(x)` with `alpha = 1/6`, `beta = 1/2`: the product of
/// two activations.
fn hard_swish(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let x = imp.tensor_input(ctx, 0)?;
    let gate = hard_sigmoid_of(imp, ctx, x, 1.0 / 6.0, 0.5, false)?;
    imp.emit(ctx, Op::Mul, vec![x, gate], true).map(drop)
}

fn softmax(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let x = imp.tensor_input(ctx, 0)?;
    let rank = imp.shape(x).len();
    let default = if imp.opset >= 13 { -1 } else { 1 };
    let axis = ctx.axis("axis", ctx.int("axis", default)?, rank)?;
    if imp.opset < 13 && axis != rank - 1 {
        return Err(
            ctx.bad_attr("axis", "before opset 13 Softmax flattens trailing axes; only the last axis is supported")
        );
    }
    imp.emit(ctx, Op::Softmax(Softmax { axis }), vec![x], true).map(drop)
}

/// ArgMax; over a Softmax along the same axis it reads the Softmax's input instead (the same
/// index, since softmax is increasing, and without the table's rounding), as scikit-learn's
/// classifiers are written.
fn argmax(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let mut x = imp.tensor_input(ctx, 0)?;
    let rank = imp.shape(x).len();
    let axis = ctx.axis("axis", ctx.int("axis", 0)?, rank)?;
    if let Some(Node { op: Op::Softmax(Softmax { axis: softmax_axis }), inputs, .. }) = imp.producer(x)
        && *softmax_axis == axis
    {
        x = inputs[0];
    }
    ctx.require_int("select_last_index", 0, 0, "ArgMax keeps the first maximum")?;
    let keepdims = ctx.int("keepdims", 1)? != 0;
    imp.emit(ctx, Op::ArgMax(ArgMax { axis, keepdims }), vec![x], true).map(drop)
}
