//! Constant tensors: decoding `TensorProto` data (typed fields or little-endian `raw_data`).

use ndarray::{ArrayD, IxDyn};

use super::proto::{TensorProto, data_type};
use crate::ImportError;

/// A constant operand: floats, or integers with their ONNX data type (int8/uint8 matter to QDQ).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Constant {
    /// A float tensor (FLOAT or DOUBLE in the file).
    Float(ArrayD<f32>),
    /// An integer tensor and its ONNX data type.
    Int { values: ArrayD<i64>, data_type: i32 },
}

/// `values` as one per channel: a single value repeated, or exactly `channels` values.
pub(crate) fn one_per_channel<T: Copy>(values: &[T], channels: usize) -> Option<Vec<T>> {
    match values {
        [v] => Some(vec![*v; channels]),
        _ if values.len() == channels => Some(values.to_vec()),
        _ => None,
    }
}

impl Constant {
    /// Decodes an initializer or a Constant node's tensor.
    pub(crate) fn from_proto(t: &TensorProto, name: &str) -> Result<Self, ImportError> {
        let bad = |reason: String| ImportError::InvalidTensor { name: name.to_string(), reason };
        if t.data_location == Some(super::external::EXTERNAL) {
            return Err(bad(
                "its data is in another file: import the model from its file (the data file beside it)".into()
            ));
        }
        let mut shape = Vec::with_capacity(t.dims.len());
        let mut count: usize = 1;
        for &d in &t.dims {
            let d = usize::try_from(d).map_err(|_| bad(format!("negative dimension {d}")))?;
            count = count.checked_mul(d).ok_or_else(|| bad("dimensions overflow".into()))?;
            shape.push(d);
        }
        let dt = t.data_type.unwrap_or(0);
        let raw = t.raw_data.as_deref();
        let check = |n: usize| {
            if n == count {
                Ok(())
            } else {
                Err(bad(format!("holds {n} values but its shape {shape:?} needs {count}")))
            }
        };
        let float = |values: Vec<f32>| -> Result<Self, ImportError> {
            check(values.len())?;
            if values.iter().any(|v| !v.is_finite()) {
                return Err(bad("holds NaN or infinity".into()));
            }
            Ok(Constant::Float(ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| bad(e.to_string()))?))
        };
        let int = |values: Vec<i64>| -> Result<Self, ImportError> {
            check(values.len())?;
            Ok(Constant::Int {
                values: ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| bad(e.to_string()))?,
                data_type: dt,
            })
        };
        fn chunks<const N: usize>(raw: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
            raw.chunks_exact(N).map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                a
            })
        }
        let raw_len_ok = |size: usize| match raw {
            Some(r) if r.len() % size != 0 => {
                Err(bad(format!("raw data of {} bytes is not a multiple of {size}", r.len())))
            }
            _ => Ok(()),
        };
        match dt {
            data_type::FLOAT => match raw {
                Some(r) => {
                    raw_len_ok(4)?;
                    float(chunks::<4>(r).map(f32::from_le_bytes).collect())
                }
                None => float(t.float_data.clone()),
            },
            data_type::DOUBLE => match raw {
                Some(r) => {
                    raw_len_ok(8)?;
                    float(chunks::<8>(r).map(|b| f64::from_le_bytes(b) as f32).collect())
                }
                None => float(t.double_data.iter().map(|&v| v as f32).collect()),
            },
            data_type::INT8 => match raw {
                Some(r) => int(r.iter().map(|&b| b as i8 as i64).collect()),
                None => int(t.int32_data.iter().map(|&v| v as i64).collect()),
            },
            data_type::UINT8 => match raw {
                Some(r) => int(r.iter().map(|&b| b as i64).collect()),
                None => int(t.int32_data.iter().map(|&v| v as i64).collect()),
            },
            data_type::INT32 => match raw {
                Some(r) => {
                    raw_len_ok(4)?;
                    int(chunks::<4>(r).map(|b| i32::from_le_bytes(b) as i64).collect())
                }
                None => int(t.int32_data.iter().map(|&v| v as i64).collect()),
            },
            data_type::INT64 => match raw {
                Some(r) => {
                    raw_len_ok(8)?;
                    int(chunks::<8>(r).map(i64::from_le_bytes).collect())
                }
                None => int(t.int64_data.clone()),
            },
            other => Err(ImportError::UnsupportedDataType { what: format!("tensor '{name}'"), data_type: other }),
        }
    }

    /// The values as floats (integers converted).
    pub(crate) fn to_f32(&self) -> ArrayD<f32> {
        match self {
            Constant::Float(a) => a.clone(),
            Constant::Int { values, .. } => values.mapv(|v| v as f32),
        }
    }

    /// The values as integers; floats must be integral.
    pub(crate) fn to_i64(&self, what: &str) -> Result<ArrayD<i64>, ImportError> {
        match self {
            Constant::Int { values, .. } => Ok(values.clone()),
            Constant::Float(a) => {
                if a.iter().all(|v| v.fract() == 0.0 && v.abs() < 9.0e15) {
                    Ok(a.mapv(|v| v as i64))
                } else {
                    Err(ImportError::Unsupported { what: format!("{what} must hold integers") })
                }
            }
        }
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        match self {
            Constant::Float(a) => a.len(),
            Constant::Int { values, .. } => values.len(),
        }
    }

    /// Shape.
    pub(crate) fn shape(&self) -> &[usize] {
        match self {
            Constant::Float(a) => a.shape(),
            Constant::Int { values, .. } => values.shape(),
        }
    }
}
