//! Gemm and MatMul with a constant weight operand → [`Dense`] (plus Transpose / AddConstant
//! where the ONNX form needs them).

use ndarray::{Array1, Array2, Ix2};

use super::{ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;
use crate::graph::Op;
use crate::graph::ops::{Dense, Transpose};

pub(super) const OPS: &[(&str, ImportFn)] = &[("Gemm", gemm), ("MatMul", matmul)];

fn weight_2d(imp: &Importer, ctx: &NodeCtx, i: usize) -> Result<Array2<f32>, ImportError> {
    imp.constant_input(ctx, i)?.to_f32().into_dimensionality::<Ix2>().map_err(|_| ImportError::Unsupported {
        what: format!("node '{}' ({}): weight input {i} must be 2-D", ctx.name, ctx.op_type),
    })
}

/// `Y = alpha · op(A) · op(B) + beta · C`.
fn gemm(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let mut a = imp.tensor_input(ctx, 0)?;
    let alpha = ctx.float("alpha", 1.0)?;
    let beta = ctx.float("beta", 1.0)?;
    let b = weight_2d(imp, ctx, 1)?;
    if imp.shape(a).len() != 2 {
        return Err(ImportError::Unsupported {
            what: format!("Gemm '{}' needs a 2-D input A, got {:?}", ctx.name, imp.shape(a)),
        });
    }
    if ctx.int("transA", 0)? != 0 {
        a = imp.emit(ctx, Op::Transpose(Transpose { perm: vec![1, 0] }), vec![a], false)?;
    }
    // Dense stores [out, in]; B is [K, N] unless transB.
    let weight = if ctx.int("transB", 0)? != 0 { b } else { b.t().to_owned() } * alpha;
    let out_f = weight.nrows();
    let c = match imp.optional_input(ctx, 2)? {
        None => None,
        Some(Value::Constant(c)) => Some(c.to_f32() * beta),
        Some(_) => {
            return Err(ImportError::ExpectedConstant { node: ctx.name.clone(), op_type: "Gemm".into(), input: 2 });
        }
    };
    // A bias that is one value per output feature (shape [N], [1, N] or scalar) goes into Dense.
    let (bias, rest) = match c {
        Some(c) if c.len() == out_f && c.shape().last() == Some(&out_f) => {
            (Some(Array1::from_iter(c.iter().copied())), None)
        }
        Some(c) if c.len() == 1 => (Some(Array1::from_elem(out_f, c.iter().copied().next().unwrap_or(0.0))), None),
        other => (None, other),
    };
    let dense = Op::Dense(Dense { weight, bias });
    match rest {
        None => {
            imp.emit(ctx, dense, vec![a], true)?;
        }
        Some(c) => {
            let y = imp.emit(ctx, dense, vec![a], false)?;
            imp.emit(ctx, Op::AddConstant(c), vec![y], true)?;
        }
    }
    Ok(())
}

/// `Y = A · B` with B constant 2-D: a Dense layer over A's last axis.
fn matmul(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let a = imp.tensor_input(ctx, 0)?;
    let b = weight_2d(imp, ctx, 1)?;
    imp.emit(ctx, Op::Dense(Dense { weight: b.t().to_owned(), bias: None }), vec![a], true)?;
    Ok(())
}
