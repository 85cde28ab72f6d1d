//! The WGSL sources, with each field's constants computed from `ff` (nothing typed by hand).

use ff::{Field, PrimeField};
use halo2_proofs::pasta::{Fp, Fq};

use crate::field_code::{LAZY_BITS, LAZY_LIMBS, int64_core, lazy_core, limbs_core, packed_core};

const FIELD: &str = include_str!("shaders/field.wgsl");
const CURVE: &str = include_str!("shaders/curve.wgsl");
const MSM: &str = include_str!("shaders/msm.wgsl");
const FFT: &str = include_str!("shaders/fft.wgsl");
const CURVE_TEST: &str = include_str!("shaders/curve_test.wgsl");
const FOLD: &str = include_str!("shaders/fold.wgsl");
const NUMERATOR: &str = include_str!("shaders/numerator.wgsl");

/// A canonical field element in the working form (sixteen 16-bit limbs, or eight u32 words), as
/// a WGSL array literal's items.
fn working_literal<F: PrimeField<Repr = [u8; 32]>>(value: F, form: FieldForm) -> String {
    bytes_literal(&value.to_repr(), form)
}

fn bytes_literal(bytes: &[u8; 32], form: FieldForm) -> String {
    split_limbs(bytes, form.working_bits(), form.working_len())
        .iter()
        .map(|l| format!("{l}u"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The modulus's limbs: those of `p - 1` with one added to the lowest (p is 1 mod 2^32 for
/// both pasta fields, so nothing carries; checked).
fn modulus_limbs<F: PrimeField<Repr = [u8; 32]>>() -> [u32; 16] {
    let minus_one = (-F::ONE).to_repr();
    let mut limbs: [u32; 16] =
        std::array::from_fn(|i| u32::from(u16::from_le_bytes([minus_one[2 * i], minus_one[2 * i + 1]])));
    assert!(limbs[0] < u32::from(u16::MAX), "the modulus's low limb is p - 1 + 1 without a carry");
    limbs[0] += 1;
    limbs
}

/// `-p^-1 mod 2^16` from the modulus's lowest limb (Newton's iteration for the inverse).
fn negated_inverse<F: PrimeField<Repr = [u8; 32]>>() -> u32 {
    let minus_one = (-F::ONE).to_repr();
    let low = u32::from(u16::from_le_bytes([minus_one[0], minus_one[1]])) + 1;
    let mut inverse: u32 = 1;
    for _ in 0..5 {
        inverse = inverse.wrapping_mul(2u32.wrapping_sub(low.wrapping_mul(inverse))) & 0xffff;
    }
    (0x1_0000 - inverse) & 0xffff
}

/// `-p^-1 mod 2^32` from the modulus's lowest word (Newton's iteration for the inverse).
fn negated_inverse_32(low: u32) -> u32 {
    let mut inverse: u32 = 1;
    for _ in 0..6 {
        inverse = inverse.wrapping_mul(2u32.wrapping_sub(low.wrapping_mul(inverse)));
    }
    inverse.wrapping_neg()
}

/// How the field core is written (the same arithmetic either way; see `shaders/field.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldForm {
    /// The product loops over its sixteen rows, each row written out; everything else written
    /// out without loops. Every limb stays in a register (no indexing by a variable, so no
    /// bounds checks either), and products with the modulus's zero limbs are left out. Quickest
    /// to compile (7 s on an H200, 3 s on lavapipe), as fast as the product's rows written out
    /// too (four times the compile time; tried, not kept) and as [`FieldForm::Packed`] on the
    /// H200; slower there than [`FieldForm::Lazy13`] from 2^14 terms (BENCHMARKS.md).
    Rows,
    /// A field element held as its eight 32-bit words (half the registers), the product taking
    /// its 16-bit limbs out of them as it goes, two rows per word of `a` in a loop. For GPUs with
    /// fewer registers per thread than the H200 (not measured yet).
    Packed,
    /// Twenty 13-bit limbs, Montgomery radix 2^260: the product adds limb products into its
    /// columns without carrying and carries once at the end (short dependency chains, the
    /// layout of the fastest WebGPU MSMs). The default ([`FieldForm::DEFAULT`]): on an H200 the
    /// full-width MSM of 2^14 to 2^18 terms and the IPA's collapse of 2^14 to 2^18 generators
    /// take 0.5 to 0.65 and about 0.5 of [`FieldForm::Rows`]' time, the rest the same within
    /// noise (BENCHMARKS.md, 2026-12-04).
    Lazy13,
    /// The eight 32-bit words of [`FieldForm::Packed`], the product over 64-bit integers: a
    /// product of two words is one instruction where the GPU has one (eight rows of eight word
    /// products instead of sixteen of sixteen limb products). Only on adapters with 64-bit
    /// integers in shaders (`wgpu::Features::SHADER_INT64`; [`crate::GpuContext::open_with`]
    /// refuses it elsewhere).
    Int64,
}

impl FieldForm {
    /// The form [`crate::GpuContext::open`] uses.
    pub const DEFAULT: FieldForm = FieldForm::Lazy13;

    /// Every form.
    pub const ALL: [FieldForm; 4] = [FieldForm::Rows, FieldForm::Packed, FieldForm::Lazy13, FieldForm::Int64];

    /// Whether kernels in this form can run on an adapter with `features`.
    pub fn runs_with(self, features: wgpu::Features) -> bool {
        self != FieldForm::Int64 || features.contains(wgpu::Features::SHADER_INT64)
    }

    /// u32 values in the working form of one field element.
    fn working_len(self) -> usize {
        match self {
            Self::Rows => 16,
            Self::Packed | Self::Int64 => 8,
            Self::Lazy13 => LAZY_LIMBS,
        }
    }

    /// Bits per value of the working form.
    fn working_bits(self) -> u32 {
        match self {
            Self::Rows => 16,
            Self::Packed | Self::Int64 => 32,
            Self::Lazy13 => LAZY_BITS,
        }
    }

    /// log2 of the Montgomery radix R the kernels compute with.
    pub(crate) fn radix_bits(self) -> u64 {
        match self {
            Self::Rows | Self::Packed | Self::Int64 => 256,
            Self::Lazy13 => u64::from(LAZY_BITS) * LAZY_LIMBS as u64,
        }
    }
}

/// `count` limbs of `bits` bits each of a little-endian integer.
fn split_limbs(bytes: &[u8; 32], bits: u32, count: usize) -> Vec<u32> {
    (0..count as u32)
        .map(|k| {
            (0..bits).fold(0u32, |limb, b| {
                let bit = k * bits + b;
                let set = bit < 256 && (bytes[(bit / 8) as usize] >> (bit % 8)) & 1 == 1;
                limb | (u32::from(set) << b)
            })
        })
        .collect()
}

/// The modulus as little-endian bytes: those of `p - 1` with one added (p is 1 mod 2^32 for
/// both pasta fields, so nothing carries; checked).
fn modulus_bytes<F: PrimeField<Repr = [u8; 32]>>() -> [u8; 32] {
    let mut bytes = (-F::ONE).to_repr();
    assert_eq!(bytes[0], 0, "p - 1 ends in a zero byte");
    bytes[0] = 1;
    bytes
}

impl std::str::FromStr for FieldForm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rows" => Ok(Self::Rows),
            "packed" => Ok(Self::Packed),
            "lazy13" => Ok(Self::Lazy13),
            "int64" => Ok(Self::Int64),
            other => Err(format!("unknown field form `{other}` (expected rows, packed, lazy13 or int64)")),
        }
    }
}

