//! Every single-bit flip of the committed k = 10 proof (the halo2 proof bytes inside the
//! envelope) is rejected by the verifier, with the key kept across calls.
//!
//! About 43,000 full verifications: release suite only (`cargo test --release`); in a debug
//! build the test is ignored. Run with `--nocapture` for the counts and the time.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use zkinfer_verifier::{ProofEnvelope, Verifier, VerifyError};

/// A short name for the kind of rejection.
fn kind(e: &VerifyError) -> String {
    let s = format!("{e:?}");
    s.split(['(', ' ', '{']).next().unwrap_or(&s).to_string()
}

#[test]
#[cfg_attr(debug_assertions, ignore = "about 43,000 verifications: run with cargo test --release")]
fn every_single_bit_flip_of_a_proof_is_rejected() {
    let verifier = Verifier::from_bundle_bytes(&common::bundle()).unwrap();
    let valid = ProofEnvelope::from_bytes(&common::proof()).unwrap();
    verifier.verify(&valid).expect("the committed proof verifies");
    let bits = valid.proof.len() * 8;
    let start = Instant::now();
    let rejections: Mutex<BTreeMap<String, usize>> = Mutex::default();
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (verifier, valid, rejections) = (&verifier, &valid, &rejections);
            s.spawn(move || {
                let mut local: BTreeMap<String, usize> = BTreeMap::new();
                let mut env = valid.clone();
                for bit in (t..bits).step_by(threads) {
                    env.proof[bit / 8] ^= 1 << (bit % 8);
                    match verifier.verify(&env) {
                        Ok(_) => panic!("flipping bit {bit} of the proof still verifies"),
                        Err(e) => *local.entry(kind(&e)).or_default() += 1,
                    }
                    env.proof[bit / 8] ^= 1 << (bit % 8);
                }
                let mut all = rejections.lock().unwrap();
                for (k, n) in local {
                    *all.entry(k).or_default() += n;
                }
            });
        }
    });
    let rejections = rejections.into_inner().unwrap();
    let total: usize = rejections.values().sum();
    println!(
        "bit flips: {total} of {bits} variants rejected in {:.1} s on {threads} threads: {rejections:?}",
        start.elapsed().as_secs_f64()
    );
    assert_eq!(total, bits);
}
