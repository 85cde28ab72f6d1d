//! What scikit-learn's converter (skl2onnx) puts after a classifier's ArgMax, in the
//! `ai.onnx.ml` domain: `ArrayFeatureExtractor` mapping the class index to its label (the
//! identity when the labels are 0..n-1, the only case supported), and `ZipMap` (refused with how
//! to convert without it). A `Cast` of the ArgMax to an integer type is the index itself (see
//! `folding.rs`).

use super::{ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;

pub(super) const ML_OPS: &[(&str, ImportFn)] =
    &[("ArrayFeatureExtractor", array_feature_extractor), ("ZipMap", zip_map)];

fn array_feature_extractor(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let labels = imp.constant_input(ctx, 0)?.to_i64("ArrayFeatureExtractor's class labels")?;
    let index = imp.tensor_input(ctx, 1)?;
    if !imp.is_index(index) {
        return Err(ImportError::Unsupported {
            what: format!("ArrayFeatureExtractor '{}' on anything but an ArgMax (the classifier's label)", ctx.name),
        });
    }
    if labels.iter().enumerate().any(|(i, &label)| label != i as i64) {
        return Err(ImportError::Unsupported {
            what: format!(
                "ArrayFeatureExtractor '{}': class labels other than 0..n-1 ({labels}); train on labels 0..n-1",
                ctx.name
            ),
        });
    }
    imp.bind(ctx, Value::Tensor(index));
    Ok(())
}

fn zip_map(_: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    Err(ImportError::Unsupported {
        what: format!(
            "ZipMap '{}' (a map of probabilities per label); convert the classifier with zipmap off: \
             skl2onnx's to_onnx(model, X, options={{'zipmap': False}})",
            ctx.name
        ),
    })
}