impl std::fmt::Display for FieldForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Rows => "rows",
            Self::Packed => "packed",
            Self::Int64 => "int64",
            Self::Lazy13 => "lazy13",
        })
    }
}

fn field_source<F: PrimeField<Repr = [u8; 32]>>(form: FieldForm) -> String {
    let r = F::from(2).pow_vartime([form.radix_bits()]);
    let modulus = modulus_limbs::<F>();
    let core = match form {
        FieldForm::Rows => limbs_core(&modulus, negated_inverse::<F>()),
        FieldForm::Packed => packed_core(&modulus, negated_inverse::<F>()),
        FieldForm::Int64 => {
            let words: [u32; 8] = std::array::from_fn(|i| modulus[2 * i] | (modulus[2 * i + 1] << 16));
            int64_core(&words, negated_inverse_32(words[0]))
        }
        FieldForm::Lazy13 => {
            let limbs = split_limbs(&modulus_bytes::<F>(), LAZY_BITS, LAZY_LIMBS);
            let limbs: [u32; LAZY_LIMBS] = std::array::from_fn(|i| limbs[i]);
            // p = 1 mod 2^13, so -p^-1 = -1 mod 2^13.
            assert_eq!(limbs[0], 1, "the lazy form's reduction factor assumes p = 1 mod 2^13");
            lazy_core(&limbs, (1 << LAZY_BITS) - 1)
        }
    };
    FIELD
        .replace("{{CORE}}", &core)
        .replace("{{FE_LEN}}", &form.working_len().to_string())
        .replace("{{MODULUS}}", &bytes_literal(&modulus_bytes::<F>(), form))
        .replace("{{R2}}", &working_literal(r.square(), form))
        .replace("{{MONT_ONE}}", &working_literal(r, form))
        .replace("{{NEG_INV}}", &negated_inverse::<F>().to_string())
}

