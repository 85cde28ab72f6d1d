//! ONNX import: bytes → [`Graph`].
//!
//! # Why a small prost reader and not tract-onnx
//! tract-onnx gives shape inference and constant folding for hundreds of ops, but it takes about
//! 6.5 minutes of cold release build on the 2-core machines this project builds on, and zkinfer
//! supports a small op set whose shapes are simple to infer. So the ONNX messages are read with
//! hand-written `prost` structs ([`proto`]) and each supported op family has its own importer
//! module that validates attributes, folds constants and infers shapes. Unsupported ops and
//! attributes are typed errors that name the node.
//!
//! Import stages (tract style, each with its own type): decode ([`proto::ModelProto`]) →
//! per-node import into a [`Graph`] (this module and its families) → [`crate::optimize`]
//! (fold per-channel affine ops such as BatchNormalization into the preceding Conv/Dense).

mod activation;
mod attributes;
mod classifier;
mod conv;
mod dynamic;
mod elementwise;
mod external;

mod folding;
mod linear;
mod normalization;
mod pad;
mod pool;
pub mod proto;
mod qoperator;
mod quantization;
mod reduce;
mod resize;
mod shape;
mod tensor;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use prost::Message;

use crate::graph::{Graph, Node, Op, Rewrite, RewriteAction, TensorId, TensorInfo};
use crate::{ImportError, optimize};
pub(crate) use attributes::NodeCtx;
pub(crate) use tensor::Constant;

/// Default largest model file import accepts (256 MiB).
pub const DEFAULT_MAX_MODEL_BYTES: usize = 256 << 20;

/// Options for [`import_bytes`] and [`import_file`].
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Value for an unknown or symbolic dimension at axis 0 of the input (the batch size).
    pub batch: Option<usize>,
    /// Values for named symbolic dimensions (`dim_param`), e.g. `"N" → 1`.
    pub dims: BTreeMap<String, usize>,
    /// Largest accepted model size in bytes.
    pub max_model_bytes: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self { batch: None, dims: BTreeMap::new(), max_model_bytes: DEFAULT_MAX_MODEL_BYTES }
    }
}

/// Reads and imports an ONNX file.
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<Graph, ImportError> {
    let len =
        std::fs::metadata(path).map_err(|source| ImportError::Io { path: path.display().to_string(), source })?.len();
    if len > options.max_model_bytes as u64 {
        return Err(ImportError::TooLarge { bytes: len, limit: options.max_model_bytes });
    }
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io { path: path.display().to_string(), source })?;
    let mut model = decode(&bytes)?;
    external::load(&mut model, path, bytes.len(), options.max_model_bytes)?;
    import_model(&model, options)
}

/// Imports an ONNX model from its serialized bytes.
pub fn import_bytes(bytes: &[u8], options: &ImportOptions) -> Result<Graph, ImportError> {
    if bytes.len() > options.max_model_bytes {
        return Err(ImportError::TooLarge { bytes: bytes.len() as u64, limit: options.max_model_bytes });
    }
    import_model(&decode(bytes)?, options)
}

fn decode(bytes: &[u8]) -> Result<proto::ModelProto, ImportError> {
    proto::ModelProto::decode(bytes).map_err(|e| ImportError::NotOnnx { reason: e.to_string() })
}

fn import_model(model: &proto::ModelProto, options: &ImportOptions) -> Result<Graph, ImportError> {
    let graph = model
        .graph
        .as_ref()
        .ok_or(ImportError::NotOnnx { reason: "the file decodes but holds no graph (is it an ONNX model?)".into() })?;
    if model.ir_version.is_none() || graph.node.is_empty() {
        return Err(ImportError::NotOnnx {
            reason: "no IR version or no nodes: not an ONNX model, or a truncated one".into(),
        });
    }
    let opset = model
        .opset_import
        .iter()
        .find(|o| matches!(o.domain.as_deref(), None | Some("") | Some("ai.onnx")))
        .and_then(|o| o.version)
        .unwrap_or(1);
    let mut importer = Importer::new(graph, options, opset)?;
    for node in &graph.node {
        importer.import_node(node)?;
    }
    let graph = importer.finish(graph)?;
    Ok(optimize::optimize(graph))
}

/// A value bound to an ONNX name while importing.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// A tensor computed at run time.
    Tensor(TensorId),
    /// A constant (initializer, Constant node, or folded).
    Constant(Constant),
    /// The integer output of an activation QuantizeLinear, waiting for its DequantizeLinear.
    Quantized { tensor: TensorId, quant: crate::graph::ops::FakeQuantize },
    /// A tensor zero-padded on its spatial axes (top, left, bottom, right), waiting for the
    /// Conv or AveragePool that takes the pads as its own (see `pad`).
    Padded { tensor: TensorId, pads: [usize; 4] },
    /// A value of onnxruntime's dynamic quantization, waiting for the Mul by its scales (see
    /// `dynamic`).
    Dynamic(dynamic::Pending),
}

