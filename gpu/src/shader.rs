//! The WGSL sources, with each field's constants computed from `ff` (nothing typed by hand).

use ff::{Field, PrimeField};
use halo2_proofs::pasta::{Fp, Fq};

const FIELD: &str = include_str!("shaders/field.wgsl");
const CURVE: &str = include_str!("shaders/curve.wgsl");
const MSM: &str = include_str!("shaders/msm.wgsl");
const FFT: &str = include_str!("shaders/fft.wgsl");
const CURVE_TEST: &str = include_str!("shaders/curve_test.wgsl");

/// The sixteen 16-bit limbs of a canonical field element, as a WGSL array literal's items.
fn limbs_literal<F: PrimeField<Repr = [u8; 32]>>(value: F) -> String {
    let repr = value.to_repr();
    (0..16).map(|i| format!("{}u", u16::from_le_bytes([repr[2 * i], repr[2 * i + 1]]))).collect::<Vec<_>>().join(", ")
}

/// The modulus's limbs: those of `p - 1` with one added to the lowest (p is 1 mod 2^32 for
/// both pasta fields, so nothing carries; checked).
fn modulus_literal<F: PrimeField<Repr = [u8; 32]>>() -> String {
    let minus_one = (-F::ONE).to_repr();
    let mut limbs: Vec<u16> = (0..16).map(|i| u16::from_le_bytes([minus_one[2 * i], minus_one[2 * i + 1]])).collect();
    assert!(limbs[0] < u16::MAX, "the modulus's low limb is p - 1 + 1 without a carry");
    limbs[0] += 1;
    limbs.iter().map(|l| format!("{l}u")).collect::<Vec<_>>().join(", ")
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

fn field_source<F: PrimeField<Repr = [u8; 32]>>() -> String {
    let r = F::from(2).pow_vartime([256]);
    FIELD
        .replace("{{MODULUS}}", &modulus_literal::<F>())
        .replace("{{R2}}", &limbs_literal(r.square()))
        .replace("{{MONT_ONE}}", &limbs_literal(r))
        .replace("{{NEG_INV}}", &negated_inverse::<F>().to_string())
}

/// Fq arithmetic, Vesta's group law and the MSM kernels.
pub(crate) fn curve_source() -> String {
    let r = Fq::from(2).pow_vartime([256]);
    let b3 = Fq::from(15) * r;
    let curve = CURVE.replace("{{MONT_B3}}", &limbs_literal(b3));
    format!("{}\n{curve}\n{MSM}", field_source::<Fq>())
}

/// Fq arithmetic, Vesta's group law and the kernel that tests them.
pub(crate) fn curve_test_source() -> String {
    let r = Fq::from(2).pow_vartime([256]);
    let b3 = Fq::from(15) * r;
    let curve = CURVE.replace("{{MONT_B3}}", &limbs_literal(b3));
    format!("{}\n{curve}\n{CURVE_TEST}", field_source::<Fq>())
}

/// Fp arithmetic and the FFT kernels.
pub(crate) fn fft_source() -> String {
    format!("{}\n{FFT}", field_source::<Fp>())
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
    }

    #[test]
    fn sources_have_no_placeholder_left() {
        assert!(!curve_source().contains("{{"));
        assert!(!fft_source().contains("{{"));
        assert!(!curve_test_source().contains("{{"));
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod validation {
    #[test]
    fn sources_validate() {
        for (name, source) in
            [("curve", super::curve_source()), ("fft", super::fft_source()), ("curve test", super::curve_test_source())]
        {
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