/// Fq arithmetic and Vesta's group law, followed by `kernels`.
fn with_curve(form: FieldForm, kernels: &str) -> String {
    let r = Fq::from(2).pow_vartime([form.radix_bits()]);
    let b3 = Fq::from(15) * r;
    let zeta = <Fq as ff::WithSmallOrderMulGroup<3>>::ZETA * r;
    let curve =
        CURVE.replace("{{MONT_B3}}", &working_literal(b3, form)).replace("{{MONT_ZETA}}", &working_literal(zeta, form));
    format!("{}\n{curve}\n{kernels}", field_source::<Fq>(form))
}

/// Fq arithmetic, Vesta's group law and the MSM kernels.
pub(crate) fn curve_source(form: FieldForm) -> String {
    with_curve(form, MSM)
}

/// Fq arithmetic, Vesta's group law and the kernel that tests them.
pub(crate) fn curve_test_source(form: FieldForm) -> String {
    with_curve(form, CURVE_TEST)
}

/// Fq arithmetic, Vesta's group law and the IPA's generator collapse.
pub(crate) fn fold_source(form: FieldForm) -> String {
    with_curve(form, FOLD)
}

/// Fp arithmetic and the FFT kernels.
pub(crate) fn fft_source(form: FieldForm) -> String {
    format!("{}\n{FFT}", field_source::<Fp>(form))
}

/// Fp arithmetic and the numerator program's interpreter.
pub(crate) fn numerator_source(form: FieldForm) -> String {
    let numerator = NUMERATOR.replace("{{STACK_DEPTH}}", &crate::numerator::STACK_DEPTH.to_string());
    format!("{}\n{numerator}", field_source::<Fp>(form))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn negated_inverse_is_the_montgomery_factor() {
        // p = 1 mod 2^16 for both fields, so -p^-1 = -1.
        assert_eq!(negated_inverse::<Fp>(), 0xffff);
        assert_eq!(negated_inverse::<Fq>(), 0xffff);
        // Likewise mod 2^32; and for other odd words, p * p^-1 = 1.
        assert_eq!(negated_inverse_32(1), u32::MAX);
        for low in [3u32, 0x992d_30ed, u32::MAX] {
            assert_eq!(low.wrapping_mul(negated_inverse_32(low)), u32::MAX, "{low:#x}");
        }
    }

    #[test]
    fn sources_have_no_placeholder_left() {
        for form in FieldForm::ALL {
            assert!(!curve_source(form).contains("{{"));
            assert!(!fft_source(form).contains("{{"));
            assert!(!curve_test_source(form).contains("{{"));
            assert!(!fold_source(form).contains("{{"));
            assert!(!numerator_source(form).contains("{{"));
        }
    }

    #[test]
    fn limbs_split_and_the_modulus_literals_agree() {
        let bytes = modulus_bytes::<Fp>();
        let sixteen = split_limbs(&bytes, 16, 16);
        assert_eq!(sixteen, modulus_limbs::<Fp>());
        // 13-bit limbs put back together give the same integer.
        let thirteen = split_limbs(&bytes, 13, 20);
        let mut back = [0u8; 32];
        for (k, limb) in thirteen.iter().enumerate() {
            for b in 0..13 {
                let bit = k * 13 + b;
                if (limb >> b) & 1 == 1 {
                    back[bit / 8] |= 1 << (bit % 8);
                }
            }
        }
        assert_eq!(back, bytes);
    }

    #[test]
    fn field_forms_parse_and_print() {
        for form in FieldForm::ALL {
            assert_eq!(form.to_string().parse::<FieldForm>(), Ok(form));
        }
        assert!("fast".parse::<FieldForm>().is_err());
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod validation {
    #[test]
    fn sources_validate() {
        for (name, source) in super::FieldForm::ALL.into_iter().flat_map(|form| {
            [
                ("curve", super::curve_source(form)),
                ("fft", super::fft_source(form)),
                ("curve test", super::curve_test_source(form)),
                ("fold", super::fold_source(form)),
                ("numerator", super::numerator_source(form)),
            ]
        }) {
            let module = wgpu::naga::front::wgsl::parse_str(&source)
                .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
            wgpu::naga::valid::Validator::new(
                wgpu::naga::valid::ValidationFlags::all(),
                wgpu::naga::valid::Capabilities::all(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
        }
    }
}
