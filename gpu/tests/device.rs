//! Every kernel against the CPU: random and edge inputs (zero, one, p - 1, the identity,
//! repeated points), sizes from 1 to 2^16; and a whole proof with the GPU backend,
//! byte-identical to the stock prover's and accepted by the verifier (2^16 for the FFT; MSMs to
//! 2^12 here, larger in the device benches). On a machine without any adapter the tests skip
//! with one message, unless ZKINFER_REQUIRE_GPU is set (CI sets it: there they must run).

#![allow(clippy::unwrap_used)]

mod common;

use ff::Field;
use group::{Curve, Group};
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_engine::backend::{Backend, CpuBackend, ReferenceBackend};
use zkinfer_gpu::{Cutoffs, DeviceChoice, FieldForm, GpuBackend, GpuContext};

/// `n` distinct points: a random start, then a random step.
fn points(n: usize, rng: &mut StdRng) -> Vec<EqAffine> {
    let start = Eq::random(&mut *rng);
    let step = Eq::random(&mut *rng);
    let projective: Vec<Eq> = std::iter::successors(Some(start), |p| Some(p + step)).take(n).collect();
    let mut affine = vec![Eq::identity().to_affine(); n];
    Eq::batch_normalize(&projective, &mut affine);
    affine
}

fn edge_scalars() -> [Fp; 4] {
    [Fp::ZERO, Fp::ONE, -Fp::ONE, -Fp::from(2)]
}

#[test]
fn field_arithmetic_equals_the_cpu() {
    let Some(gpu) = common::backend() else { return };
    field_ops_equal_the_cpu(gpu.context());
}

fn field_ops_equal_the_cpu(context: &zkinfer_gpu::GpuContext) {
    let mut rng = StdRng::seed_from_u64(1);
    let mut pairs: Vec<(Fp, Fp)> = Vec::new();
    for a in edge_scalars() {
        for b in edge_scalars() {
            pairs.push((a, b));
        }
    }
    pairs.extend((0..200).map(|_| (Fp::random(&mut rng), Fp::random(&mut rng))));
    let results = zkinfer_gpu::field_ops(context, &pairs).unwrap();
    for ((a, b), [product, sum, difference]) in pairs.iter().zip(results) {
        assert_eq!(product, a * b, "{a:?} * {b:?}");
        assert_eq!(sum, a + b, "{a:?} + {b:?}");
        assert_eq!(difference, a - b, "{a:?} - {b:?}");
    }
}

/// The field code's other forms (sixteen 16-bit limbs; packed words; words with 64-bit
/// products, where the adapter has 64-bit integers) give the same field operations, FFTs, MSMs
/// and generator collapse as the CPU, and the digits MLP's proof with every primitive (the
/// numerator's too) in each form equals the stock proof.
#[test]
fn the_other_field_code_forms_equal_the_cpu() {
    let Some(gpu) = common::backend() else { return };
    assert_eq!(gpu.context().field_form(), FieldForm::DEFAULT);
    for form in FieldForm::ALL.into_iter().filter(|&f| f != FieldForm::DEFAULT) {
        if form == FieldForm::Int64 && !gpu.context().has_int64() {
            eprintln!(
                "{}: no 64-bit integers in shaders; the int64 field code is not tested",
                gpu.context().adapter().name
            );
            continue;
        }
        other_form_equals_the_cpu(&gpu, form);
    }
}

