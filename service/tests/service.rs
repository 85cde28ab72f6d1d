//! The service over loopback: health, models, a valid proof answered with a signed attestation
//! that recovers to the service's signer and hashes the verified values; typed JSON errors that
//! are never signed (bad JSON, bad hex, unknown model, tampered proof, oversized body, deadline);
//! and a burst of concurrent valid and invalid requests, every answer checked.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use zkinfer_attest::{Address, Domain, SigningKey, recover, values_hash};
use zkinfer_models::data::InputData;
use zkinfer_models::onnx;
use zkinfer_models::quantize::{QuantSettings, quantize};
use zkinfer_prover::params::ParamsCache;
use zkinfer_prover::{Prover, compile_model};
use zkinfer_service::{ModelEntry, Service, ServiceConfig};
use zkinfer_verifier::{Verifier, hex};

const KEY: &str = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";

struct Fixture {
    bundle: Vec<u8>,
    identity: String,
    proofs: Vec<Vec<u8>>,
}

/// A bundle of the digits MLP and proofs of its first three calibration samples.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let d = root.join("models/zoo");
        let graph = onnx::import_file(&d.join("digits_mlp.onnx"), &Default::default()).unwrap();
        let shape = graph.tensor(graph.input).shape.clone();
        let cal = InputData::from_file(&d.join("digits_mlp.calibration.json")).unwrap().samples(&shape).unwrap();
        let model = quantize(&graph, &cal, &QuantSettings::default()).unwrap();
        let (compiled, _) = compile_model(model, "digits_mlp.onnx", Default::default()).unwrap();
        let params = ParamsCache::new(root.join("target/zkinfer-params")).load_or_generate(compiled.k).unwrap();
        let prover = Prover::new(compiled, params.params.clone(), params.hash).unwrap();
        let proofs = (0..3)
            .map(|i| prover.prove(&cal[i], &mut StdRng::seed_from_u64(i as u64)).unwrap().envelope.to_bytes())
            .collect();
        let bundle = prover.bundle(&params.params, &[]).unwrap();
        Fixture { bundle: bundle.to_bytes().unwrap(), identity: hex(&prover.identity()), proofs }
    })
}

fn config() -> ServiceConfig {
    ServiceConfig::new(SigningKey::from_hex(KEY).unwrap(), 31337, Address::repeat_byte(0x42))
}

