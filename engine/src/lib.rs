//! # zkinfer-engine
//!
//! zkinfer's own proving engine for the circuits zkinfer compiles: it works from the circuit's
//! [`CircuitSpec`](zkinfer_circuits::CircuitSpec) and constraint data
//! ([`zkinfer_circuits::constraints`]) instead of running halo2's synthesis, and its results
//! must equal halo2_proofs 0.4.1's bit for bit, so that the stock verifier accepts them and
//! soundness never depends on engine code.
//!
//! - [`keygen`]: the fixed columns, the permutation polynomials and their commitments, whose
//!   pinned verifying key text (and so the circuit identity) equals stock `keygen_vk`'s;
//! - [`prover`]: the proof in halo2's stage order (witness commitments with small-scalar MSMs,
//!   lookups, grand products, quotient from the constraint data, evaluations, the multi-point
//!   opening and the IPA);
//! - [`backend`]: the compute primitives (MSM, FFT, the IPA's generator collapse) behind one
//!   trait, with the CPU backend, a naive reference, a checking and a timing backend;
//!   [`domain`] does halo2's changes of basis with a backend's FFT.
//!
//! The proving key can come from a key file instead of being computed
//! ([`prover::ProvingKey::from_stored`]: the verifying key's commitments and the precomputed
//! polynomials' encoding, [`prover::Precomputed::to_bytes`]); then no FFT or MSM runs before
//! the proof.
//!
//! ```no_run
//! use std::sync::Arc;
//! use halo2_proofs::poly::commitment::Params;
//! use zkinfer_engine::backend::{CpuBackend, TimedBackend};
//! use zkinfer_engine::prover::{ProvingKey, prove};
//! # let (spec, witness): (zkinfer_circuits::CircuitSpec, zkinfer_circuits::Witness) = unimplemented!();
//! # let mut rng = rand_core::UnwrapErr(rand::rngs::SysRng);
//! let params = Params::<halo2_proofs::pasta::EqAffine>::new(10);
//! let (keys, commitments) = zkinfer_engine::keygen::keygen(&params, &spec)?;
//! println!("{} fixed commitments, identity text {} bytes", commitments.fixed.len(), keys.pinned_text(&commitments).len());
//! // Prove on the CPU backend, adding up the time spent in each primitive.
//! let backend = Arc::new(TimedBackend::new(CpuBackend));
//! let pk = ProvingKey::new(&params, &spec)?.with_backend(backend.clone());
//! let proof: Vec<u8> = prove(&pk, &spec, &witness, &mut rng)?;
//! for (primitive, usage) in backend.usage() {
//!     println!("{}: {} calls, {:?}", primitive.name(), usage.calls, usage.time);
//! }
//! # Ok::<(), zkinfer_engine::EngineError>(())
//! ```

#[cfg(target_arch = "x86_64")]
pub mod avx512;
pub mod backend;
pub mod domain;
pub mod fft;
pub mod keygen;
pub mod linear;
pub mod msm;
pub mod numerator;
pub mod params;
pub mod permutation;
pub mod prover;

use permutation::PermutationColumn;

/// The field arithmetic of this build: pasta_curves' backend, `"x86-64"` (Montgomery
/// multiplication in assembly with MULX and ADCX/ADOX, about twice the portable code's speed),
/// `"aarch64"`, or `"portable"`. zkinfer enables pasta_curves' `asm` feature; building with
/// `RUSTFLAGS="--cfg pasta_curves_noasm"` selects the portable code (for x86-64 CPUs without
/// BMI2 and ADX).
pub const FIELD_ARITHMETIC: &str = pasta_curves::BACKEND;

/// What the CPU backend's vector code ([`avx512`] on x86-64) does in this process: which
/// primitives run eight field elements at a time, or why none do.
pub fn vector_code() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if avx512::enabled() {
            return "AVX-512 IFMA (the FFT, the MSMs, the IPA's collapse and the quotient's numerator)";
        }
        if avx512::supported() {
            return "off (ZKINFER_NO_AVX512=1)";
        }
    }
    "none (this CPU has no AVX-512 IFMA)"
}