fn other_form_equals_the_cpu(gpu: &GpuBackend, form: FieldForm) {
    let choice = DeviceChoice::Gpu(Some(gpu.context().adapter().index));
    let context = GpuContext::open_with(choice, form).unwrap();
    field_ops_equal_the_cpu(&context);
    let other = std::sync::Arc::new(GpuBackend::strict(context, Cutoffs::ALL_ON_GPU));
    let mut rng = StdRng::seed_from_u64(6);
    let log_n = 10;
    let omega = common::root_of_unity(log_n);
    let mut values: Vec<Fp> = (0..1 << log_n).map(|_| Fp::random(&mut rng)).collect();
    let mut expected = values.clone();
    CpuBackend.fft(&mut expected, omega, log_n);
    other.fft(&mut values, omega, log_n);
    assert!(values == expected, "{form}: FFT of 2^{log_n} differs");
    let bases = points(1000, &mut rng);
    let scalars: Vec<Fp> = (0..bases.len()).map(|_| Fp::random(&mut rng)).collect();
    assert_eq!(other.msm(&scalars, &bases), CpuBackend.msm(&scalars, &bases), "{form}");
    let small: Vec<i64> = (0..bases.len() as i64).map(|i| i % 7 - 3).collect();
    assert_eq!(other.msm_small(&small, &bases), CpuBackend.msm_small(&small, &bases), "{form}");
    let (mut folded, mut expected) = (bases[..64].to_vec(), bases[..64].to_vec());
    let challenge = Fp::random(&mut rng);
    other.fold_generators(&mut folded, challenge);
    CpuBackend.fold_generators(&mut expected, challenge);
    assert!(folded == expected, "{form}: generator collapse differs");
    proof_equals_the_stock_proof(&other, "digits_mlp");
}

#[test]
fn fft_equals_the_cpu_at_every_size() {
    let Some(gpu) = common::backend() else { return };
    let mut rng = StdRng::seed_from_u64(2);
    for log_n in (0..=12).chain([16]) {
        let n = 1usize << log_n;
        let omega = common::root_of_unity(log_n);
        let mut values: Vec<Fp> = (0..n).map(|_| Fp::random(&mut rng)).collect();
        values[0] = -Fp::ONE;
        let mut expected = values.clone();
        CpuBackend.fft(&mut expected, omega, log_n);
        gpu.fft(&mut values, omega, log_n);
        assert!(values == expected, "FFT of 2^{log_n} differs");
    }
    // Again, with the twiddle tables the device kept from the first calls.
    for log_n in [12, 16] {
        let omega = common::root_of_unity(log_n);
        let mut values: Vec<Fp> = (0..1usize << log_n).map(|_| Fp::random(&mut rng)).collect();
        let mut expected = values.clone();
        CpuBackend.fft(&mut expected, omega, log_n);
        gpu.fft(&mut values, omega, log_n);
        assert!(values == expected, "FFT of 2^{log_n} with the kept twiddles differs");
    }
    // All zero, and all p - 1.
    for value in [Fp::ZERO, -Fp::ONE] {
        let mut values = vec![value; 1 << 8];
        let mut expected = values.clone();
        let omega = common::root_of_unity(8);
        CpuBackend.fft(&mut expected, omega, 8);
        gpu.fft(&mut values, omega, 8);
        assert!(values == expected);
    }
}

#[test]
fn msm_equals_the_reference() {
    let Some(gpu) = common::backend() else { return };
    let mut rng = StdRng::seed_from_u64(3);
    for n in [1, 2, 3, 17, 100, 1000, 4096] {
        let bases = points(n, &mut rng);
        let mut scalars: Vec<Fp> = (0..n).map(|_| Fp::random(&mut rng)).collect();
        for (s, e) in scalars.iter_mut().zip(edge_scalars()) {
            *s = e;
        }
        let expected =
            if n <= 1000 { ReferenceBackend.msm(&scalars, &bases) } else { CpuBackend.msm(&scalars, &bases) };
        assert_eq!(gpu.msm(&scalars, &bases), expected, "MSM of {n}");
    }
}

