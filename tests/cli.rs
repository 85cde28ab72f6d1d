//! End-to-end tests of the `zkinfer` binary.

use std::path::PathBuf;
use std::process::Command;

fn zkinfer(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run zkinfer");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn model(name: &str) -> PathBuf {
    let dir = if name.starts_with("fixture_") || name.starts_with("bad_") {
        "models/tests/fixtures"
    } else {
        "models/zoo"
    };
    PathBuf::from(dir).join(name)
}

#[test]
fn inspect_every_zoo_model_and_fixture_with_calibration() {
    for name in [
        "digits_mlp",
        "digits_cnn",
        "mlp_784_128_10",
        "lenet_28",
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
        assert!(
            stdout.contains("argmax agreement with the float model"),
            "{name}: {stdout}"
        );
        let (ok, json, stderr) = zkinfer(&["inspect", &onnx, "--calibration", &cal, "--json"]);
        assert!(ok, "{name}: {stderr}");
        let v: serde_json::Value = serde_json::from_str(&json).expect("--json prints JSON");
        let scales = v["quantization"]["scales"].as_array().expect("scales");
        assert_eq!(
            scales.len(),
            v["ops"].as_array().expect("ops").len() + 1,
            "{name}: one scale per tensor"
        );
        let agreement = v["quantization"]["fidelity"]["argmax_agreement"]
            .as_f64()
            .expect("agreement");
        assert!((0.0..=1.0).contains(&agreement));
    }
}

#[test]
fn inspect_without_calibration_lists_ops() {
    let (ok, stdout, _) = zkinfer(&["inspect", "models/zoo/lenet_28.onnx"]);
    assert!(ok);
    assert!(
        stdout.contains("Conv2d")
            && stdout.contains("MaxPool")
            && stdout.contains("parameters  44426"),
        "{stdout}"
    );
}

#[test]
fn inspect_reports_bad_models_with_a_clear_error() {
    let cases = [
        ("bad_not_onnx", "not a valid ONNX model"),
        ("bad_truncated", "not a valid ONNX model"),
        (
            "bad_unsupported_op",
            "unsupported op Erf in node 'erf_node'",
        ),
        ("bad_dilated_conv", "attribute dilations"),
        ("bad_dynamic_batch", "--batch 1"),
    ];
    for (name, message) in cases {
        let (ok, _, stderr) = zkinfer(&["inspect", &format!("{}.onnx", model(name).display())]);
        assert!(!ok, "{name} must fail");
        assert!(stderr.contains(message), "{name}: {stderr}");
    }
    let (ok, stdout, stderr) = zkinfer(&[
        "inspect",
        "models/tests/fixtures/bad_dynamic_batch.onnx",
        "--batch",
        "1",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("[1, 64]"));
}

#[test]
fn inspect_rejects_calibration_data_of_the_wrong_size() {
    let (ok, _, stderr) = zkinfer(&[
        "inspect",
        "models/zoo/lenet_28.onnx",
        "--calibration",
        "models/zoo/digits_mlp.calibration.json",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("not a positive multiple of 784"),
        "{stderr}"
    );
}
