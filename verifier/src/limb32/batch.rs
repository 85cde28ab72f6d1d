//! Bucket accumulation with affine additions in batches: every addition needs one division,
//! and a batch shares one inversion (Montgomery's trick), so an addition costs about six
//! multiplications instead of a mixed Jacobian addition's eleven. The buckets of every window
//! are filled together, one addition per bucket per round, so that each round's batch is large.

use super::field::Fq;
use super::point::Affine;

/// A bucket's sum so far: `None` is the identity.
pub(crate) type Bucket = Option<Affine>;

/// Fills `buckets[b]` with the sum of the points `lists[b]` names (`point(i)` for each `i`).
/// False if a division by zero came up, which curve points never give (Vesta has no point of
/// order two); the caller then uses the Jacobian method.
pub(crate) fn accumulate(buckets: &mut [Bucket], lists: &BucketLists, point: impl Fn(u32) -> Affine) -> bool {
    for (b, bucket) in buckets.iter_mut().enumerate() {
        *bucket = lists.get(b).first().map(|&i| point(i));
    }
    let mut round = 1;
    let mut pairs: Vec<(usize, Affine)> = Vec::new();
    loop {
        pairs.clear();
        pairs.extend((0..buckets.len()).filter_map(|b| lists.get(b).get(round).map(|&i| (b, point(i)))));
        if pairs.is_empty() {
            return true;
        }
        if !add_batch(buckets, &pairs) {
            return false;
        }
        round += 1;
    }
}

/// Point lists per bucket, stored flat (a counting sort).
#[derive(Debug)]
pub(crate) struct BucketLists {
    starts: Vec<usize>,
    entries: Vec<u32>,
}

impl BucketLists {
    /// From `(bucket, entry)` pairs, given twice: once to count, once to place.
    pub(crate) fn new<I: Iterator<Item = (usize, u32)>>(buckets: usize, pairs: impl Fn() -> I) -> Self {
        let mut starts = vec![0usize; buckets + 1];
        for (b, _) in pairs() {
            starts[b + 1] += 1;
        }
        for b in 0..buckets {
            starts[b + 1] += starts[b];
        }
        let mut next = starts.clone();
        let mut entries = vec![0u32; starts[buckets]];
        for (b, e) in pairs() {
            entries[next[b]] = e;
            next[b] += 1;
        }
        Self { starts, entries }
    }

    fn get(&self, b: usize) -> &[u32] {
        &self.entries[self.starts[b]..self.starts[b + 1]]
    }
}

/// What one addition in a batch is.
enum Step {
    /// The bucket was empty: it takes the point.
    Take,
    /// `Q + P` with distinct `x`: divides by `x_P - x_Q`.
    Add(Affine),
    /// `Q + Q`: divides by `2y`.
    Double(Affine),
    /// `Q + (-Q)`: the identity.
    Cancel,
}

/// `buckets[b] += p` for every `(b, p)` (distinct buckets), with one inversion in all; false
/// on a zero denominator.
///
/// Never inlined, and neither is [`batch_invert`]: WebAssembly engines start a module on
/// baseline code and switch a function to optimized code only at its next call, so the
/// rounds of a long accumulation must be calls of their own to profit from the switch.
#[inline(never)]
fn add_batch(buckets: &mut [Bucket], pairs: &[(usize, Affine)]) -> bool {
    let mut steps = Vec::with_capacity(pairs.len());
    let mut denominators = Vec::with_capacity(pairs.len());
    for (b, p) in pairs {
        let step = match buckets[*b] {
            None => Step::Take,
            Some(q) => {
                let dx = p.x.sub(&q.x);
                if !dx.is_zero() {
                    denominators.push(dx);
                    Step::Add(q)
                } else if p.y == q.y {
                    denominators.push(q.y.double());
                    Step::Double(q)
                } else {
                    Step::Cancel
                }
            }
        };
        steps.push(step);
    }
    let Some(inverses) = batch_invert(&denominators) else { return false };
    let mut inverses = inverses.iter();
    for ((b, p), step) in pairs.iter().zip(steps) {
        buckets[*b] = match step {
            Step::Take => Some(*p),
            Step::Cancel => None,
            Step::Add(q) => {
                let Some(inverse) = inverses.next() else { return false };
                let lambda = p.y.sub(&q.y).mul(inverse);
                let x = lambda.square().sub(&q.x).sub(&p.x);
                Some(Affine { y: lambda.mul(&q.x.sub(&x)).sub(&q.y), x })
            }
            Step::Double(q) => {
                let Some(inverse) = inverses.next() else { return false };
                let xx = q.x.square();
                let lambda = xx.double().add(&xx).mul(inverse);
                let x = lambda.square().sub(&q.x.double());
                Some(Affine { y: lambda.mul(&q.x.sub(&x)).sub(&q.y), x })
            }
        };
    }
    true
}

/// The inverses of the elements with one inversion (Montgomery's trick); `None` if one is zero.
#[inline(never)]
fn batch_invert(values: &[Fq]) -> Option<Vec<Fq>> {
    let mut prefix = Vec::with_capacity(values.len());
    let mut acc: Option<Fq> = None;
    for v in values {
        let next = acc.map_or(*v, |a| a.mul(v));
        prefix.push(next);
        acc = Some(next);
    }
    let Some(acc) = acc else { return Some(Vec::new()) };
    let mut inverse = acc.invert()?;
    let mut out = vec![Fq::ZERO; values.len()];
    for i in (0..values.len()).rev() {
        out[i] = if i == 0 { inverse } else { inverse.mul(&prefix[i - 1]) };
        inverse = inverse.mul(&values[i]);
    }
    Some(out)
}
