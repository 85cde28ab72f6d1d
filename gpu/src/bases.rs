//! The MSM's bases kept on the device. A proof's MSMs take their bases from the same few
//! generator sets (the Lagrange-basis generators for the commitments, the monomial ones for the
//! quotient's pieces and the opening), each call a prefix of one of them; converting and
//! uploading the same points again for every call costs the host more than the check that they
//! are the same. So the last [`KEPT_SETS`] sets stay on the device, each with a host copy of its
//! points, and a call whose bases equal a prefix of a kept set, point by point, uses that set's
//! buffer. The comparison is of every point, so a kept buffer is never used for other points.

use std::sync::Mutex;

use halo2_proofs::pasta::EqAffine;
use rayon::prelude::*;

use crate::GpuError;
use crate::convert::points_to_montgomery_words;
use crate::device::GpuContext;

/// Generator sets kept on the device (a proof uses two).
const KEPT_SETS: usize = 2;
/// Fewest points a set needs to be kept (smaller ones convert in a moment).
const KEEP_MIN_POINTS: usize = 1 << 12;
/// Points compared per parallel task.
const COMPARE_CHUNK: usize = 1 << 12;

/// One kept set: its points and their words on the device.
struct KeptSet {
    points: Vec<EqAffine>,
    buffer: wgpu::Buffer,
}

/// Whether `points` begins with `prefix` (compared in parallel).
fn begins_with(points: &[EqAffine], prefix: &[EqAffine]) -> bool {
    points.len() >= prefix.len()
        && points[..prefix.len()].par_chunks(COMPARE_CHUNK).zip(prefix.par_chunks(COMPARE_CHUNK)).all(|(a, b)| a == b)
}

/// The kept sets, the most recently used first.
#[derive(Default)]
pub(crate) struct KeptBases {
    sets: Mutex<Vec<KeptSet>>,
}

impl std::fmt::Debug for KeptBases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: Vec<usize> = self.lock().iter().map(|s| s.points.len()).collect();
        f.debug_struct("KeptBases").field("sets", &sizes).finish()
    }
}

impl KeptBases {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<KeptSet>> {
        self.sets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A buffer whose first `bases.len()` points are `bases`, as the MSM kernels read them
    /// (Montgomery-form words in the context's field code): a kept set's, or a new upload,
    /// kept when it is large enough (replacing a kept set it extends, else the least recently
    /// used one).
    pub(crate) fn buffer(&self, ctx: &GpuContext, bases: &[EqAffine]) -> Result<wgpu::Buffer, GpuError> {
        let mut sets = self.lock();
        if let Some(found) = sets.iter().position(|s| begins_with(&s.points, bases)) {
            let set = sets.remove(found);
            let buffer = set.buffer.clone();
            sets.insert(0, set);
            return Ok(buffer);
        }
        let buffer = ctx.storage("msm points", &points_to_montgomery_words(bases, ctx.field_form().radix_bits()))?;
        if bases.len() >= KEEP_MIN_POINTS {
            if let Some(extended) =
                sets.iter().position(|s| bases.len() > s.points.len() && begins_with(bases, &s.points))
            {
                sets.remove(extended);
            }
            sets.insert(0, KeptSet { points: bases.to_vec(), buffer: buffer.clone() });
            sets.truncate(KEPT_SETS);
        }
        Ok(buffer)
    }

    /// The number of points in each kept set, the most recently used first.
    #[cfg(test)]
    fn sizes(&self) -> Vec<usize> {
        self.lock().iter().map(|s| s.points.len()).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::device::DeviceChoice;
    use group::{Curve, Group};
    use halo2_proofs::pasta::Eq;

    fn set(n: usize, seed: u64) -> Vec<EqAffine> {
        let start = Eq::generator() * halo2_proofs::pasta::Fp::from(seed);
        let projective: Vec<Eq> = std::iter::successors(Some(start), |p| Some(p + Eq::generator())).take(n).collect();
        let mut affine = vec![Eq::identity().to_affine(); n];
        Eq::batch_normalize(&projective, &mut affine);
        affine
    }

    /// Prefixes reuse a kept set; a longer set replaces the one it extends; a third set evicts
    /// the least recently used; other points of the same length are never served from a kept
    /// set. Needs an adapter: without one it skips, as the device tests do, unless
    /// `ZKINFER_REQUIRE_GPU` is set.
    #[test]
    fn kept_sets_serve_their_prefixes_only() {
        let ctx = match GpuContext::open(DeviceChoice::Gpu(None)) {
            Ok(ctx) => ctx,
            Err(e) if std::env::var_os("ZKINFER_REQUIRE_GPU").is_some() => {
                panic!("ZKINFER_REQUIRE_GPU is set, but {e}")
            }
            Err(e) => {
                eprintln!("skipping the kept-bases test: {e}");
                return;
            }
        };
        let kept = KeptBases::default();
        let a = set(2 * KEEP_MIN_POINTS, 1);
        let b = set(KEEP_MIN_POINTS, 1 << 40);
        kept.buffer(&ctx, &a[..KEEP_MIN_POINTS]).unwrap();
        assert_eq!(kept.sizes(), [KEEP_MIN_POINTS]);
        kept.buffer(&ctx, &a).unwrap();
        assert_eq!(kept.sizes(), [2 * KEEP_MIN_POINTS], "the longer set replaces its prefix");
        let first = kept.buffer(&ctx, &a[..100]).unwrap();
        let again = kept.buffer(&ctx, &a[..KEEP_MIN_POINTS + 1]).unwrap();
        assert_eq!(first, again, "prefixes share the kept buffer");
        kept.buffer(&ctx, &b).unwrap();
        assert_eq!(kept.sizes(), [KEEP_MIN_POINTS, 2 * KEEP_MIN_POINTS]);
        // One point changed: not a prefix of any kept set.
        let mut changed = a[..KEEP_MIN_POINTS].to_vec();
        changed[KEEP_MIN_POINTS - 1] = b[0];
        let other = kept.buffer(&ctx, &changed).unwrap();
        assert_ne!(other, first);
        assert_eq!(kept.sizes(), [KEEP_MIN_POINTS, KEEP_MIN_POINTS], "the least recently used set goes");
        // Small sets are uploaded, not kept.
        kept.buffer(&ctx, &set(10, 77)).unwrap();
        assert_eq!(kept.sizes(), [KEEP_MIN_POINTS, KEEP_MIN_POINTS]);
    }
}
