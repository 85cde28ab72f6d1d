//! Eight elements of a Pasta field (`Fp` or `Fq`) at once: five 52-bit limbs per element, one
//! AVX-512 vector per limb, the products by AVX-512 IFMA (`vpmadd52luq` / `vpmadd52huq`,
//! 52 × 52-bit multiply-adds).
//!
//! A product [`mul`] is Montgomery's with the radix `R = 2^260`: `mul(x, y) = x · y · 2^-260`.
//! Callers keep their values in one of two forms:
//! - canonical integers, multiplied only by constants kept as `w · 2^260` ([`constant`]), so that
//!   `mul(x, W) = x · w` (the FFT);
//! - Montgomery form `x · 2^260` throughout (the MSM, the collapse's ladder, the numerator), where
//!   `mul` of two values is their product's form; [`constant`] converts into it, and a product
//!   with the plain integer 1 converts out.
//!
//! Sums and differences do not care about the form. Every function returns canonical values
//! with normalized limbs (each below `2^52`), which is what the next product needs: IFMA reads
//! only the low 52 bits of its operands. The `_unreduced` sums leave the value above `p` (each
//! adds at most `2p`) for a chain of them that a product or [`reduce`] ends.

use std::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_cmpeq_epi64_mask, _mm512_cmpneq_epi64_mask,
    _mm512_madd52hi_epu64, _mm512_madd52lo_epu64, _mm512_mask_blend_epi64, _mm512_or_si512, _mm512_set1_epi64,
    _mm512_setzero_si512, _mm512_slli_epi64, _mm512_srli_epi64, _mm512_sub_epi64,
};

use ff::{Field, PrimeField};
use halo2_proofs::pasta::{Fp, Fq};

/// Limbs per element.
pub const LIMBS: usize = 5;
/// Elements per vector.
pub const LANES: usize = 8;
/// Bits per limb.
const LIMB_BITS: u32 = 52;
/// The low [`LIMB_BITS`] bits.
const LIMB_MASK: u64 = (1 << LIMB_BITS) - 1;

/// The bit of `p`'s top limb that `2^254` is: both Pasta moduli are `2^254 + r` with `r`
/// below `2^128`, so their 52-bit limbs are `r`'s three, a zero, and `2^TOP_BIT`
/// ([`Modulus`] checks it). The product's reduction and [`reduce`] rely on it.
const TOP_BIT: u32 = 254 - (LIMBS as u32 - 1) * LIMB_BITS;
/// The Montgomery radix's exponent: `R = 2^(LIMBS · LIMB_BITS)`.
const RADIX_BITS: u64 = LIMBS as u64 * LIMB_BITS as u64;

/// Eight field elements, limb-major: `limbs[j]` holds limb `j` of each lane.
pub type Vector = [__m512i; LIMBS];

/// Eight field elements as plain integers, limb-major (the same layout as [`Vector`], for the
/// scalar side of conversions).
pub type Lanes = [[u64; LANES]; LIMBS];

/// What the vector arithmetic needs of a field: its modulus `p` (below `2^255`) in 52-bit
/// limbs, `2p` with borrowed limbs and the Montgomery factor.
#[derive(Clone, Copy, Debug)]
pub struct Modulus {
    limbs: [u64; LIMBS],
    /// `2p` with every limb but the top one raised by borrowing from the next, so that each
    /// limb is at least `2^52 - 1`: subtracting a value below `p` from it limb by limb never
    /// goes negative.
    twice_borrowed: [u64; LIMBS],
    /// `-p^-1 mod 2^52`.
    neg_inv: u64,
}

impl Modulus {
    /// From `p`'s 64-bit limbs.
    const fn new(p: [u64; 4]) -> Self {
        let limbs = split(p);
        let twice = split(double(p));
        let base = 1u64 << LIMB_BITS;
        // Newton's iteration doubles the correct low bits of p's inverse each step: 6 steps
        // give 64.
        let mut inv: u64 = 1;
        let mut step = 0;
        while step < 6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(p[0].wrapping_mul(inv)));
            step += 1;
        }
        // `mul` and `reduce` rely on the shape `p = 2^254 + r`, `r` below `2^128` ([`TOP_BIT`]).
        assert!(
            limbs[4] == 1 << TOP_BIT && limbs[3] == 0 && limbs[2] >> (128 - 2 * LIMB_BITS) == 0,
            "p = 2^254 + r with r below 2^128"
        );
        Self {
            limbs,
            twice_borrowed: [
                twice[0] + base,
                twice[1] + base - 1,
                twice[2] + base - 1,
                twice[3] + base - 1,
                twice[4] - 1,
            ],
            neg_inv: inv.wrapping_neg() & LIMB_MASK,
        }
    }
}

