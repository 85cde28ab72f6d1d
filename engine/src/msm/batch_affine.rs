//! Multi-scalar multiplication over full-width scalars (the grand products, the quotient's
//! pieces, the opening): Pippenger's buckets with signed digits, each bucket's points summed in
//! affine coordinates.
//!
//! Per window of `c` bits, the points are sorted by their digit into `2^(c-1)` buckets (a
//! negative digit adds the negated point). Each bucket's list is then halved round by round:
//! every round adds neighbouring pairs of every bucket at once, in affine coordinates, with one
//! field inversion for all of the round's pairs (Montgomery's trick). An affine addition then
//! costs about six multiplications against the eleven of a mixed Jacobian one, and signed
//! digits halve the buckets that the running-sum reduction visits. Windows run in parallel.
//!
//! On processors with AVX-512 IFMA the windows of MSMs from [`crate::avx512::MSM_MIN_TERMS`]
//! terms run their rounds eight pairs at a time ([`crate::avx512`]).
//!
//! The result is the same group element as halo2's `best_multiexp`, which the tests and the
//! engine's byte-identical proofs check.

use ff::Field;
use group::Group;
use halo2_proofs::arithmetic::CurveAffine;
use halo2_proofs::pasta::{Eq, EqAffine, Fp, Fq};
use rayon::prelude::*;

/// Bits of a scalar's canonical little-endian representation that windows cover (`Fp` has
/// 255; the top window must leave room for the signed recoding's last carry).
const SCALAR_BITS: u32 = 256;

/// Window widths tried.
pub const WINDOW_BITS: std::ops::RangeInclusive<u32> = 4..=20;

/// Cost, in field multiplications, of one affine addition in a round (with its share of the
/// batched inversion) and of one Jacobian addition in the buckets' running-sum reduction.
const AFFINE_ADD_COST: u64 = 6;
const JACOBIAN_ADD_COST: u64 = 12;

/// An affine point of `Eq` (Vesta); the identity is `(0, 0)`, which is not on the curve
/// `y² = x³ + 5` (5 is not a square in `Fq`), as in pasta_curves.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Point {
    x: Fq,
    y: Fq,
}

impl Point {
    fn is_identity(&self) -> bool {
        self.x.is_zero_vartime() && self.y.is_zero_vartime()
    }

    fn from_affine(p: &EqAffine) -> Self {
        Option::from(p.coordinates())
            .map_or(Self::default(), |c: halo2_proofs::arithmetic::Coordinates<EqAffine>| Self { x: *c.x(), y: *c.y() })
    }

    fn to_affine(self) -> EqAffine {
        if self.is_identity() {
            return EqAffine::default();
        }
        Option::from(EqAffine::from_xy(self.x, self.y))
            .unwrap_or_else(|| unreachable!("sums of curve points lie on the curve"))
    }

    fn neg(self) -> Self {
        Self { x: self.x, y: -self.y }
    }
}

/// The same cost of an affine addition on the vector code ([`crate::avx512`]), in scalar
/// multiplications: eight additions take six vector products, each about a third of eight
/// scalar ones, and the points' gathering and scattering about as much again.
const VECTOR_AFFINE_ADD_COST: u64 = 3;

/// The window width with the fewest field multiplications for `n` terms.
pub fn window_bits(n: usize) -> u32 {
    #[cfg(target_arch = "x86_64")]
    let affine = if crate::avx512::msm_runs(n) { VECTOR_AFFINE_ADD_COST } else { AFFINE_ADD_COST };
    #[cfg(not(target_arch = "x86_64"))]
    let affine = AFFINE_ADD_COST;
    let n = n as u64;
    let cost = |c: u32| u64::from(SCALAR_BITS.div_ceil(c)) * (affine * n + JACOBIAN_ADD_COST * (2u64 << (c - 1)));
    WINDOW_BITS.min_by_key(|&c| cost(c)).unwrap_or(*WINDOW_BITS.start())
}

/// `Σ scalars[i] · bases[i]`.
pub fn msm(scalars: &[Fp], bases: &[EqAffine]) -> Eq {
    assert_eq!(scalars.len(), bases.len(), "one scalar per base");
    msm_with_window(scalars, bases, window_bits(scalars.len()))
}

