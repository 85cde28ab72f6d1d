//! zkinfer's GPU backend: the engine's compute primitives ([`zkinfer_engine::backend::Backend`])
//! on any GPU that wgpu reaches (Vulkan, Metal, DX12), in WGSL.
//!
//! - [`device`]: adapters ([`list_adapters`]), the device choice ([`DeviceChoice`]) and the
//!   open context ([`GpuContext`]: device, queue, compiled kernels, the device's errors);
//! - the kernels, each with its host half: the MSM (Pippenger's bucket method, full-width and
//!   small signed scalars), the radix-2 FFT, the IPA's generator collapse (each generator of
//!   the upper half times the round's challenge by double-and-add, in passes of 32 bits) and
//!   the quotient's numerator (an interpreter of the engine's numerator program, one thread
//!   per point of the extended domain);
//! - [`GpuBackend`]: the backend, with size cut-offs below which the CPU runs, and a fallback to
//!   the CPU when the GPU fails.
//!
//! Field elements travel as canonical integers (eight u32 words); kernels work in Montgomery
//! form, in one of the field code's forms ([`FieldForm`]: limbs of 13 or 16 bits, or 32-bit
//! words with 64-bit products), and points in homogeneous projective coordinates with
//! complete addition formulas, so the identity, doublings and inverse points need no branches.
//! [`chains`] times the arithmetic in registers.
//! Every result is the exact field element or point, so a proof made with this backend equals
//! the CPU engine's byte for byte (tested through the engine's checking backend).
//!
//! ```no_run
//! use zkinfer_engine::backend::Backend;
//! use zkinfer_gpu::{Cutoffs, DeviceChoice, GpuBackend, GpuContext};
//!
//! let context = GpuContext::open(DeviceChoice::Gpu(None)).expect("an adapter");
//! println!("{}", context.adapter());
//! let backend = GpuBackend::new(context, Cutoffs::HARDWARE);
//! let mut values = vec![halo2_proofs::pasta::Fp::one(); 1 << 10];
//! backend.fft(&mut values, halo2_proofs::pasta::Fp::one(), 10);
//! ```

mod backend;
mod bases;
mod convert;
mod curve;
pub mod device;
mod fft;
mod field_code;
mod fold;
mod msm;
mod numerator;
mod shader;

pub use backend::{Cutoffs, GpuBackend};
pub use curve::{Chains, CurveOps, chains, curve_ops};
pub use device::{AdapterKind, AdapterSummary, DeviceChoice, GpuContext, list_adapters};
pub use fft::field_ops;
pub use numerator::evaluate_numerator_windowed;
pub use shader::FieldForm;

/// What went wrong on the GPU.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No adapter matches the choice.
    #[error("{0}")]
    NoAdapter(String),
    /// The device reported an error (validation, out of memory, lost device).
    #[error("GPU device error: {0}")]
    Device(String),
    /// The work does not fit the adapter's limits.
    #[error("too large for the GPU: {0}")]
    TooLarge(String),
    /// A result read back is not a valid field element or point.
    #[error("the GPU returned an invalid result: {0}")]
    BadResult(&'static str),
}
