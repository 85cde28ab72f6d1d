//! Combinations with the same scalars for every output, by one shared-doubling (Straus) ladder
//! over GLV-split scalars: `out[i] = base[i] + Σ_t scalars[t] · terms[t][i]`.
//!
//! The IPA's generator collapse folds two rounds at once with it
//! (`g[i] + u₁·g[i + q] + u₀·g[i + 2q] + u₀u₁·g[i + 3q]`): one ladder of about 127 doublings per
//! output for three terms, where folding the rounds one at a time costs one such ladder per
//! term and per round.
//!
//! - **GLV.** Vesta's endomorphism `φ(x, y) = (ζ·x, y)` is multiplication by `λ = ζ` in the
//!   scalar field, so `k·P = k₁·P + k₂·φ(P)` with `k = k₁ + k₂·λ` and `|k₁|, |k₂| < 2^127`
//!   ([`decompose`], Babai rounding against pasta_curves' short lattice basis; every split is
//!   checked against `k` before use).
//! - **wNAF.** Each half is recoded into signed odd digits of width 4 ([`wnaf`]), so each point
//!   needs the table `{1, 3, 5, 7}·P` and the same for `φ(P)`.
//! - **Straus.** All terms of an output share the doublings: per digit position, one doubling
//!   and the additions of the digits that are not zero. Every output has the same digits, so
//!   on processors with AVX-512 IFMA eight outputs run the ladder in lockstep
//!   ([`crate::avx512`]).

use ff::{PrimeField, WithSmallOrderMulGroup};
use group::{Curve, Group};
use halo2_proofs::arithmetic::CurveExt;
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use pasta_curves::glv::GlvParams;
use rayon::prelude::*;

/// Digits of a wNAF of a magnitude below `2^127`: at most one more than its bits.
const MAX_DIGITS: usize = 128;

/// The width of the signed digits: odd digits in `(-2^(W-1), 2^(W-1))`.
const WNAF_WIDTH: u32 = 4;

/// Odd multiples in each point's table: `1, 3, ..., 2^(W-1) - 1`.
const TABLE_LEN: usize = 1 << (WNAF_WIDTH - 2);

/// Outputs that share one batched normalization of their tables and of their results.
const CHUNK: usize = 256;

/// A scalar in signed odd digits, lowest position first, for `k₁` and `k₂` of its GLV split.
#[derive(Clone, Debug)]
struct Recoded {
    digits: [[i8; MAX_DIGITS]; 2],
    len: usize,
}

impl Recoded {
    /// Splits `k` ([`decompose`]) and recodes both halves ([`wnaf`]).
    fn new(k: &Fp) -> Option<Self> {
        let [(neg1, k1), (neg2, k2)] = decompose(k)?;
        let (d1, len1) = wnaf(k1, neg1);
        let (d2, len2) = wnaf(k2, neg2);
        Some(Self { digits: [d1, d2], len: len1.max(len2) })
    }
}

/// `a · b` over little-endian limbs, `a.len() + b.len()` limbs long.
fn multiply<const N: usize>(a: &[u64], b: &[u64]) -> [u64; N] {
    debug_assert_eq!(a.len() + b.len(), N);
    let mut out = [0u64; N];
    for (i, &x) in a.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &y) in b.iter().enumerate() {
            let t = u128::from(out[i + j]) + u128::from(x) * u128::from(y) + carry;
            out[i + j] = t as u64;
            carry = t >> 64;
        }
        out[i + b.len()] = carry as u64;
    }
    out
}

/// `round(g · k / 2^384)` (Babai's rounding coefficient); fits 128 bits for pasta's constants.
fn round_shift(g: &[u64; 5], k: &[u64; 4]) -> u128 {
    let p: [u64; 9] = multiply(g, k);
    let round = p[5] >> 63;
    (u128::from(p[6]) | (u128::from(p[7]) << 64)).wrapping_add(u128::from(round))
}

/// `a · b` as 256 bits.
fn wide(a: u128, b: u128) -> [u64; 4] {
    multiply(&[a as u64, (a >> 64) as u64], &[b as u64, (b >> 64) as u64])
}

/// `a - b` modulo `2^256` (two's complement).
fn subtract(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(u64::from(borrow));
        out[i] = d;
        borrow = b1 || b2;
    }
    out
}

/// A two's-complement 256-bit value as its sign and magnitude, or `None` when the magnitude
/// does not fit 127 bits.
fn signed(x: [u64; 4]) -> Option<(bool, u128)> {
    let negative = x[3] >> 63 == 1;
    let extension = if negative { u64::MAX } else { 0 };
    let low = u128::from(x[0]) | (u128::from(x[1]) << 64);
    let magnitude = if negative { (!low).wrapping_add(1) } else { low };
    (x[2] == extension && x[3] == extension && magnitude >> 127 == 0).then_some((negative, magnitude))
}