/// A field the vector arithmetic runs (the Pasta fields).
pub trait VectorField: PrimeField<Repr = [u8; 32]> {
    /// The field's modulus.
    const VECTOR_MODULUS: Modulus;
    /// The Montgomery radix `2^260` in the field.
    fn radix() -> Self;
}

impl VectorField for Fp {
    const VECTOR_MODULUS: Modulus = Modulus::new([0x992d30ed00000001, 0x224698fc094cf91b, 0, 0x4000000000000000]);
    fn radix() -> Self {
        static RADIX: std::sync::LazyLock<Fp> = std::sync::LazyLock::new(|| Fp::from(2).pow_vartime([RADIX_BITS]));
        *RADIX
    }
}

impl VectorField for Fq {
    const VECTOR_MODULUS: Modulus = Modulus::new([0x8c46eb2100000001, 0x224698fc0994a8dd, 0, 0x4000000000000000]);
    fn radix() -> Self {
        static RADIX: std::sync::LazyLock<Fq> = std::sync::LazyLock::new(|| Fq::from(2).pow_vartime([RADIX_BITS]));
        *RADIX
    }
}

/// `2x` for `x` below `2^255` (64-bit limbs).
const fn double(l: [u64; 4]) -> [u64; 4] {
    [l[0] << 1, (l[1] << 1) | (l[0] >> 63), (l[2] << 1) | (l[1] >> 63), (l[3] << 1) | (l[2] >> 63)]
}

/// [`split`] on eight elements at once: `words[k]` holds word `k` of every lane's element.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn split_lanes(words: &[__m512i; 4]) -> Vector {
    let mask = _mm512_set1_epi64(LIMB_MASK as i64);
    [
        _mm512_and_si512(words[0], mask),
        _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64::<52>(words[0]), _mm512_slli_epi64::<12>(words[1])), mask),
        _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64::<40>(words[1]), _mm512_slli_epi64::<24>(words[2])), mask),
        _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64::<28>(words[2]), _mm512_slli_epi64::<36>(words[3])), mask),
        _mm512_srli_epi64::<16>(words[3]),
    ]
}

/// [`join`] on eight elements at once (canonical values, normalized limbs).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn join_lanes(v: &Vector) -> [__m512i; 4] {
    [
        _mm512_or_si512(v[0], _mm512_slli_epi64::<52>(v[1])),
        _mm512_or_si512(_mm512_srli_epi64::<12>(v[1]), _mm512_slli_epi64::<40>(v[2])),
        _mm512_or_si512(_mm512_srli_epi64::<24>(v[2]), _mm512_slli_epi64::<28>(v[3])),
        _mm512_or_si512(_mm512_srli_epi64::<36>(v[3]), _mm512_slli_epi64::<16>(v[4])),
    ]
}

/// Canonical 64-bit limbs to 52-bit limbs.
pub const fn split(l: [u64; 4]) -> [u64; LIMBS] {
    [
        l[0] & LIMB_MASK,
        ((l[0] >> 52) | (l[1] << 12)) & LIMB_MASK,
        ((l[1] >> 40) | (l[2] << 24)) & LIMB_MASK,
        ((l[2] >> 28) | (l[3] << 36)) & LIMB_MASK,
        l[3] >> 16,
    ]
}

/// 52-bit limbs (normalized, value below `2^256`) to 64-bit limbs.
pub const fn join(d: [u64; LIMBS]) -> [u64; 4] {
    [d[0] | (d[1] << 52), (d[1] >> 12) | (d[2] << 40), (d[2] >> 24) | (d[3] << 28), (d[3] >> 36) | (d[4] << 16)]
}

/// A field element's canonical value in 52-bit limbs.
pub fn to_limbs<F: VectorField>(v: &F) -> [u64; LIMBS] {
    let repr = v.to_repr();
    split(std::array::from_fn(|i| {
        u64::from_le_bytes(repr[8 * i..8 * i + 8].try_into().unwrap_or_else(|_| unreachable!("8 bytes")))
    }))
}