/// [`msm`] with windows of `c` bits (`4 ≤ c ≤ 20`).
pub fn msm_with_window(scalars: &[Fp], bases: &[EqAffine], c: u32) -> Eq {
    assert!(WINDOW_BITS.contains(&c), "window of {c} bits");
    assert_eq!(scalars.len(), bases.len(), "one scalar per base");
    let windows = SCALAR_BITS.div_ceil(c) as usize;
    // Terms at the identity add nothing: the rounds never see one from the bases.
    let (points, scalars): (Vec<Point>, Vec<Fp>) = bases
        .par_iter()
        .zip(scalars)
        .map(|(b, s)| (Point::from_affine(b), *s))
        .filter(|(p, _)| !p.is_identity())
        .unzip();
    let n = points.len();
    // Point-major digits: window w of point i at i·windows + w.
    let mut digits = vec![0i32; windows * n];
    digits.par_chunks_mut(windows).zip(&scalars).for_each(|(out, s)| signed_digits(s, c, out));
    combine_windows(&points, &digits, windows, c, 1 << (c - 1))
}

/// `Σ_w 2^(w·c) · (window w's sum)` over point-major digits (`windows` per point, magnitudes
/// at most `buckets`), each window's buckets summed by the vector rounds where they run
/// ([`crate::avx512`]), else by the scalar ones. Windows run in parallel.
fn combine_windows(points: &[Point], digits: &[i32], windows: usize, c: u32, buckets: usize) -> Eq {
    #[cfg(target_arch = "x86_64")]
    let vector_points = crate::avx512::msm_points(points.iter().map(|p| (p.x, p.y)));
    let sums: Vec<Eq> = (0..windows)
        .into_par_iter()
        .map(|w| {
            let window = digits.iter().skip(w).step_by(windows).copied();
            #[cfg(target_arch = "x86_64")]
            if let Some(sum) =
                vector_points.as_ref().and_then(|v| crate::avx512::msm_window_sum(window.clone(), v, buckets))
            {
                return sum;
            }
            window_sum(window, points, buckets)
        })
        .collect();
    let mut acc = Eq::identity();
    for sum in sums.iter().rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        acc += sum;
    }
    acc
}

/// [`crate::msm::small_msm`] with the windows' rounds on the vector code: unsigned windows over
/// the bits the values have, a negative value's point negated. `None` where the vector code
/// does not run ([`crate::avx512::msm_runs`]) or no value is non-zero.
pub fn small_msm_vector(values: &[i64], bases: &[EqAffine]) -> Option<Eq> {
    assert_eq!(values.len(), bases.len(), "one value per base");
    #[cfg(target_arch = "x86_64")]
    let runs = crate::avx512::msm_runs(values.len());
    #[cfg(not(target_arch = "x86_64"))]
    let runs = false;
    if !runs {
        return None;
    }
    let (points, values): (Vec<Point>, Vec<i64>) = bases
        .iter()
        .zip(values)
        .filter(|(_, v)| **v != 0)
        .map(|(b, v)| (Point::from_affine(b), *v))
        .filter(|(p, _)| !p.is_identity())
        .unzip();
    let max = values.iter().map(|v| v.unsigned_abs()).max()?;
    let bits = u64::BITS - max.leading_zeros();
    let n = points.len() as u64;
    // Per window: one affine addition per term, two Jacobian ones per bucket.
    let cost = |c: u32| u64::from(bits.div_ceil(c)) * (VECTOR_AFFINE_ADD_COST * n + JACOBIAN_ADD_COST * (2u64 << c));
    let c = (1..=bits.min(*WINDOW_BITS.end())).min_by_key(|&c| cost(c))?;
    let windows = bits.div_ceil(c) as usize;
    let mask = (1u64 << c) - 1;
    // Point-major digits; w·c < bits ≤ 64, so no shift overflows.
    let digits: Vec<i32> = values
        .iter()
        .flat_map(|&v| {
            (0..windows).map(move |w| {
                let d = ((v.unsigned_abs() >> (w as u32 * c)) & mask) as i32;
                if v < 0 { -d } else { d }
            })
        })
        .collect();
    Some(combine_windows(&points, &digits, windows, c, (1 << c) - 1))
}