/// The field element `±magnitude`.
fn field(negative: bool, magnitude: u128) -> Fp {
    let v = Fp::from_u128(magnitude);
    if negative { -v } else { v }
}

/// `k = k₁ + k₂·λ` (`λ` = `Fp::ZETA`) with `|k₁|, |k₂| < 2^127`, each as (negative, magnitude);
/// `None` if the split does not give back `k` or a half is too wide (never for pasta's
/// constants, which the tests check; a wrong split must not reach a proof).
pub fn decompose(k: &Fp) -> Option<[(bool, u128); 2]> {
    let kl = crate::limbs(k);
    let c1 = round_shift(&<Eq as GlvParams>::G1, &kl);
    let c2 = round_shift(&<Eq as GlvParams>::G2, &kl);
    let k1 = subtract(subtract(kl, wide(c1, <Eq as GlvParams>::V1A)), wide(c2, <Eq as GlvParams>::V2A));
    let k2 = subtract(wide(c1, <Eq as GlvParams>::V1B_NEG), wide(c2, <Eq as GlvParams>::V2B));
    let halves = signed(k1).zip(signed(k2));
    let (h1, h2) = halves.filter(|&((n1, m1), (n2, m2))| field(n1, m1) + field(n2, m2) * Fp::ZETA == *k)?;
    Some([h1, h2])
}

/// The width-4 signed digits of `±magnitude`, lowest position first, and how many
/// positions they take.
pub fn wnaf(magnitude: u128, negative: bool) -> ([i8; MAX_DIGITS], usize) {
    let mut digits = [0i8; MAX_DIGITS];
    let (mut k, mut len) = (magnitude, 0usize);
    let window = 1i16 << WNAF_WIDTH;
    while k != 0 {
        if k & 1 == 1 {
            let low = (k % window as u128) as i16;
            let d = if low >= window / 2 { low - window } else { low };
            digits[len] = if negative { -d as i8 } else { d as i8 };
            k = if d >= 0 { k - d as u128 } else { k + d.unsigned_abs() as u128 };
        }
        len += 1;
        k >>= 1;
    }
    (digits, len)
}

