//! Mutation fuzzing of everything a verifier decodes from untrusted bytes: compiled models,
//! bundles, proof envelopes and params, and verification of mutated proofs of a real bundle.
//!
//! Each target starts from the committed corpus (`tests/corpus/`, see `common`), applies random
//! mutations (bit flips, byte overwrites with boundary values, truncations, insertions,
//! deletions, duplicated and spliced slices, oversized length prefixes) with a seeded RNG, and
//! requires a typed result for every input: a panic fails the test (the input is written to
//! `target/fuzz-failures/`), and the process' peak memory must stay bounded. cargo-fuzz needs a
//! nightly toolchain, which CI does not have, so the fuzzer lives here as a test.
//!
//! Time per target: `ZKINFER_FUZZ_SECS` seconds (default 15; the seed is `ZKINFER_FUZZ_SEED`,
//! default 1). Run with `--nocapture` to see the inputs tried per target.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use zkinfer_verifier::params::params_from_bytes;
use zkinfer_verifier::{CompiledModel, ProofEnvelope, VerificationBundle, Verifier, VerifierChoice};

/// Peak memory the whole fuzzing process may reach (every decoder has a size limit far below).
const MAX_PEAK_RSS_KIB: u64 = 2 << 20;

fn budget() -> Duration {
    let secs = std::env::var("ZKINFER_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(15.0);
    Duration::from_secs_f64(secs)
}

fn rng(target: u64) -> StdRng {
    let seed: u64 = std::env::var("ZKINFER_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    StdRng::seed_from_u64(seed.wrapping_mul(1_000_003) ^ target)
}

/// Byte values at the edges of bincode's variable-length integers and of signed ranges.
const INTERESTING: [u8; 10] = [0x00, 0x01, 0x7f, 0x80, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff];

/// One to four random mutations of `input` (`other`: a second corpus file to splice from).
fn mutate(rng: &mut StdRng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let len = b.len();
        let at = if len == 0 { 0 } else { rng.random_range(0..len) };
        match rng.random_range(0..9) {
            0 if len > 0 => b[at] ^= 1 << rng.random_range(0..8),
            1 if len > 0 => b[at] = INTERESTING[rng.random_range(0..INTERESTING.len())],
            2 if len > 0 => b[at] = rng.random(),
            3 => b.truncate(at),
            4 => {
                let n = rng.random_range(1..=16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                b.splice(at..at, bytes);
            }
            5 if len > 0 => {
                let end = (at + rng.random_range(1..=64)).min(len);
                b.drain(at..end);
            }
            6 if len > 0 => {
                let end = (at + rng.random_range(1..=64)).min(len);
                let copy = b[at..end].to_vec();
                let to = rng.random_range(0..=b.len());
                b.splice(to..to, copy);
            }
            7 if !other.is_empty() => {
                let from = rng.random_range(0..other.len());
                let end = (from + rng.random_range(1..=256)).min(other.len());
                let end_at = (at + end - from).min(b.len());
                b.splice(at..end_at, other[from..end].iter().copied());
            }
            // An oversized length prefix: bincode's u64 marker followed by a huge count.
            _ if len > 9 => {
                let at = rng.random_range(0..len - 9);
                b[at] = 0xfd;
                b[at + 1..at + 9].copy_from_slice(&(u64::MAX >> rng.random_range(0..40)).to_le_bytes());
            }
            _ => b.push(rng.random()),
        }
    }
    b
}

/// Runs `check` on mutations of `seeds` until the time budget is spent; returns the inputs tried.
fn fuzz(name: &str, target: u64, seeds: &[Vec<u8>], check: impl Fn(&[u8]) -> bool) -> (usize, usize) {
    let mut rng = rng(target);
    let start = Instant::now();
    let (mut tried, mut accepted) = (0usize, 0usize);
    let mut slowest = Duration::ZERO;
    // The seeds themselves, then mutations.
    let mut inputs = seeds.iter().cloned().map(Some).collect::<Vec<_>>().into_iter();
    while tried < seeds.len() || start.elapsed() < budget() {
        let input = match inputs.next().flatten() {
            Some(seed) => seed,
            None => {
                let seed = &seeds[rng.random_range(0..seeds.len())];
                let other = &seeds[rng.random_range(0..seeds.len())];
                mutate(&mut rng, seed, other)
            }
        };
        let t = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| check(&input))) {
            Ok(ok) => accepted += usize::from(ok),
            Err(_) => {
                let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join(format!("{name}-{tried}.bin"));
                std::fs::write(&path, &input).unwrap();
                panic!("{name}: input {tried} panicked (written to {})", path.display());
            }
        }
        slowest = slowest.max(t.elapsed());
        tried += 1;
    }
    let rss = common::peak_rss_kib();
    println!(
        "fuzz {name}: {tried} inputs in {:.1} s, {accepted} accepted, slowest {:.1} ms, peak RSS {} KiB",
        start.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1e3,
        rss.map_or("?".into(), |r| r.to_string()),
    );
    if let Some(rss) = rss {
        assert!(rss < MAX_PEAK_RSS_KIB, "{name}: peak memory {rss} KiB");
    }
    (tried, accepted)
}

