//! A node being imported: its name, op type, inputs and typed attribute accessors.

use super::proto::{AttributeProto, NodeProto, attribute_type};
use crate::ImportError;

/// The node being imported.
#[derive(Debug)]
pub(crate) struct NodeCtx<'a> {
    node: &'a NodeProto,
    /// The node's name, or `OpType_index` when the model gives none.
    pub name: String,
    /// ONNX op type, e.g. `"Gemm"`.
    pub op_type: &'a str,
}

impl<'a> NodeCtx<'a> {
    pub(crate) fn new(node: &'a NodeProto, index: usize) -> Self {
        let op_type = node.op_type.as_deref().unwrap_or("");
        let name = match node.name.as_deref() {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => format!("{op_type}_{index}"),
        };
        Self { node, name, op_type }
    }

    /// Name of input `i`; `None` when absent or empty (an omitted optional input).
    pub(crate) fn input_name(&self, i: usize) -> Option<&'a str> {
        self.node.input.get(i).map(String::as_str).filter(|s| !s.is_empty())
    }

    /// Name of output `i` (empty when absent).
    pub(crate) fn output_name(&self, i: usize) -> &'a str {
        self.node.output.get(i).map(String::as_str).unwrap_or("")
    }

    /// Number of declared outputs that are used (non-empty).
    pub(crate) fn output_count(&self) -> usize {
        self.node.output.iter().filter(|o| !o.is_empty()).count()
    }

    fn attr(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name.as_deref() == Some(name))
    }

    fn typed(&self, name: &str, ty: i32) -> Result<Option<&'a AttributeProto>, ImportError> {
        match self.attr(name) {
            Some(a) if a.r#type.is_some_and(|t| t != ty) => Err(self.bad_attr(name, "has the wrong type")),
            other => Ok(other),
        }
    }

    /// An integer attribute, or `default`.
    pub(crate) fn int(&self, name: &str, default: i64) -> Result<i64, ImportError> {
        Ok(self.typed(name, attribute_type::INT)?.and_then(|a| a.i).unwrap_or(default))
    }

    /// A float attribute, or `default`.
    pub(crate) fn float(&self, name: &str, default: f32) -> Result<f32, ImportError> {
        Ok(self.typed(name, attribute_type::FLOAT)?.and_then(|a| a.f).unwrap_or(default))
    }

    /// A float attribute if present.
    pub(crate) fn float_opt(&self, name: &str) -> Result<Option<f32>, ImportError> {
        Ok(self.typed(name, attribute_type::FLOAT)?.and_then(|a| a.f))
    }

    /// An integer-list attribute, if present.
    pub(crate) fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, ImportError> {
        Ok(self.typed(name, attribute_type::INTS)?.map(|a| a.ints.clone()))
    }

    /// A string attribute, or `default`.
    pub(crate) fn string(&self, name: &str, default: &str) -> Result<String, ImportError> {
        match self.typed(name, attribute_type::STRING)?.and_then(|a| a.s.as_ref()) {
            Some(bytes) => String::from_utf8(bytes.clone()).map_err(|_| self.bad_attr(name, "is not UTF-8")),
            None => Ok(default.to_string()),
        }
    }

    /// A tensor attribute (Constant's `value`).
    pub(crate) fn tensor(&self, name: &str) -> Result<Option<&'a super::proto::TensorProto>, ImportError> {
        Ok(self.typed(name, attribute_type::TENSOR)?.and_then(|a| a.t.as_ref()))
    }

    /// Names of attributes present on the node.
    pub(crate) fn attribute_names(&self) -> impl Iterator<Item = &'a str> {
        self.node.attribute.iter().filter_map(|a| a.name.as_deref())
    }

    /// The typed error for an attribute value zkinfer does not support.
    pub(crate) fn bad_attr(&self, attribute: &str, reason: impl Into<String>) -> ImportError {
        ImportError::UnsupportedAttribute {
            node: self.name.clone(),
            op_type: self.op_type.to_string(),
            attribute: attribute.to_string(),
            reason: reason.into(),
        }
    }

    /// Requires an integer attribute to equal `expected` (its default when absent).
    pub(crate) fn require_int(&self, name: &str, default: i64, expected: i64, why: &str) -> Result<(), ImportError> {
        let v = self.int(name, default)?;
        if v != expected {
            return Err(self.bad_attr(name, format!("= {v}: {why}")));
        }
        Ok(())
    }

    /// Normalises a possibly negative axis for a tensor of `rank` axes.
    pub(crate) fn axis(&self, name: &str, value: i64, rank: usize) -> Result<usize, ImportError> {
        let r = rank as i64;
        if value < -r || value >= r {
            return Err(self.bad_attr(name, format!("= {value} is out of range for rank {rank}")));
        }
        Ok(if value < 0 { (value + r) as usize } else { value as usize })
    }
}
