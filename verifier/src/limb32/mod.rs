//! Whether a multi-scalar multiplication over Vesta is the identity, with field arithmetic on
//! 32-bit limbs: the verifier's final check on WebAssembly, where pasta_curves' 64-bit limbs
//! cost a call per product (see [`field`]). Pippenger's bucket method with signed windows of
//! `ln(n)` bits, the buckets filled with batched affine additions ([`batch`]); halo2's
//! `best_multiexp` gives the answer it must give (tests: random and edge inputs, the Jacobian
//! bucket method beside it, and whole verifications against the stock path).

mod batch;
mod field;
mod point;

use ff::PrimeField;
use group::Group;
use halo2_proofs::arithmetic::{Coordinates, CurveAffine, best_multiexp};
use halo2_proofs::pasta::{EqAffine, Fp};

use batch::BucketLists;
use field::Fq;
use point::{Affine, Jacobian};

/// Bits of a scalar (`Fp` is below 2^255).
const SCALAR_BITS: usize = 255;

/// Below this many terms, windows of [`SMALL_WINDOW`] bits.
const SMALL_MSM: usize = 32;
const SMALL_WINDOW: usize = 3;
/// The widest window [`digit`] reads (three bytes from any bit offset).
const MAX_WINDOW: usize = 16;

/// `Σ scalars[i]·bases[i] == identity`.
pub(crate) fn is_identity(scalars: &[Fp], bases: &[EqAffine]) -> bool {
    let mut terms = Vec::with_capacity(scalars.len());
    for (s, p) in scalars.iter().zip(bases) {
        match affine(p) {
            Converted::Point(p) => terms.push((s.to_repr(), p)),
            Converted::Identity => {}
            // pasta's coordinates are always canonical; were one not, pasta's sum decides.
            Converted::Unreadable => return bool::from(best_multiexp(scalars, bases).is_identity()),
        }
    }
    pippenger(&terms).is_identity()
}

/// Whether `(x, y)` (canonical little-endian bytes) is a point of Vesta; false for a
/// non-canonical coordinate.
pub(crate) fn is_curve_point(x: &[u8; 32], y: &[u8; 32]) -> bool {
    Affine::from_canonical(x, y).is_some()
}

/// A pasta point in our coordinates.
enum Converted {
    Point(Affine),
    Identity,
    Unreadable,
}

fn affine(p: &EqAffine) -> Converted {
    let Some(c): Option<Coordinates<EqAffine>> = p.coordinates().into() else { return Converted::Identity };
    match (Fq::from_canonical(&c.x().to_repr()), Fq::from_canonical(&c.y().to_repr())) {
        (Some(x), Some(y)) => Converted::Point(Affine { x, y }),
        _ => Converted::Unreadable,
    }
}

fn window_bits(n: usize) -> usize {
    if n < SMALL_MSM { SMALL_WINDOW } else { ((n as f64).ln().ceil() as usize).min(MAX_WINDOW) }
}

/// Negative digits name a point with this bit set in a bucket list.
const NEGATED: u32 = 1 << 31;

/// The `bits`-bit digit of a little-endian scalar at bit `at`.
fn digit(scalar: &[u8; 32], at: usize, bits: usize) -> u32 {
    let byte = at / 8;
    let mut word = 0u32;
    for i in 0..3 {
        if let Some(&b) = scalar.get(byte + i) {
            word |= u32::from(b) << (8 * i);
        }
    }
    (word >> (at % 8)) & ((1 << bits) - 1)
}

/// The scalar in signed `c`-bit digits, least significant first: `Σ d_w·2^(c·w)` with
/// `|d_w| <= 2^(c-1)`, so that half as many buckets are needed (a negative digit adds `-P`).
/// `windows` covers 256 bits: the carry out of the top digit of a 255-bit scalar fits.
fn signed_digits(scalar: &[u8; 32], c: usize, windows: usize) -> Vec<i32> {
    let half = 1i32 << (c - 1);
    let mut carry = 0;
    (0..windows)
        .map(|w| {
            let raw = if w * c < SCALAR_BITS { digit(scalar, w * c, c) as i32 } else { 0 };
            let d = raw + carry;
            carry = i32::from(d > half);
            d - (carry << c)
        })
        .collect()
}