/// The scalar's digits in base `2^c`, each in `(-2^(c-1), 2^(c-1)]`, lowest window first, one
/// per element of `out`.
pub(crate) fn signed_digits(scalar: &Fp, c: u32, out: &mut [i32]) {
    let windows = out.len();
    let limbs = crate::limbs(scalar);
    let bits = |start: u32| -> u64 {
        let (limb, shift) = ((start / 64) as usize, start % 64);
        let mut v = limbs.get(limb).map_or(0, |l| l >> shift);
        if shift + c > 64 && shift > 0 {
            v |= limbs.get(limb + 1).map_or(0, |l| l << (64 - shift));
        }
        v & ((1u64 << c) - 1)
    };
    let half = 1i64 << (c - 1);
    let mut carry = 0i64;
    for (w, digit) in out.iter_mut().enumerate() {
        let mut d = bits(w as u32 * c) as i64 + carry;
        carry = 0;
        if d > half && w + 1 < windows {
            d -= 1 << c;
            carry = 1;
        }
        *digit = d as i32;
    }
    debug_assert_eq!(carry, 0);
}

/// `Σ_d d · (the sum of the points whose digit is ±d)` for one window.
fn window_sum(digits: impl Iterator<Item = i32> + Clone, points: &[Point], buckets: usize) -> Eq {
    // Counting sort of the points by bucket (|digit| - 1), negated for negative digits.
    let mut start = vec![0usize; buckets + 1];
    for (d, _) in digits.clone().zip(points) {
        if d != 0 {
            start[d.unsigned_abs() as usize] += 1;
        }
    }
    for b in 0..buckets {
        start[b + 1] += start[b];
    }
    let mut len = vec![0usize; buckets];
    let mut sorted = vec![Point::default(); start[buckets]];
    for (d, p) in digits.zip(points) {
        if d != 0 {
            let b = d.unsigned_abs() as usize - 1;
            sorted[start[b] + len[b]] = if d < 0 { p.neg() } else { *p };
            len[b] += 1;
        }
    }
    reduce_buckets(&mut sorted, &start[..buckets], &mut len);
    // Σ_b (b + 1) · bucket[b] as a running sum from the top bucket down.
    let (mut running, mut sum) = (Eq::identity(), Eq::identity());
    for b in (0..buckets).rev() {
        if len[b] == 1 {
            running += sorted[start[b]].to_affine();
        }
        sum += running;
    }
    sum
}

/// Halves every bucket's list round by round until each holds at most one point: bucket `b`'s
/// points are `points[start[b]..start[b] + len[b]]`; its sum ends at `points[start[b]]` (or the
/// bucket is empty).
///
/// A round first assumes that no pair needs the slow path (equal x coordinates: a doubling, or a
/// point and its negation, whose sum is the identity); if the product of its denominators is
/// zero, it runs again with a check per pair. Once an identity is in the lists, every round checks.
fn reduce_buckets(points: &mut [Point], start: &[usize], len: &mut [usize]) {
    let mut inverses: Vec<Fq> = Vec::new();
    let mut prefix: Vec<Fq> = Vec::new();
    let mut careful = false;
    loop {
        inverses.clear();
        for (&s, &l) in start.iter().zip(len.iter()) {
            for pair in points[s..s + l].chunks_exact(2) {
                inverses.push(pair[1].x - pair[0].x);
            }
        }
        if inverses.is_empty() {
            return;
        }
        if careful || !batch_invert(&mut inverses, &mut prefix) {
            careful = true;
            // Denominators again, 1 in place of each slow-path pair's.
            inverses.clear();
            for (&s, &l) in start.iter().zip(len.iter()) {
                for pair in points[s..s + l].chunks_exact(2) {
                    let (a, b) = (pair[0], pair[1]);
                    let slow = a.is_identity() || b.is_identity() || a.x == b.x;
                    inverses.push(if slow { Fq::ONE } else { b.x - a.x });
                }
            }
            let invertible = batch_invert(&mut inverses, &mut prefix);
            debug_assert!(invertible);
        }
        let mut next = inverses.iter().copied();
        let mut inverse = || next.next().unwrap_or_else(|| unreachable!("one inverse per pair"));
        for (&s, l) in start.iter().zip(len.iter_mut()) {
            let pairs = *l / 2;
            let mut i = 0;
            // Two pairs at a time where the bucket has them (both read before either is written).
            while !careful && i + 1 < pairs {
                let (a, b) = (points[s + 2 * i], points[s + 2 * i + 1]);
                let (c, d) = (points[s + 2 * i + 2], points[s + 2 * i + 3]);
                let (first, second) = add_two([a, b, c, d], [inverse(), inverse()]);
                points[s + i] = first;
                points[s + i + 1] = second;
                i += 2;
            }
            for i in i..pairs {
                let (a, b) = (points[s + 2 * i], points[s + 2 * i + 1]);
                let inv = inverse();
                points[s + i] = if careful { add_checked(a, b, inv) } else { add(a, b, inv) };
            }
            if *l % 2 == 1 {
                points[s + pairs] = points[s + *l - 1];
            }
            *l = l.div_ceil(2);
        }
    }
}

