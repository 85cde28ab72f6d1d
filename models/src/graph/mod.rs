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
    /// What import and optimisation folded or rewrote, in order (for `zkinfer inspect`).
    pub rewrites: Vec<Rewrite>,
}

/// A source node that did not become one op of the same name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rewrite {
    /// The source node's name.
    pub node: String,
    /// Its ONNX op type (for a merge: the graph op that was merged).
    pub op_type: String,
    /// What became of it.
    pub action: RewriteAction,
}

/// What became of a source node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RewriteAction {
    /// Computed at import: its output is a constant (shape arithmetic, weight dequantization).
    FoldedToConstant,
    /// Its output is its input (Identity, a Cast between float types, a Squeeze as a reshape
    /// of a reshape, ...).
    PassedThrough,
    /// An activation QuantizeLinear, kept with its DequantizeLinear.
    QuantizePending,
    /// A zero Pad, taken by the Conv or AveragePool that reads it as its own padding.
    PaddingPending,
    /// A step of onnxruntime's dynamic quantization (DynamicQuantizeLinear, MatMulInteger,
    /// ConvInteger, the Cast and Mul of its scales), part of the layer the Mul by the scales
    /// emits.
    DynamicQuantizationPending,
    /// Several ops, or one of another kind.
    Became(Vec<&'static str>),
    /// Merged into the preceding layer (a per-channel scale or shift into a Dense or Conv).
    MergedInto(String),
    /// A clamp moved after the max pooling it fed (it commutes with a maximum), leaving a Relu
    /// where its lower bound was 0.
    MovedAfter(String),
    /// A clamp around 0 moved up, through the max pooling, reshapes and Relus between, to right
    /// after the named layer, whose rescale can compute it.
    MovedUpTo(String),
}

impl std::fmt::Display for Rewrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): ", self.node, self.op_type)?;
        match &self.action {
            RewriteAction::FoldedToConstant => write!(f, "folded into a constant"),
            RewriteAction::PassedThrough => write!(f, "passes its input through"),
            RewriteAction::QuantizePending => write!(f, "quantization kept with its DequantizeLinear"),
            RewriteAction::PaddingPending => write!(f, "padding taken by the window op that reads it"),
            RewriteAction::DynamicQuantizationPending => {
                write!(f, "dynamic quantization, part of the layer its Mul by the scales becomes")
            }
            RewriteAction::Became(ops) => write!(f, "became {}", ops.join(" + ")),
            RewriteAction::MergedInto(layer) => write!(f, "merged into layer '{layer}'"),
            RewriteAction::MovedAfter(pool) => write!(f, "moved after '{pool}' (a clamp commutes with a maximum)"),
            RewriteAction::MovedUpTo(layer) => {
                write!(
                    f,
                    "moved up to right after layer '{layer}' (a clamp commutes with a maximum, a reshape and a Relu)"
                )
            }
        }
    }
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
