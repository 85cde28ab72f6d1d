//! Resize and Upsample in nearest mode by whole factors on the height and width of an NCHW
//! tensor (`nn.Upsample(scale_factor=2)`, `F.interpolate(mode="nearest")`): output `(i, j)`
//! reads input `(i / fh, j / fw)`, wiring only.
//!
//! Which coordinate rules give exactly that: ONNX maps output `i` to the input coordinate
//! `x = (i + 1/2)/f - 1/2` (`half_pixel`, `pytorch_half_pixel`), `x = i/f` (`asymmetric`), and
//! Upsample and Resize before opset 11 use `asymmetric` with the floor when enlarging. For a whole
//! factor `f` and `i = f·j + r`, `half_pixel` gives `j + (r - (f-1)/2)/f`, always within half a
//! step of `j` and never on a tie, so every rounding mode picks `j`; `asymmetric` gives `j + r/f`,
//! which only the floor maps to `j`. Other modes (`align_corners`, `tf_half_pixel_for_nn`,
//! `asymmetric` with rounding) and other interpolation modes are refused by name.

use super::{ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;
use crate::graph::Op;
use crate::graph::ops::Upsample;

pub(super) const OPS: &[(&str, ImportFn)] = &[("Resize", resize), ("Upsample", upsample)];

/// The opset from which Resize takes `roi, scales, sizes` (before: `scales` alone) and has
/// coordinate and rounding modes (before: asymmetric with the floor).
const RESIZE_MODES_OPSET: i64 = 11;
/// The opset from which Upsample takes its scales as an input.
const UPSAMPLE_SCALES_INPUT_OPSET: i64 = 9;

fn resize(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    nearest_only(ctx)?;
    let (scales_at, sizes_at) = if imp.opset < RESIZE_MODES_OPSET {
        (1, None)
    } else {
        let transform = ctx.string("coordinate_transformation_mode", "half_pixel")?;
        let rounding = ctx.string("nearest_mode", "round_prefer_floor")?;
        match (transform.as_str(), rounding.as_str()) {
            ("half_pixel" | "pytorch_half_pixel", _) | ("asymmetric", "floor") => {}
            _ => {
                return Err(ctx.bad_attr(
                    "coordinate_transformation_mode",
                    format!(
                        "= {transform:?} with nearest_mode {rounding:?}: only half_pixel, pytorch_half_pixel, or \
                         asymmetric with floor, are supported"
                    ),
                ));
            }
        }
        ctx.require_int("antialias", 0, 0, "antialiasing is not supported")?;
        if ctx.ints("axes")?.is_some() {
            return Err(ctx.bad_attr("axes", "only resizing all axes is supported"));
        }
        (2, Some(3))
    };
    emit(imp, ctx, scales_at, sizes_at)
}

fn upsample(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    nearest_only(ctx)?;
    if imp.opset < UPSAMPLE_SCALES_INPUT_OPSET {
        return Err(
            ctx.bad_attr("scales", "Upsample before opset 9 (scales as an attribute): export with opset 11 or later")
        );
    }
    emit(imp, ctx, 1, None)
}

fn nearest_only(ctx: &NodeCtx) -> Result<(), ImportError> {
    match ctx.string("mode", "nearest")?.as_str() {
        "nearest" => Ok(()),
        other => Err(ctx.bad_attr("mode", format!("= {other:?}: only \"nearest\" is supported"))),
    }
}

/// Emits the upsampling whose factors the constant `scales` (input `scales_at`) or `sizes`
/// (input `sizes_at`) give.
fn emit(imp: &mut Importer, ctx: &NodeCtx, scales_at: usize, sizes_at: Option<usize>) -> Result<(), ImportError> {
    let x = imp.tensor_input(ctx, 0)?;
    let shape = imp.shape(x).to_vec();
    if shape.len() != 4 {
        return Err(ctx.bad_attr("scales", format!("only NCHW tensors are resized, not shape {shape:?}")));
    }
    let present = |i: usize| -> Result<bool, ImportError> {
        Ok(imp.optional_input(ctx, i)?.is_some_and(|v| !matches!(&v, Value::Constant(c) if c.len() == 0)))
    };
    // Per axis: output length over input length, which must be a whole number.
    let sizes_at = match sizes_at {
        Some(i) if present(i)? => Some(i),
        _ => None,
    };
    let ratios: Vec<f64> = if present(scales_at)? {
        imp.constant_input(ctx, scales_at)?.to_f32().iter().map(|&s| f64::from(s)).collect()
    } else if let Some(i) = sizes_at {
        let sizes = imp.constant_input(ctx, i)?.to_i64("Resize's sizes")?;
        sizes.iter().zip(&shape).map(|(&o, &n)| o as f64 / n as f64).collect()
    } else {
        return Err(ctx.bad_attr("scales", "needs constant scales or sizes"));
    };
    let whole = |r: f64| (r >= 1.0 && r.fract() == 0.0 && r <= 1024.0).then_some(r as usize);
    let factors: Option<Vec<usize>> = ratios.iter().map(|&r| whole(r)).collect();
    match factors.as_deref() {
        Some([1, 1, fh, fw]) => imp.emit(ctx, Op::Upsample(Upsample { factors: [*fh, *fw] }), vec![x], true).map(drop),
        _ => Err(ctx.bad_attr(
            "scales",
            format!("{ratios:?}: only whole enlargement factors of height and width are supported"),
        )),
    }
}
