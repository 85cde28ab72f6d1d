//! `zkinfer setup`: params for the model's k (generated once, then cached) and keygen; prints
//! the circuit identity.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use zkinfer_prover::Prover;
use zkinfer_verifier::hex;

use crate::artifacts::{ParamsArgs, params, read_compiled};
use crate::progress::Progress;
use crate::report::secs;

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The compiled model (`zkinfer compile`).
    model: PathBuf,
    #[command(flatten)]
    params: ParamsArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct SetupReport {
    circuit_identity: String,
    k: u32,
    params_file: String,
    params_hash: String,
    params_generated: bool,
    params_seconds: f64,
    keygen_seconds: f64,
}

pub fn run(args: &SetupArgs) -> anyhow::Result<()> {
    let progress = Progress::new(args.json);
    let compiled = read_compiled(&args.model)?;
    let k = compiled.k;
    let (loaded, params_took) = params(&args.params.cache(), k, &progress)?;
    let (prover, keygen_took) = progress
        .step("keygen (verifying and proving key)", || Prover::new(compiled, loaded.params.clone(), loaded.hash));
    let prover = prover?;
    let report = SetupReport {
        circuit_identity: hex(&prover.identity()),
        k,
        params_file: loaded.path.display().to_string(),
        params_hash: hex(&loaded.hash),
        params_generated: loaded.generated,
        params_seconds: secs(params_took),
        keygen_seconds: secs(keygen_took),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("circuit identity: {}", report.circuit_identity);
        println!("params: k = {k}, {} (hash {})", report.params_file, report.params_hash);
        println!(
            "keygen takes {:.2} s; provers keep keys in memory (proving keys are not serialized yet)",
            report.keygen_seconds
        );
    }
    Ok(())
}
