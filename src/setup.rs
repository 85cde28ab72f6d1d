//! `zkinfer setup`: params for the model's k (generated once, then cached) and keygen; writes
//! the key file (the proving key: the verifying key's commitments and the precomputed
//! polynomials, so that `zkinfer prove --key` runs no keygen) and prints the circuit identity.

use std::path::PathBuf;

use anyhow::Context;
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
    /// Where to write the key file [default: the model's path with the extension `.zkkey`].
    #[arg(long)]
    key_out: Option<PathBuf>,
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
    key_file: String,
    key_file_bytes: u64,
}

pub fn run(args: &SetupArgs) -> anyhow::Result<()> {
    let progress = Progress::new(args.json);
    let compiled = read_compiled(&args.model)?;
    let k = compiled.k;
    let (loaded, params_took) = params(&args.params.cache(), k, &progress)?;
    let (prover, keygen_took) = progress
        .step("keygen (verifying and proving key)", || Prover::new(compiled, loaded.params.clone(), loaded.hash));
    let prover = prover?;
    let key_path = args.key_out.clone().unwrap_or_else(|| args.model.with_extension("zkkey"));
    let key_file_bytes = write_key_file(&prover.key_file(), &key_path)?;
    let report = SetupReport {
        circuit_identity: hex(&prover.identity()),
        k,
        params_file: loaded.path.display().to_string(),
        params_hash: hex(&loaded.hash),
        params_generated: loaded.generated,
        params_seconds: secs(params_took),
        keygen_seconds: secs(keygen_took),
        key_file: key_path.display().to_string(),
        key_file_bytes,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("circuit identity: {}", report.circuit_identity);
        println!("params: k = {k}, {} (hash {})", report.params_file, report.params_hash);
        println!(
            "keygen took {:.2} s; wrote {} ({:.1} MB, the proving key: `zkinfer prove --key {}` runs no keygen)",
            report.keygen_seconds,
            report.key_file,
            report.key_file_bytes as f64 / 1e6,
            report.key_file
        );
    }
    Ok(())
}

/// Writes the key file straight to `path` (no copy of its polynomials in memory); its size.
fn write_key_file(key: &zkinfer_prover::key_file::KeyFile, path: &std::path::Path) -> anyhow::Result<u64> {
    let writing = || format!("writing {}", path.display());
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).with_context(writing)?);
    let bytes = key.write_to(&mut out).with_context(writing)?;
    std::io::Write::flush(&mut out).with_context(writing)?;
    Ok(bytes)
}
