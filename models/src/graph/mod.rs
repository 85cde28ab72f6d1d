//! The float graph IR: typed ops over tensors with static shapes.
//!
//! Import produces a [`Graph`]; every op's parameters are typed (see [`ops`]) and constant
//! operands (weights, biases, broadcast constants) live inside the op, so a node's `inputs` are
//! exactly its dynamic tensors. [`Graph::evaluate`] is the float reference used by calibration
//! and the fidelity report.

mod eval;
pub mod ops;

use serde::{Deserialize, Serialize};

pub use eval::FloatTrace;
pub use ops::Op;

/// Largest number of elements of one tensor (2^26): far above the models zkinfer can prove,
/// low enough that a hostile file cannot make import or evaluation allocate without bound.
pub const MAX_TENSOR_ELEMENTS: usize = 1 << 26;

/// Index of a tensor in [`Graph::tensors`] (and in the quantized model's tensor list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TensorId(pub usize);

/// Name and static shape of a tensor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorInfo {
    /// The tensor's name in the source model.
    pub name: String,
    /// Static shape; every dimension is known.
    pub shape: Vec<usize>,
}

impl TensorInfo {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for a tensor with a zero dimension.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One operation: reads `inputs`, writes `output`.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The node's name in the source model (or a generated one).
    pub name: String,
    /// What it computes, with its typed parameters.
    pub op: Op,
    /// Dynamic inputs, in the op's order.
    pub inputs: Vec<TensorId>,
    /// The tensor it produces.
    pub output: TensorId,
}

/// A model as a list of nodes in topological order, with one input tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// Name of the graph in the source model.
    pub name: String,
    /// Every tensor: the input, and one per node output.
    pub tensors: Vec<TensorInfo>,
    /// Nodes in execution order.
    pub nodes: Vec<Node>,
    /// The model input.
    pub input: TensorId,
    /// The model outputs.
    pub outputs: Vec<TensorId>,
}

impl Graph {
    /// The tensor's name and shape.
    pub fn tensor(&self, id: TensorId) -> &TensorInfo {
        &self.tensors[id.0]
    }

    /// Number of weight and bias parameters held by the ops.
    pub fn parameter_count(&self) -> usize {
        self.nodes.iter().map(|n| n.op.parameter_count()).sum()
    }
}
