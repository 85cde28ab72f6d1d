//! zkinfer's own verifier against halo2's stock verifier: the same verdict on the committed
//! proof and on thousands of mutations of it (every 32-byte element of the halo2 proof swapped
//! with its neighbour, replaced by a commitment of the proof, by the scalar one and by zeros;
//! truncations at every element boundary and extensions; every public value moved by one;
//! random multi-byte corruptions; a stride of the single-bit flips). `bit_flips.rs` sweeps
//! every single-bit flip with the own verifier alone.
//!
//! Release suite only (`cargo test --release`); run with `--nocapture` for the counts.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use zkinfer_verifier::{ProofEnvelope, VerificationBundle, Verifier, VerifierChoice};

/// Bytes of one point or scalar in a halo2 proof.
const ELEMENT: usize = 32;
/// Every how many bits the single-bit flips are checked by both verifiers.
const BIT_STRIDE: usize = 16;
/// Random multi-byte corruptions.
const RANDOM_VARIANTS: usize = 1000;

fn verifiers() -> (Verifier, Verifier) {
    let bundle = || VerificationBundle::from_bytes(&common::bundle()).unwrap();
    let own = Verifier::from_bundle_with(bundle(), VerifierChoice::Own).unwrap();
    let stock = Verifier::from_bundle_with(bundle(), VerifierChoice::Stock).unwrap();
    assert_eq!((own.choice(), stock.choice()), (VerifierChoice::Own, VerifierChoice::Stock));
    (own, stock)
}

/// The mutated envelopes, each with a name for the failure message.
fn variants(valid: &ProofEnvelope) -> Vec<(String, ProofEnvelope)> {
    let mut out = Vec::new();
    let proof = |p: Vec<u8>| ProofEnvelope { proof_len: p.len() as u32, proof: p, ..valid.clone() };
    let elements = valid.proof.len() / ELEMENT;
    let element = |i: usize| valid.proof[i * ELEMENT..(i + 1) * ELEMENT].to_vec();
    let with_element = |i: usize, bytes: &[u8]| {
        let mut p = valid.proof.clone();
        p[i * ELEMENT..(i + 1) * ELEMENT].copy_from_slice(bytes);
        proof(p)
    };
    // The first element is the first advice commitment: a valid point.
    let a_point = element(0);
    let mut one = [0u8; ELEMENT];
    one[0] = 1;
    for i in 0..elements {
        if i + 1 < elements {
            let mut p = valid.proof.clone();
            p[i * ELEMENT..(i + 2) * ELEMENT].rotate_left(ELEMENT);
            out.push((format!("elements {i} and {} swapped", i + 1), proof(p)));
        }
        if i != 0 {
            out.push((format!("element {i} replaced by a commitment"), with_element(i, &a_point)));
        }
        out.push((format!("element {i} replaced by one"), with_element(i, &one)));
        out.push((format!("element {i} zeroed"), with_element(i, &[0u8; ELEMENT])));
        out.push((format!("truncated to {i} elements"), proof(valid.proof[..i * ELEMENT].to_vec())));
    }
    for extra in [1, ELEMENT, 2 * ELEMENT] {
        let mut p = valid.proof.clone();
        p.extend(std::iter::repeat_n(7u8, extra));
        out.push((format!("extended by {extra} bytes"), proof(p)));
    }
    for cut in [1, 5, ELEMENT + 3] {
        out.push((format!("{cut} bytes cut"), proof(valid.proof[..valid.proof.len() - cut].to_vec())));
    }
    for i in 0..valid.public_values.len() {
        for delta in [-1, 1] {
            let mut env = valid.clone();
            env.public_values[i] += delta;
            out.push((format!("public value {i} {delta:+}"), env));
        }
    }
    let mut rng = StdRng::seed_from_u64(14);
    for n in 0..RANDOM_VARIANTS {
        let mut p = valid.proof.clone();
        for _ in 0..rng.random_range(1..=4) {
            let at = rng.random_range(0..p.len());
            p[at] = rng.random();
        }
        out.push((format!("random corruption {n}"), proof(p)));
    }
    for bit in (0..valid.proof.len() * 8).step_by(BIT_STRIDE) {
        let mut p = valid.proof.clone();
        p[bit / 8] ^= 1 << (bit % 8);
        out.push((format!("bit {bit} flipped"), proof(p)));
    }
    out
}