/// The field element with these canonical 52-bit limbs. `None` if they are not below `p`.
pub fn from_limbs<F: VectorField>(d: [u64; LIMBS]) -> Option<F> {
    let mut repr = [0u8; 32];
    for (bytes, limb) in repr.chunks_exact_mut(8).zip(join(d)) {
        bytes.copy_from_slice(&limb.to_le_bytes());
    }
    F::from_repr(repr).into()
}

/// A factor as [`mul`] wants it, its Montgomery form: `w · 2^260`, in 52-bit limbs.
pub fn constant<F: VectorField>(w: F) -> [u64; LIMBS] {
    to_limbs(&(w * F::radix()))
}

/// Eight elements' limbs (element by element) as lanes (limb by limb).
pub fn transpose(elements: &[[u64; LIMBS]; LANES]) -> Lanes {
    let mut lanes = [[0u64; LANES]; LIMBS];
    for (l, element) in elements.iter().enumerate() {
        for (lane, limb) in lanes.iter_mut().zip(element) {
            lane[l] = *limb;
        }
    }
    lanes
}

/// Lane `l`'s limbs.
pub fn lane(lanes: &Lanes, l: usize) -> [u64; LIMBS] {
    let mut limbs = [0u64; LIMBS];
    for (limb, lane) in limbs.iter_mut().zip(lanes) {
        *limb = lane[l];
    }
    limbs
}

/// The same value in every lane.
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn splat(limbs: [u64; LIMBS]) -> Vector {
    let mut v = [_mm512_setzero_si512(); LIMBS];
    for j in 0..LIMBS {
        v[j] = _mm512_set1_epi64(limbs[j] as i64);
    }
    v
}

/// Scalar lanes to a vector.
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn load(lanes: &Lanes) -> Vector {
    lanes.map(bytemuck::cast)
}

/// A vector to scalar lanes.
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn store(v: &Vector) -> Lanes {
    v.map(bytemuck::cast)
}

/// One field's modulus and the masks the arithmetic needs, in registers.
#[derive(Clone, Copy, Debug)]
pub struct Consts {
    modulus: Vector,
    twice_modulus_borrowed: Vector,
    neg_inv: __m512i,
    mask: __m512i,
    /// The bits of a limb that `2^TOP_BIT` moves within its limb.
    top_low_mask: __m512i,
    zero: __m512i,
}

impl Consts {
    /// The constants of `F`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub fn new<F: VectorField>() -> Self {
        let m = F::VECTOR_MODULUS;
        Self {
            modulus: splat(m.limbs),
            twice_modulus_borrowed: splat(m.twice_borrowed),
            neg_inv: _mm512_set1_epi64(m.neg_inv as i64),
            mask: _mm512_set1_epi64(LIMB_MASK as i64),
            top_low_mask: _mm512_set1_epi64((1 << (LIMB_BITS - TOP_BIT)) - 1),
            zero: _mm512_setzero_si512(),
        }
    }
}

/// `x · y · 2^-260 mod p`, canonical, for `x` below `2^260` and `y` below `p`, both with
/// normalized limbs: operand scanning, one Montgomery step per limb of `y`, then the carries
/// and one conditional subtraction.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn mul(c: &Consts, x: &Vector, y: &Vector) -> Vector {
    // Each column collects at most four 52-bit halves per round on top of the carry in: it
    // stays below 2^57, so the 64-bit lanes never wrap.
    let mut t = [c.zero; LIMBS + 1];
    for yi in y {
        for j in 0..LIMBS {
            t[j] = _mm512_madd52lo_epu64(t[j], x[j], *yi);
            t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], x[j], *yi);
        }
        let m = _mm512_madd52lo_epu64(c.zero, t[0], c.neg_inv);
        // m · p by the modulus' shape ([`Modulus`]): limbs 0 to 2 by products, limb 3 is zero,
        // and limb 4 is 2^TOP_BIT, whose product is two shifts.
        for j in 0..LIMBS - 2 {
            t[j] = _mm512_madd52lo_epu64(t[j], m, c.modulus[j]);
            t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], m, c.modulus[j]);
        }
        let low_bits = _mm512_and_si512(m, c.top_low_mask);
        t[LIMBS - 1] = _mm512_add_epi64(t[LIMBS - 1], _mm512_slli_epi64::<TOP_BIT>(low_bits));
        t[LIMBS] = _mm512_add_epi64(t[LIMBS], _mm512_srli_epi64::<{ LIMB_BITS - TOP_BIT }>(m));
        // The low 52 bits of t[0] are zero now: shift one limb down.
        let carry = _mm512_srli_epi64::<LIMB_BITS>(t[0]);
        t = [_mm512_add_epi64(t[1], carry), t[2], t[3], t[4], t[5], c.zero];
    }
    // Below 2p: x · y < 2^260 · p and m · p < 2^260 · p.
    reduce_once(c, normalize(c, [t[0], t[1], t[2], t[3], t[4]]))
}