/// `out[i] = base[i] + Σ_t scalars[t] · terms[t][i]` for every `i`; false, with `out` untouched,
/// if a scalar has no GLV split (see [`decompose`]).
///
/// # Panics
/// If the slices' lengths differ.
#[must_use]
pub fn combine_same_scalars(base: &[EqAffine], terms: &[&[EqAffine]], scalars: &[Fp], out: &mut [EqAffine]) -> bool {
    assert_eq!(terms.len(), scalars.len(), "one scalar per term");
    assert!(terms.iter().all(|t| t.len() == base.len()) && out.len() == base.len(), "one point per output and term");
    let Some(recoded) = scalars.iter().map(Recoded::new).collect::<Option<Vec<Recoded>>>() else {
        return false;
    };
    let positions = recoded.iter().map(|r| r.len).max().unwrap_or(0);
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
        let start = c * CHUNK;
        let len = out.len();
        // Per term and output: 1P, 3P, 5P, 7P, then φ of each, normalized together.
        let mut window = Vec::with_capacity(terms.len() * len * 2 * TABLE_LEN);
        for term in terms {
            for p in &term[start..start + len] {
                let p = Eq::from(*p);
                let twice = p.double();
                let mut odd = [p; TABLE_LEN];
                for m in 1..TABLE_LEN {
                    odd[m] = odd[m - 1] + twice;
                }
                window.extend_from_slice(&odd);
                window.extend(odd.iter().map(|q| q.endo()));
            }
        }
        let mut tables = vec![EqAffine::default(); window.len()];
        Eq::batch_normalize(&window, &mut tables);
        let ladder = |i: usize| -> Eq {
            let mut acc = Eq::identity();
            for position in (0..positions).rev() {
                acc = acc.double();
                for (t, r) in recoded.iter().enumerate() {
                    let table = &tables[(t * len + i) * 2 * TABLE_LEN..][..2 * TABLE_LEN];
                    for (half, digits) in r.digits.iter().enumerate() {
                        let d = digits[position];
                        if d != 0 {
                            let point = table[half * TABLE_LEN + usize::from(d.unsigned_abs() / 2)];
                            acc += if d < 0 { -point } else { point };
                        }
                    }
                }
            }
            acc + base[start + i]
        };
        let mut sums: Vec<Eq> = Vec::with_capacity(len);
        // Eight outputs at a time on the vector code where it runs, the rest one by one.
        #[cfg(target_arch = "x86_64")]
        {
            let rows: Vec<[&[i8]; 2]> = recoded.iter().map(|r| [&r.digits[0][..], &r.digits[1][..]]).collect();
            let lanes = crate::avx512::LADDER_LANES;
            while sums.len() + lanes <= len {
                let first = sums.len();
                match crate::avx512::combine_ladder(&tables, len, first, TABLE_LEN, &rows, positions) {
                    Some(lane_sums) => sums.extend(lane_sums.iter().zip(&base[start + first..]).map(|(s, b)| s + b)),
                    None => sums.extend((first..first + lanes).map(ladder)),
                }
            }
        }
        let done = sums.len();
        sums.extend((done..len).map(ladder));
        Eq::batch_normalize(&sums, out);
    });
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ff::Field;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn edge_scalars(rng: &mut StdRng) -> Vec<Fp> {
        let mut s = vec![Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::ZETA, -Fp::ZETA, Fp::from_u128(u128::MAX), Fp::DELTA];
        s.extend((0..200).map(|_| Fp::random(&mut *rng)));
        s.extend((0..20).map(|i| Fp::from(2).pow_vartime([i * 13])));
        s
    }

    #[test]
    fn splits_give_the_scalar_back_with_short_halves() {
        let mut rng = StdRng::seed_from_u64(5);
        for k in edge_scalars(&mut rng) {
            let [(n1, m1), (n2, m2)] = decompose(&k).unwrap();
            assert!(m1 >> 127 == 0 && m2 >> 127 == 0, "{k:?}");
            assert_eq!(field(n1, m1) + field(n2, m2) * Fp::ZETA, k);
        }
    }

    #[test]
    fn the_endomorphism_is_multiplication_by_zeta() {
        let p = Eq::random(&mut StdRng::seed_from_u64(6));
        assert_eq!(p.endo(), p * Fp::ZETA);
    }

    #[test]
    fn wnaf_digits_are_odd_and_recompose() {
        let mut rng = StdRng::seed_from_u64(7);
        for k in edge_scalars(&mut rng) {
            for (negative, magnitude) in decompose(&k).unwrap() {
                let (digits, len) = wnaf(magnitude, negative);
                assert!(digits.iter().all(|d| *d == 0 || (d % 2 != 0 && d.abs() < 8)));
                assert!(digits[len..].iter().all(|d| *d == 0));
                let back = digits[..len].iter().rev().fold(Fp::ZERO, |acc, &d| {
                    acc.double() + if d < 0 { -Fp::from(u64::from(d.unsigned_abs())) } else { Fp::from(d as u64) }
                });
                assert_eq!(back, field(negative, magnitude));
            }
        }
    }

    #[test]
    fn equal_terms_add_up_by_doubling() {
        // Two terms with the same points and scalars: the ladder adds a point to itself (the
        // vector code hands such outputs back to the scalar code).
        let mut rng = StdRng::seed_from_u64(9);
        let n = 19;
        let base: Vec<EqAffine> = (0..n).map(|_| Eq::random(&mut rng).to_affine()).collect();
        let points: Vec<EqAffine> = (0..n).map(|_| Eq::random(&mut rng).to_affine()).collect();
        for scalars in [[Fp::from(3), Fp::from(3)], [Fp::ONE, -Fp::ONE]] {
            let mut out = vec![EqAffine::default(); n];
            assert!(combine_same_scalars(&base, &[&points, &points], &scalars, &mut out));
            for i in 0..n {
                let expected = Eq::from(base[i]) + points[i] * (scalars[0] + scalars[1]);
                assert_eq!(out[i], expected.to_affine(), "output {i}");
            }
        }
    }

    #[test]
    fn combinations_equal_the_naive_sums() {
        let mut rng = StdRng::seed_from_u64(8);
        let n = CHUNK + 37;
        let mut points: Vec<EqAffine> = (0..4 * n).map(|_| Eq::random(&mut rng).to_affine()).collect();
        // The identity, repeated points and a point and its negation among the inputs.
        points[3] = EqAffine::default();
        points[n + 5] = EqAffine::default();
        points[2 * n + 7] = points[7];
        points[3 * n + 9] = -points[n + 9];
        let (base, rest) = points.split_at(n);
        let terms: Vec<&[EqAffine]> = rest.chunks(n).collect();
        for scalars in [
            vec![Fp::random(&mut rng), Fp::random(&mut rng), Fp::random(&mut rng)],
            vec![Fp::ZERO, -Fp::ONE, Fp::ZETA],
            vec![Fp::random(&mut rng)],
            vec![],
        ] {
            let terms = &terms[..scalars.len()];
            let mut out = vec![EqAffine::default(); n];
            assert!(combine_same_scalars(base, terms, &scalars, &mut out));
            for i in 0..n {
                let expected = terms.iter().zip(&scalars).fold(Eq::from(base[i]), |acc, (t, s)| acc + t[i] * s);
                assert_eq!(out[i], expected.to_affine(), "output {i}, {} terms", scalars.len());
            }
        }
    }
}
