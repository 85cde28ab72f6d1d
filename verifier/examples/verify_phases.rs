//! Where the first verification of a proof from a bundle spends its time, phase by phase, with
//! either verifier: `cargo run --release -p zkinfer-verifier --example verify_phases --
//! model.zkv proof.zkp [own|stock]`. Repeated verification (key kept) is timed last.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use zkinfer_verifier::params::{check_params_bytes, params_from_bytes};
use zkinfer_verifier::{CompiledModel, ProofEnvelope, VerificationBundle, Verifier, VerifierChoice};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bundle_path, proof_path, rest @ ..] = args.as_slice() else {
        return Err("usage: verify_phases model.zkv proof.zkp [own|stock]".into());
    };
    let choice: VerifierChoice = rest.first().map_or(Ok(VerifierChoice::Own), |c| c.parse())?;
    let bundle = std::fs::read(bundle_path)?;
    let proof = std::fs::read(proof_path)?;
    let time = |what: &str, start: Instant| println!("{what:<40} {:8.2} ms", start.elapsed().as_secs_f64() * 1e3);

    // The parts of bundle decoding, each on its own (the bundle decodes them all again below).
    let decoded = VerificationBundle::from_bytes(&bundle)?;
    let t = Instant::now();
    CompiledModel::from_bytes(&decoded.compiled.to_bytes())?;
    time("compiled model: decode, validate, re-plan", t);
    let t = Instant::now();
    check_params_bytes(&decoded.params_bytes)?;
    time("params: header and content hash", t);
    let t = Instant::now();
    params_from_bytes(&decoded.params_bytes)?;
    time("params: parsed for halo2 (stock only)", t);

    let first = Instant::now();
    let t = Instant::now();
    let decoded = VerificationBundle::from_bytes(&bundle)?;
    time("bundle: decode and check", t);
    let t = Instant::now();
    let verifier = Verifier::from_bundle_with(decoded, choice)?;
    time(&format!("verifying key ({})", choice.name()), t);
    let t = Instant::now();
    let envelope = ProofEnvelope::from_bytes(&proof)?;
    let verified = verifier.verify(&envelope)?;
    time("proof: decode and verify", t);
    time("first verification in all", first);
    let repeats = 10;
    let t = Instant::now();
    for _ in 0..repeats {
        verifier.verify(&envelope)?;
    }
    println!("{:<40} {:8.2} ms", "repeated verification (mean)", t.elapsed().as_secs_f64() * 1e3 / f64::from(repeats));
    println!("predicted {:?}", verified.predicted.map(|p| p.class));
    Ok(())
}
