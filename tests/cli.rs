//! End-to-end tests of the `zkinfer` binary.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn zkinfer(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run zkinfer");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn model(name: &str) -> PathBuf {
    let dir =
        if name.starts_with("fixture_") || name.starts_with("bad_") { "models/tests/fixtures" } else { "models/zoo" };
    PathBuf::from(dir).join(name)
}

#[test]
fn inspect_every_zoo_model_and_fixture_with_calibration() {
    for name in [
        "digits_mlp",
        "digits_cnn",
        "mlp_784_128_10",
        "lenet_28",
        "digits_mlp_sigmoid",
        "digits_mlp_tanh",
        "fixture_activations",
        "fixture_conv",
        "fixture_nhwc",
        "fixture_qdq_mlp",
    ] {
        let m = model(name);
        let onnx = format!("{}.onnx", m.display());
        let cal = format!("{}.calibration.json", m.display());
        let (ok, stdout, stderr) = zkinfer(&["inspect", &onnx, "--calibration", &cal]);
        assert!(ok, "{name}: {stderr}");
        assert!(stdout.contains("argmax agreement with the float model"), "{name}: {stdout}");
        let (ok, json, stderr) = zkinfer(&["inspect", &onnx, "--calibration", &cal, "--json"]);
        assert!(ok, "{name}: {stderr}");
        let v: serde_json::Value = serde_json::from_str(&json).expect("--json prints JSON");
        let scales = v["quantization"]["scales"].as_array().expect("scales");
        assert_eq!(scales.len(), v["ops"].as_array().expect("ops").len() + 1, "{name}: one scale per tensor");
        let agreement = v["quantization"]["fidelity"]["argmax_agreement"].as_f64().expect("agreement");
        assert!((0.0..=1.0).contains(&agreement));
    }
}

