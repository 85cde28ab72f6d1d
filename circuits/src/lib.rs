//! # zkinfer-circuits
//!
//! halo2 circuits (halo2_proofs 0.4.1, any prime field; pasta in practice) that prove a
//! [`zkinfer_models::QuantizedModel`] ran on an input exactly as its integer interpreter says.
//!
//! Pipeline: [`compile::compile`] walks the quantized model and, through the chips'
//! instruction traits, emits rows into a [`Builder`]; the result is a [`CircuitSpec`] (fixed
//! columns, copy constraints, public-input bindings: everything keygen needs) and, given an
//! interpreter trace, a [`Witness`]. [`ModelCircuit`] turns both into a halo2 circuit.
//! [`plan::plan`] chooses the layout (lanes against rows) and `k`.
//!
//! Chips (one file each in [`chips`], halo2_gadgets style): linear (multiply-accumulate),
//! range (rescale with rounding, range checks by limb lookups), compare (max/min, argmax),
//! function (tabulated Sigmoid/Tanh/exp), division (Softmax).
//!
//! ```
//! use zkinfer_circuits::{compile, plan};
//! use zkinfer_models::{onnx, quantize};
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/zoo/");
//! let graph = onnx::import_file(format!("{dir}digits_mlp.onnx").as_ref(), &Default::default())?;
//! let shape = graph.tensor(graph.input).shape.clone();
//! let samples = zkinfer_models::data::InputData::from_file(format!("{dir}digits_mlp.calibration.json").as_ref())?
//!     .samples(&shape)?;
//! let model = quantize::quantize(&graph, &samples[..16], &Default::default())?;
//! let plan = plan::plan(&model)?;                        // lanes, k, rows
//! let trace = model.run(&samples[0])?;                   // the interpreter is the spec
//! let (spec, witness) = compile::compile(&model, plan.layout, Some(&trace))?;
//! zkinfer_circuits::mock_prove(&spec, &witness).expect("the circuit accepts the honest trace");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod builder;
pub mod chips;
mod circuit;
pub mod compile;
pub mod constraints;
pub mod layout;
pub mod plan;
#[cfg(test)]
#[allow(clippy::panic)]
mod testing;

pub use builder::{Builder, CellRef, CircuitSpec, Witness};
pub use circuit::{
    ModelCircuit, TABLE_FILL_ROWS, function_table_budget, instance_values, mock_prove, required_k, to_field,
};
pub use compile::CompileError;
pub use layout::{ClampForm, FunctionTables, Layout, LinearLayout, MAX_K, with_layout};