#[test]
fn msm_handles_the_identity_and_repeated_points() {
    let Some(gpu) = common::backend() else { return };
    let mut rng = StdRng::seed_from_u64(4);
    let p = points(1, &mut rng)[0];
    let identity = Eq::identity().to_affine();
    // One point many times: every window's buckets double through the complete formulas; the
    // point and its negation cancel; the identity adds nothing.
    let mut bases = vec![p; 300];
    bases.push(identity);
    bases.push((-Eq::from(p)).to_affine());
    let mut scalars: Vec<Fp> = (0..bases.len()).map(|_| Fp::random(&mut rng)).collect();
    scalars[1] = scalars[0];
    assert_eq!(gpu.msm(&scalars, &bases), ReferenceBackend.msm(&scalars, &bases));
    // Every scalar zero.
    let zeros = vec![Fp::ZERO; bases.len()];
    assert_eq!(gpu.msm(&zeros, &bases), Eq::identity());
}

#[test]
fn small_msm_equals_the_reference() {
    let Some(gpu) = common::backend() else { return };
    let mut rng = StdRng::seed_from_u64(5);
    for (n, bits) in [(1, 1), (5, 3), (64, 8), (1000, 12), (4096, 12), (300, 40)] {
        let bases = points(n, &mut rng);
        let range = 1i64 << bits;
        let mut values: Vec<i64> = (0..n).map(|_| rand::RngExt::random_range(&mut rng, -range + 1..range)).collect();
        values[0] = 0;
        let expected = CpuBackend.msm_small(&values, &bases);
        assert_eq!(gpu.msm_small(&values, &bases), expected, "small MSM of {n}, {bits} bits");
    }
    // One crowded bucket: every point in it (the kernel adds it in runs, then the runs' sums).
    let bases = points(4096, &mut rng);
    let values = vec![-1i64; bases.len()];
    assert_eq!(gpu.msm_small(&values, &bases), CpuBackend.msm_small(&values, &bases), "one bucket of 4096");
    // Extremes of i64.
    let bases = points(3, &mut rng);
    let values = [i64::MAX, i64::MIN + 1, -1];
    assert_eq!(gpu.msm_small(&values, &bases), ReferenceBackend.msm_small(&values, &bases));
}

/// An adapter whose storage bindings hold 64 KiB (1,024 points, 2,048 field elements): MSMs
/// split their points into chunks and their windows into passes to fit, the collapse its pairs
/// into chunks, FFTs their values in halves, and they give the CPU's results (the strict
/// backend fails the test on any GPU error, a refusal as too large included). With bindings of
/// 16 KiB an FFT of 2^10 values is too small to split: it runs on the CPU alone, and the device
/// stays in use for the rest.
#[test]
fn work_beyond_the_binding_limit_is_split_or_left_to_the_cpu() {
    if common::backend().is_none() {
        return;
    }
    let limited = |bytes: u64| {
        let mut context = GpuContext::open(DeviceChoice::Gpu(None)).unwrap();
        context.limit_binding(bytes);
        context
    };
    let strict = GpuBackend::strict(limited(1 << 16), Cutoffs::ALL_ON_GPU);
    let mut rng = StdRng::seed_from_u64(12);
    for n in [1024, 1025, 3000] {
        let bases = points(n, &mut rng);
        let scalars: Vec<Fp> = (0..n).map(|_| Fp::random(&mut rng)).collect();
        assert_eq!(strict.msm(&scalars, &bases), CpuBackend.msm(&scalars, &bases), "MSM of {n} in chunks");
        let values: Vec<i64> = (0..n).map(|_| rand::RngExt::random_range(&mut rng, -4095..4096)).collect();
        assert_eq!(strict.msm_small(&values, &bases), CpuBackend.msm_small(&values, &bases), "small MSM of {n}");
    }
    // The collapse's sums take 96 bytes a pair: 682 pairs a chunk.
    let g = points(1 << 12, &mut rng);
    let challenge = Fp::random(&mut rng);
    let (mut on_gpu, mut expected) = (g.clone(), g);
    strict.fold_generators(&mut on_gpu, challenge);
    CpuBackend.fold_generators(&mut expected, challenge);
    assert!(on_gpu == expected, "the collapse in chunks");
    // FFTs of one, two and three levels more than a binding holds.
    let fft_equals_the_cpu = |gpu: &GpuBackend, log_n: u32, rng: &mut StdRng| {
        let omega = common::root_of_unity(log_n);
        let mut values: Vec<Fp> = (0..1 << log_n).map(|_| Fp::random(&mut *rng)).collect();
        let mut expected = values.clone();
        CpuBackend.fft(&mut expected, omega, log_n);
        gpu.fft(&mut values, omega, log_n);
        assert!(values == expected, "FFT of 2^{log_n}");
    };
    for log_n in [12, 13, 14] {
        fft_equals_the_cpu(&strict, log_n, &mut rng);
    }
    let lenient = GpuBackend::new(limited(1 << 14), Cutoffs::ALL_ON_GPU);
    fft_equals_the_cpu(&lenient, 10, &mut rng);
    assert!(!lenient.fell_back(), "a call too large for the limits leaves the GPU in use");
    let bases = points(64, &mut rng);
    let scalars: Vec<Fp> = (0..64).map(|_| Fp::random(&mut rng)).collect();
    assert_eq!(lenient.msm(&scalars, &bases), CpuBackend.msm(&scalars, &bases));
    assert!(!lenient.fell_back());
}