/// The domain of scikit-learn's converter ops (`ArrayFeatureExtractor`, `ZipMap`).
const ML_DOMAIN: &str = "ai.onnx.ml";
/// The domain of onnxruntime's own ops (`QGemm` of its QOperator quantization).
const MS_DOMAIN: &str = "com.microsoft";

/// One importer function per ONNX op type.
pub(crate) type ImportFn = fn(&mut Importer, &NodeCtx) -> Result<(), ImportError>;

/// Op families, each a module with its `OPS` table.
const FAMILIES: &[&[(&str, ImportFn)]] = &[
    linear::OPS,
    conv::OPS,
    elementwise::OPS,
    activation::OPS,
    pool::OPS,
    shape::OPS,
    resize::OPS,
    folding::OPS,
    normalization::OPS,
    quantization::OPS,
    qoperator::OPS,
    dynamic::OPS,
    reduce::OPS,
    pad::OPS,
];

fn find_importer(op_type: &str) -> Option<ImportFn> {
    FAMILIES.iter().flat_map(|f| f.iter()).find(|(name, _)| *name == op_type).map(|(_, f)| *f)
}

/// The op types import supports, for help texts and the README.
pub fn supported_ops() -> Vec<&'static str> {
    FAMILIES.iter().flat_map(|f| f.iter()).map(|(name, _)| *name).collect()
}

/// Import state: the graph being built and the ONNX names bound so far.
#[derive(Debug)]
pub(crate) struct Importer {
    tensors: Vec<TensorInfo>,
    nodes: Vec<Node>,
    values: HashMap<String, Value>,
    input: TensorId,
    pub(crate) opset: i64,
    generated: usize,
    rewrites: Vec<Rewrite>,
}

impl Importer {
    fn new(graph: &proto::GraphProto, options: &ImportOptions, opset: i64) -> Result<Self, ImportError> {
        let mut values = HashMap::new();
        for init in &graph.initializer {
            let name = init.name.clone().unwrap_or_default();
            values.insert(name.clone(), Value::Constant(Constant::from_proto(init, &name)?));
        }
        let inputs: Vec<_> =
            graph.input.iter().filter(|i| !values.contains_key(i.name.as_deref().unwrap_or_default())).collect();
        let [input] = inputs.as_slice() else {
            return Err(ImportError::InputCount {
                names: inputs.iter().map(|i| i.name.clone().unwrap_or_default()).collect(),
            });
        };
        let name = input.name.clone().unwrap_or_default();
        let shape = input_shape(input, options)?;
        check_size(&shape, &name)?;
        let tensors = vec![TensorInfo { name: name.clone(), shape }];
        values.insert(name, Value::Tensor(TensorId(0)));
        Ok(Self { tensors, nodes: Vec::new(), values, input: TensorId(0), opset, generated: 0, rewrites: Vec::new() })
    }

    fn import_node(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let ctx = NodeCtx::new(node, self.nodes.len());
        let domain = node.domain.as_deref().unwrap_or("");
        let import = match domain {
            "" | "ai.onnx" => find_importer(ctx.op_type),
            ML_DOMAIN => classifier::ML_OPS.iter().find(|(name, _)| *name == ctx.op_type).map(|(_, f)| *f),
            MS_DOMAIN => qoperator::MS_OPS.iter().find(|(name, _)| *name == ctx.op_type).map(|(_, f)| *f),
            _ => None,
        };
        let import = import.ok_or_else(|| ImportError::UnsupportedOp {
            op_type: ctx.op_type.to_string(),
            domain: domain.to_string(),
            node: ctx.name.clone(),
        })?;
        let before = self.nodes.len();
        import(self, &ctx)?;
        self.note_rewrite(&ctx, before);
        Ok(())
    }

    /// Records what became of a source node when it is not one op of its own kind.
    fn note_rewrite(&mut self, ctx: &NodeCtx, first_new_node: usize) {
        let emitted: Vec<&'static str> = self.nodes[first_new_node..].iter().map(|n| n.op.kind()).collect();
        let action = match emitted.as_slice() {
            // A Constant node is a constant by definition.
            [] if ctx.op_type == "Constant" => return,
            [] => match self.values.get(ctx.output_name(0)) {
                Some(Value::Constant(_)) => RewriteAction::FoldedToConstant,
                Some(Value::Tensor(_)) => RewriteAction::PassedThrough,
                Some(Value::Quantized { .. }) => RewriteAction::QuantizePending,
                Some(Value::Padded { .. }) => RewriteAction::PaddingPending,
                Some(Value::Dynamic(_)) => RewriteAction::DynamicQuantizationPending,
                None => return,
            },
            // One op that is the node's own or a plain renaming (Gemm and MatMul are Dense, ...).
            [_] => return,
            _ => RewriteAction::Became(emitted),
        };
        self.rewrites.push(Rewrite { node: ctx.name.clone(), op_type: ctx.op_type.to_string(), action });
    }

