//! `zkinfer prove`: run the model on an input, prove it, write the proof, print the outputs.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use zkinfer_models::data::InputData;
use zkinfer_prover::engine::EngineKind;
use zkinfer_prover::{Proof, Prover};
use zkinfer_verifier::{CompiledModel, VerifiedTensor, hex};

use crate::artifacts::{EngineArgs, ParamsArgs, params, params_points, read_compiled};
use crate::progress::Progress;
use crate::report::{self, Timing, secs};

#[derive(Debug, Args)]
pub struct ProveArgs {
    /// The compiled model (`zkinfer compile`).
    model: PathBuf,
    /// The input as JSON (`{"input_data": [[...]]}`, one sample).
    #[arg(long)]
    input: PathBuf,
    /// Where to write the proof.
    #[arg(short, long, default_value = "proof.zkp")]
    output: PathBuf,
    /// The model's key file (`zkinfer setup`): the proving key is read from it instead of
    /// computed (no keygen; refused if it is for another model or params, or damaged).
    #[arg(long)]
    key: Option<PathBuf>,
    #[command(flatten)]
    params: ParamsArgs,
    #[command(flatten)]
    engine: EngineArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
pub struct ProveReport {
    pub circuit_identity: String,
    pub engine: &'static str,
    /// What ran the engine's MSMs and FFTs ("cpu" or the GPU adapter).
    pub device: String,
    pub k: u32,
    pub proof_bytes: usize,
    pub outputs: Vec<VerifiedTensor>,
    pub predicted_class: Option<usize>,
    pub timings: Vec<Timing>,
}

/// The timing step of the proving key: computed, or read from a key file.
const KEYGEN_STEP: &str = "keygen";
/// See [`KEYGEN_STEP`].
const KEY_FILE_STEP: &str = "key file";

/// Params, keygen (or the proving key from `key`, a key file, when given) and proof for one
/// input; the timings of each step.
pub fn prove(
    compiled: CompiledModel,
    input: &InputData,
    params_args: &ParamsArgs,
    engine: &EngineArgs,
    key: Option<&std::path::Path>,
    progress: &Progress,
) -> anyhow::Result<(Proof, Vec<Timing>, String)> {
    let shape = compiled.model.tensor(compiled.model.input).shape.clone();
    let samples = input.samples(&shape).context("reading the input")?;
    let [sample] = samples.as_slice() else {
        anyhow::bail!("the input file holds {} samples; prove takes exactly one", samples.len());
    };
    let cache = params_args.cache();
    let device = engine.open_device(&compiled, progress);
    let step = if key.is_some() { KEY_FILE_STEP } else { KEYGEN_STEP };
    let usable = |path: &std::path::Path| format!("{} is not a usable key file", path.display());
    let (prover, params_took, keygen_took) = match key {
        // zkinfer's engine with a key file needs the params' points alone (no halo2 `Params`).
        Some(path) if engine.engine == EngineKind::Cpu => {
            let (loaded, params_took) = params_points(&cache, compiled.k, progress)?;
            let (prover, took) = progress.step(step, || {
                Prover::with_key_file_points(compiled, loaded.points, loaded.hash, &device, path)
                    .with_context(|| usable(path))
            });
            (prover?, params_took, took)
        }
        _ => {
            let (loaded, params_took) = params(&cache, compiled.k, progress)?;
            let (prover, took) = progress.step(step, || -> anyhow::Result<Prover> {
                Ok(match key {
                    Some(path) => {
                        Prover::with_key_file_at(compiled, loaded.params, loaded.hash, engine.engine, &device, path)
                            .with_context(|| usable(path))?
                    }
                    None => Prover::with_engine_on(compiled, loaded.params, loaded.hash, engine.engine, &device)?,
                })
            });
            (prover?, params_took, took)
        }
    };
    let mut rng = zkinfer_prover::blinding_rng().context("seeding the blinding factors' generator")?;
    let (proof, prove_took) = progress.step("proving", || prover.prove(sample, &mut rng));
    let proof = proof?;
    let timings = vec![
        Timing { step: "params", seconds: secs(params_took) },
        Timing { step, seconds: secs(keygen_took) },
        Timing { step: "prove (incl. self-check)", seconds: secs(prove_took) },
    ];
    Ok((proof, timings, device.description))
}

pub fn run(args: &ProveArgs) -> anyhow::Result<()> {
    let progress = Progress::new(args.json);
    let compiled = read_compiled(&args.model)?;
    let k = compiled.k;
    let input = InputData::from_file(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let (proof, timings, device) = prove(compiled, &input, &args.params, &args.engine, args.key.as_deref(), &progress)?;
    let bytes = proof.envelope.to_bytes();
    crate::artifacts::write(&args.output, &bytes)?;
    let report = ProveReport {
        circuit_identity: hex(&proof.envelope.circuit_identity),
        engine: args.engine.engine.name(),
        device,
        k,
        proof_bytes: bytes.len(),
        predicted_class: proof.verified.predicted.as_ref().map(|p| p.class),
        outputs: proof.verified.outputs,
        timings,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report::print_outputs(&report.outputs);
        println!("wrote {} ({} bytes, k = {k})", args.output.display(), report.proof_bytes);
    }
    Ok(())
}
