//! ONNX models built message by message, for tests that write a graph the way an exporter
//! lays it out.

use prost::Message;
use zkinfer_models::Graph;
use zkinfer_models::onnx::proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
    TypeProto, TypeProtoTensor, ValueInfoProto, attribute_type, data_type,
};
use zkinfer_models::onnx::{ImportOptions, import_bytes};

pub fn node(op: &str, name: &str, inputs: &[&str], outputs: &[&str], attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        name: Some(name.into()),
        op_type: Some(op.into()),
        domain: None,
        attribute,
    }
}

pub fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: Some(name.into()), r#type: Some(attribute_type::INT), i: Some(i), ..Default::default() }
}

pub fn string_attr(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(attribute_type::STRING),
        s: Some(value.as_bytes().to_vec()),
        ..Default::default()
    }
}

pub fn ints_attr(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(attribute_type::INTS),
        ints: ints.to_vec(),
        ..Default::default()
    }
}

pub fn int64s(name: &str, dims: &[i64], values: &[i64]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: Some(data_type::INT64),
        int64_data: values.to_vec(),
        name: Some(name.into()),
        ..Default::default()
    }
}

pub fn floats(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: Some(data_type::FLOAT),
        float_data: values.to_vec(),
        name: Some(name.into()),
        ..Default::default()
    }
}

pub fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| match d {
            Some(v) => Dimension { dim_value: Some(*v), dim_param: None },
            None => Dimension { dim_value: None, dim_param: Some("batch_size".into()) },
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: Some(data_type::FLOAT),
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}

pub fn model(opset: i64, nodes: Vec<NodeProto>, initializer: Vec<TensorProto>, input: ValueInfoProto) -> Vec<u8> {
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(opset) }],
        producer_name: Some("pytorch".into()),
        graph: Some(GraphProto {
            node: nodes,
            name: Some("folding".into()),
            initializer,
            input: vec![input],
            output: vec![value_info("y", &[])],
            value_info: Vec::new(),
        }),
    }
    .encode_to_vec()
}

pub fn import(bytes: &[u8]) -> Graph {
    import_bytes(bytes, &ImportOptions::default()).unwrap()
}
