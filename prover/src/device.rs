//! Where the engine's compute primitives run (`zkinfer prove --device auto|cpu|gpu[:N]`).
//!
//! `auto` takes the first hardware GPU and never a software adapter; `gpu` takes any adapter
//! (the software ones too: that is how CI runs the GPU path). When no adapter fits or the GPU
//! cannot be opened, proving goes on on the CPU and [`ChosenDevice::fallback`] says why, in one
//! line. The proof does not depend on the device: the GPU backend's results are exact, and every
//! proof is verified before it is returned anyway.

use std::sync::Arc;

use zkinfer_engine::backend::Backend;
pub use zkinfer_gpu::DeviceChoice;
use zkinfer_gpu::{AdapterKind, Cutoffs, GpuBackend, GpuContext};

/// The device a prover runs on.
#[derive(Debug, Clone)]
pub struct ChosenDevice {
    /// The GPU backend, or `None` for the CPU.
    pub backend: Option<Arc<dyn Backend>>,
    /// What runs the primitives, for reports ("cpu" or the adapter's name).
    pub description: String,
    /// Why a GPU that was asked for is not used (one line), if so.
    pub fallback: Option<String>,
}

impl ChosenDevice {
    /// The CPU backend.
    pub fn cpu() -> Self {
        Self { backend: None, description: "cpu".into(), fallback: None }
    }
}

/// The sizes of a proof's primitives that decide whether a GPU can help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofSize {
    /// log2 of the circuit's rows: the largest MSM and the IPA's first collapse.
    pub k: u32,
    /// log2 of the extended domain's points: the largest FFT and the numerator.
    pub extended_k: u32,
}

impl ProofSize {
    /// The sizes of `model`'s proofs (from its constraint system's degree).
    pub fn of(model: &zkinfer_verifier::CompiledModel) -> Self {
        let cs = zkinfer_circuits::constraints::key::constraint_system(model.layout);
        let domain = halo2_proofs::poly::EvaluationDomain::<halo2_proofs::pasta::Fp>::new(cs.degree() as u32, model.k);
        Self { k: model.k, extended_k: domain.extended_len().trailing_zeros() }
    }
}

/// [`choose`] for proofs of `size`: `auto` does not open a hardware GPU on which no primitive of
/// such a proof would run ([`Cutoffs::HARDWARE`]; opening one costs a few tenths of a second)
/// and says so.
pub fn choose_for(choice: DeviceChoice, size: ProofSize) -> ChosenDevice {
    if choice == DeviceChoice::Auto && !Cutoffs::HARDWARE.reached_by(size.k, size.extended_k) {
        let why = format!(
            "a proof with 2^{} rows has no primitive large enough for a GPU (its size cut-offs); proving on the CPU",
            size.k
        );
        return ChosenDevice { fallback: Some(why), ..ChosenDevice::cpu() };
    }
    choose(choice)
}

/// Opens the device `choice` names, falling back to the CPU with a reason.
pub fn choose(choice: DeviceChoice) -> ChosenDevice {
    if choice == DeviceChoice::Cpu {
        return ChosenDevice::cpu();
    }
    match GpuContext::open(choice) {
        Ok(context) => {
            let description = format!("{} ({})", context.adapter().name, context.adapter().backend);
            // A software adapter is only ever chosen explicitly (`gpu`, `gpu:N`), to run the GPU
            // path (CI): every primitive it runs goes there, whatever the size.
            let cutoffs = match context.adapter().kind {
                AdapterKind::Software => Cutoffs::ALL_ON_GPU,
                AdapterKind::Hardware | AdapterKind::Unknown => Cutoffs::HARDWARE,
            };
            let backend: Arc<dyn Backend> = Arc::new(GpuBackend::new(context, cutoffs));
            ChosenDevice { backend: Some(backend), description, fallback: None }
        }
        Err(e) => ChosenDevice { fallback: Some(format!("{e}; proving on the CPU")), ..ChosenDevice::cpu() },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_needs_no_adapter_and_says_nothing() {
        let chosen = choose(DeviceChoice::Cpu);
        assert!(chosen.backend.is_none());
        assert_eq!(chosen.description, "cpu");
        assert!(chosen.fallback.is_none());
    }

    #[test]
    fn an_adapter_that_does_not_exist_falls_back_with_a_reason() {
        let chosen = choose(DeviceChoice::Gpu(Some(usize::MAX)));
        assert!(chosen.backend.is_none());
        let why = chosen.fallback.unwrap_or_default();
        assert!(why.ends_with("proving on the CPU"), "{why}");
    }

    #[test]
    fn auto_opens_no_gpu_for_a_proof_below_every_cut_off() {
        let small = ProofSize { k: 11, extended_k: 13 };
        let chosen = choose_for(DeviceChoice::Auto, small);
        assert!(chosen.backend.is_none());
        let why = chosen.fallback.unwrap_or_default();
        assert!(why.contains("2^11 rows") && why.ends_with("proving on the CPU"), "{why}");
        // The cpu stays quiet, and an explicit choice is not second-guessed.
        assert!(choose_for(DeviceChoice::Cpu, small).fallback.is_none());
        let explicit = choose_for(DeviceChoice::Gpu(Some(usize::MAX)), small).fallback.unwrap_or_default();
        assert!(explicit.contains("no adapter"), "{explicit}");
    }

    #[test]
    fn a_proofs_sizes_come_from_its_circuit() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/zoo");
        let graph = zkinfer_models::onnx::import_file(&dir.join("digits_mlp.onnx"), &Default::default()).unwrap();
        let shape = graph.tensor(graph.input).shape.clone();
        let calibration = zkinfer_models::data::InputData::from_file(&dir.join("digits_mlp.calibration.json"))
            .unwrap()
            .samples(&shape)
            .unwrap();
        let model = zkinfer_models::quantize::quantize(&graph, &calibration, &Default::default()).unwrap();
        let (compiled, plan) = crate::compile_model(model, "digits_mlp", Default::default()).unwrap();
        let size = ProofSize::of(&compiled);
        // Degree 5: the quotient has degree 4, so the extended domain has 4 times the rows.
        assert_eq!(size, ProofSize { k: plan.k, extended_k: plan.k + 2 });
    }

    #[test]
    fn auto_never_takes_a_software_adapter() {
        let hardware = zkinfer_gpu::list_adapters().iter().any(|a| a.kind == zkinfer_gpu::AdapterKind::Hardware);
        let chosen = choose(DeviceChoice::Auto);
        assert_eq!(chosen.backend.is_some(), hardware, "{chosen:?}");
        assert_eq!(chosen.fallback.is_some(), !hardware);
    }
}