/// `x + y mod p`, for `x`, `y` below `p`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn add(c: &Consts, x: &Vector, y: &Vector) -> Vector {
    reduce_once(c, add_unreduced(c, x, y))
}

/// The lanes of `x` (normalized limbs) that are zero, one bit per lane.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn zero_lanes(c: &Consts, x: &Vector) -> u8 {
    let mut any = x[0];
    for limb in &x[1..] {
        any = _mm512_or_si512(any, *limb);
    }
    _mm512_cmpeq_epi64_mask(any, c.zero)
}

/// `y` in the lanes of `lanes`, `x` in the others.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn blend(lanes: u8, x: &Vector, y: &Vector) -> Vector {
    let mut out = *x;
    for j in 0..LIMBS {
        out[j] = _mm512_mask_blend_epi64(lanes, x[j], y[j]);
    }
    out
}

/// `x - y mod p`, for `x`, `y` below `p`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn sub(c: &Consts, x: &Vector, y: &Vector) -> Vector {
    difference_mod(c, x, y)
}

/// `x - y mod p` for `x - y` in `[-p, p)` (normalized limbs).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn difference_mod(c: &Consts, x: &Vector, y: &Vector) -> Vector {
    let (difference, borrow) = subtract(c, x, y);
    // Where x < y the difference wrapped (by 2^260): add p back and drop the carry out.
    let wrapped = _mm512_cmpneq_epi64_mask(borrow, c.zero);
    let mut corrected = difference;
    for j in 0..LIMBS {
        corrected[j] = _mm512_add_epi64(difference[j], c.modulus[j]);
    }
    blend(wrapped, &difference, &normalize(c, corrected))
}

/// `x + y` with normalized limbs, not reduced: below `2^260` for `x + y` below `2^260`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn add_unreduced(c: &Consts, x: &Vector, y: &Vector) -> Vector {
    let mut t = *x;
    for j in 0..LIMBS {
        t[j] = _mm512_add_epi64(x[j], y[j]);
    }
    normalize(c, t)
}

/// `x + 2p - y` with normalized limbs, not reduced, for `y` below `p`: below `2^260` for
/// `x + 2p` below `2^260`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn sub_unreduced(c: &Consts, x: &Vector, y: &Vector) -> Vector {
    let mut t = *x;
    for j in 0..LIMBS {
        t[j] = _mm512_sub_epi64(_mm512_add_epi64(x[j], c.twice_modulus_borrowed[j]), y[j]);
    }
    normalize(c, t)
}

/// Carries each limb's bits above 52 into the next.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn normalize(c: &Consts, t: Vector) -> Vector {
    let mut carry = c.zero;
    let mut out = t;
    for j in 0..LIMBS {
        let v = _mm512_add_epi64(t[j], carry);
        carry = _mm512_srli_epi64::<LIMB_BITS>(v);
        out[j] = _mm512_and_si512(v, c.mask);
    }
    out
}

/// `x - y` limb by limb with borrows (normalized limbs, modulo 2^260), and the final borrow
/// (1 where `x < y`).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn subtract(c: &Consts, x: &Vector, y: &Vector) -> (Vector, __m512i) {
    let mut borrow = c.zero;
    let mut difference = *x;
    for j in 0..LIMBS {
        let v = _mm512_sub_epi64(_mm512_sub_epi64(x[j], y[j]), borrow);
        borrow = _mm512_srli_epi64::<63>(v);
        difference[j] = _mm512_and_si512(v, c.mask);
    }
    (difference, borrow)
}