fn corpus() -> (Vec<u8>, Vec<u8>, VerificationBundle) {
    let bundle = common::bundle();
    let decoded = VerificationBundle::from_bytes(&bundle).expect("the committed bundle decodes");
    (bundle, common::proof(), decoded)
}

#[test]
fn fuzz_compiled_model_decoding() {
    let (_, _, bundle) = corpus();
    let model = bundle.compiled.to_bytes();
    let (tried, _) = fuzz("compiled_model", 1, &[model], |b| CompiledModel::from_bytes(b).is_ok());
    assert!(tried > 1);
}

#[test]
fn fuzz_bundle_decoding() {
    let (bytes, _, _) = corpus();
    let (tried, accepted) = fuzz("bundle", 2, &[bytes], |b| VerificationBundle::from_bytes(b).is_ok());
    assert!(tried > 1 && accepted >= 1, "the seed itself decodes");
}

#[test]
fn fuzz_params_decoding() {
    let (_, _, bundle) = corpus();
    let params = bundle.params_bytes.clone();
    // Only the standard params of k = 10 are accepted, so whatever decodes is those params
    // (a mutation that undoes itself, or a splice of the seed into itself).
    let (_, accepted) = fuzz("params", 3, &[params], |b| {
        params_from_bytes(b).map(|(_, hash)| assert_eq!(hash, bundle.params_hash, "other params accepted")).is_ok()
    });
    assert!(accepted >= 1, "the seed itself decodes");
}

#[test]
fn fuzz_proof_envelopes_and_verification() {
    // Mutated proof files, decoded and verified against the real bundle with a kept key: every
    // one must give a typed error; a mutation that verifies must not change the statement; and
    // zkinfer's own verifier and halo2's stock verifier must give the same verdict.
    let (bundle, proof, _) = corpus();
    let verifier = Verifier::from_bundle_bytes(&bundle).unwrap();
    let stock =
        Verifier::from_bundle_with(VerificationBundle::from_bytes(&bundle).unwrap(), VerifierChoice::Stock).unwrap();
    let honest = verifier.verify_bytes(&proof).expect("the committed proof verifies");
    let (tried, accepted) = fuzz("proof", 4, &[proof], |b| {
        let verdict = verifier.verify_bytes(b);
        assert_eq!(verdict.is_ok(), stock.verify_bytes(b).is_ok(), "the own and stock verifiers disagree: {verdict:?}");
        match verdict {
            Ok(v) => {
                assert_eq!(v, honest, "a mutated proof verified to another statement");
                true
            }
            Err(_) => false,
        }
    });
    assert!(tried > 1 && accepted >= 1);
    // Envelope decoding alone is fast: many more inputs.
    fuzz("proof_envelope", 5, &[common::proof()], |b| ProofEnvelope::from_bytes(b).is_ok());
}
