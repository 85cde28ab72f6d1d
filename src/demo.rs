//! `zkinfer demo`: the whole path on the bundled digits MLP and a bundled input, in one
//! command: compile, setup, prove, export the verifier bundle, verify from it, with the timing of
//! each step.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use zkinfer_models::data::{DEFAULT_MAX_JSON_BYTES, InputData};
use zkinfer_models::onnx;
use zkinfer_verifier::{ProofEnvelope, Verifier, hex};

use crate::artifacts::{EngineArgs, ParamsArgs};
use crate::compile::{compile_graph, print_plan};
use crate::progress::Progress;
use crate::report::{self, Timing, secs};

const MODEL: &[u8] = include_bytes!("../models/zoo/digits_mlp.onnx");
const CALIBRATION: &[u8] = include_bytes!("../models/zoo/digits_mlp.calibration.json");
const INPUT: &[u8] = include_bytes!("../models/zoo/digits_mlp.input.json");

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    params: ParamsArgs,
    #[command(flatten)]
    engine: EngineArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct DemoReport {
    model: &'static str,
    k: u32,
    rows: usize,
    circuit_identity: String,
    proof_bytes: usize,
    predicted_digit: Option<usize>,
    verified: bool,
    timings: Vec<Timing>,
}

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let progress = Progress::new(args.json);
    progress.note("zkinfer demo: digits MLP (64-32-10, trained on the 8x8 digits of scikit-learn)");
    let start = Instant::now();
    let (compiled, compile_took) = progress.step("compile (import, quantize, plan)", || -> anyhow::Result<_> {
        let graph = onnx::import_bytes(MODEL, &Default::default()).context("importing the bundled model")?;
        let calibration = InputData::from_json(CALIBRATION, DEFAULT_MAX_JSON_BYTES)?;
        compile_graph(&graph, &calibration, &Default::default(), Default::default(), "digits_mlp.onnx")
    });
    let compiled = compiled?;
    let plan = compiled.plan;
    let model = compiled.compiled.clone();
    let input = InputData::from_json(INPUT, DEFAULT_MAX_JSON_BYTES)?;
    let (proof, mut timings, _device) =
        crate::prove::prove(compiled.compiled, &input, &args.params, &args.engine, None, &progress)?;
    timings.insert(0, Timing { step: "compile", seconds: secs(compile_took) });
    // What a third party gets: the verification bundle (`zkinfer export-verifier`), and the
    // proof's bytes, checked by a fresh verifier from the bundle (no keygen).
    let (bundle, export_took) = progress.step("export the verifier bundle (keygen once)", || -> anyhow::Result<_> {
        let params = args.params.cache().load_or_generate(model.k)?;
        Ok(crate::export::build_bundle(model, params, &[])?.1)
    });
    let bundle = bundle?;
    timings.push(Timing { step: "export bundle", seconds: secs(export_took) });
    let bytes = proof.envelope.to_bytes();
    let (verified, verify_took) =
        progress.step("verify (load the bundle, check the proof)", || -> anyhow::Result<_> {
            let envelope = ProofEnvelope::from_bytes(&bytes)?;
            Ok(Verifier::from_bundle_bytes(&bundle)?.verify(&envelope)?)
        });
    let verified = verified.context("REJECTED")?;
    timings.push(Timing { step: "verify (bundle to verdict)", seconds: secs(verify_took) });
    timings.push(Timing { step: "total", seconds: secs(start.elapsed()) });
    let report = DemoReport {
        model: "digits_mlp",
        k: plan.k,
        rows: plan.rows,
        circuit_identity: hex(&proof.envelope.circuit_identity),
        proof_bytes: bytes.len(),
        predicted_digit: verified.predicted.as_ref().map(|p| p.class),
        verified: true,
        timings,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print_plan(&plan);
    report::print_outputs(&verified.outputs);
    if let Some(d) = report.predicted_digit {
        println!("predicted digit: {d}");
    }
    for t in &report.timings {
        println!("  {:<32} {:>8.3} s", t.step, t.seconds);
    }
    println!("proof: {} bytes, circuit {}", report.proof_bytes, report.circuit_identity);
    println!("VERIFIED");
    Ok(())
}