/// `a + b` for points with different x coordinates, given `inv = 1 / (b.x - a.x)`.
fn add(a: Point, b: Point, inv: Fq) -> Point {
    let lambda = (b.y - a.y) * inv;
    let x = lambda.square() - a.x - b.x;
    let y = lambda * (a.x - x) - a.y;
    Point { x, y }
}

/// [`add`] of two independent pairs `p[0] + p[1]` and `p[2] + p[3]`, step by step side by side:
/// each sum is a chain of multiplications that wait for each other, and two chains in flight
/// keep the multiplier busier than one.
fn add_two(p: [Point; 4], inv: [Fq; 2]) -> (Point, Point) {
    let l0 = (p[1].y - p[0].y) * inv[0];
    let l1 = (p[3].y - p[2].y) * inv[1];
    let x0 = l0.square() - p[0].x - p[1].x;
    let x1 = l1.square() - p[2].x - p[3].x;
    let y0 = l0 * (p[0].x - x0) - p[0].y;
    let y1 = l1 * (p[2].x - x1) - p[2].y;
    (Point { x: x0, y: y0 }, Point { x: x1, y: y1 })
}

/// `a + b` for any points, given `inv = 1 / (b.x - a.x)` when their x coordinates differ.
fn add_checked(a: Point, b: Point, inv: Fq) -> Point {
    if a.is_identity() {
        b
    } else if b.is_identity() {
        a
    } else if a.x == b.x {
        // Doubling, or a point and its negation: rare; Jacobian arithmetic and one inversion.
        Point::from_affine(&(Eq::from(a.to_affine()) + b.to_affine()).into())
    } else {
        add(a, b, inv)
    }
}