/// Whether this CPU can run [`FIELD_ARITHMETIC`]: the x86-64 assembly needs BMI2 and ADX
/// (Intel Broadwell, AMD Zen or newer); on a CPU without them the first field multiplication
/// would stop the process on an illegal instruction. Returns why not, with the remedy.
pub fn check_cpu() -> Result<(), String> {
    #[cfg(target_arch = "x86_64")]
    if FIELD_ARITHMETIC == "x86-64" && !(std::is_x86_feature_detected!("bmi2") && std::is_x86_feature_detected!("adx"))
    {
        return Err(
            "this build's field arithmetic needs a CPU with BMI2 and ADX (Intel Broadwell, AMD Zen or newer); \
                    rebuild with RUSTFLAGS=\"--cfg pasta_curves_noasm\" for this one"
                .into(),
        );
    }
    Ok(())
}

/// An integer as a field element (negative values as `p - |v|`).
pub(crate) fn field(v: i64) -> halo2_proofs::pasta::Fp {
    zkinfer_circuits::to_field(v)
}

/// `v`'s canonical value as four 64-bit limbs, least significant first.
pub(crate) fn limbs(v: &halo2_proofs::pasta::Fp) -> [u64; 4] {
    use ff::PrimeField;
    let repr = v.to_repr();
    std::array::from_fn(|i| {
        u64::from_le_bytes(repr.as_ref()[8 * i..8 * i + 8].try_into().unwrap_or_else(|_| unreachable!("8 bytes")))
    })
}

/// `v` as an integer if it is one of at most 62 bits (negative ones as `p - |v|`).
pub(crate) fn small_integer(v: halo2_proofs::pasta::Fp) -> Option<i64> {
    use ff::PrimeField;
    use halo2_proofs::pasta::Fp;
    const BITS: u32 = 62;
    let fits = |x: Fp| -> Option<i64> {
        let repr = x.to_repr();
        let (low, high) = repr.split_at(8);
        let low = u64::from_le_bytes(low.try_into().ok()?);
        (high.iter().all(|&b| b == 0) && low >> BITS == 0).then_some(low as i64)
    };
    fits(v).or_else(|| fits(-v).map(|x| -x))
}

/// Why the engine cannot build keys or a proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The params' `k` is too small for the circuit.
    #[error("2^{k} rows do not hold the circuit")]
    TooFewRows {
        /// The params' k.
        k: u32,
    },
    /// A copy constraint on a column without equality (a zkinfer bug).
    #[error("copy constraint on {0:?}, which is not in the permutation")]
    NotInPermutation(PermutationColumn),
    /// The params do not read back (a halo2 serialization change).
    #[error("the params' points cannot be read")]
    Params,
    /// The witness does not fit the circuit.
    #[error("the witness does not fit the circuit: {0}")]
    Witness(String),
    /// Stored precomputed polynomials that do not fit the circuit.
    #[error("the stored key polynomials do not fit the circuit: {0}")]
    KeyPolynomials(String),
    /// Given verifying-key commitments are not as many as the circuit's columns.
    #[error("the key has {found} commitments, the circuit {expected} columns")]
    KeyShape {
        /// The circuit's fixed and permutation columns.
        expected: usize,
        /// Commitments given.
        found: usize,
    },
    /// The witness does not satisfy the circuit.
    #[error("the witness fails {failures} relation(s): {first}")]
    Unsatisfied {
        /// How many relations (rows) fail.
        failures: usize,
        /// The first few.
        first: String,
    },
    /// Writing the transcript failed.
    #[error("transcript: {0}")]
    Transcript(String),
    /// A copy constraint on a blinding row.
    #[error("copy constraint on row {row}, beyond the {usable} usable rows")]
    CopyOutsideUsableRows {
        /// The row.
        row: usize,
        /// Usable rows.
        usable: usize,
    },
}