/// Pippenger's bucket method: the buckets of every window filled with batched affine
/// additions ([`batch`]), then summed per window with Jacobian arithmetic.
fn pippenger(terms: &[([u8; 32], Affine)]) -> Jacobian {
    if terms.len() >= u32::MAX as usize / 2 {
        return pippenger_jacobian(terms);
    }
    let c = window_bits(terms.len());
    let windows = (SCALAR_BITS + 1).div_ceil(c);
    let per_window = 1 << (c - 1);
    let digits: Vec<Vec<i32>> = terms.iter().map(|(s, _)| signed_digits(s, c, windows)).collect();
    // Bucket `w * per_window + |d| - 1` of window `w` gets point `i` (negated for `d < 0`).
    let lists = BucketLists::new(windows * per_window, || {
        digits.iter().enumerate().flat_map(move |(i, ds)| {
            ds.iter().enumerate().filter(|(_, d)| **d != 0).map(move |(w, &d)| {
                let entry = i as u32 | if d < 0 { NEGATED } else { 0 };
                (w * per_window + d.unsigned_abs() as usize - 1, entry)
            })
        })
    });
    let point = |entry: u32| {
        let p = terms[(entry & !NEGATED) as usize].1;
        if entry & NEGATED == 0 { p } else { Affine { x: p.x, y: Fq::ZERO.sub(&p.y) } }
    };
    let mut buckets = vec![None; windows * per_window];
    if !batch::accumulate(&mut buckets, &lists, point) {
        return pippenger_jacobian(terms);
    }
    let mut acc = Jacobian::IDENTITY;
    for window in buckets.chunks(per_window).rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        acc = acc.add(&window_sum(window));
    }
    acc
}

/// `Σ d·bucket[d]` over one window's buckets, as running sums from the top. A call per window
/// (never inlined) for the reason [`batch`]'s rounds are.
#[inline(never)]
fn window_sum(buckets: &[batch::Bucket]) -> Jacobian {
    let (mut running, mut sum) = (Jacobian::IDENTITY, Jacobian::IDENTITY);
    for bucket in buckets.iter().rev() {
        if let Some(p) = bucket {
            running = running.add_affine(p);
        }
        sum = sum.add(&running);
    }
    sum
}

/// The same with Jacobian buckets and mixed additions: the reference the batched method is
/// tested against, and its fallback.
fn pippenger_jacobian(terms: &[([u8; 32], Affine)]) -> Jacobian {
    let c = window_bits(terms.len());
    let windows = (SCALAR_BITS + 1).div_ceil(c);
    let digits: Vec<Vec<i32>> = terms.iter().map(|(s, _)| signed_digits(s, c, windows)).collect();
    let negated: Vec<Affine> = terms.iter().map(|(_, p)| Affine { x: p.x, y: Fq::ZERO.sub(&p.y) }).collect();
    let mut acc = Jacobian::IDENTITY;
    let mut buckets = vec![Jacobian::IDENTITY; 1 << (c - 1)];
    for w in (0..windows).rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        buckets.iter_mut().for_each(|b| *b = Jacobian::IDENTITY);
        for (i, (_, point)) in terms.iter().enumerate() {
            let d = digits[i][w];
            if d > 0 {
                let b = &mut buckets[d as usize - 1];
                *b = b.add_affine(point);
            } else if d < 0 {
                let b = &mut buckets[(-d) as usize - 1];
                *b = b.add_affine(&negated[i]);
            }
        }
        // Σ d·bucket[d] as running sums from the top.
        let (mut running, mut sum) = (Jacobian::IDENTITY, Jacobian::IDENTITY);
        for bucket in buckets.iter().rev() {
            running = running.add(bucket);
            sum = sum.add(&running);
        }
        acc = acc.add(&sum);
    }
    acc
}

#[cfg(test)]
mod tests {
    use ff::Field;
    use group::{Curve, Group};
    use halo2_proofs::pasta::Eq;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    /// Whether the sum is the identity by both bucket methods (which must agree).
    fn both_methods(scalars: &[Fp], bases: &[EqAffine]) -> bool {
        let terms: Vec<([u8; 32], Affine)> = scalars
            .iter()
            .zip(bases)
            .filter_map(|(s, p)| match affine(p) {
                Converted::Point(p) => Some((s.to_repr(), p)),
                _ => None,
            })
            .collect();
        let batched = pippenger(&terms).is_identity();
        assert_eq!(batched, pippenger_jacobian(&terms).is_identity(), "the two bucket methods differ");
        assert_eq!(batched, is_identity(scalars, bases));
        batched
    }

