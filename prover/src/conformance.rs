//! A conformance set for verifiers: one valid proof and the tampered variants every verifier
//! target (Rust, JavaScript in Node and in a browser, Python) must reject, each with the
//! fragment of the error message it must report.
//!
//! The tests of each target read the set from a directory written by [`ConformanceSet::write`]:
//! `bundle.zkv`, `proof.zkp`, `expected.json` (what the valid proof verifies to), `cases.json`
//! (`[{"name", "bundle", "proof", "error"}]`, file names relative to the directory) and one file
//! per tampered proof or bundle.

use std::path::Path;

use zkinfer_verifier::{ProofEnvelope, VerificationBundle};

/// One tampered input and how it must be rejected.
#[derive(Clone, Debug)]
pub struct TamperCase {
    /// A file-name-safe name.
    pub name: &'static str,
    /// The bundle to verify against (None: the valid one).
    pub bundle: Option<Vec<u8>>,
    /// The proof file's bytes.
    pub proof: Vec<u8>,
    /// A fragment of the error message every target must report.
    pub error: &'static str,
}

/// A valid bundle and proof, what they verify to, and the tamper cases.
#[derive(Clone, Debug)]
pub struct ConformanceSet {
    /// The verification bundle.
    pub bundle: Vec<u8>,
    /// A valid proof file for it.
    pub proof: Vec<u8>,
    /// The verified outputs of `proof` as JSON (the document every target returns).
    pub expected_json: String,
    /// Inputs that must be rejected.
    pub cases: Vec<TamperCase>,
}

/// The tamper cases of the vertical slice for a valid proof `valid` against `bundle`, with a
/// valid proof of another model of the same `k` (`other_model`).
pub fn tamper_cases(bundle: &[u8], valid: &ProofEnvelope, other_model: &ProofEnvelope) -> Vec<TamperCase> {
    let case = |name, proof: Vec<u8>, error| TamperCase { name, bundle: None, proof, error };
    let edit = |f: &dyn Fn(&mut ProofEnvelope)| {
        let mut env = valid.clone();
        f(&mut env);
        env.to_bytes()
    };
    let mut cases = vec![
        case(
            "flipped_proof_byte",
            edit(&|e| {
                let mid = e.proof.len() / 2;
                e.proof[mid] ^= 1;
            }),
            "the proof is invalid",
        ),
        case(
            "flipped_last_proof_byte",
            edit(&|e| *e.proof.last_mut().expect("non-empty") ^= 1),
            "the proof is invalid",
        ),
        case("altered_output", edit(&|e| *e.public_values.last_mut().expect("outputs") ^= 1), "the proof is invalid"),
        // Flipping the low bit keeps a value inside any signed range.
        case("altered_input", edit(&|e| e.public_values[0] ^= 1), "the proof is invalid"),
        case(
            "output_out_of_range",
            edit(&|e| *e.public_values.last_mut().expect("outputs") = i64::MAX),
            "outside its tensor's range",
        ),
        case(
            "trailing_byte_in_proof",
            edit(&|e| {
                e.proof.push(0);
                e.proof_len += 1;
            }),
            "unread bytes after the proof",
        ),
        case("declared_length_mismatch", edit(&|e| e.proof.push(0)), "the envelope declares"),
        case("zero_padded_public_values", edit(&|e| e.public_values.push(0)), "public values, the model has"),
        case(
            "missing_public_value",
            edit(&|e| e.public_values.truncate(e.public_values.len() - 1)),
            "public values, the model has",
        ),
        case("other_params_hash", edit(&|e| e.params_hash[0] ^= 1), "the proof was made with params"),
        case("other_k", edit(&|e| e.k += 1), "the proof is for k ="),
        case("proof_for_another_model", other_model.to_bytes(), "the proof is for circuit"),
    ];
    let mut file = valid.to_bytes();
    file.push(0);
    cases.push(case("trailing_byte_in_file", file, "not a usable proof file"));
    let file = valid.to_bytes();
    cases.push(case("truncated_file", file[..file.len() - 1].to_vec(), "not a usable proof file"));
    cases.push(case("not_a_proof", b"not a zkinfer proof".to_vec(), "not a usable proof file"));
    // The bundle itself: params altered inside it fail their content hash (the params are
    // most of the bundle, its middle byte is theirs).
    let mut altered = bundle.to_vec();
    let n = altered.len();
    altered[n / 2] ^= 1;
    let bundle_case = |name, bundle, error| TamperCase { name, bundle: Some(bundle), proof: valid.to_bytes(), error };
    cases.push(bundle_case("altered_bundle", altered, "the bundle's params"));
    cases.extend(key_cases(bundle).into_iter().map(|(name, b, error)| bundle_case(name, b, error)));
    cases
}

/// Bundles whose verifying-key data is altered: a commitment replaced by another valid point
/// (the identity no longer matches), and a commitment that is not a point.
fn key_cases(bundle: &[u8]) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let Ok(decoded) = VerificationBundle::from_bytes(bundle) else {
        return Vec::new();
    };
    let mut cases = Vec::new();
    let first = decoded.key.fixed[0];
    if let Some(&other) = decoded.key.permutation.iter().find(|&&p| p != first) {
        let mut replaced = decoded.clone();
        replaced.key.fixed[0] = other;
        if let Ok(bytes) = replaced.to_bytes() {
            cases.push(("replaced_key_commitment", bytes, "the bundle claims circuit"));
        }
    }
    // The first fixed commitment's stored bytes (`x ‖ y`), with `x` changed until it is not a
    // point.
    let Ok(encoded) = zkinfer_verifier::params::uncompressed([&first]) else { return cases };
    if let Some(at) = bundle.windows(encoded.len()).position(|w| w == encoded.as_slice()) {
        for byte in 0..=u8::MAX {
            let mut candidate = encoded.clone();
            candidate[0] = byte;
            if zkinfer_verifier::params::point_from_uncompressed(&candidate).is_err() {
                let mut altered = bundle.to_vec();
                altered[at..at + encoded.len()].copy_from_slice(&candidate);
                cases.push(("key_commitment_not_a_point", altered, "the bundle's verifying key"));
                break;
            }
        }
    }
    cases
}

impl ConformanceSet {
    /// Writes the set into `dir` (see the module docs for the layout).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("bundle.zkv"), &self.bundle)?;
        std::fs::write(dir.join("proof.zkp"), &self.proof)?;
        std::fs::write(dir.join("expected.json"), &self.expected_json)?;
        let mut index = Vec::new();
        for c in &self.cases {
            let proof = format!("{}.zkp", c.name);
            std::fs::write(dir.join(&proof), &c.proof)?;
            let bundle = match &c.bundle {
                Some(b) => {
                    let name = format!("{}.zkv", c.name);
                    std::fs::write(dir.join(&name), b)?;
                    name
                }
                None => "bundle.zkv".to_string(),
            };
            index.push(format!(
                "  {{\"name\": \"{}\", \"bundle\": \"{bundle}\", \"proof\": \"{proof}\", \"error\": \"{}\"}}",
                c.name,
                c.error.replace('\\', "\\\\").replace('"', "\\\"")
            ));
        }
        std::fs::write(dir.join("cases.json"), format!("[\n{}\n]\n", index.join(",\n")))
    }
}
