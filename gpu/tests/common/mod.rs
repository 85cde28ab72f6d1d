//! The GPU of the tests: the first adapter (software ones included), every primitive forced
//! onto it, and a GPU error fails the test instead of falling back to the CPU.

#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::sync::{Arc, OnceLock};

use ff::PrimeField;
use halo2_proofs::pasta::Fp;
use zkinfer_gpu::{Cutoffs, DeviceChoice, GpuBackend, GpuContext};

/// Set to make a missing adapter fail the tests (CI).
const REQUIRE: &str = "ZKINFER_REQUIRE_GPU";

/// The shared backend, or `None` (after one message) when there is no adapter.
pub fn backend() -> Option<Arc<GpuBackend>> {
    static BACKEND: OnceLock<Option<Arc<GpuBackend>>> = OnceLock::new();
    BACKEND
        .get_or_init(|| match GpuContext::open(DeviceChoice::Gpu(None)) {
            Ok(context) => {
                eprintln!("GPU tests on {}", context.adapter());
                Some(Arc::new(GpuBackend::strict(context, Cutoffs::ALL_ON_GPU)))
            }
            Err(e) if std::env::var_os(REQUIRE).is_some() => panic!("{REQUIRE} is set, but {e}"),
            Err(e) => {
                eprintln!("skipping the GPU tests: {e}");
                None
            }
        })
        .clone()
}

/// A primitive 2^log_n-th root of unity.
pub fn root_of_unity(log_n: u32) -> Fp {
    let mut omega = Fp::ROOT_OF_UNITY;
    for _ in log_n..Fp::S {
        omega = omega.square();
    }
    omega
}
