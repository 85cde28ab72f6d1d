//! Tensor data stored outside the model file (ONNX "external data"), as PyTorch's exporter
//! writes it by default (`model.onnx` beside `model.onnx.data`). Each such initializer names a
//! file relative to the model's directory, an offset and a length; the bytes are read into the
//! tensor's `raw_data` before import. The model is untrusted: a location must be a relative
//! path below the model's directory (no `..`, no root) to a plain file (not a link), the ranges
//! must lie within the file, and the data counts toward the model's size limit.

use std::path::{Component, Path};

use super::proto::{ModelProto, TensorProto};
use crate::ImportError;

/// `TensorProto.DataLocation.EXTERNAL`.
pub(super) const EXTERNAL: i32 = 1;

/// Reads the external data of every initializer of `model` from files beside `model_path`;
/// the model file's `used` bytes and the data together stay within `limit`.
pub(super) fn load(
    model: &mut ModelProto,
    model_path: &Path,
    mut used: usize,
    limit: usize,
) -> Result<(), ImportError> {
    let dir = model_path.parent().unwrap_or_else(|| Path::new("."));
    let Some(graph) = model.graph.as_mut() else { return Ok(()) };
    for t in graph.initializer.iter_mut().filter(|t| t.data_location == Some(EXTERNAL)) {
        let bytes = read(t, dir, used, limit)?;
        used += bytes.len();
        t.raw_data = Some(bytes);
        t.data_location = None;
        t.external_data.clear();
    }
    Ok(())
}

fn read(t: &TensorProto, dir: &Path, used: usize, limit: usize) -> Result<Vec<u8>, ImportError> {
    let name = t.name.clone().unwrap_or_default();
    let bad = |reason: String| ImportError::InvalidTensor { name: name.clone(), reason };
    let entry =
        |key: &str| t.external_data.iter().find(|e| e.key.as_deref() == Some(key)).and_then(|e| e.value.clone());
    let location = entry("location").ok_or_else(|| bad("external data without a location".into()))?;
    let relative = Path::new(&location);
    if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(bad(format!("external data location '{location}' must be a path below the model's directory")));
    }
    let number = |key: &str| -> Result<Option<u64>, ImportError> {
        entry(key)
            .map(|v| v.parse::<u64>().map_err(|_| bad(format!("external data {key} '{v}' is not a number"))))
            .transpose()
    };
    let offset = number("offset")?.unwrap_or(0);
    let path = dir.join(relative);
    let io = |source| ImportError::Io { path: path.display().to_string(), source };
    // A link could lead anywhere: only plain files beside the model.
    let metadata = std::fs::symlink_metadata(&path).map_err(io)?;
    if !metadata.is_file() {
        return Err(bad(format!("external data location '{location}' is not a plain file")));
    }
    let file_len = metadata.len();
    let length = number("length")?.unwrap_or(file_len.saturating_sub(offset));
    let end = offset.checked_add(length).filter(|&e| e <= file_len);
    if end.is_none() {
        return Err(bad(format!("external data {offset}+{length} lies beyond '{location}' ({file_len} bytes)")));
    }
    let total = (used as u64).saturating_add(length);
    if total > limit as u64 {
        return Err(ImportError::TooLarge { bytes: total, limit });
    }
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(&path).map_err(io)?;
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut bytes = vec![0; length as usize];
    file.read_exact(&mut bytes).map_err(io)?;
    Ok(bytes)
}
