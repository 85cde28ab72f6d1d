//! `zkinfer inspect`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use zkinfer_models::data::InputData;
use zkinfer_models::fidelity::FidelityReport;
use zkinfer_models::graph::Rewrite;
use zkinfer_models::{Graph, QuantizedModel, quantize};

use crate::{ModelArgs, QuantArgs};

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Calibration inputs as JSON (`{"input_data": [[...], ...]}`): quantizes and plans the model as
    /// `compile` does, and reports its scales, circuit size and fidelity.
    #[arg(long)]
    calibration: Option<PathBuf>,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    quant: QuantArgs,
}

#[derive(Debug, Serialize)]
struct OpRow {
    node: String,
    op: &'static str,
    inputs: Vec<Vec<usize>>,
    output: Vec<usize>,
    parameters: usize,
}

#[derive(Debug, Serialize)]
struct ScaleRow {
    tensor: String,
    shape: Vec<usize>,
    scale: i32,
    bits: u32,
    real_min: f64,
    real_max: f64,
}

/// The model `compile` would build from the same calibration and settings (function tables
/// shortened where they would raise `k`), its scales, circuit and fidelity.
#[derive(Debug, Serialize)]
struct Quantization {
    settings: quantize::QuantSettings,
    /// The table-size limit chosen so that function tables do not raise `k` (None: the
    /// settings' own, or none needed).
    chosen_table_limit: Option<u32>,
    scales: Vec<ScaleRow>,
    circuit: zkinfer_circuits::plan::Plan,
    fidelity: FidelityReport,
    #[serde(skip)]
    model: QuantizedModel,
}

#[derive(Debug, Serialize)]
struct Report {
    model: String,
    graph: String,
    input: String,
    input_shape: Vec<usize>,
    outputs: Vec<String>,
    parameters: usize,
    ops: Vec<OpRow>,
    /// Source nodes folded or rewritten at import.
    rewrites: Vec<Rewrite>,
    quantization: Option<Quantization>,
}

pub fn run(args: &InspectArgs) -> anyhow::Result<()> {
    let graph = args.model.import(args.json)?;
    let quantization = match &args.calibration {
        None => None,
        Some(path) => Some(quantization(&graph, path, args)?),
    };
    let report = Report {
        model: args.model.model.display().to_string(),
        graph: graph.name.clone(),
        input: graph.tensor(graph.input).name.clone(),
        input_shape: graph.tensor(graph.input).shape.clone(),
        outputs: graph.outputs.iter().map(|&o| graph.tensor(o).name.clone()).collect(),
        parameters: graph.parameter_count(),
        ops: graph
            .nodes
            .iter()
            .map(|n| OpRow {
                node: n.name.clone(),
                op: n.op.kind(),
                inputs: n.inputs.iter().map(|&i| graph.tensor(i).shape.clone()).collect(),
                output: graph.tensor(n.output).shape.clone(),
                parameters: n.op.parameter_count(),
            })
            .collect(),
        rewrites: graph.rewrites.clone(),
        quantization,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_tables(&report);
    }
    Ok(())
}

fn quantization(graph: &Graph, path: &Path, args: &InspectArgs) -> anyhow::Result<Quantization> {
    let calibration =
        InputData::from_file(path).with_context(|| format!("reading calibration data {}", path.display()))?;
    let source = args.model.model.display().to_string();
    let c = crate::compile::compile_graph(graph, &calibration, &args.quant.settings(), Default::default(), &source)?;
    let model = c.compiled.model;
    let scales = model
        .tensors
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (lo, hi) = model.value_range(zkinfer_models::graph::TensorId(i));
            ScaleRow {
                tensor: t.name.clone(),
                shape: t.shape.clone(),
                scale: t.scale,
                bits: t.bits,
                real_min: zkinfer_models::numeric::dequantize(lo, t.scale),
                real_max: zkinfer_models::numeric::dequantize(hi, t.scale),
            }
        })
        .collect();
    Ok(Quantization {
        settings: model.settings,
        chosen_table_limit: c.chosen_table_limit,
        scales,
        circuit: c.plan,
        fidelity: c.fidelity,
        model,
    })
}

fn print_tables(r: &Report) {
    println!("model       {} (graph '{}')", r.model, r.graph);
    println!("input       {} {:?}", r.input, r.input_shape);
    println!("outputs     {}", r.outputs.join(", "));
    println!("parameters  {}", r.parameters);
    println!();
    println!("{:<4} {:<28} {:<18} {:<28} {:>10}", "#", "node", "op", "input -> output shape", "params");
    for (i, op) in r.ops.iter().enumerate() {
        let shapes = format!("{:?} -> {:?}", op.inputs.first().cloned().unwrap_or_default(), op.output);
        println!("{:<4} {:<28} {:<18} {:<28} {:>10}", i, op.node, op.op, shapes, op.parameters);
    }
    if !r.rewrites.is_empty() {
        println!("\nfolded or rewritten at import ({}):", r.rewrites.len());
        for w in &r.rewrites {
            println!("  {w}");
        }
    }
    let Some(q) = &r.quantization else {
        println!("\n(pass --calibration FILE to choose scales and see the fidelity table)");
        return;
    };
    let s = &q.settings;
    println!(
        "\nquantization: input {} bits, weights {} bits, activations {} bits, biases {} bits, headroom {} bit(s)",
        s.input_bits, s.weight_bits, s.activation_bits, s.bias_bits, s.headroom_bits
    );
    println!("{:<28} {:<18} {:>6} {:>5} {:>26}", "tensor", "shape", "scale", "bits", "real range");
    for t in &q.scales {
        let shape = format!("{:?}", t.shape);
        let range = format!("[{}, {}]", t.real_min, t.real_max);
        println!("{:<28} {:<18} {:>6} {:>5} {:>26}", t.tensor, shape, format!("2^-{}", t.scale), t.bits, range);
    }
    crate::compile::print_table_shifts(&q.model, q.chosen_table_limit);
    crate::report::print_fidelity(&q.fidelity);
    crate::compile::print_plan(&q.circuit);
}