/// `x mod p` for `x` below `2^260` with normalized limbs, without a product: the quotient
/// estimate `q = floor(x / 2^254)` (at most 63) is `floor(x / p)` or one more, because
/// `p = 2^254 + r` with `r` below `2^128` ([`Modulus`]'s shape), so `x - q·p` is in `[-p, p)`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn reduce(c: &Consts, x: &Vector) -> Vector {
    let q = _mm512_srli_epi64::<TOP_BIT>(x[LIMBS - 1]);
    difference_mod(c, x, &normalize(c, plus_small_multiple(c, [c.zero; LIMBS], q)))
}

/// `acc + k · p` limb by limb, not normalized, for `k` below `2^6`: each high half is then
/// below `2^6`, and the top limb's product (`k · 2^TOP_BIT`) has none.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn plus_small_multiple(c: &Consts, mut acc: Vector, k: __m512i) -> Vector {
    for j in 0..LIMBS {
        acc[j] = _mm512_madd52lo_epu64(acc[j], k, c.modulus[j]);
        if j + 1 < LIMBS {
            acc[j + 1] = _mm512_madd52hi_epu64(acc[j + 1], k, c.modulus[j]);
        }
    }
    acc
}

/// Bits between the vector code's Montgomery radix (`2^260`) and pasta_curves' (`2^256`).
pub const RADIX_GAP: u32 = RADIX_BITS as u32 - 256;

/// `x · 2^RADIX_GAP mod p` for `x` below `p`: pasta_curves' Montgomery form (`x · 2^256`) to
/// the vector code's (`x · 2^260`), by a shift and [`reduce`].
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn scale_up(c: &Consts, x: &Vector) -> Vector {
    let mut shifted = *x;
    for j in 0..LIMBS {
        shifted[j] = _mm512_slli_epi64::<RADIX_GAP>(x[j]);
    }
    // Below 2^RADIX_GAP · p < 2^260.
    reduce(c, &normalize(c, shifted))
}

/// `x · 2^-RADIX_GAP mod p` for `x` below `p`: the vector code's Montgomery form to
/// pasta_curves'. Adding `k · p`, with `k = -x · p^-1 mod 2^RADIX_GAP`, makes `x` a multiple of
/// `2^RADIX_GAP` below `2^RADIX_GAP · p`, which a shift then divides: the result is canonical.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn scale_down(c: &Consts, x: &Vector) -> Vector {
    let k = _mm512_and_si512(_mm512_madd52lo_epu64(c.zero, x[0], c.neg_inv), _mm512_set1_epi64((1 << RADIX_GAP) - 1));
    let t = normalize(c, plus_small_multiple(c, *x, k));
    let mut out = t;
    for j in 0..LIMBS {
        let low = _mm512_srli_epi64::<RADIX_GAP>(t[j]);
        out[j] = if j + 1 < LIMBS {
            let high = _mm512_slli_epi64::<{ LIMB_BITS - RADIX_GAP }>(t[j + 1]);
            _mm512_or_si512(low, _mm512_and_si512(high, c.mask))
        } else {
            low
        };
    }
    out
}