/// Starts a service on a free loopback port in a background runtime.
fn start(config: ServiceConfig) -> SocketAddr {
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let entry = {
        let dir = std::env::temp_dir().join(format!("zkinfer-service-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("digits_mlp.zkv");
        std::fs::write(&path, &fixture().bundle).unwrap();
        ModelEntry::load(&path).unwrap()
    };
    let service = Service::new(vec![entry], config);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            service.serve(listener, std::future::pending()).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// A minimal HTTP/1.1 client: one request per connection.
fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body); // the server may answer 413 and close before reading it all
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let status: u16 = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn verify_body(identity: &str, proof: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&json!({"circuit_identity": identity, "proof": hex(proof)})).unwrap()
}

/// Checks a 200 answer: the attestation recovers to the service's signer for the domain, and
/// its hashes are those of the verified values.
fn check_attested(answer: &Value) {
    let att: zkinfer_attest::SignedAttestation = serde_json::from_value(answer["attestation"].clone()).unwrap();
    let key = SigningKey::from_hex(KEY).unwrap();
    let domain = Domain { chain_id: 31337, verifying_contract: Address::repeat_byte(0x42) };
    assert_eq!(recover(&att.statement, &domain, &att.signature).unwrap(), key.address());
    assert_eq!(att.signer, key.address());
    let inputs: Vec<i64> = serde_json::from_value(answer["input"]["values"].clone()).unwrap();
    let outputs: Vec<i64> = serde_json::from_value(answer["outputs"][0]["values"].clone()).unwrap();
    assert_eq!(att.statement.input_hash, values_hash(&inputs));
    assert_eq!(att.statement.output_hash, values_hash(&outputs));
    assert_eq!((att.inputs, att.outputs), (inputs, outputs));
    assert_eq!(hex(att.statement.circuit_id.as_slice()), fixture().identity);
    assert_eq!(att.statement.expires_at - att.statement.verified_at, 3600);
    assert_eq!(att.statement.verifier_version, zkinfer_attest::verifier_version());
}

fn error_kind(answer: &Value) -> &str {
    assert!(answer.get("attestation").is_none(), "an error must never carry an attestation");
    answer["error"]["kind"].as_str().unwrap_or("<none>")
}

#[test]
fn health_models_and_a_valid_proof() {
    let addr = start(config());
    let (status, health) = http(addr, "GET", "/healthz", b"");
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    assert_eq!(health["signer"].as_str().unwrap(), SigningKey::from_hex(KEY).unwrap().address().to_string());
    let (status, models) = http(addr, "GET", "/v1/models", b"");
    assert_eq!(status, 200);
    assert_eq!(models[0]["circuit_identity"].as_str(), Some(fixture().identity.as_str()));
    assert_eq!(models[0]["inputs"].as_u64(), Some(64));
    let (status, answer) = http(addr, "POST", "/v1/verify", &verify_body(&fixture().identity, &fixture().proofs[0]));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verified"].as_bool(), Some(true));
    check_attested(&answer);
    // The same as the library verifier says.
    let v = Verifier::from_bundle_bytes(&fixture().bundle).unwrap().verify_bytes(&fixture().proofs[0]).unwrap();
    assert_eq!(answer["outputs"][0]["values"], json!(v.outputs[0].values));
}

#[test]
fn rejections_are_typed_json_errors_and_never_signed() {
    let addr = start(config());
    let id = &fixture().identity;
    let mut tampered = fixture().proofs[0].clone();
    let n = tampered.len();
    tampered[n - 100] ^= 1;
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{not json".to_vec(), 400, "bad_request"),
        (br#"{"circuit_identity": "00", "proof": "00"}"#.to_vec(), 400, "bad_request"),
        (serde_json::to_vec(&json!({"circuit_identity": id, "proof": "xyz"})).unwrap(), 400, "bad_request"),
        (verify_body(&"ab".repeat(32), &fixture().proofs[0]), 404, "unknown_model"),
        (verify_body(id, b"not a proof"), 422, "malformed_proof"),
        (verify_body(id, &tampered), 422, "invalid_proof"),
    ];
    for (body, status, kind) in cases {
        let (got, answer) = http(addr, "POST", "/v1/verify", &body);
        assert_eq!((got, error_kind(&answer)), (status, kind), "{answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
    }
}

#[test]
fn limits_answer_413_and_503_or_504() {
    let mut c = config();
    c.max_body_bytes = 1024;
    let addr = start(c);
    let (status, answer) = http(addr, "POST", "/v1/verify", &verify_body(&fixture().identity, &fixture().proofs[0]));
    assert_eq!((status, error_kind(&answer)), (413, "payload_too_large"));
    let mut c = config();
    c.request_timeout = Duration::from_millis(1);
    c.max_concurrent = 1;
    let addr = start(c);
    let (status, answer) = http(addr, "POST", "/v1/verify", &verify_body(&fixture().identity, &fixture().proofs[0]));
    let kind = error_kind(&answer).to_string();
    assert!(matches!((status, kind.as_str()), (503, "busy") | (504, "timeout")), "{status} {answer}");
}

#[test]
fn a_burst_of_concurrent_valid_and_invalid_requests_is_answered_correctly() {
    let mut c = config();
    c.max_concurrent = 2;
    let addr = start(c);
    let f = fixture();
    let mut bad = f.proofs[1].clone();
    let n = bad.len();
    bad[n / 2] ^= 1;
    let requests: Vec<(Vec<u8>, u16)> = (0..24)
        .map(|i| match i % 4 {
            0 | 1 => (verify_body(&f.identity, &f.proofs[i % 3]), 200),
            2 => (verify_body(&f.identity, &bad), 422),
            _ => (b"[]".to_vec(), 400),
        })
        .collect();
    let started = std::time::Instant::now();
    let handles: Vec<_> = requests
        .into_iter()
        .map(|(body, want)| std::thread::spawn(move || (http(addr, "POST", "/v1/verify", &body), want)))
        .collect();
    for h in handles {
        let ((status, answer), want) = h.join().unwrap();
        assert_eq!(status, want, "{answer}");
        if want == 200 {
            check_attested(&answer);
        } else {
            error_kind(&answer);
        }
    }
    println!("24 concurrent requests (12 valid) answered in {:.2} s", started.elapsed().as_secs_f64());
}