#[test]
#[cfg_attr(debug_assertions, ignore = "thousands of verifications: run with cargo test --release")]
fn own_and_stock_verifiers_give_the_same_verdict_on_mutated_proofs() {
    let (own, stock) = verifiers();
    let valid = ProofEnvelope::from_bytes(&common::proof()).unwrap();
    assert_eq!(own.verify(&valid).unwrap(), stock.verify(&valid).unwrap(), "both accept the committed proof");
    let variants = variants(&valid);
    let start = Instant::now();
    let (accepted, rejected) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (own, stock, variants, accepted, rejected) = (&own, &stock, &variants, &accepted, &rejected);
            s.spawn(move || {
                for (name, env) in variants.iter().skip(t).step_by(threads) {
                    let (a, b) = (own.verify(env), stock.verify(env));
                    assert_eq!(a.is_ok(), b.is_ok(), "{name}: own {a:?}, stock {b:?}");
                    if let (Ok(a), Ok(b)) = (&a, &b) {
                        assert_eq!(a, b, "{name}: both accept, with different statements");
                    }
                    let counter = if a.is_ok() { accepted } else { rejected };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let (accepted, rejected) = (accepted.into_inner(), rejected.into_inner());
    println!(
        "differential: {} variants, same verdict from both ({accepted} accepted, {rejected} rejected) in {:.1} s",
        variants.len(),
        start.elapsed().as_secs_f64()
    );
    assert_eq!(accepted + rejected, variants.len());
}

#[test]
fn a_bundle_with_altered_key_data_is_refused_by_both_verifiers() {
    let bundle = VerificationBundle::from_bytes(&common::bundle()).unwrap();
    let valid = ProofEnvelope::from_bytes(&common::proof()).unwrap();
    let fields = bundle.key.fixed.len() + bundle.key.permutation.len();
    // Each commitment in turn replaced by another of the key's points.
    for i in 0..fields {
        let mut altered = bundle.clone();
        let all: Vec<_> = altered.key.fixed.iter().chain(&altered.key.permutation).copied().collect();
        let Some(&other) = all.iter().find(|&&p| p != all[i]) else { continue };
        let slot = match altered.key.fixed.get_mut(i) {
            Some(slot) => slot,
            None => &mut altered.key.permutation[i - bundle.key.fixed.len()],
        };
        *slot = other;
        let bytes = altered.to_bytes().unwrap();
        let load = |choice| Verifier::from_bundle_with(VerificationBundle::from_bytes(&bytes).unwrap(), choice);
        // The own verifier refuses it for its identity.
        let Err(zkinfer_verifier::BundleError::Identity { actual, .. }) = load(VerifierChoice::Own) else {
            panic!("commitment {i}: an altered key with the old identity is not refused for its identity")
        };
        // Claiming the identity of the altered key: the own verifier loads it (the identity is
        // what an integrator pins), and the honest proof no longer verifies.
        let mut relabelled = altered.clone();
        relabelled.circuit_identity = hex_digest(&actual);
        let own = Verifier::from_bundle_with(relabelled.clone(), VerifierChoice::Own).unwrap();
        let mut env = valid.clone();
        env.circuit_identity = relabelled.circuit_identity;
        assert!(own.verify(&env).is_err(), "commitment {i}: the honest proof verifies against an altered key");
        // The stock verifier (halo2's keygen, a quarter second each: the first fixed and the
        // first permutation commitment only) refuses the key data under either identity.
        if i == 0 || i == bundle.key.fixed.len() {
            for candidate in [altered, relabelled] {
                let e = Verifier::from_bundle_with(candidate, VerifierChoice::Stock).expect_err("stock checks the key");
                assert!(matches!(e, zkinfer_verifier::BundleError::KeyData { .. }), "commitment {i}: {e:?}");
            }
        }
    }
    // Too few or too many commitments for the layout.
    let mut short = bundle.clone();
    short.key.permutation.pop();
    let e =
        Verifier::from_bundle(VerificationBundle::from_bytes(&short.to_bytes().unwrap()).unwrap()).expect_err("short");
    assert!(e.to_string().contains("permutation commitments"), "{e}");
    let mut long = bundle.clone();
    long.key.fixed.push(long.key.fixed[0]);
    let e =
        Verifier::from_bundle(VerificationBundle::from_bytes(&long.to_bytes().unwrap()).unwrap()).expect_err("long");
    assert!(e.to_string().contains("fixed commitments"), "{e}");
}

fn hex_digest(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[test]
fn a_bundle_whose_public_interface_is_altered_is_refused() {
    // The key data is untouched, so only the identity's public-interface part can catch these.
    let bundle = VerificationBundle::from_bytes(&common::bundle()).unwrap();
    let output = bundle.compiled.model.outputs[0];
    type Alteration = fn(&mut VerificationBundle, zkinfer_models::graph::TensorId);
    let alterations: [(&str, Alteration); 2] = [
        ("the output's scale", |b, id| {
            b.compiled.model.tensors[id.0].scale += 1;
            b.outputs[0].scale += 1;
        }),
        ("the output's name", |b, id| {
            b.compiled.model.tensors[id.0].name.push('x');
            b.outputs[0].name.push('x');
        }),
    ];
    for (what, alter) in alterations {
        let mut altered = bundle.clone();
        alter(&mut altered, output);
        let bytes = altered.to_bytes().unwrap();
        let e = Verifier::from_bundle_bytes(&bytes).expect_err(what);
        assert!(matches!(e, zkinfer_verifier::BundleError::Identity { .. }), "{what}: {e:?}");
    }
}