/// The IPA's generator collapse: every size from 2 to 2^12 generators, challenges 0, 1, -1, one
/// that fits one pass, random ones and sums with λ (GLV halves zero, one or negative); the
/// identity and repeated points among the generators.
#[test]
fn generator_collapse_equals_the_reference() {
    let Some(gpu) = common::backend() else { return };
    let mut rng = StdRng::seed_from_u64(8);
    // λ and sums with it: GLV halves that are zero, one or both negative.
    let zeta = <Fp as ff::WithSmallOrderMulGroup<3>>::ZETA;
    for log_n in 1..=12 {
        let g = points(1 << log_n, &mut rng);
        let challenges = [Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::from(0xdead_beef), Fp::random(&mut rng), -(Fp::ONE + zeta)];
        for challenge in challenges {
            let (mut on_gpu, mut expected) = (g.clone(), g.clone());
            gpu.fold_generators(&mut on_gpu, challenge);
            if log_n <= 8 {
                ReferenceBackend.fold_generators(&mut expected, challenge);
            } else {
                CpuBackend.fold_generators(&mut expected, challenge);
            }
            assert!(on_gpu == expected, "collapse of 2^{log_n} generators by {challenge:?}");
        }
    }
    // The identity on either side, a point and itself, a point and its negation.
    let p = points(2, &mut rng);
    let identity = Eq::identity().to_affine();
    let minus = (-Eq::from(p[0])).to_affine();
    let g = vec![identity, p[0], p[0], p[1], p[1], identity, p[0], minus];
    for challenge in [Fp::ONE, -Fp::ONE, Fp::random(&mut rng), zeta, -zeta, Fp::ONE + zeta] {
        let (mut on_gpu, mut expected) = (g.clone(), g.clone());
        gpu.fold_generators(&mut on_gpu, challenge);
        ReferenceBackend.fold_generators(&mut expected, challenge);
        assert!(on_gpu == expected, "edge points by {challenge:?}");
    }
}

