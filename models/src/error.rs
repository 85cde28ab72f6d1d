//! Typed errors of each stage. Each names what was wrong and, where it can, how to fix it.

use crate::graph::ops::ShapeError;

/// ONNX import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Larger than the configured limit.
    #[error("model file is {bytes} bytes, above the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        bytes: u64,
        /// The limit.
        limit: usize,
    },
    /// Not an ONNX model, or a truncated one.
    #[error("not a valid ONNX model (or a truncated file): {reason}")]
    NotOnnx {
        /// What the decoder said.
        reason: String,
    },
    /// An op type zkinfer does not support.
    #[error("unsupported op {op_type}{} in node '{node}'; supported ops: {}", if domain.is_empty() { String::new() } else { format!(" (domain {domain})") }, crate::SUPPORTED_OPS.join(", "))]
    UnsupportedOp {
        /// ONNX op type.
        op_type: String,
        /// ONNX domain ("" for the default one).
        domain: String,
        /// Node name.
        node: String,
    },
    /// An attribute value zkinfer does not support.
    #[error("node '{node}' ({op_type}): attribute {attribute} {reason}")]
    UnsupportedAttribute {
        /// Node name.
        node: String,
        /// ONNX op type.
        op_type: String,
        /// Attribute (or input) name.
        attribute: String,
        /// Why it is refused.
        reason: String,
    },
    /// A feature outside the supported subset.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What.
        what: String,
    },
    /// A dimension of the input is symbolic or unknown.
    #[error("input '{input}' has a dynamic dimension{} ('{dim}'); {hint}", axis.map(|a| format!(" at axis {a}")).unwrap_or_default())]
    DynamicDimension {
        /// Input name.
        input: String,
        /// Axis, when the rank is known.
        axis: Option<usize>,
        /// The symbolic name, or "?".
        dim: String,
        /// How to fix it.
        hint: String,
    },
    /// zkinfer models have exactly one input.
    #[error("models must have exactly one (non-initializer) input; this one has {}: {names:?}", names.len())]
    InputCount {
        /// The inputs found.
        names: Vec<String>,
    },
    /// A node reads a name nothing defines.
    #[error("node '{node}' reads '{tensor}', which no input, initializer or earlier node defines")]
    UnknownTensor {
        /// Node name.
        node: String,
        /// Tensor name.
        tensor: String,
    },
    /// An input that must be constant (weights, shapes) is computed at run time.
    #[error("node '{node}' ({op_type}): input {input} must be a constant (initializer)")]
    ExpectedConstant {
        /// Node name.
        node: String,
        /// ONNX op type.
        op_type: String,
        /// Input index.
        input: usize,
    },
    /// A tensor's data is malformed.
    #[error("tensor '{name}': {reason}")]
    InvalidTensor {
        /// Tensor name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A data type zkinfer does not read.
    #[error(
        "{what} has ONNX data type {data_type}, which is not supported (float, double, int8, uint8, int32, int64 are)"
    )]
    UnsupportedDataType {
        /// Which tensor.
        what: String,
        /// ONNX data type code.
        data_type: i32,
    },
    /// Shapes do not fit the op.
    #[error("node '{node}': {source}")]
    Shape {
        /// Node name.
        node: String,
        /// The violated rule.
        source: ShapeError,
    },
}

/// Quantization failed.
#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    /// Invalid settings.
    #[error("invalid quantization settings: {reason}")]
    Settings {
        /// What is wrong.
        reason: String,
    },
    /// No calibration samples.
    #[error("calibration needs at least one sample")]
    NoCalibrationData,
    /// A calibration sample has the wrong shape.
    #[error("calibration sample {sample} has shape {got:?}, the model input is {expected:?}")]
    SampleShape {
        /// Sample index.
        sample: usize,
        /// Model input shape.
        expected: Vec<usize>,
        /// Sample shape.
        got: Vec<usize>,
    },
    /// The float model produced NaN or infinity on the calibration data.
    #[error("tensor '{tensor}' is not finite on the calibration data")]
    NonFinite {
        /// Tensor name.
        tensor: String,
    },
    /// A bias or additive constant does not fit its bit width at the accumulator scale.
    #[error(
        "node '{node}': a bias or constant quantizes to {value}, beyond {bits} bits; raise bias_bits or lower weight_bits"
    )]
    BiasOutOfRange {
        /// Node name.
        node: String,
        /// The quantized value.
        value: i64,
        /// The bit width.
        bits: u32,
    },
    /// Scales that cannot be reconciled.
    #[error("node '{node}': unsupported scale change ({reason})")]
    Scale {
        /// Node name.
        node: String,
        /// Details.
        reason: String,
    },
}

/// The interpreter refused an input or found a value outside its declared range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InterpretError {
    /// Input of the wrong shape.
    #[error("input has shape {got:?}, the model expects {expected:?}")]
    InputShape {
        /// Model input shape.
        expected: Vec<usize>,
        /// Given shape.
        got: Vec<usize>,
    },
    /// An input value outside the calibrated range.
    #[error("input value {value} at index {index} is outside the model's input range [{min}, {max}]")]
    InputOutOfRange {
        /// Flat index.
        index: usize,
        /// The value.
        value: f64,
        /// Smallest representable input.
        min: f64,
        /// Largest representable input.
        max: f64,
    },
    /// An intermediate value left its tensor's range.
    #[error(
        "node '{node}' produced {value} at index {index} of '{tensor}', outside its range [{min}, {max}]; the input is beyond what calibration covered (recalibrate with such inputs or raise headroom_bits)"
    )]
    OutOfRange {
        /// Node name.
        node: String,
        /// Tensor name.
        tensor: String,
        /// Flat index.
        index: usize,
        /// The value.
        value: i64,
        /// Range minimum.
        min: i64,
        /// Range maximum.
        max: i64,
    },
}

/// Input JSON could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("cannot read input data: {0}")]
    Io(String),
    /// Larger than the limit.
    #[error("input JSON is {bytes} bytes, above the limit of {limit}")]
    TooLarge {
        /// Size.
        bytes: usize,
        /// Limit.
        limit: usize,
    },
    /// Not the expected JSON.
    #[error("input JSON is malformed (expected {{\"input_data\": [[numbers...]]}}): {0}")]
    Json(String),
    /// No lists.
    #[error("input_data is empty")]
    Empty,
    /// A list's length does not fit the input shape.
    #[error("input_data[{list}] has {len} values, not a positive multiple of {size} (input shape {shape:?})")]
    Length {
        /// List index.
        list: usize,
        /// Its length.
        len: usize,
        /// Elements per sample.
        size: usize,
        /// Input shape.
        shape: Vec<usize>,
    },
    /// NaN or infinity.
    #[error("input_data[{list}][{index}] is not a finite number")]
    NotFinite {
        /// List index.
        list: usize,
        /// Value index.
        index: usize,
    },
}

/// A serialized quantized model could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelFormatError {
    /// Not the expected structure.
    #[error("malformed quantized model: {0}")]
    Malformed(String),
    /// Written by another format version.
    #[error("quantized model format version {found}, this build reads version {expected}")]
    Version {
        /// In the file.
        found: u32,
        /// Supported.
        expected: u32,
    },
    /// Deserialized but internally inconsistent.
    #[error("invalid quantized model: {0}")]
    Invalid(String),
}