/// Replaces each value by its inverse with one field inversion and returns true, or returns
/// false and leaves the values as they are when one of them is zero; `prefix` is scratch space.
///
/// Montgomery's trick over two interleaved chains (the values at even and at odd positions):
/// each chain's products depend on the one before, so one chain waits for every
/// multiplication's latency, while two chains keep two multiplications in flight.
fn batch_invert(values: &mut [Fq], prefix: &mut Vec<Fq>) -> bool {
    prefix.clear();
    let mut acc = [Fq::ONE; 2];
    let mut pairs = values.chunks_exact(2);
    for pair in &mut pairs {
        acc[0] *= pair[0];
        acc[1] *= pair[1];
        prefix.extend_from_slice(&acc);
    }
    if let [last] = pairs.remainder() {
        acc[0] *= last;
        prefix.push(acc[0]);
    }
    let Some(inv) = Option::<Fq>::from((acc[0] * acc[1]).invert()) else {
        return false;
    };
    // The inverse of each chain's product.
    let mut inv = [inv * acc[1], inv * acc[0]];
    for i in (0..values.len()).rev() {
        let chain = i & 1;
        // The chain's product before this value.
        let before = if i >= 2 { prefix[i - 2] } else { Fq::ONE };
        let v = values[i];
        values[i] = inv[chain] * before;
        inv[chain] *= v;
    }
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use group::Curve;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn naive(scalars: &[Fp], bases: &[EqAffine]) -> Eq {
        scalars.iter().zip(bases).fold(Eq::identity(), |acc, (s, b)| acc + *b * s)
    }

    fn random_points(n: usize, rng: &mut StdRng) -> Vec<EqAffine> {
        (0..n).map(|_| Eq::random(&mut *rng).to_affine()).collect()
    }

    #[test]
    fn the_identity_encoding_is_not_a_curve_point() {
        assert!(bool::from(Fq::from(5).sqrt().is_none()));
        assert_eq!(Point::from_affine(&EqAffine::default()), Point::default());
    }

    #[test]
    fn signed_digits_recompose_the_scalar() {
        let mut rng = StdRng::seed_from_u64(1);
        let scalars = [Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::random(&mut rng), Fp::from(u64::MAX)];
        for c in WINDOW_BITS {
            let windows = SCALAR_BITS.div_ceil(c) as usize;
            for s in &scalars {
                let mut digits = vec![0; windows];
                signed_digits(s, c, &mut digits);
                let half = 1i32 << (c - 1);
                assert!(digits.iter().all(|d| -half < *d && *d <= half), "c = {c}: {digits:?}");
                let base = Fp::from(1u64 << c);
                let back = digits.iter().rev().fold(Fp::ZERO, |acc, &d| {
                    acc * base + if d < 0 { -Fp::from(u64::from(d.unsigned_abs())) } else { Fp::from(d as u64) }
                });
                assert_eq!(back, *s, "c = {c}");
            }
        }
    }

    #[test]
    fn random_inputs_equal_the_naive_sum_and_halo2s() {
        let mut rng = StdRng::seed_from_u64(2);
        for n in [1usize, 2, 3, 17, 100, 1000] {
            let bases = random_points(n, &mut rng);
            let scalars: Vec<Fp> = (0..n).map(|_| Fp::random(&mut rng)).collect();
            let expected = naive(&scalars, &bases);
            assert_eq!(msm(&scalars, &bases), expected, "n = {n}");
            assert_eq!(halo2_proofs::arithmetic::best_multiexp(&scalars, &bases), expected);
            for c in [4, 7, 13] {
                assert_eq!(msm_with_window(&scalars, &bases, c), expected, "n = {n}, c = {c}");
            }
        }
    }

    #[test]
    fn edge_inputs_equal_the_naive_sum() {
        let mut rng = StdRng::seed_from_u64(3);
        let p = random_points(1, &mut rng)[0];
        let q = random_points(1, &mut rng)[0];
        let neg_p = (-Eq::from(p)).to_affine();
        let identity = EqAffine::default();
        let cases: Vec<(Vec<Fp>, Vec<EqAffine>)> = vec![
            (vec![], vec![]),
            (vec![Fp::ZERO; 50], vec![p; 50]),
            (vec![Fp::ONE, -Fp::ONE], vec![p, p]),
            // Repeated points in one bucket: doublings and cancellations in the rounds.
            (vec![Fp::ONE; 64], vec![p; 64]),
            (vec![Fp::from(3); 33], [vec![p; 16], vec![neg_p; 17]].concat()),
            (vec![-Fp::ONE; 40], [vec![p; 20], vec![q; 20]].concat()),
            (vec![Fp::from(5), Fp::from(7), Fp::from(9)], vec![identity, p, identity]),
            (vec![-Fp::ONE, -Fp::from(2), Fp::from(u64::MAX)], vec![p, q, p]),
            // The same from the vector code's size on (where the CPU has it): its rounds give
            // a window with equal x coordinates back to the scalar code.
            (vec![Fp::ONE; 300], vec![p; 300]),
            (vec![Fp::from(3); 301], [vec![p; 150], vec![neg_p; 151]].concat()),
            ((0..400).map(|_| Fp::random(&mut rng)).collect(), [random_points(397, &mut rng), vec![p, q, p]].concat()),
            // The vector bucket sums: the same point in two buckets of one lane's run (an
            // addition of equal points, given back to the scalar code), and buckets left empty
            // after a lane's first point (its sum doubles).
            (
                [vec![Fp::ONE, Fp::from(2)], vec![Fp::ZERO; 298]].concat(),
                [vec![p, p], random_points(298, &mut rng)].concat(),
            ),
            (
                (0..300).map(|i| if i % 37 == 0 { Fp::from(i as u64 + 1) } else { Fp::ZERO }).collect(),
                random_points(300, &mut rng),
            ),
        ];
        for (scalars, bases) in cases {
            let expected = naive(&scalars, &bases);
            for c in [4, 5, 8, window_bits(scalars.len())] {
                assert_eq!(msm_with_window(&scalars, &bases, c), expected, "{} terms, c = {c}", scalars.len());
            }
        }
    }
}
