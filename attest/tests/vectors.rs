//! The committed statement vectors equal a fresh generation, and each one is self-consistent:
//! the hashes recompute, the signature recovers to the signer, and any changed field changes
//! the recovered address.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use zkinfer_attest::vectors::{TestVector, domain, generate};
use zkinfer_attest::{Domain, SigningKey, recover, values_hash};

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/statements.json")
}

#[test]
fn the_committed_vectors_equal_a_fresh_generation() {
    let fresh = generate();
    assert!(fresh.len() >= 20);
    let json = serde_json::to_string_pretty(&fresh).unwrap() + "\n";
    if std::env::var_os("ZKINFER_WRITE_VECTORS").is_some() {
        std::fs::write(path(), &json).unwrap();
    }
    let committed: Vec<TestVector> = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
    assert_eq!(committed, fresh, "regenerate with ZKINFER_WRITE_VECTORS=1 and review the diff");
}

#[test]
fn every_vector_recomputes_and_recovers_to_its_signer() {
    let d = domain();
    for v in generate() {
        let key = SigningKey::from_hex(&v.private_key.to_string()).unwrap();
        assert_eq!(key.address(), v.signer, "{}", v.name);
        assert_eq!(values_hash(&v.inputs), v.statement.input_hash, "{}", v.name);
        assert_eq!(values_hash(&v.outputs), v.statement.output_hash, "{}", v.name);
        assert_eq!(d.separator(), v.domain_separator);
        assert_eq!(v.statement.struct_hash(), v.struct_hash, "{}", v.name);
        assert_eq!(v.statement.digest(&d), v.digest, "{}", v.name);
        assert_eq!(recover(&v.statement, &d, &v.signature).unwrap(), v.signer, "{}", v.name);
    }
}

#[test]
fn a_changed_field_or_domain_recovers_another_address() {
    let v = &generate()[0];
    let d = domain();
    let mut tampered = vec![];
    let mut s = v.statement;
    s.circuit_id.0[0] ^= 1;
    tampered.push((s, d));
    let mut s = v.statement;
    s.output_hash = values_hash(&[1]);
    tampered.push((s, d));
    let mut s = v.statement;
    s.expires_at += 1;
    tampered.push((s, d));
    let mut s = v.statement;
    s.verifier_version += 1;
    tampered.push((s, d));
    tampered.push((v.statement, Domain { chain_id: d.chain_id + 1, ..d }));
    for (s, d) in tampered {
        assert_ne!(recover(&s, &d, &v.signature).ok(), Some(v.signer));
    }
    // Malformed signatures are typed errors.
    assert!(recover(&v.statement, &d, &v.signature[..64]).is_err());
    let mut high_s = v.signature.to_vec();
    high_s[32] |= 0x80;
    assert!(recover(&v.statement, &d, &high_s).is_err());
}
