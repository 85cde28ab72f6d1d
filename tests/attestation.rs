//! End to end, as an operator and a contract would: prove with the CLI, verify through the
//! running service (`zkinfer serve`), submit its attestation to the registry contract on an EVM
//! (revm; contracts compiled by solc-js), read the recorded output back and act on it with the
//! example consumer. Along the way the contract rejects the service's attestation while its
//! signer is unknown, once expired, with a tampered field, and as a replay. A service without a
//! usable key refuses to start.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use zkinfer_attest::SignedAttestation;
use zkinfer_attest::vectors::{CHAIN_ID, DEPLOYER};
use zkinfer_contracts::IAttestationRegistry as R;
use zkinfer_contracts::IClassifierConsumer as C;
use zkinfer_contracts::{Chain, U256, assert_reverts_with, deploy_consumer, deploy_registry, int256s, submit_call};

const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

fn zkinfer(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ZKINFER_PARAMS_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("target/zkinfer-params"))
        .env_remove("ZKINFER_SIGNING_KEY")
        .output()
        .expect("run zkinfer");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zkinfer-attestation-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The running service; killed when dropped.
struct Served(Child, String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(bundles: &Path, key_file: &Path, registry: &str) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["serve", "--bundle", s(bundles), "--key-file", s(key_file), "--listen", "127.0.0.1:0"])
        .args(["--chain-id", &CHAIN_ID.to_string(), "--contract", registry])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the service prints its address").unwrap();
        if let Some(a) = line.strip_prefix("listening on http://") {
            break a.to_string();
        }
    };
    Served(child, addr)
}

/// One HTTP/1.1 request; the answer's status and JSON body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(raw.split_once("\r\n\r\n").unwrap().1).unwrap())
}

#[test]
fn prove_verify_through_the_service_and_record_on_chain() {
    let dir = tmp("e2e");
    let bundles = dir.join("bundles");
    std::fs::create_dir_all(&bundles).unwrap();
    let (model, proof, key_file) = (dir.join("m.zkm"), dir.join("p.zkp"), dir.join("service.key"));
    let zoo = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/zoo");
    let (ok, _, err) = zkinfer(&[
        "compile",
        s(&zoo.join("digits_mlp.onnx")),
        "--calibration",
        s(&zoo.join("digits_mlp.calibration.json")),
        "-o",
        s(&model),
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = zkinfer(&["export-verifier", s(&model), "-o", s(&bundles.join("digits_mlp.zkv"))]);
    assert!(ok, "{err}");
    let (ok, out, err) =
        zkinfer(&["prove", s(&model), "--input", s(&zoo.join("digits_mlp.input.json")), "-o", s(&proof), "--json"]);
    assert!(ok, "{err}");
    let proved: Value = serde_json::from_str(&out).unwrap();
    std::fs::write(&key_file, KEY).unwrap();

    // The chain, with the registry at the address the service signs for.
    let mut chain = Chain::new(1);
    let registry = deploy_registry(&mut chain).unwrap();
    let served = serve(&bundles, &key_file, &registry.to_string());
    let (status, health) = http(&served.1, "GET", "/healthz", "");
    assert_eq!(status, 200, "{health}");

    let body = json!({
        "circuit_identity": proved["circuit_identity"],
        "proof": zkinfer_verifier::hex(&std::fs::read(&proof).unwrap()),
    });
    let (status, answer) = http(&served.1, "POST", "/v1/verify", &body.to_string());
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["outputs"][0]["values"], proved["outputs"][0]["values"],
        "the service verified the CLI's outputs"
    );
    let att: SignedAttestation = serde_json::from_value(answer["attestation"].clone()).unwrap();
    assert_eq!(att.signer.to_string(), health["signer"].as_str().unwrap());
    let st = att.statement;

    // Unknown signer until the owner trusts the service.
    chain.set_timestamp(st.verified_at + 1);
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&att)), "UnknownSigner");
    chain.call(DEPLOYER, registry, &R::addSignerCall { signer: att.signer }).unwrap();
    // Expired.
    chain.set_timestamp(st.expires_at + 1);
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&att)), "Expired");
    chain.set_timestamp(st.verified_at + 1);
    // A tampered field.
    let mut tampered = att.clone();
    tampered.statement.expires_at += 86_400;
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&tampered)), "UnknownSigner");
    // Honest: accepted and recorded.
    let (digest, gas) = chain.call(DEPLOYER, registry, &submit_call(&att)).unwrap();
    assert_eq!(digest, att.digest);
    println!("gas per accepted attestation (digits MLP, 10 outputs): {gas}");
    let (recorded, _) = chain
        .call(DEPLOYER, registry, &R::resultOfCall { circuitId: st.circuit_id, inputHash: st.input_hash })
        .unwrap();
    let cli_outputs: Vec<i64> = serde_json::from_value(proved["outputs"][0]["values"].clone()).unwrap();
    assert_eq!(recorded.outputs, int256s(&cli_outputs));
    // Replay.
    assert_reverts_with(chain.call(DEPLOYER, registry, &submit_call(&att)), "Replayed");

    // A consumer acts on the recorded output: the same class the CLI printed.
    let class = proved["predicted_class"].as_u64().unwrap();
    let consumer = deploy_consumer(&mut chain, registry, st.circuit_id, class).unwrap();
    let (claim, _) = chain.call(DEPLOYER, consumer, &C::claimCall { inputHash: st.input_hash }).unwrap();
    assert_eq!(claim.predicted, U256::from(class));
    assert!(claim.rewarded);

    // An invalid proof is answered with an error and no attestation.
    let mut bad = std::fs::read(&proof).unwrap();
    let n = bad.len();
    bad[n - 10] ^= 1;
    let body = json!({"circuit_identity": proved["circuit_identity"], "proof": zkinfer_verifier::hex(&bad)});
    let (status, answer) = http(&served.1, "POST", "/v1/verify", &body.to_string());
    assert_eq!(status, 422, "{answer}");
    assert!(answer.get("attestation").is_none());
}

#[test]
fn the_service_refuses_to_start_without_a_usable_key() {
    let dir = tmp("keys");
    let bundles = dir.join("bundles");
    std::fs::create_dir_all(&bundles).unwrap();
    let base = [
        "serve",
        "--bundle",
        s(&bundles),
        "--chain-id",
        "1",
        "--contract",
        "0x0000000000000000000000000000000000000001",
    ];
    // No key file and no environment variable.
    let (ok, _, err) = zkinfer(&base);
    assert!(!ok && err.contains("no signing key"), "{err}");
    // A malformed key: the message says so and does not repeat it.
    let secret = "0x1234567890abcdef1234567890abcdef";
    let key_file = dir.join("bad.key");
    std::fs::write(&key_file, secret).unwrap();
    let (ok, out, err) = zkinfer(&[&base[..], &["--key-file", s(&key_file)]].concat());
    assert!(!ok && err.contains("malformed signing key"), "{err}");
    assert!(!err.contains(&secret[2..]) && !out.contains(&secret[2..]));
    // A missing key file.
    let (ok, _, err) = zkinfer(&[&base[..], &["--key-file", s(&dir.join("absent.key"))]].concat());
    assert!(!ok && err.contains("reading the key file"), "{err}");
}