    fn finish(self, graph: &proto::GraphProto) -> Result<Graph, ImportError> {
        let outputs = graph
            .output
            .iter()
            .map(|o| {
                let name = o.name.clone().unwrap_or_default();
                match self.values.get(&name) {
                    Some(Value::Tensor(id)) => Ok(*id),
                    Some(_) => Err(ImportError::Unsupported {
                        what: format!("graph output '{name}' is a constant or an integer QDQ tensor"),
                    }),
                    None => Err(ImportError::UnknownTensor { node: "graph outputs".into(), tensor: name }),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        if outputs.is_empty() {
            return Err(ImportError::NotOnnx { reason: "the graph declares no outputs".into() });
        }
        Ok(Graph {
            name: graph.name.clone().unwrap_or_default(),
            tensors: self.tensors,
            nodes: self.nodes,
            input: self.input,
            outputs,
            rewrites: self.rewrites,
        })
    }

    /// The value bound to input `i` of the node.
    pub(crate) fn input(&self, ctx: &NodeCtx, i: usize) -> Result<Value, ImportError> {
        let name = ctx.input_name(i).ok_or_else(|| ImportError::Unsupported {
            what: format!("node '{}' ({}) lacks input {i}", ctx.name, ctx.op_type),
        })?;
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| ImportError::UnknownTensor { node: ctx.name.clone(), tensor: name.to_string() })
    }

    /// Input `i` if present (optional inputs may be missing or named "").
    pub(crate) fn optional_input(&self, ctx: &NodeCtx, i: usize) -> Result<Option<Value>, ImportError> {
        match ctx.input_name(i) {
            None => Ok(None),
            Some(_) => self.input(ctx, i).map(Some),
        }
    }

    /// Input 0 of a window op (Conv, pooling): a run-time tensor and the zero padding a Pad
    /// node put in front of it (all zero without one).
    pub(crate) fn window_input(&self, ctx: &NodeCtx) -> Result<(TensorId, [usize; 4]), ImportError> {
        match self.input(ctx, 0)? {
            Value::Padded { tensor, pads } => Ok((tensor, pads)),
            _ => Ok((self.tensor_input(ctx, 0)?, [0; 4])),
        }
    }

    /// Input `i` of an op that commutes with quantization (a reshape, a max): a run-time
    /// tensor, and the quantization pending on it when it is the integer output of a
    /// QuantizeLinear or a QOperator op.
    pub(crate) fn maybe_quantized_input(
        &self,
        ctx: &NodeCtx,
        i: usize,
    ) -> Result<(TensorId, Option<crate::graph::ops::FakeQuantize>), ImportError> {
        match self.input(ctx, i)? {
            Value::Quantized { tensor, quant } => Ok((tensor, Some(quant))),
            _ => Ok((self.tensor_input(ctx, i)?, None)),
        }
    }

    /// Emits `op` on `x` as the node's output; with a pending quantization the output stays
    /// quantized (max and reshapes commute with rounding and clamping: exact).
    pub(crate) fn emit_keeping_quantization(
        &mut self,
        ctx: &NodeCtx,
        op: Op,
        x: TensorId,
        quant: Option<crate::graph::ops::FakeQuantize>,
    ) -> Result<(), ImportError> {
        match quant {
            None => self.emit(ctx, op, vec![x], true).map(drop),
            Some(quant) => {
                let tensor = self.emit(ctx, op, vec![x], false)?;
                self.bind(ctx, Value::Quantized { tensor, quant });
                Ok(())
            }
        }
    }

    /// Input `i`, which must be a run-time tensor.
    pub(crate) fn tensor_input(&self, ctx: &NodeCtx, i: usize) -> Result<TensorId, ImportError> {
        match self.input(ctx, i)? {
            Value::Tensor(id) => Ok(id),
            Value::Padded { .. } => Err(ImportError::Unsupported {
                what: format!("input {i} of node '{}' ({}) {}", ctx.name, ctx.op_type, pad::ONLY_WINDOW_READERS),
            }),
            _ => Err(ImportError::Unsupported {
                what: format!(
                    "input {i} of node '{}' ({}) must be a run-time tensor, not a constant or integer tensor",
                    ctx.name, ctx.op_type
                ),
            }),
        }
    }

    /// Input `i`, which must be a constant.
    pub(crate) fn constant_input(&self, ctx: &NodeCtx, i: usize) -> Result<Constant, ImportError> {
        match self.input(ctx, i)? {
            Value::Constant(c) => Ok(c),
            _ => Err(ImportError::ExpectedConstant {
                node: ctx.name.clone(),
                op_type: ctx.op_type.to_string(),
                input: i,
            }),
        }
    }

    /// Shape of a run-time tensor.
    pub(crate) fn shape(&self, id: TensorId) -> &[usize] {
        &self.tensors[id.0].shape
    }

    /// The node that computes a run-time tensor (`None` for the graph input).
    pub(crate) fn producer(&self, id: TensorId) -> Option<&Node> {
        self.nodes.iter().find(|n| n.output == id)
    }

    /// Whether a run-time tensor holds an ArgMax's indices, perhaps reshaped or transposed.
    pub(crate) fn is_index(&self, mut id: TensorId) -> bool {
        loop {
            match self.producer(id) {
                Some(Node { op: Op::ArgMax(_), .. }) => return true,
                Some(Node { op: Op::Reshape(_) | Op::Transpose(_), inputs, .. }) => id = inputs[0],
                _ => return false,
            }
        }
    }

    /// Appends a node computing `op` on `inputs`; binds its output to the node's output 0 when
    /// `last` is true, otherwise to a generated name. Returns the new tensor.
    pub(crate) fn emit(
        &mut self,
        ctx: &NodeCtx,
        op: Op,
        inputs: Vec<TensorId>,
        last: bool,
    ) -> Result<TensorId, ImportError> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|&i| self.shape(i)).collect();
        let shape = op.output_shape(&shapes).map_err(|source| ImportError::Shape { node: ctx.name.clone(), source })?;
        check_size(&shape, &ctx.name)?;
        let name = if last {
            ctx.output_name(0).to_string()
        } else {
            self.generated += 1;
            format!("{}/{}#{}", ctx.name, op.kind(), self.generated)
        };
        let id = TensorId(self.tensors.len());
        self.tensors.push(TensorInfo { name: name.clone(), shape });
        let node_name = if last { ctx.name.clone() } else { name.clone() };
        self.nodes.push(Node { name: node_name, op, inputs, output: id });
        if last {
            self.values.insert(name, Value::Tensor(id));
        }
        Ok(id)
    }

