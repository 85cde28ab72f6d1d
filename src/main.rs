//! `zkinfer`: the command-line interface.
//!
//! Verbs (see README.md): `inspect` (ops, scales, fidelity), `compile` (quantize and plan the
//! circuit), `setup` (params and keys), `prove`, `verify`, `export-verifier` (the verification
//! bundle), `serve` (the proving service and the verifier service), `worker` (proves queued
//! jobs), and `demo` (all of it on the bundled digits model).

mod artifacts;
mod compile;
mod demo;
mod devices;
mod export;
mod inspect;
mod jobs;
mod progress;
mod prove;
mod report;
mod serve;
mod setup;
mod verify;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use zkinfer_models::onnx::{self, ImportOptions};
use zkinfer_models::quantize::QuantSettings;

/// Zero-knowledge verified inference for small quantized neural networks.
#[derive(Debug, Parser)]
#[command(name = "zkinfer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a model's ops and shapes; with --calibration, its quantization scales and fidelity.
    Inspect(inspect::InspectArgs),
    /// Quantize an ONNX model with calibration data and plan its circuit: writes model.zkm.
    Compile(compile::CompileArgs),
    /// Generate (once) or load the params for a compiled model and run keygen; prints the circuit identity.
    Setup(setup::SetupArgs),
    /// Run a compiled model on an input and prove it: prints the outputs, writes proof.zkp.
    Prove(prove::ProveArgs),
    /// Verify a proof against a compiled model or bundle: prints the verified outputs or why it is rejected.
    Verify(verify::VerifyArgs),
    /// Write a model's verification bundle (model.zkv): all a verifier needs, in one file.
    ExportVerifier(export::ExportArgs),
    /// Run the service: prove jobs from a queue (--models) and/or verify proofs and sign attestations (--bundle).
    Serve(serve::ServeArgs),
    /// Prove jobs from a job database (scale-out: any number, on any machines).
    Worker(worker::WorkerArgs),
    /// The whole path on the bundled digits model: compile, setup, prove, verify.
    Demo(demo::DemoArgs),
    /// List the GPU adapters that `prove --device` can use.
    Devices(devices::DevicesArgs),
}

/// How to read an ONNX model.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// The ONNX model file.
    pub model: PathBuf,
    /// Size for a dynamic batch dimension (axis 0 of the input); without it a dynamic batch
    /// dimension is 1, said in one line.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Size for a named symbolic dimension, as NAME=SIZE (repeatable).
    #[arg(long = "dim", value_parser = parse_dim)]
    pub dims: Vec<(String, usize)>,
}

impl ModelArgs {
    /// Import options from the flags.
    pub fn import_options(&self) -> ImportOptions {
        ImportOptions { batch: self.batch, dims: self.dims.iter().cloned().collect(), ..Default::default() }
    }

    /// Imports the model. A dynamic batch dimension (axis 0 of the input) without `--batch`
    /// becomes 1, said in one line on stderr unless `quiet`.
    pub fn import(&self, quiet: bool) -> anyhow::Result<zkinfer_models::Graph> {
        let path = &self.model;
        let context = || format!("importing {}", path.display());
        match onnx::import_file(path, &self.import_options()) {
            Err(zkinfer_models::ImportError::DynamicDimension { input, axis: Some(0), dim, .. })
                if self.batch.is_none() =>
            {
                if !quiet {
                    eprintln!(
                        "zkinfer: input '{input}' has a dynamic batch dimension ({dim}): using 1 (--batch N to change)"
                    );
                }
                let options = ImportOptions { batch: Some(1), ..self.import_options() };
                onnx::import_file(path, &options).with_context(context)
            }
            result => result.with_context(context),
        }
    }
}

fn parse_dim(s: &str) -> Result<(String, usize), String> {
    let (name, size) = s.split_once('=').ok_or("expected NAME=SIZE")?;
    let size = size.parse().map_err(|_| format!("'{size}' is not a positive integer"))?;
    if size == 0 {
        return Err("dimension sizes must be positive".into());
    }
    Ok((name.to_string(), size))
}

/// Quantization bit widths.
#[derive(Debug, Args)]
pub struct QuantArgs {
    /// Signed bits of the model input.
    #[arg(long, default_value_t = QuantSettings::default().input_bits)]
    pub input_bits: u32,
    /// Signed bits of weights.
    #[arg(long, default_value_t = QuantSettings::default().weight_bits)]
    pub weight_bits: u32,
    /// Signed bits of activations.
    #[arg(long, default_value_t = QuantSettings::default().activation_bits)]
    pub activation_bits: u32,
    /// Signed bits of biases (at the accumulator scale).
    #[arg(long, default_value_t = QuantSettings::default().bias_bits)]
    pub bias_bits: u32,
    /// Bits of range kept free above the largest calibrated magnitude.
    #[arg(long, default_value_t = QuantSettings::default().headroom_bits)]
    pub headroom_bits: u32,
    /// Most rows a function table (Sigmoid, Tanh, Erf, Exp, Log, GELU, Softmax) may take where its
    /// function changes; longer ones drop input bits first. By default `compile` sets it only
    /// when the tables alone would raise the circuit's size.
    #[arg(long)]
    pub max_table_rows: Option<u32>,
}

impl QuantArgs {
    /// The settings.
    pub fn settings(&self) -> QuantSettings {
        QuantSettings {
            input_bits: self.input_bits,
            weight_bits: self.weight_bits,
            activation_bits: self.activation_bits,
            bias_bits: self.bias_bits,
            headroom_bits: self.headroom_bits,
            max_table_rows: self.max_table_rows,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(why) = zkinfer_engine::check_cpu() {
        eprintln!("error: {why}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Compile(args) => compile::run(&args),
        Command::Setup(args) => setup::run(&args),
        Command::Prove(args) => prove::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::ExportVerifier(args) => export::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Worker(args) => worker::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Devices(args) => devices::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
