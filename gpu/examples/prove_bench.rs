//! End-to-end prove times of zoo models: the CPU engine, then the same engine with primitives on
//! the GPU (from the hardware cut-offs on; every primitive; MSMs only; FFTs only; the IPA's
//! generator collapse only; the quotient's numerator only), each proof checked byte-equal to the CPU engine's with the same
//! seed (and verified by the prover). Prints the adapter.
//!
//! `cargo run --release -p zkinfer-gpu --example prove_bench -- [gpu|gpu:N] [lazy13|int64|rows|packed] [model ...]`
//! (default models: mlp_784_128_10 lenet_28; the params cache is target/zkinfer-params). The zoo
//! and the cache are found under the current directory when it is the repository's root (a
//! binary built on one machine and run on another, `scripts/gpu_device_run.sh`), else under the
//! repository the example was built in.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use ff::Field;
use group::{Curve, Group};
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_engine::backend::Backend;
use zkinfer_gpu::{Cutoffs, DeviceChoice, FieldForm, GpuBackend, GpuContext};
use zkinfer_models::data::InputData;
use zkinfer_models::{onnx, quantize};
use zkinfer_prover::device::ChosenDevice;
use zkinfer_prover::engine::EngineKind;
use zkinfer_prover::params::ParamsCache;

/// A size no primitive reaches: keeps that primitive on the CPU.
const NEVER: usize = Cutoffs::NEVER;
/// The seed of every proof.
const SEED: u64 = 11;

/// The current directory when it holds the zoo, else the repository this example was built in.
fn repository_root() -> PathBuf {
    let current = std::env::current_dir().unwrap();
    if current.join("models/zoo").is_dir() { current } else { PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..") }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let choice: DeviceChoice = args.next().unwrap_or_else(|| "gpu".into()).parse().unwrap();
    let mut models: Vec<String> = args.collect();
    let form = match models.first().map(|m| m.parse::<FieldForm>()) {
        Some(Ok(form)) => {
            models.remove(0);
            form
        }
        _ => FieldForm::DEFAULT,
    };
    if models.is_empty() {
        models = vec!["mlp_784_128_10".into(), "lenet_28".into()];
    }
    let context = Arc::new(GpuContext::open_with(choice, form).unwrap());
    println!("adapter: {}, field code: {form}", context.adapter());
    println!("cpu threads: {}", rayon::current_num_threads());
    let variants: [(&str, Cutoffs); 6] = [
        ("gpu: default cut-offs", Cutoffs::HARDWARE),
        ("gpu: every primitive", Cutoffs::ALL_ON_GPU),
        (
            "gpu: MSMs only",
            Cutoffs { msm: 0, msm_small: 0, fft_log: Cutoffs::NEVER_LOG, fold: NEVER, numerator: NEVER },
        ),
        ("gpu: FFTs only", Cutoffs { msm: NEVER, msm_small: NEVER, fft_log: 0, fold: NEVER, numerator: NEVER }),
        (
            "gpu: generator collapse only",
            Cutoffs { msm: NEVER, msm_small: NEVER, fft_log: Cutoffs::NEVER_LOG, fold: 0, numerator: NEVER },
        ),
        (
            "gpu: quotient numerator only",
            Cutoffs { msm: NEVER, msm_small: NEVER, fft_log: Cutoffs::NEVER_LOG, fold: NEVER, numerator: 0 },
        ),
    ];
    // Compile the kernels before anything is timed.
    let warm = GpuBackend::shared(context.clone(), Cutoffs::ALL_ON_GPU);
    let start = Instant::now();
    warm.fft(&mut vec![Fp::ONE; 64], Fp::ONE, 6);
    let points: Vec<EqAffine> = (1..=64u64).map(|i| (Eq::generator() * Fp::from(i)).to_affine()).collect();
    warm.msm_small(&[1; 64], &points);
    warm.fold_generators(&mut points.clone(), Fp::from(3));
    println!("kernel compile: {:.1} s", start.elapsed().as_secs_f64());

    let root = repository_root();
    let cache = ParamsCache::new(root.join("target/zkinfer-params"));
    for name in &models {
        let dir = root.join("models/zoo");
        let graph = onnx::import_file(&dir.join(format!("{name}.onnx")), &Default::default()).unwrap();
        let shape = graph.tensor(graph.input).shape.clone();
        let calibration =
            InputData::from_file(&dir.join(format!("{name}.calibration.json"))).unwrap().samples(&shape).unwrap();
        let model = quantize::quantize(&graph, &calibration, &Default::default()).unwrap();
        let input = InputData::from_file(&dir.join(format!("{name}.input.json"))).unwrap().samples(&shape).unwrap();
        let (compiled, plan) = zkinfer_prover::compile_model(model, name, Default::default()).unwrap();
        let loaded = cache.load_or_generate(plan.k).unwrap();
        println!("{name}: k = {}", plan.k);
        let prove = |device: &ChosenDevice| {
            let prover = zkinfer_prover::Prover::with_engine_on(
                compiled.clone(),
                loaded.params.clone(),
                loaded.hash,
                EngineKind::Cpu,
                device,
            )
            .unwrap();
            let start = Instant::now();
            let proof = prover.prove(&input[0], &mut StdRng::seed_from_u64(SEED)).unwrap();
            (proof.envelope.proof, start.elapsed().as_secs_f64())
        };
        let (reference, cpu_s) = prove(&ChosenDevice::cpu());
        println!("  {:<32} {cpu_s:>8.2} s", "cpu engine");
        for (label, cutoffs) in variants {
            let backend = Arc::new(GpuBackend::shared(context.clone(), cutoffs));
            let device =
                ChosenDevice { backend: Some(backend as Arc<dyn Backend>), description: label.into(), fallback: None };
            let (proof, s) = prove(&device);
            assert!(proof == reference, "{name}: {label}: the proof differs from the CPU engine's");
            println!("  {label:<32} {s:>8.2} s  (cpu/gpu {:.2}, same bytes)", cpu_s / s);
        }
    }
}
