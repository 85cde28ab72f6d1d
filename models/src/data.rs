//! Input JSON: `{"input_data": [[...], ...]}`, the convention EZKL and others use.
//!
//! zkinfer models have one input. Each inner list holds flattened (row-major) values of that
//! input; a list may hold several samples back to back, so its length must be a multiple of
//! the input's element count. Extra keys (e.g. `labels`) are ignored.

use ndarray::{ArrayD, IxDyn};
use serde::Deserialize;

use crate::DataError;

/// Default largest input JSON accepted (64 MiB).
pub const DEFAULT_MAX_JSON_BYTES: usize = 64 << 20;

/// Parsed input data.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct InputData {
    /// Lists of flattened values.
    pub input_data: Vec<Vec<f64>>,
}

impl InputData {
    /// Parses JSON bytes, refusing more than `limit` bytes.
    pub fn from_json(bytes: &[u8], limit: usize) -> Result<Self, DataError> {
        if bytes.len() > limit {
            return Err(DataError::TooLarge { bytes: bytes.len(), limit });
        }
        let data: Self = serde_json::from_slice(bytes).map_err(|e| DataError::Json(e.to_string()))?;
        if data.input_data.is_empty() {
            return Err(DataError::Empty);
        }
        Ok(data)
    }

    /// Reads and parses a file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, DataError> {
        let len = std::fs::metadata(path).map_err(|e| DataError::Io(format!("{}: {e}", path.display())))?.len();
        if len > DEFAULT_MAX_JSON_BYTES as u64 {
            return Err(DataError::TooLarge { bytes: len as usize, limit: DEFAULT_MAX_JSON_BYTES });
        }
        let bytes = std::fs::read(path).map_err(|e| DataError::Io(format!("{}: {e}", path.display())))?;
        Self::from_json(&bytes, DEFAULT_MAX_JSON_BYTES)
    }

    /// Splits the data into samples of `shape`.
    pub fn samples(&self, shape: &[usize]) -> Result<Vec<ArrayD<f32>>, DataError> {
        let size: usize = shape.iter().product();
        let mut out = Vec::new();
        for (list, values) in self.input_data.iter().enumerate() {
            if size == 0 || values.is_empty() || values.len() % size != 0 {
                return Err(DataError::Length { list, len: values.len(), size, shape: shape.to_vec() });
            }
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(DataError::NotFinite { list, index: i });
            }
            for chunk in values.chunks(size) {
                let v: Vec<f32> = chunk.iter().map(|&x| x as f32).collect();
                out.push(ArrayD::from_shape_vec(IxDyn(shape), v).expect("chunk has the shape's size"));
            }
        }
        Ok(out)
    }
}
