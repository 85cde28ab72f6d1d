//! `zkinfer compile`: quantize an ONNX model with calibration data, plan its circuit, write the
//! compiled model.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use zkinfer_circuits::plan::{Plan, PlanOptions};
use zkinfer_circuits::{ClampForm, FunctionTables, LinearLayout};
use zkinfer_models::Graph;
use zkinfer_models::QuantizedModel;
use zkinfer_models::data::InputData;
use zkinfer_models::fidelity::{FidelityReport, fidelity};
use zkinfer_models::quantize::QuantSettings;
use zkinfer_models::quantized::QOp;
use zkinfer_verifier::CompiledModel;

use crate::progress::Progress;
use crate::{ModelArgs, QuantArgs, report};

#[derive(Debug, Args)]
pub struct CompileArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Calibration inputs as JSON (`{"input_data": [[...], ...]}`).
    #[arg(long)]
    calibration: PathBuf,
    /// Where to write the compiled model.
    #[arg(short, long, default_value = "model.zkm")]
    output: PathBuf,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    quant: QuantArgs,
    #[command(flatten)]
    layout: LayoutArgs,
}

/// Overrides of the layout planner (by default it chooses both).
#[derive(Debug, Default, Args)]
pub struct LayoutArgs {
    /// Lay out Dense and Conv layers this way instead of letting the planner choose.
    #[arg(long, value_enum)]
    linear_layout: Option<LinearLayoutArg>,
    /// Use this many lanes (advice columns for linear layers; at least 8) instead of letting
    /// the planner choose.
    #[arg(long)]
    lanes: Option<usize>,
    /// Lay out function tables (Sigmoid, Tanh, Erf, Exp, Log, GELU, Softmax) whole or trimmed to
    /// where the function changes, instead of letting the planner choose.
    #[arg(long, value_enum)]
    function_tables: Option<FunctionTablesArg>,
    /// Compute clamps that follow a layer (Clip, quantize-dequantize pairs) by comparison rows
    /// or in the layer's rescale rows (more columns, no rows), instead of letting the planner
    /// choose.
    #[arg(long, value_enum)]
    clamps: Option<ClampsArg>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ClampsArg {
    /// One comparison row per clamped value and bound.
    Compared,
    /// In the layer's rescale row: a boolean and a difference in more limb columns.
    InRescale,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FunctionTablesArg {
    /// Each table covers its input's whole range.
    Whole,
    /// Each table covers only where its function changes; inputs are clamped into it.
    Trimmed,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LinearLayoutArg {
    /// One output per chain of rows, inputs copied into every lane.
    DotProduct,
    /// Many outputs per chain, inputs streamed through one column (fewer equality columns).
    OuterProduct,
}

impl LayoutArgs {
    /// The planner options.
    pub fn options(&self) -> PlanOptions {
        PlanOptions {
            linear: self.linear_layout.map(|l| match l {
                LinearLayoutArg::DotProduct => LinearLayout::DotProduct,
                LinearLayoutArg::OuterProduct => LinearLayout::OuterProduct,
            }),
            lanes: self.lanes,
            tables: self.function_tables.map(|t| match t {
                FunctionTablesArg::Whole => FunctionTables::Whole,
                FunctionTablesArg::Trimmed => FunctionTables::Trimmed,
            }),
            clamps: self.clamps.map(|c| match c {
                ClampsArg::Compared => ClampForm::Compared,
                ClampsArg::InRescale => ClampForm::InRescale,
            }),
        }
    }
}

/// What compiling produced.
#[derive(Debug, Serialize)]
pub struct Compiled {
    #[serde(skip)]
    pub compiled: CompiledModel,
    pub plan: Plan,
    pub fidelity: FidelityReport,
    /// The table-size limit `compile_graph` chose (None: the settings' own, or none needed).
    pub chosen_table_limit: Option<u32>,
}

/// Quantizes `graph` on `calibration` and plans the circuit (shortening function tables that
/// would raise `k`, see [`zkinfer_prover::compile_graph`]), and reports fidelity.
pub fn compile_graph(
    graph: &Graph,
    calibration: &InputData,
    settings: &QuantSettings,
    options: PlanOptions,
    source: &str,
) -> anyhow::Result<Compiled> {
    let samples = calibration.samples(&graph.tensor(graph.input).shape).context("reading calibration data")?;
    let c = zkinfer_prover::compile_graph(graph, &samples, settings, source, options)?;
    let fidelity = fidelity(graph, &c.compiled.model, &samples);
    Ok(Compiled { compiled: c.compiled, plan: c.plan, fidelity, chosen_table_limit: c.chosen_table_limit })
}

/// Names the lookups that drop input bits, and why.
pub fn print_table_shifts(model: &QuantizedModel, chosen_limit: Option<u32>) {
    let shifted: Vec<String> = model
        .nodes
        .iter()
        .filter_map(|n| match &n.op {
            QOp::Lookup(l) if l.input_shift > 0 => Some((n, l.input_shift)),
            QOp::Softmax(s) if s.input_shift > 0 => Some((n, s.input_shift)),
            _ => None,
        })
        .map(|(n, shift)| format!("{} ({shift} bit{})", n.name, if shift == 1 { "" } else { "s" }))
        .collect();
    if shifted.is_empty() {
        return;
    }
    let limit = model.settings.max_table_rows.unwrap_or_default();
    match chosen_limit {
        Some(_) => println!(
            "function tables limited to {limit} rows each, so that they do not raise k (--max-table-rows to choose); inputs shortened: {}",
            shifted.join(", ")
        ),
        None => println!("function tables limited to {limit} rows each; inputs shortened: {}", shifted.join(", ")),
    }
}

pub fn run(args: &CompileArgs) -> anyhow::Result<()> {
    let progress = Progress::new(args.json);
    let path = &args.model.model;
    let (c, _) = progress.step("importing, quantizing and planning", || -> anyhow::Result<Compiled> {
        let graph = args.model.import(args.json)?;
        let calibration = InputData::from_file(&args.calibration)
            .with_context(|| format!("reading {}", args.calibration.display()))?;
        let source = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        compile_graph(&graph, &calibration, &args.quant.settings(), args.layout.options(), &source)
    });
    let c = c?;
    crate::artifacts::write(&args.output, &c.compiled.to_bytes())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&c)?);
    } else {
        report::print_fidelity(&c.fidelity);
        print_plan(&c.plan);
        print_table_shifts(&c.compiled.model, c.chosen_table_limit);
        println!("wrote {}", args.output.display());
    }
    Ok(())
}

pub fn print_plan(p: &Plan) {
    println!(
        "circuit: k = {} ({} rows used of {}), {} layout, {} advice columns ({} lanes, {} limbs), {} fixed columns, {} equality-enabled, {} lookups, table rows {}",
        p.k,
        p.rows,
        1usize << p.k,
        match p.layout.linear {
            LinearLayout::DotProduct => "dot-product",
            LinearLayout::OuterProduct => "outer-product",
        },
        p.advice_columns,
        p.layout.lanes,
        p.layout.limbs,
        p.fixed_columns,
        p.layout.equality_columns(),
        p.lookups,
        p.table_rows
    );
    if p.function_table_rows > 0 {
        let form = match p.layout.tables {
            FunctionTables::Whole => "whole",
            FunctionTables::Trimmed => "trimmed to where the functions change",
        };
        println!("function tables: {} rows ({form})", p.function_table_rows);
    }
    if p.layout.clamps == ClampForm::InRescale {
        println!("clamps after layers: in the layers' rescale rows");
    }
}