    /// Our verdict and pasta's on `Σ s·P` and on `Σ s·P - (pasta's sum)` (always the identity).
    fn check(scalars: &[Fp], bases: &[EqAffine]) {
        let sum = best_multiexp(scalars, bases);
        assert_eq!(both_methods(scalars, bases), bool::from(sum.is_identity()), "{} terms", scalars.len());
        let mut s = scalars.to_vec();
        let mut b = bases.to_vec();
        s.push(-Fp::ONE);
        b.push(sum.to_affine());
        assert!(both_methods(&s, &b), "Σ s·P - (pasta's Σ s·P) is not the identity ({} terms)", scalars.len());
        // And a sum off by one generator never is.
        s.push(Fp::ONE);
        b.push(Eq::generator().to_affine());
        assert!(!both_methods(&s, &b));
    }

    fn random_points(rng: &mut StdRng, n: usize) -> Vec<EqAffine> {
        (0..n).map(|_| Eq::random(&mut *rng).to_affine()).collect()
    }

    #[test]
    fn signed_digits_recompose_the_scalar() {
        let mut rng = StdRng::seed_from_u64(13);
        let scalars = [Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::from(u64::MAX), Fp::random(&mut rng), Fp::random(&mut rng)];
        for s in scalars {
            for c in [3, 7, 8, 9, 12] {
                let windows = (SCALAR_BITS + 1).div_ceil(c);
                let digits = signed_digits(&s.to_repr(), c, windows);
                assert!(digits.iter().all(|d| d.abs() <= 1 << (c - 1)), "c = {c}: {digits:?}");
                let back = digits.iter().rev().fold(Fp::ZERO, |acc, &d| {
                    let d = if d < 0 { -Fp::from(u64::from(d.unsigned_abs())) } else { Fp::from(d as u64) };
                    acc * Fp::from(1u64 << c) + d
                });
                assert_eq!(back, s, "c = {c}");
            }
        }
    }

    #[test]
    fn random_sums_of_every_size_class() {
        let mut rng = StdRng::seed_from_u64(11);
        for n in [1, 2, 3, 31, 32, 33, 100, 1000, 2100] {
            let scalars: Vec<Fp> = (0..n).map(|_| Fp::random(&mut rng)).collect();
            check(&scalars, &random_points(&mut rng, n));
        }
    }

    #[test]
    fn edge_scalars_and_points() {
        let mut rng = StdRng::seed_from_u64(12);
        let p = random_points(&mut rng, 4);
        let g = Eq::generator().to_affine();
        let minus_g = (-Eq::generator()).to_affine();
        let cases: Vec<(Vec<Fp>, Vec<EqAffine>)> = vec![
            // zero and extreme scalars
            (vec![Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::from(2)], p.clone()),
            // the same point in one bucket (doubling inside the mixed addition)
            (vec![Fp::from(5); 40], vec![g; 40]),
            // opposite points in one bucket (identity inside the mixed addition)
            (vec![Fp::from(7), Fp::from(7)], vec![g, minus_g]),
            (
                (0..40).map(|i| Fp::from(3 + (i % 2))).collect(),
                (0..40).map(|i| if i % 2 == 0 { g } else { minus_g }).collect(),
            ),
            // a bucket that cancels and is filled again, and one that doubles and adds
            (vec![Fp::from(7); 3], vec![g, minus_g, g]),
            (vec![Fp::from(6); 3], vec![p[1], p[1], p[1]]),
            (vec![Fp::from(6); 5], vec![p[1], p[1], minus_g, g, p[1]]),
            // identity points are skipped
            (vec![Fp::from(9), Fp::from(4)], vec![Eq::identity().to_affine(), g]),
            (vec![Fp::from(9)], vec![Eq::identity().to_affine()]),
            (vec![], vec![]),
            // a sum that is the identity: s·P + (p - s)·P
            (vec![Fp::from(123_456), -Fp::from(123_456)], vec![p[0], p[0]]),
        ];
        for (scalars, bases) in cases {
            check(&scalars, &bases);
        }
    }
}