/// The quotient's numerator program: every zoo model's gates (each chip's) and lookup inputs
/// over random column values, against the CPU: in one window, and in windows of 64 points
/// (rotations reaching into the next window and around the domain). Whole proofs below run the
/// complete program (permutation and lookups included).
#[test]
fn numerator_evaluation_equals_the_cpu() {
    use zkinfer_circuits::constraints::ConstraintData;
    use zkinfer_engine::numerator::ProgramBuilder;

    let Some(gpu) = common::backend() else { return };
    let mut rng = StdRng::seed_from_u64(9);
    let (points, step) = (1usize << 10, 4);
    for name in ["digits_mlp", "digits_cnn", "digits_mlp_sigmoid", "digits_mlp_tanh", "mlp_784_128_10", "lenet_28"] {
        let (compiled, _, _) = compile_zoo_model(name);
        let data = ConstraintData::new(compiled.layout);
        let mut builder = ProgramBuilder::default();
        for gate in data.gates() {
            for (_, e) in &gate.constraints {
                builder.expression(e).constraint();
            }
        }
        for lookup in data.lookups() {
            for (e, _) in &lookup.inputs {
                builder.expression(e).constraint();
            }
        }
        let program = builder.finish();
        let values: Vec<Vec<Fp>> =
            program.columns.iter().map(|_| (0..points).map(|_| Fp::random(&mut rng)).collect()).collect();
        let columns: Vec<&[Fp]> = values.iter().map(Vec::as_slice).collect();
        let y = Fp::random(&mut rng);
        let expected = CpuBackend.evaluate_numerator(&program, &columns, points, y, step);
        assert!(gpu.evaluate_numerator(&program, &columns, points, y, step) == expected, "{name}: one window");
        let windowed =
            zkinfer_gpu::evaluate_numerator_windowed(gpu.context(), &program, &columns, points, y, step, 64).unwrap();
        assert!(windowed == expected, "{name}: windows of 64 points");
    }
}

#[test]
fn the_group_law_and_fq_equal_the_cpu() {
    let Some(gpu) = common::backend() else { return };
    let mut rng = StdRng::seed_from_u64(6);
    let identity = Eq::identity().to_affine();
    let p = points(3, &mut rng);
    let minus = (-Eq::from(p[0])).to_affine();
    let twice = Eq::from(p[0]).double().to_affine();
    // Distinct points, a point and itself, the identity on either side, a point and its negation;
    // for the mixed sum 2P + Q also Q = 2P (it doubles) and Q = -2P (the identity).
    let pairs = [
        (p[0], p[1]),
        (p[1], p[1]),
        (identity, p[2]),
        (p[2], identity),
        (identity, identity),
        (p[0], minus),
        (p[0], twice),
        (p[0], (-Eq::from(twice)).to_affine()),
    ];
    for ((a, b), ops) in pairs.iter().zip(zkinfer_gpu::curve_ops(gpu.context(), &pairs).unwrap()) {
        assert_eq!(ops.sum, Eq::from(*a) + b);
        assert_eq!(ops.double, Eq::from(*a).double());
        assert_eq!(ops.double_plus_affine, Eq::from(*a).double() + b);
        let x = |q: &EqAffine| {
            Option::from(halo2_proofs::arithmetic::CurveAffine::coordinates(q))
                .map(|c: halo2_proofs::arithmetic::Coordinates<EqAffine>| *c.x())
                .unwrap_or(halo2_proofs::pasta::Fq::ZERO)
        };
        assert_eq!(ops.product, x(a) * x(b));
    }
}

/// The throughput chains (P + r·Q by the projective and by the mixed sum, and x(P)·x(Q)^r,
/// thread i on pair i mod pairs) give the CPU's values, with the identity among the points.
#[test]
fn the_throughput_chains_equal_the_cpu() {
    let Some(gpu) = common::backend() else { return };
    let mut rng = StdRng::seed_from_u64(8);
    let p = points(3, &mut rng);
    let identity = Eq::identity().to_affine();
    let pairs = [(p[0], p[1]), (identity, p[2]), (p[2], p[2])];
    let rounds = 5;
    let chains = zkinfer_gpu::chains(gpu.context(), &pairs, 100, rounds).unwrap();
    let x = |q: &EqAffine| {
        Option::from(halo2_proofs::arithmetic::CurveAffine::coordinates(q))
            .map(|c: halo2_proofs::arithmetic::Coordinates<EqAffine>| *c.x())
            .unwrap_or(halo2_proofs::pasta::Fq::ZERO)
    };
    for (k, (a, b)) in pairs.iter().enumerate() {
        let expected = Eq::from(*a) + Eq::from(*b) * halo2_proofs::pasta::Fp::from(u64::from(rounds));
        assert_eq!(chains.sums[k], expected);
        assert_eq!(chains.mixed_sums[k], expected, "the mixed sum's chain");
        assert_eq!(chains.products[k], x(a) * x(b).pow_vartime([u64::from(rounds)]));
    }
}