/// PyTorch's default (dynamo) exporter writes the weights to `NAME.onnx.data` beside the model:
/// compile finds them there, proves and verifies; without the data file it names the file.
#[test]
fn a_model_with_its_weights_in_a_data_file_compiles_and_proves() {
    let dir = temp_dir("cli_external_data");
    let name = "torch_digits_cnn_dynamo";
    for suffix in [".onnx", ".onnx.data"] {
        std::fs::copy(format!("models/tests/converters/{name}{suffix}"), dir.join(format!("{name}{suffix}")))
            .expect("copy");
    }
    let onnx = dir.join(format!("{name}.onnx"));
    let (onnx, zkm, zkp) = (onnx.to_str().expect("utf8"), dir.join("m.zkm"), dir.join("m.zkp"));
    let (zkm, zkp) = (zkm.to_str().expect("utf8"), zkp.to_str().expect("utf8"));
    let base = format!("models/tests/converters/{name}");
    let calibration = format!("{base}.calibration.json");
    let (ok, _, stderr) = zkinfer_params(&["compile", onnx, "--calibration", &calibration, "-o", zkm]);
    assert!(ok, "{stderr}");
    let input = format!("{base}.input.json");
    let (ok, _, stderr) = zkinfer_params(&["prove", zkm, "--input", &input, "-o", zkp]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = zkinfer_params(&["verify", zkm, zkp]);
    assert!(ok, "{stderr}");
    std::fs::remove_file(dir.join(format!("{name}.onnx.data"))).expect("remove");
    let (ok, _, stderr) = zkinfer_params(&["compile", onnx, "--calibration", &calibration, "-o", zkm]);
    assert!(!ok && stderr.contains(&format!("{name}.onnx.data")), "{stderr}");
}

/// `inspect --calibration` reports the model `compile` builds from the same data: scikit-learn's
/// classifier, whose Softmax table `compile` shortens so that it does not raise k, has the same
/// table limit, circuit size and fidelity in both.
#[test]
fn inspect_reports_the_model_compile_builds() {
    let base = "models/tests/converters/skl_mlp_classifier";
    let (onnx, cal) = (format!("{base}.onnx"), format!("{base}.calibration.json"));
    let (ok, json, stderr) = zkinfer(&["inspect", &onnx, "--calibration", &cal, "--json"]);
    assert!(ok, "{stderr}");
    let inspected: serde_json::Value = serde_json::from_str(&json).expect("json");
    let zkm = temp_dir("cli_inspect_compile").join("skl.zkm");
    let (ok, json, stderr) =
        zkinfer_params(&["compile", &onnx, "--calibration", &cal, "-o", zkm.to_str().expect("utf8"), "--json"]);
    assert!(ok, "{stderr}");
    let compiled: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert!(compiled["chosen_table_limit"].is_u64(), "{compiled}");
    let q = &inspected["quantization"];
    assert_eq!(q["chosen_table_limit"], compiled["chosen_table_limit"]);
    assert_eq!(q["settings"]["max_table_rows"], compiled["chosen_table_limit"]);
    assert_eq!(q["circuit"], compiled["plan"]);
    assert_eq!(q["fidelity"], compiled["fidelity"]);
}

#[test]
fn inspect_without_calibration_lists_ops() {
    let (ok, stdout, _) = zkinfer(&["inspect", "models/zoo/lenet_28.onnx"]);
    assert!(ok);
    assert!(
        stdout.contains("Conv2d") && stdout.contains("MaxPool") && stdout.contains("parameters  44426"),
        "{stdout}"
    );
}

#[test]
fn inspect_reports_bad_models_with_a_clear_error() {
    let cases = [
        ("bad_not_onnx", "not a valid ONNX model"),
        ("bad_truncated", "not a valid ONNX model"),
        ("bad_unsupported_op", "unsupported op Asinh in node 'asinh_node'"),
        ("bad_dilated_conv", "attribute dilations"),
    ];
    for (name, message) in cases {
        let (ok, _, stderr) = zkinfer(&["inspect", &format!("{}.onnx", model(name).display())]);
        assert!(!ok, "{name} must fail");
        assert!(stderr.contains(message), "{name}: {stderr}");
    }
}

#[test]
fn a_dynamic_batch_dimension_is_one_said_in_one_line() {
    let dynamic = "models/tests/fixtures/bad_dynamic_batch.onnx";
    let (ok, stdout, stderr) = zkinfer(&["inspect", dynamic]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("[1, 64]"), "{stdout}");
    assert_eq!(stderr.lines().filter(|l| l.contains("dynamic batch dimension (N): using 1")).count(), 1, "{stderr}");
    // --batch sets it, and --json keeps stderr quiet.
    let (ok, stdout, stderr) = zkinfer(&["inspect", dynamic, "--batch", "2"]);
    assert!(ok && stdout.contains("[2, 64]") && stderr.is_empty(), "{stdout}{stderr}");
    let (ok, _, stderr) = zkinfer(&["inspect", dynamic, "--json"]);
    assert!(ok && stderr.is_empty(), "{stderr}");
}

#[test]
fn inspect_rejects_calibration_data_of_the_wrong_size() {
    let (ok, _, stderr) =
        zkinfer(&["inspect", "models/zoo/lenet_28.onnx", "--calibration", "models/zoo/digits_mlp.calibration.json"]);
    assert!(!ok);
    assert!(stderr.contains("not a positive multiple of 784"), "{stderr}");
}

/// Runs zkinfer with the params cache under target/ (shared by the tests).
fn zkinfer_params(args: &[&str]) -> (bool, String, String) {
    let params = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/zkinfer-params");
    let out = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .env("ZKINFER_PARAMS_DIR", params)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run zkinfer");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn demo_prints_the_digit_and_verified() {
    let (ok, stdout, stderr) = zkinfer_params(&["demo"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("predicted digit: ") && stdout.trim_end().ends_with("VERIFIED"), "{stdout}");
    let (ok, json, stderr) = zkinfer_params(&["demo", "--json"]);
    assert!(ok, "{stderr}");
    assert!(stderr.is_empty(), "--json is quiet on stderr: {stderr}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["verified"], true);
}

#[test]
fn compile_setup_prove_verify_and_reject_tampering() {
    let dir = temp_dir("cli_flow");
    let zkm = dir.join("digits.zkm");
    let zkp = dir.join("digits.zkp");
    let (zkm_s, zkp_s) = (zkm.to_str().expect("utf8"), zkp.to_str().expect("utf8"));
    let (ok, stdout, stderr) = zkinfer_params(&[
        "compile",
        "models/zoo/digits_cnn.onnx",
        "--calibration",
        "models/zoo/digits_cnn.calibration.json",
        "-o",
        zkm_s,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("circuit: k = "), "{stdout}");
    let (ok, stdout, stderr) = zkinfer_params(&["setup", zkm_s]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("circuit identity: "), "{stdout}");
    let key = dir.join("digits.zkkey");
    let key_s = key.to_str().expect("utf8");
    assert!(key.exists(), "setup writes the key file next to the model");
    let (ok, stdout, stderr) = zkinfer_params(&[
        "prove",
        zkm_s,
        "--input",
        "models/zoo/digits_cnn.input.json",
        "-o",
        zkp_s,
        "--key",
        key_s,
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let proved: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let steps: Vec<&str> =
        proved["timings"].as_array().expect("timings").iter().filter_map(|t| t["step"].as_str()).collect();
    assert!(steps.contains(&"key file") && !steps.contains(&"keygen"), "no keygen with the key file: {steps:?}");
    // A damaged key file is refused with the reason.
    let damaged = dir.join("damaged.zkkey");
    let mut bytes = std::fs::read(&key).expect("key file");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&damaged, &bytes).expect("write");
    let damaged_s = damaged.to_str().expect("utf8");
    let input = "models/zoo/digits_cnn.input.json";
    let (ok, _, stderr) = zkinfer_params(&["prove", zkm_s, "--input", input, "-o", zkp_s, "--key", damaged_s]);
    assert!(!ok && stderr.contains("polynomials are damaged"), "{stderr}");
    let (ok, stdout, stderr) =
        zkinfer_params(&["prove", zkm_s, "--input", "models/zoo/digits_cnn.input.json", "-o", zkp_s, "--json"]);
    assert!(ok, "{stderr}");
    let without_key: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(proved["circuit_identity"], without_key["circuit_identity"], "the key file gives the same circuit");
    // The stock verifier agrees (halo2's keygen from the compiled model).
    let (ok, _, stderr) = zkinfer_params(&["verify", zkm_s, zkp_s, "--verifier", "stock"]);
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = zkinfer_params(&["verify", zkm_s, zkp_s, "--json"]);
    assert!(ok, "{stderr}");
    let verified: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(verified["outputs"], proved["outputs"], "verify prints what prove proved");
    assert_eq!(verified["predicted_class"], proved["predicted_class"]);

    // Tampered files are rejected with a reason and a non-zero exit.
    let good = std::fs::read(&zkp).expect("proof");
    let bad = dir.join("bad.zkp");
    let bad_s = bad.to_str().expect("utf8");
    let mut flipped = good.clone();
    let n = flipped.len();
    flipped[n - 10] ^= 1;
    std::fs::write(&bad, &flipped).expect("write");
    let (ok, _, stderr) = zkinfer_params(&["verify", zkm_s, bad_s]);
    assert!(!ok && stderr.contains("REJECTED") && stderr.contains("invalid"), "{stderr}");
    let mut longer = good.clone();
    longer.push(0);
    std::fs::write(&bad, &longer).expect("write");
    let (ok, _, stderr) = zkinfer_params(&["verify", zkm_s, bad_s]);
    assert!(!ok && stderr.contains("trailing bytes"), "{stderr}");
    std::fs::write(&bad, b"garbage").expect("write");
    let (ok, _, stderr) = zkinfer_params(&["verify", zkm_s, bad_s]);
    assert!(!ok && stderr.contains("not a proof file"), "{stderr}");
    // The proof checked against another model.
    let other = dir.join("other.zkm");
    let (ok, _, stderr) = zkinfer_params(&[
        "compile",
        "models/tests/fixtures/fixture_nhwc.onnx",
        "--calibration",
        "models/tests/fixtures/fixture_nhwc.calibration.json",
        "-o",
        other.to_str().expect("utf8"),
    ]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = zkinfer_params(&["verify", other.to_str().expect("utf8"), zkp_s]);
    assert!(!ok && stderr.contains("REJECTED"), "{stderr}");
    // The key file of another model is refused.
    let (ok, _, stderr) = zkinfer_params(&[
        "prove",
        other.to_str().expect("utf8"),
        "--input",
        "models/tests/fixtures/fixture_nhwc.input.json",
        "--key",
        key_s,
        "-o",
        bad_s,
    ]);
    assert!(!ok && stderr.contains("another compiled model"), "{stderr}");
    // A model file that is not one.
    let (ok, _, stderr) = zkinfer_params(&["verify", zkp_s, zkp_s]);
    assert!(!ok && stderr.contains("not a usable compiled model"), "{stderr}");
}

#[test]
fn prove_refuses_an_input_outside_the_calibrated_range() {
    let dir = temp_dir("cli_range");
    let zkm = dir.join("m.zkm");
    let zkm_s = zkm.to_str().expect("utf8");
    let (ok, _, stderr) = zkinfer_params(&[
        "compile",
        "models/zoo/digits_mlp.onnx",
        "--calibration",
        "models/zoo/digits_mlp.calibration.json",
        "-o",
        zkm_s,
    ]);
    assert!(ok, "{stderr}");
    let input = dir.join("big.json");
    let values: Vec<String> = (0..64).map(|i| if i == 5 { "50.0".into() } else { "0.5".into() }).collect();
    std::fs::write(&input, format!("{{\"input_data\": [[{}]]}}", values.join(","))).expect("write");
    let (ok, _, stderr) = zkinfer_params(&[
        "prove",
        zkm_s,
        "--input",
        input.to_str().expect("utf8"),
        "-o",
        dir.join("p.zkp").to_str().expect("utf8"),
    ]);
    assert!(!ok, "must refuse");
    assert!(stderr.contains("outside the model's input range"), "{stderr}");
}

#[test]
fn every_engine_proves_and_an_unknown_one_is_refused() {
    for engine in ["stock", "cpu", "check"] {
        let (ok, json, stderr) = zkinfer_params(&["demo", "--engine", engine, "--json"]);
        assert!(ok, "{engine}: {stderr}");
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(v["verified"], true, "{engine}");
    }
    let (ok, _, stderr) = zkinfer_params(&["demo", "--engine", "gpu"]);
    assert!(!ok && stderr.contains("unknown engine 'gpu'"), "{stderr}");
}

/// `zkinfer devices` lists the adapters, and `--device gpu` proves on the first one (lavapipe in
/// CI) with every primitive compared against the CPU (`--engine check`); without any adapter
/// it proves on the CPU after one line saying why.
#[test]
fn devices_are_listed_and_a_gpu_proof_verifies() {
    let (ok, stdout, stderr) = zkinfer(&["devices"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("--device auto proves on"), "{stdout}");
    assert!(stdout.starts_with("CPU field arithmetic: "), "{stdout}");
    assert!(stdout.contains("\nCPU vector code: "), "{stdout}");
    let has_adapter = stdout.contains("gpu:0");
    if std::env::var_os("ZKINFER_REQUIRE_GPU").is_some() {
        assert!(has_adapter, "ZKINFER_REQUIRE_GPU is set, but no adapter is listed: {stdout}");
    }
    let (ok, json, stderr) = zkinfer_params(&["demo", "--device", "gpu", "--engine", "check", "--json"]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["verified"], true);
    if !has_adapter {
        assert!(stderr.contains("proving on the CPU"), "{stderr}");
    }
}

/// Models as skl2onnx writes them (models/tests/converters: a dynamic batch dimension, Casts,
/// ArgMax → ArrayFeatureExtractor, two outputs) and as onnxruntime's quantizers write them (QDQ,
/// QOperator, dynamic) and as PyTorch's exporter and tf2onnx write them compile, prove and verify
/// from the CLI, the classifier's label equal to
/// onnxruntime's.
#[test]
fn converted_models_compile_prove_and_verify() {
    let dir = temp_dir("cli_converted");
    for (name, label) in [
        ("skl_mlp_classifier", true),
        ("skl_mlp_regressor", false),
        ("ort_qdq_digits_mlp", false),
        ("ort_qop_digits_cnn", false),
        ("ort_dyn_digits_cnn", false),
        ("torch_digits_cnn", false),
        ("tf_digits_mlp", false),
    ] {
        let base = format!("models/tests/converters/{name}");
        let zkm = dir.join(format!("{name}.zkm"));
        let zkp = dir.join(format!("{name}.zkp"));
        let (zkm_s, zkp_s) = (zkm.to_str().expect("utf8"), zkp.to_str().expect("utf8"));
        let onnx = format!("{base}.onnx");
        let calibration = format!("{base}.calibration.json");
        let (ok, stdout, stderr) = zkinfer_params(&["inspect", &onnx]);
        assert!(ok, "{name}: {stderr}");
        let rewritten = match name {
            "ort_qdq_digits_mlp" => "fc1.weight_DequantizeLinear (DequantizeLinear): folded into a constant",
            "ort_qop_digits_cnn" => "conv_quant (QLinearConv): became FakeQuantize + Conv2d",
            "ort_dyn_digits_cnn" => "conv_quant (ConvInteger): dynamic quantization, part of the layer",
            "torch_digits_cnn" => "/Gather (Gather): folded into a constant",
            "tf_digits_mlp" => "BiasAdd (AddConstant): merged into layer",
            _ => "Cast (Cast): passes its input through",
        };
        assert!(stdout.contains("folded or rewritten at import") && stdout.contains(rewritten), "{name}: {stdout}");
        let (ok, stdout, stderr) = zkinfer_params(&["compile", &onnx, "--calibration", &calibration, "-o", zkm_s]);
        assert!(ok, "{name}: {stderr}");
        let dynamic_batch = ["skl_", "torch_", "tf_"].iter().any(|p| name.starts_with(p));
        assert_eq!(stderr.contains("dynamic batch dimension"), dynamic_batch, "{name}: {stderr}");
        if label {
            // Softmax's table would set k = 11: compile shortens it and says so.
            assert!(stdout.contains("k = 10") && stdout.contains("inputs shortened: Relu1 (1 bit)"), "{stdout}");
        }
        let input = format!("{base}.input.json");
        let (ok, stdout, stderr) = zkinfer_params(&["prove", zkm_s, "--input", &input, "-o", zkp_s, "--json"]);
        assert!(ok, "{name}: {stderr}");
        let proved: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        let (ok, stdout, stderr) = zkinfer_params(&["verify", zkm_s, zkp_s, "--json"]);
        assert!(ok, "{name}: {stderr}");
        let verified: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        assert_eq!(verified["outputs"], proved["outputs"], "{name}");
        if label {
            let expected: serde_json::Value =
                serde_json::from_slice(&std::fs::read(format!("{base}.expected.json")).expect("expected"))
                    .expect("json");
            let onnxruntime_label = expected["outputs"][0][0][0].as_f64().expect("label");
            let proved_label = verified["outputs"][0]["real"][0].as_f64().expect("proved label");
            assert_eq!(proved_label, onnxruntime_label, "{name}: {stdout}");
        }
    }
}
