//! The attestation contracts on a real EVM (revm), compiled by a real Solidity compiler
//! (solc-js): every committed statement vector hashes and recovers on-chain exactly as in Rust;
//! an honest attestation is recorded and readable; a tampered field, an unknown signer, a
//! replay, an expired or future statement, mismatching outputs and malformed signatures are
//! rejected with the exact custom error; only the owner manages signers; the example consumer
//! acts on a recorded result.

#![allow(clippy::unwrap_used, clippy::panic)]

use alloy_primitives::{Address, B256, Bytes, address};
use zkinfer_attest::vectors::{DEPLOYER, TestVector, generate, test_key};
use zkinfer_attest::{SignedAttestation, Statement};
use zkinfer_contracts::IAttestationRegistry as R;
use zkinfer_contracts::IClassifierConsumer as C;
use zkinfer_contracts::{Chain, assert_reverts_with, deploy_consumer, deploy_registry, int256s, submit_call};

fn vectors() -> Vec<TestVector> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../attest/vectors/statements.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn signed(v: &TestVector) -> SignedAttestation {
    SignedAttestation {
        statement: v.statement,
        domain: v.domain.clone(),
        digest: v.digest,
        signature: v.signature.to_vec(),
        signer: v.signer,
        inputs: v.inputs.clone(),
        outputs: v.outputs.clone(),
    }
}

/// A chain at `v`'s verification time with the registry, `v`'s signer trusted.
fn setup(v: &TestVector) -> (Chain, Address) {
    let mut chain = Chain::new(v.statement.verified_at + 10);
    let registry = deploy_registry(&mut chain).unwrap();
    chain.call(DEPLOYER, registry, &R::addSignerCall { signer: v.signer }).unwrap();
    (chain, registry)
}

#[test]
fn every_vector_hashes_and_recovers_on_chain_as_in_rust() {
    let vs = vectors();
    assert!(vs.len() >= 20);
    assert_eq!(vs, generate(), "the committed vectors are current");
    let mut chain = Chain::new(1_700_000_000);
    let registry = deploy_registry(&mut chain).unwrap();
    let (separator, _) = chain.call(DEPLOYER, registry, &R::domainSeparatorCall {}).unwrap();
    for v in &vs {
        assert_eq!(separator, v.domain_separator);
        let a = zkinfer_contracts::attestation(&signed(v));
        let (digest, _) = chain.call(DEPLOYER, registry, &R::digestCall { a }).unwrap();
        assert_eq!(digest, v.digest, "{}", v.name);
        let (h, _) = chain.call(DEPLOYER, registry, &R::hashValuesCall { values: int256s(&v.inputs) }).unwrap();
        assert_eq!(h, v.statement.input_hash, "{}", v.name);
        let (h, _) = chain.call(DEPLOYER, registry, &R::hashValuesCall { values: int256s(&v.outputs) }).unwrap();
        assert_eq!(h, v.statement.output_hash, "{}", v.name);
        let call = R::recoverCall { d: v.digest, signature: v.signature.clone() };
        let (signer, _) = chain.call(DEPLOYER, registry, &call).unwrap();
        assert_eq!(signer, v.signer, "{}", v.name);
    }
}

#[test]
fn an_honest_attestation_is_recorded_once_and_readable() {
    let v = &vectors()[0];
    let (mut chain, registry) = setup(v);
    let (digest, gas) = chain.call(DEPLOYER, registry, &submit_call(&signed(v))).unwrap();
    assert_eq!(digest, v.digest);
    println!("gas per accepted attestation ({} outputs): {gas}", v.outputs.len());
    let read = R::resultOfCall { circuitId: v.statement.circuit_id, inputHash: v.statement.input_hash };
    let (result, _) = chain.call(DEPLOYER, registry, &read).unwrap();
    assert_eq!(result.outputs, int256s(&v.outputs));
    assert_eq!(result.verifiedAt, v.statement.verified_at);
    assert_eq!(result.signer, v.signer);
    // The same attestation again is a replay.
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&signed(v))), "Replayed");
}