/// The four Relu zoo models (the Sigmoid and Tanh MLPs add no MSM or FFT of their own), proven
/// by the engine with every primitive on the GPU (MSMs and FFTs),
/// equals the stock prover's proof with the same seed, and the verifier accepts it (the prover
/// checks every proof). The small models here, the larger two below (about a minute and a half
/// on lavapipe with two cores).
#[test]
fn proofs_on_the_gpu_equal_the_stock_proofs() {
    let Some(gpu) = common::backend() else { return };
    for name in ["digits_mlp", "digits_cnn"] {
        proof_equals_the_stock_proof(&gpu, name);
    }
}

#[test]
fn proofs_of_the_larger_models_on_the_gpu_equal_the_stock_proofs() {
    let Some(gpu) = common::backend() else { return };
    for name in ["mlp_784_128_10", "lenet_28"] {
        proof_equals_the_stock_proof(&gpu, name);
    }
}

/// A zoo model imported, quantized with its calibration set and planned; its input shape.
fn compile_zoo_model(
    name: &str,
) -> (zkinfer_verifier::artifacts::CompiledModel, zkinfer_circuits::plan::Plan, Vec<usize>) {
    use zkinfer_models::data::InputData;
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/zoo");
    let graph = zkinfer_models::onnx::import_file(&dir.join(format!("{name}.onnx")), &Default::default()).unwrap();
    let shape = graph.tensor(graph.input).shape.clone();
    let calibration =
        InputData::from_file(&dir.join(format!("{name}.calibration.json"))).unwrap().samples(&shape).unwrap();
    let model = zkinfer_models::quantize::quantize(&graph, &calibration, &Default::default()).unwrap();
    let (compiled, plan) = zkinfer_prover::compile_model(model, name, Default::default()).unwrap();
    (compiled, plan, shape)
}

fn proof_equals_the_stock_proof(gpu: &std::sync::Arc<zkinfer_gpu::GpuBackend>, name: &str) {
    use std::path::PathBuf;
    use std::sync::Arc;

    use zkinfer_models::data::InputData;
    use zkinfer_prover::engine::EngineKind;
    use zkinfer_prover::params::ParamsCache;

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/zoo");
    let (compiled, plan, shape) = compile_zoo_model(name);
    let input = InputData::from_file(&dir.join(format!("{name}.input.json"))).unwrap().samples(&shape).unwrap();
    let cache = ParamsCache::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/zkinfer-params"));
    let loaded = cache.load_or_generate(plan.k).unwrap();

    let stock =
        zkinfer_prover::Prover::with_engine(compiled.clone(), loaded.params.clone(), loaded.hash, EngineKind::Stock)
            .unwrap()
            .prove(&input[0], &mut StdRng::seed_from_u64(11))
            .unwrap();
    let device = zkinfer_prover::device::ChosenDevice {
        backend: Some(gpu.clone() as Arc<dyn Backend>),
        description: "test GPU".into(),
        fallback: None,
    };
    // The prover verifies the proof before returning it.
    let on_gpu = zkinfer_prover::Prover::with_engine_on(compiled, loaded.params, loaded.hash, EngineKind::Cpu, &device)
        .unwrap()
        .prove(&input[0], &mut StdRng::seed_from_u64(11))
        .unwrap();
    assert!(on_gpu.envelope.proof == stock.envelope.proof, "{name}: the GPU proof differs from the stock proof");
}
