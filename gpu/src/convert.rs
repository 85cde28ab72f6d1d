//! Field elements and points to and from the words the kernels read: canonical integers, eight
//! little-endian u32 words per field element (the kernels convert to Montgomery form on the
//! device), sixteen per affine point (x then y; pasta's identity is (0, 0)).

use ff::{Field, PrimeField};
use group::Group;
use halo2_proofs::arithmetic::{CurveAffine, CurveExt};
use halo2_proofs::pasta::{Eq, EqAffine, Fp, Fq};
use rayon::prelude::*;

use crate::GpuError;

/// u32 words per field element.
pub const FIELD_WORDS: usize = 8;
/// u32 words per affine point.
pub const AFFINE_WORDS: usize = 2 * FIELD_WORDS;
/// u32 words per projective point.
pub const PROJECTIVE_WORDS: usize = 3 * FIELD_WORDS;

/// Below this many items a conversion runs on one thread.
const PARALLEL_MIN: usize = 1 << 12;

fn write_field<F: PrimeField<Repr = [u8; 32]>>(value: &F, out: &mut [u32]) {
    let repr = value.to_repr();
    for (word, bytes) in out.iter_mut().zip(repr.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
}

fn read_field<F: PrimeField<Repr = [u8; 32]>>(words: &[u32]) -> Result<F, GpuError> {
    let mut repr = [0u8; 32];
    for (bytes, word) in repr.chunks_exact_mut(4).zip(words) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
    Option::from(F::from_repr(repr)).ok_or(GpuError::BadResult("a field element is not below the modulus"))
}

/// Scalars (or FFT values) as words.
pub fn scalars_to_words(values: &[Fp]) -> Vec<u32> {
    let mut words = vec![0u32; values.len() * FIELD_WORDS];
    if values.len() < PARALLEL_MIN {
        words.chunks_exact_mut(FIELD_WORDS).zip(values).for_each(|(w, v)| write_field(v, w));
    } else {
        words.par_chunks_exact_mut(FIELD_WORDS).zip(values).for_each(|(w, v)| write_field(v, w));
    }
    words
}

/// The inverse of [`scalars_to_words`], refusing a value that is not canonical.
pub fn words_to_scalars(words: &[u32], out: &mut [Fp]) -> Result<(), GpuError> {
    let convert = |(o, w): (&mut Fp, &[u32])| -> Result<(), GpuError> {
        *o = read_field(w)?;
        Ok(())
    };
    if out.len() < PARALLEL_MIN {
        out.iter_mut().zip(words.chunks_exact(FIELD_WORDS)).try_for_each(convert)
    } else {
        out.par_iter_mut().zip(words.par_chunks_exact(FIELD_WORDS)).try_for_each(convert)
    }
}

fn write_point(point: &EqAffine, out: &mut [u32]) {
    // The identity has no coordinates; its words stay (0, 0).
    if let Some(c) = Option::from(point.coordinates()) {
        let c: halo2_proofs::arithmetic::Coordinates<EqAffine> = c;
        write_field(c.x(), &mut out[..FIELD_WORDS]);
        write_field(c.y(), &mut out[FIELD_WORDS..]);
    }
}

/// Affine points as words of their coordinates in Montgomery form (`x · 2^radix_bits mod q`,
/// as the kernels compute with; the MSM loads them without a conversion on the device).
pub fn points_to_montgomery_words(points: &[EqAffine], radix_bits: u64) -> Vec<u32> {
    let r = Fq::from(2).pow_vartime([radix_bits]);
    let write = |(out, point): (&mut [u32], &EqAffine)| {
        if let Some(c) = Option::from(point.coordinates()) {
            let c: halo2_proofs::arithmetic::Coordinates<EqAffine> = c;
            write_field(&(*c.x() * r), &mut out[..FIELD_WORDS]);
            write_field(&(*c.y() * r), &mut out[FIELD_WORDS..]);
        }
    };
    let mut words = vec![0u32; points.len() * AFFINE_WORDS];
    if points.len() < PARALLEL_MIN {
        words.chunks_exact_mut(AFFINE_WORDS).zip(points).for_each(write);
    } else {
        words.par_chunks_exact_mut(AFFINE_WORDS).zip(points).for_each(write);
    }
    words
}

/// Affine points as words.
pub fn points_to_words(points: &[EqAffine]) -> Vec<u32> {
    let mut words = vec![0u32; points.len() * AFFINE_WORDS];
    if points.len() < PARALLEL_MIN {
        words.chunks_exact_mut(AFFINE_WORDS).zip(points).for_each(|(w, p)| write_point(p, w));
    } else {
        words.par_chunks_exact_mut(AFFINE_WORDS).zip(points).for_each(|(w, p)| write_point(p, w));
    }
    words
}

/// A point from homogeneous projective words `(X : Y : Z)` (x = X/Z, y = Y/Z), refusing one
/// that is not on the curve. pasta keeps Jacobian coordinates (x = X'/Z'^2, y = Y'/Z'^3), and
/// `(X Z, Y Z^2, Z)` is the same point in them.
pub fn words_to_projective(words: &[u32]) -> Result<Eq, GpuError> {
    let x: Fq = read_field(&words[..FIELD_WORDS])?;
    let y: Fq = read_field(&words[FIELD_WORDS..2 * FIELD_WORDS])?;
    let z: Fq = read_field(&words[2 * FIELD_WORDS..PROJECTIVE_WORDS])?;
    if bool::from(ff::Field::is_zero(&z)) {
        return Ok(Eq::identity());
    }
    Option::from(Eq::new_jacobian(x * z, y * z.square(), z)).ok_or(GpuError::BadResult("a point is not on the curve"))
}

/// An Fq element from its words.
pub fn words_to_fq(words: &[u32]) -> Result<Fq, GpuError> {
    read_field(words)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use group::Curve;

    #[test]
    fn a_point_off_the_curve_is_refused() {
        let mut words = vec![0u32; PROJECTIVE_WORDS];
        words[..AFFINE_WORDS].copy_from_slice(&points_to_words(&[Eq::generator().to_affine()]));
        words[2 * FIELD_WORDS] = 1;
        assert!(words_to_projective(&words).is_ok());
        words[FIELD_WORDS] ^= 1;
        assert!(matches!(words_to_projective(&words), Err(GpuError::BadResult(_))));
    }

    #[test]
    fn montgomery_words_are_the_coordinates_times_r() {
        let p = (Eq::generator() * Fp::from(7)).to_affine();
        let c: halo2_proofs::arithmetic::Coordinates<EqAffine> = p.coordinates().unwrap();
        let words = points_to_montgomery_words(&[p, Eq::identity().to_affine()], 256);
        let r_inverse = Fq::from(2).pow_vartime([256]).invert().unwrap();
        assert_eq!(read_field::<Fq>(&words[..8]).unwrap() * r_inverse, *c.x());
        assert_eq!(read_field::<Fq>(&words[8..16]).unwrap() * r_inverse, *c.y());
        // The identity stays (0, 0).
        assert!(words[AFFINE_WORDS..].iter().all(|&w| w == 0));
    }

    #[test]
    fn projective_words_give_the_point() {
        // (X : Y : Z) = (2x : 2y : 2)
        let p = (Eq::generator() * Fp::from(5)).to_affine();
        let c: halo2_proofs::arithmetic::Coordinates<EqAffine> = p.coordinates().unwrap();
        let two = Fq::from(2);
        let mut words = vec![0u32; PROJECTIVE_WORDS];
        write_field(&(*c.x() * two), &mut words[..8]);
        write_field(&(*c.y() * two), &mut words[8..16]);
        write_field(&two, &mut words[16..]);
        assert_eq!(words_to_projective(&words).unwrap().to_affine(), p);
    }
}
