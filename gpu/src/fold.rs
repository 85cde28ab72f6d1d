//! The IPA's generator collapse on the GPU, the host half (kernels in `shaders/fold.wgsl`):
//! upload both halves in Montgomery form, one `fold_bits` dispatch per [`PASS_BITS`] bits of the
//! challenge from its highest set bit down, one `fold_finish`, read back, make affine.

use ff::PrimeField;
use group::{Curve, Group};
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use rayon::prelude::*;

use crate::GpuError;
use crate::convert::{PROJECTIVE_WORDS, points_to_montgomery_words, words_to_projective};
use crate::device::{GpuContext, Kernel};

/// Bits of the challenge one `fold_bits` dispatch takes (the bits of one u32 word; see the
/// shader on the loop limit of software adapters).
const PASS_BITS: u32 = 32;

/// The kernels' parameter block (`FoldParams` in fold.wgsl).
#[derive(Clone, Copy, Debug, Default)]
struct FoldParams {
    n: u32,
    bits: u32,
    count: u32,
    first: bool,
}

impl FoldParams {
    fn words(self, threads_x: u32) -> [u32; 8] {
        [self.n, threads_x, self.bits, self.count, u32::from(self.first), 0, 0, 0]
    }
}

/// The passes over `challenge`'s bits: (bits, count), the first holding its highest set bit, or
/// one empty pass for a zero challenge.
fn passes(challenge: &Fp) -> Vec<(u32, u32)> {
    let repr = challenge.to_repr();
    let bit = |i: u32| (repr[(i / 8) as usize] >> (i % 8)) & 1 == 1;
    let Some(top) = (0..Fp::NUM_BITS).rev().find(|&i| bit(i)) else {
        return vec![(0, 0)];
    };
    let mut passes = Vec::new();
    let mut next = top + 1; // bits below `next` remain
    while next > 0 {
        let count = next.min(PASS_BITS);
        let word = (next - count..next).rev().fold(0u32, |w, i| (w << 1) | u32::from(bit(i)));
        passes.push((word, count));
        next -= count;
    }
    passes
}

fn run(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    kernel: &Kernel,
    params: FoldParams,
    buffers: &[(u32, &wgpu::Buffer)],
) -> Result<(), GpuError> {
    let (x, y, threads_x) = ctx.grid(params.n)?;
    let uniform = ctx.uniform("fold params", &params.words(threads_x));
    let mut bound: Vec<(u32, &wgpu::Buffer)> = buffers.to_vec();
    bound.push((2, &uniform));
    let pipeline = kernel.get(ctx);
    let bind_group = ctx.bind(pipeline, &bound);
    ctx.dispatch(encoder, pipeline, &bind_group, (x, y));
    Ok(())
}

/// `g[i] + challenge · g[i + half]` for the lower half of `g` (`g.len()` a power of two, at
/// least 2), affine.
pub(crate) fn fold_generators(ctx: &GpuContext, g: &[EqAffine], challenge: Fp) -> Result<Vec<EqAffine>, GpuError> {
    assert!(g.len() >= 2 && g.len().is_power_of_two(), "a power of two of generators, at least 2");
    let half = g.len() / 2;
    let n = u32::try_from(half).map_err(|_| GpuError::TooLarge(format!("a collapse of {} generators", g.len())))?;
    let radix = ctx.field_form().radix_bits();
    let (low, high) = g.split_at(half);
    let high = ctx.storage("fold upper half", &points_to_montgomery_words(high, radix))?;
    let low = ctx.storage("fold lower half", &points_to_montgomery_words(low, radix))?;
    let acc = ctx.scratch("fold accumulators", half * PROJECTIVE_WORDS)?;
    let out = ctx.scratch("fold results", half * PROJECTIVE_WORDS)?;
    let k = &ctx.kernels;
    let mut encoder = ctx.encoder();
    for (i, (bits, count)) in passes(&challenge).into_iter().enumerate() {
        let params = FoldParams { n, bits, count, first: i == 0 };
        run(ctx, &mut encoder, &k.fold_bits, params, &[(0, &high), (1, &acc)])?;
    }
    let params = FoldParams { n, ..FoldParams::default() };
    run(ctx, &mut encoder, &k.fold_finish, params, &[(1, &acc), (3, &low), (4, &out)])?;
    let words = ctx.read_back(encoder, &out)?;
    let projective: Vec<Eq> =
        words.par_chunks_exact(PROJECTIVE_WORDS).map(words_to_projective).collect::<Result<_, _>>()?;
    let mut affine = vec![Eq::identity().to_affine(); half];
    Eq::batch_normalize(&projective, &mut affine);
    Ok(affine)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ff::Field;
    use rand::SeedableRng;

    use super::*;

    /// The passes put back together give the challenge.
    #[test]
    fn passes_cover_the_challenge_bits() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for challenge in [Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::from(u64::from(u32::MAX)), Fp::from(1u64 << 32)]
            .into_iter()
            .chain((0..20).map(|_| Fp::random(&mut rng)))
        {
            let passes = passes(&challenge);
            assert!(passes.iter().all(|&(bits, count)| count <= PASS_BITS && (count == 32 || bits >> count == 0)));
            let back = passes.iter().fold(Fp::ZERO, |acc, &(bits, count)| {
                acc * Fp::from(2).pow_vartime([u64::from(count)]) + Fp::from(u64::from(bits))
            });
            assert_eq!(back, challenge);
        }
        assert_eq!(passes(&Fp::ZERO), vec![(0, 0)]);
        assert_eq!(passes(&Fp::ONE), vec![(1, 1)]);
        assert_eq!(passes(&Fp::from(1u64 << 32)), vec![(1 << 31, 32), (0, 1)]);
    }
}
