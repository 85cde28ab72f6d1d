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
    fn auto_never_takes_a_software_adapter() {
        let hardware = zkinfer_gpu::list_adapters().iter().any(|a| a.kind == zkinfer_gpu::AdapterKind::Hardware);
        let chosen = choose(DeviceChoice::Auto);
        assert_eq!(chosen.backend.is_some(), hardware, "{chosen:?}");
        assert_eq!(chosen.fallback.is_some(), !hardware);
    }
}