/// `x mod p` for `x` below `2p`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn reduce_once(c: &Consts, x: Vector) -> Vector {
    let (reduced, borrow) = subtract(c, &x, &c.modulus);
    // A borrow means x < p: keep x.
    let below = _mm512_cmpneq_epi64_mask(borrow, c.zero);
    blend(below, &reduced, &x)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// Every operation on eight lanes against the scalar field's, for edge values and random
    /// ones.
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn check_lanes<F: VectorField>(values: &[F]) {
        let c = Consts::new::<F>();
        let lanes = |v: &[F]| -> Vector { load(&std::array::from_fn(|j| std::array::from_fn(|l| to_limbs(&v[l])[j]))) };
        let back = |v: &Vector| -> Vec<F> {
            let s = store(v);
            (0..LANES).map(|l| from_limbs::<F>(std::array::from_fn(|j| s[j][l])).unwrap()).collect()
        };
        for x in values.chunks_exact(LANES) {
            for y in values.chunks_exact(LANES) {
                let (vx, vy) = (lanes(x), lanes(y));
                let montgomery_y = load(&std::array::from_fn(|j| std::array::from_fn(|l| constant(y[l])[j])));
                let expect = |f: fn(F, F) -> F| -> Vec<F> { x.iter().zip(y).map(|(a, b)| f(*a, *b)).collect() };
                assert_eq!(back(&mul(&c, &vx, &montgomery_y)), expect(|a, b| a * b), "product");
                assert_eq!(back(&add(&c, &vx, &vy)), expect(|a, b| a + b), "sum");
                let gap = F::from(1 << RADIX_GAP);
                assert_eq!(back(&scale_up(&c, &vx)), expect(|a, _| a * F::from(1 << RADIX_GAP)), "scaled up");
                let gap_inverse = gap.invert().unwrap();
                assert_eq!(
                    back(&scale_down(&c, &vx)),
                    x.iter().map(|a| *a * gap_inverse).collect::<Vec<_>>(),
                    "scaled down"
                );
                let zeros = x.iter().enumerate().filter(|(_, v)| bool::from(v.is_zero())).map(|(l, _)| 1u8 << l);
                assert_eq!(zero_lanes(&c, &vx), zeros.sum::<u8>(), "the zero lanes");
                assert_eq!(
                    back(&blend(0b1010_0101, &vx, &vy)),
                    (0..LANES).map(|l| if 0b1010_0101u8 >> l & 1 == 1 { y[l] } else { x[l] }).collect::<Vec<_>>(),
                    "blend"
                );
                assert_eq!(back(&sub(&c, &vx, &vy)), expect(|a, b| a - b), "difference");
                let unreduced = sub_unreduced(&c, &add_unreduced(&c, &vx, &vy), &vy);
                assert_eq!(back(&reduce(&c, &unreduced)), x.to_vec(), "unreduced sum and difference");
            }
            // `x + q·p` for every quotient whose sum stays below 2^260 in all eight lanes (up
            // to 62 for any x, 63 for the small values).
            for q in 0..64u64 {
                let plus = |v: &F| -> Option<[u64; LIMBS]> {
                    let (mut limbs, mut carry) = (to_limbs(v), 0u64);
                    for (limb, p) in limbs.iter_mut().zip(F::VECTOR_MODULUS.limbs) {
                        let t = *limb + q * p + carry;
                        (*limb, carry) = (t & LIMB_MASK, t >> LIMB_BITS);
                    }
                    (carry == 0).then_some(limbs)
                };
                let Some(lanes) = x.iter().map(plus).collect::<Option<Vec<_>>>() else { continue };
                let vx = load(&std::array::from_fn(|j| std::array::from_fn(|l| lanes[l][j])));
                assert_eq!(back(&reduce(&c, &vx)), x.to_vec(), "x + {q}p");
            }
        }
    }

    fn edges_and_random<F: VectorField>(rng: &mut StdRng) -> Vec<F> {
        let mut values =
            vec![F::ZERO, F::ONE, -F::ONE, -F::from(2), F::from(1u64 << 52), F::from(u64::MAX), F::TWO_INV];
        values.extend((0..17).map(|_| F::random(&mut *rng)));
        // Eight small values: the largest quotient `reduce` meets (63) with them.
        values.extend((0..LANES as u64).map(F::from));
        values
    }

    #[test]
    fn the_moduli_are_the_fields() {
        fn check<F: VectorField>() {
            let p = F::VECTOR_MODULUS.limbs;
            assert!(from_limbs::<F>(p).is_none(), "p itself is not canonical");
            let mut below = p;
            below[0] -= 1;
            assert_eq!(from_limbs::<F>(below), Some(-F::ONE), "p - 1");
        }
        check::<Fp>();
        check::<Fq>();
    }

    #[test]
    fn lanes_equal_the_scalar_field() {
        if !crate::avx512::supported() {
            eprintln!("skipped: this CPU has no AVX-512 IFMA");
            return;
        }
        let rng = &mut StdRng::seed_from_u64(23);
        let (fp, fq) = (edges_and_random::<Fp>(rng), edges_and_random::<Fq>(rng));
        #[allow(unsafe_code)]
        // SAFETY: `supported()` found AVX-512F and AVX-512 IFMA.
        unsafe {
            check_lanes(&fp);
            check_lanes(&fq);
        }
    }
}
