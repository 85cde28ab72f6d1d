//! # zkinfer-models
//!
//! The model pipeline of zkinfer, from an ONNX file to the integer interpreter that is the
//! specification every circuit must match bit for bit:
//!
//! ```text
//! model.onnx ──onnx::import──▶ Graph (float ops, static shapes) ──optimize──▶ Graph
//!            ──quantize(calibration samples, settings)──▶ QuantizedModel (integers, 2^-s scales)
//!            ──QuantizedModel::interpret(input)──▶ Trace (every tensor, range-checked)
//! ```
//!
//! Numeric rules live in [`numeric`]; reference kernels shared by the float and the integer
//! evaluators in [`kernels`]; the fidelity report in [`fidelity`].
//!
//! ```
//! use zkinfer_models::{data::InputData, onnx, quantize};
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/zoo/");
//! let graph = onnx::import_file(format!("{dir}digits_mlp.onnx").as_ref(), &Default::default())?;
//! let input_shape = graph.tensor(graph.input).shape.clone();
//! let calibration = InputData::from_file(format!("{dir}digits_mlp.calibration.json").as_ref())?
//!     .samples(&input_shape)?;
//! let model = quantize::quantize(&graph, &calibration, &Default::default())?;
//! let sample = InputData::from_file(format!("{dir}digits_mlp.input.json").as_ref())?.samples(&input_shape)?;
//! let trace = model.run(&sample[0])?;                 // integer inference, every tensor recorded
//! let logits = model.output_real(&trace, model.outputs[0]);
//! assert_eq!(logits.len(), 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod data;
mod error;
pub mod fidelity;
pub mod graph;
pub mod interpret;
pub mod kernels;
pub mod numeric;
#[cfg(feature = "onnx")]
pub mod onnx;
#[cfg(feature = "onnx")]
mod optimize;
pub mod quantize;
pub mod quantized;
#[cfg(feature = "random-models")]
pub mod random;
pub mod trim;
mod validate;

/// Maps `f` over `items`, in parallel with the `parallel` feature; the result order is the
/// input order either way.
pub(crate) fn map_samples<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.iter().map(f).collect()
    }
}

pub use error::{DataError, ImportError, InterpretError, ModelFormatError, QuantizeError};
pub use graph::{Graph, TensorId};
pub use quantized::QuantizedModel;

/// The ONNX op types import supports.
pub const SUPPORTED_OPS: &[&str] = &[
    "Gemm",
    "MatMul",
    "Conv",
    "ConvTranspose",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Sqrt",
    "Reciprocal",
    "Neg",
    "Relu",
    "LeakyRelu",
    "Sigmoid",
    "Tanh",
    "Clip",
    "HardSigmoid",
    "HardSwish",
    "Erf",
    "Exp",
    "Log",
    "Gelu",
    "Softmax",
    "ArgMax",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "ReduceMean",
    "ReduceSum",
    "Pad",
    "QLinearConv",
    "QLinearMatMul",
    "DynamicQuantizeLinear",
    "MatMulInteger",
    "ConvInteger",
    "Flatten",
    "Reshape",
    "Transpose",
    "Resize",
    "Upsample",
    "Shape",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Concat",
    "Slice",
    "Range",
    "ConstantOfShape",
    "Cast",
    "Identity",
    "Dropout",
    "Constant",
    "BatchNormalization",
    "QuantizeLinear",
    "DequantizeLinear",
];