#[test]
fn tampered_fields_recover_another_signer() {
    let v = &vectors()[0];
    let (mut chain, registry) = setup(v);
    let edits: Vec<fn(&mut Statement)> = vec![
        |s| s.circuit_id.0[31] ^= 1,
        |s| s.input_hash.0[0] ^= 1,
        |s| s.verifier_version += 1,
        |s| s.verified_at -= 1,
        |s| s.expires_at += 1,
    ];
    for edit in edits {
        let mut a = signed(v);
        edit(&mut a.statement);
        assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&a)), "UnknownSigner");
    }
    // Outputs that are not the ones the statement hashes.
    let mut a = signed(v);
    a.outputs[0] += 1;
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&a)), "OutputMismatch");
    // A signed output hash for other outputs: the hash is signed, so it cannot be swapped.
    let mut a = signed(v);
    a.statement.output_hash = zkinfer_attest::values_hash(&a.outputs[1..]);
    a.outputs.remove(0);
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&a)), "UnknownSigner");
}

#[test]
fn unknown_signers_expired_future_and_malformed_statements_are_rejected() {
    let vs = vectors();
    let v = &vs[0];
    let (mut chain, registry) = setup(v);
    // Signed by another test key, which the owner never added.
    let other = &vs[1];
    chain.set_timestamp(other.statement.verified_at + 1);
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&signed(other))), "UnknownSigner");
    // Expired: one second after expiresAt.
    chain.set_timestamp(v.statement.expires_at + 1);
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&signed(v))), "Expired");
    // From the future: signed more than the allowed skew after the block time.
    chain.set_timestamp(v.statement.verified_at - 301);
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&signed(v))), "FromTheFuture");
    chain.set_timestamp(v.statement.verified_at + 1);
    // Malformed signatures.
    let mut a = signed(v);
    a.signature.truncate(64);
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&a)), "BadSignature");
    let mut a = signed(v);
    a.signature[64] = 29;
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&a)), "BadSignature");
    let mut a = signed(v);
    a.signature[32] |= 0x80; // high s
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&a)), "BadSignature");
    // Still nothing recorded, and the honest one goes through.
    let read = R::hasResultCall { circuitId: v.statement.circuit_id, inputHash: v.statement.input_hash };
    assert!(!chain.call(DEPLOYER, registry, &read).unwrap().0);
    chain.call(DEPLOYER, registry, &submit_call(&signed(v))).unwrap();
    assert!(chain.call(DEPLOYER, registry, &read).unwrap().0);
}

#[test]
fn only_the_owner_manages_signers() {
    let v = &vectors()[0];
    let (mut chain, registry) = setup(v);
    let stranger = address!("0x2000000000000000000000000000000000000002");
    assert_reverts_with(chain.call(stranger, registry, &R::addSignerCall { signer: stranger }), "NotOwner");
    assert_reverts_with(chain.call(stranger, registry, &R::removeSignerCall { signer: v.signer }), "NotOwner");
    chain.call(DEPLOYER, registry, &R::removeSignerCall { signer: v.signer }).unwrap();
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&signed(v))), "UnknownSigner");
    let (_, key) = test_key(0);
    assert_eq!(key.address(), v.signer);
}

#[test]
fn the_consumer_acts_on_a_recorded_result() {
    let v = &vectors()[0]; // digits-like scores: class 6 is the largest
    let (mut chain, registry) = setup(v);
    let consumer = deploy_consumer(&mut chain, registry, v.statement.circuit_id, 6).unwrap();
    let input = v.statement.input_hash;
    assert_reverts_with(chain.call(DEPLOYER, consumer, &C::claimCall { inputHash: input }), "NoResult");
    chain.call(DEPLOYER, registry, &submit_call(&signed(v))).unwrap();
    let (ret, gas) = chain.call(DEPLOYER, consumer, &C::claimCall { inputHash: input }).unwrap();
    let argmax = v.outputs.iter().enumerate().max_by_key(|&(i, &x)| (x, std::cmp::Reverse(i))).unwrap().0;
    assert_eq!(ret.predicted, alloy_primitives::U256::from(argmax));
    assert!(ret.rewarded);
    println!("gas of the consumer's claim: {gas}");
    assert_reverts_with(chain.call(DEPLOYER, consumer, &C::claimCall { inputHash: input }), "AlreadyClaimed");
    let _unused: (B256, Bytes) = (B256::ZERO, Bytes::new());
}
