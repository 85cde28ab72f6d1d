//! Up to eight MSMs over the same few bases at once, one per lane (the blinding rows of eight
//! columns: the same last rows' generators and `w`, each column its own random scalars).
//!
//! Straus' method with signed 4-bit digits: each base's multiples `1..8` are computed once for
//! every lane (affine, so the additions are mixed ones); then, from the top window down, every
//! lane doubles four times and adds, for each base, the multiple its digit selects (negated for
//! a negative digit, nothing for zero), in Jacobian coordinates over `Fq` (Montgomery form).
//! An addition of a point to itself or to its negation gives the eight MSMs back to the scalar
//! code ([`super::curve`]).

use ff::Field;
use group::Curve;
use halo2_proofs::pasta::{Eq, EqAffine, Fp, Fq};

use super::curve::{self, Jacobian};
use super::field::{self, Consts, LANES, LIMBS, Vector};

/// Bits per digit.
const DIGIT_BITS: u32 = 4;
/// Digits per scalar: the scalars have 255 bits, and the top digit takes the last carry.
const DIGITS: usize = 64;
/// Multiples of each base in its table: the digits' magnitudes, `1..=8`.
const MULTIPLES: usize = 1 << (DIGIT_BITS - 1);

/// A table point's coordinates (Montgomery form): x, y, then -y.
type TablePoint = [[u64; LIMBS]; 3];

/// `Σ_i sets[l][i] · bases[i]` for each lane `l` (at most eight sets, each as long as `bases`);
/// `None` where a base is the identity or an addition met equal x coordinates.
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn msm_shared_bases(sets: &[&[Fp]], bases: &[EqAffine]) -> Option<Vec<Eq>> {
    assert!(
        sets.len() <= LANES && sets.iter().all(|s| s.len() == bases.len()),
        "up to eight sets, one scalar per base"
    );
    let c = Consts::new::<Fq>();
    // Each base's multiples 1..=8, affine (a base at the identity has no coordinates: `None`).
    let mut multiples: Vec<Eq> = Vec::with_capacity(bases.len() * MULTIPLES);
    for base in bases {
        let mut m = Eq::from(*base);
        for _ in 0..MULTIPLES {
            multiples.push(m);
            m += base;
        }
    }
    let mut affine = vec![EqAffine::default(); multiples.len()];
    Eq::batch_normalize(&multiples, &mut affine);
    let mut table: Vec<TablePoint> = Vec::with_capacity(affine.len());
    for point in &affine {
        table.push(curve::affine_limbs(point)?);
    }
    // Digits, lane by lane: digits[l][i · DIGITS + w].
    let mut digits = vec![[0i32; LANES]; bases.len() * DIGITS];
    for (l, set) in sets.iter().enumerate() {
        let mut scalar_digits = [0i32; DIGITS];
        for (i, s) in set.iter().enumerate() {
            crate::msm::batch_affine::signed_digits(s, DIGIT_BITS, &mut scalar_digits);
            for (w, d) in scalar_digits.iter().enumerate() {
                digits[i * DIGITS + w][l] = *d;
            }
        }
    }
    let one = field::splat(field::constant(Fq::ONE));
    let mut acc = Jacobian { x: one, y: one, z: one };
    // The lanes whose sum holds a point so far.
    let mut acc_lanes = 0u8;
    for w in (0..DIGITS).rev() {
        if acc_lanes != 0 {
            for _ in 0..DIGIT_BITS {
                acc = curve::double(&c, &acc);
            }
        }
        for i in 0..bases.len() {
            let d = &digits[i * DIGITS + w];
            let mut present = 0u8;
            let mut x = [[0u64; LIMBS]; LANES];
            let mut y = [[0u64; LIMBS]; LANES];
            for l in 0..LANES {
                if d[l] != 0 {
                    present |= 1 << l;
                    let point = &table[i * MULTIPLES + d[l].unsigned_abs() as usize - 1];
                    x[l] = point[0];
                    y[l] = if d[l] < 0 { point[2] } else { point[1] };
                }
            }
            if present == 0 {
                continue;
            }
            let (x, y): (Vector, Vector) = (field::load(&field::transpose(&x)), field::load(&field::transpose(&y)));
            let adding = present & acc_lanes;
            if adding != 0 {
                acc = acc.blend(adding, &curve::add_affine(&c, &acc, &x, &y, adding)?);
            }
            acc = acc.blend(present & !acc_lanes, &Jacobian { x, y, z: one });
            acc_lanes |= present;
        }
    }
    Some(acc.into_points(acc_lanes)?[..sets.len()].to_vec())
}