    /// Binds the node's output 0 to an existing value (Identity, folded constants).
    pub(crate) fn bind(&mut self, ctx: &NodeCtx, value: Value) {
        self.bind_output(ctx, 0, value);
    }

    /// Binds output `i` of the node (nothing when the model leaves it unnamed).
    pub(crate) fn bind_output(&mut self, ctx: &NodeCtx, i: usize, value: Value) {
        let name = ctx.output_name(i);
        if !name.is_empty() {
            self.values.insert(name.to_string(), value);
        }
    }
}

fn check_size(shape: &[usize], what: &str) -> Result<(), ImportError> {
    if shape.contains(&0) {
        return Err(ImportError::Unsupported { what: format!("'{what}' has an empty dimension: {shape:?}") });
    }
    let elements = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if elements.is_none_or(|e| e > crate::graph::MAX_TENSOR_ELEMENTS) {
        return Err(ImportError::Unsupported {
            what: format!("'{what}' of shape {shape:?} exceeds {} elements", crate::graph::MAX_TENSOR_ELEMENTS),
        });
    }
    Ok(())
}

fn input_shape(input: &proto::ValueInfoProto, options: &ImportOptions) -> Result<Vec<usize>, ImportError> {
    let name = input.name.clone().unwrap_or_default();
    let tensor_type = input
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .ok_or_else(|| ImportError::Unsupported { what: format!("input '{name}' is not a tensor") })?;
    if let Some(t) = tensor_type.elem_type
        && t != proto::data_type::FLOAT
    {
        return Err(ImportError::UnsupportedDataType { what: format!("input '{name}'"), data_type: t });
    }
    let dims = tensor_type.shape.as_ref().map(|s| s.dim.as_slice()).unwrap_or(&[]);
    if tensor_type.shape.is_none() {
        return Err(ImportError::DynamicDimension {
            input: name,
            axis: None,
            dim: "unknown rank".into(),
            hint: "the model declares no input shape; export it with a static shape".into(),
        });
    }
    dims.iter()
        .enumerate()
        .map(|(axis, d)| match (d.dim_value, d.dim_param.as_deref()) {
            (Some(v), _) if v > 0 => Ok(v as usize),
            (_, Some(p)) if options.dims.contains_key(p) => Ok(options.dims[p]),
            _ if axis == 0 && options.batch.is_some() => Ok(options.batch.unwrap_or(1)),
            (_, param) => Err(ImportError::DynamicDimension {
                input: name.clone(),
                axis: Some(axis),
                dim: param.unwrap_or("?").to_string(),
                hint: if axis == 0 {
                    "fix it with --batch 1 (or --dim NAME=SIZE)".into()
                } else {
                    format!("fix it with --dim {}=SIZE", param.unwrap_or("NAME"))
                },
            }),
        })
        .collect()
}
