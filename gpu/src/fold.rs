//! The IPA's generator collapse on the GPU, the host half (kernels in `shaders/fold.wgsl`):
//! split the challenge `u = k₁ + k₂·λ` (GLV, [`zkinfer_engine::msm::glv::decompose`]: halves
//! below 2^127, so half the doublings), upload both halves of the generators in Montgomery form,
//! one `fold_bits` dispatch per [`PASS_BITS`] bits of the halves from their highest set bit
//! down, one `fold_finish`, read back, make affine; in chunks where one binding does not hold
//! every pair.

use ff::PrimeField;
use group::{Curve, Group};
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use rayon::prelude::*;

use zkinfer_engine::msm::glv::decompose;

use crate::GpuError;
use crate::convert::{PROJECTIVE_WORDS, points_to_montgomery_words, words_to_projective};
use crate::device::{GpuContext, Kernel};

/// Bits of the challenge one `fold_bits` dispatch takes (the bits of one u32 word; see the
/// shader on the loop limit of software adapters).
const PASS_BITS: u32 = 32;

/// The challenge as the kernel takes it: `u = ±k₁ ± k₂·λ`, each half's magnitude as
/// little-endian bytes, and its sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Split {
    magnitudes: [[u8; 32]; 2],
    negative: [bool; 2],
}

impl Split {
    /// The GLV split of `challenge`, or `k₁ = u, k₂ = 0` where none is found (never for pasta's
    /// constants: `decompose` checks every split against the challenge).
    fn new(challenge: &Fp) -> Self {
        let bytes = |m: u128| {
            let mut b = [0u8; 32];
            b[..16].copy_from_slice(&m.to_le_bytes());
            b
        };
        match decompose(challenge) {
            Some([(n1, m1), (n2, m2)]) => Self { magnitudes: [bytes(m1), bytes(m2)], negative: [n1, n2] },
            None => Self { magnitudes: [challenge.to_repr(), [0; 32]], negative: [false; 2] },
        }
    }

    /// The `signs` word of the parameter block: bit 0 for `k₁`, bit 1 for `k₂`.
    fn signs(&self) -> u32 {
        u32::from(self.negative[0]) | (u32::from(self.negative[1]) << 1)
    }
}

/// One `fold_bits` dispatch: `count` bits of each half, the first highest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Pass {
    bits: [u32; 2],
    count: u32,
}

/// The kernels' parameter block (`FoldParams` in fold.wgsl).
#[derive(Clone, Copy, Debug, Default)]
struct FoldParams {
    n: u32,
    pass: Pass,
    first: bool,
    signs: u32,
}

impl FoldParams {
    fn words(self, threads_x: u32) -> [u32; 8] {
        let Pass { bits, count } = self.pass;
        [self.n, threads_x, bits[0], bits[1], count, u32::from(self.first), self.signs, 0]
    }
}

/// The passes over the split's bits, the first holding the highest set bit of either half, or
/// one empty pass for a zero challenge.
fn passes(split: &Split) -> Vec<Pass> {
    let bit = |k: usize, i: u32| (split.magnitudes[k][(i / 8) as usize] >> (i % 8)) & 1 == 1;
    let Some(top) = (0..Fp::NUM_BITS).rev().find(|&i| bit(0, i) || bit(1, i)) else {
        return vec![Pass::default()];
    };
    let mut passes = Vec::new();
    let mut next = top + 1; // bits below `next` remain
    while next > 0 {
        let count = next.min(PASS_BITS);
        let word = |k: usize| (next - count..next).rev().fold(0u32, |w, i| (w << 1) | u32::from(bit(k, i)));
        passes.push(Pass { bits: [word(0), word(1)], count });
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
/// least 2), affine. The pairs go in chunks as large as one binding holds (a chunk's sums take
/// the most words: [`PROJECTIVE_WORDS`] per pair).
pub(crate) fn fold_generators(ctx: &GpuContext, g: &[EqAffine], challenge: Fp) -> Result<Vec<EqAffine>, GpuError> {
    assert!(g.len() >= 2 && g.len().is_power_of_two(), "a power of two of generators, at least 2");
    let half = g.len() / 2;
    let (low, high) = g.split_at(half);
    let split = Split::new(&challenge);
    let chunk = ctx.binding_holds(PROJECTIVE_WORDS).max(1);
    let mut projective = Vec::with_capacity(half);
    for (low, high) in low.chunks(chunk).zip(high.chunks(chunk)) {
        projective.extend(fold_chunk(ctx, low, high, &split)?);
    }
    let mut affine = vec![Eq::identity().to_affine(); half];
    Eq::batch_normalize(&projective, &mut affine);
    Ok(affine)
}

/// `low[i] + u · high[i]` for the challenge `u` that `split` splits, projective.
fn fold_chunk(ctx: &GpuContext, low: &[EqAffine], high: &[EqAffine], split: &Split) -> Result<Vec<Eq>, GpuError> {
    let pairs = low.len();
    let n = u32::try_from(pairs).map_err(|_| GpuError::TooLarge(format!("a collapse of {pairs} pairs")))?;
    let radix = ctx.field_form().radix_bits();
    let high = ctx.storage("fold upper half", &points_to_montgomery_words(high, radix))?;
    let low = ctx.storage("fold lower half", &points_to_montgomery_words(low, radix))?;
    let acc = ctx.scratch("fold accumulators", pairs * PROJECTIVE_WORDS)?;
    let out = ctx.scratch("fold results", pairs * PROJECTIVE_WORDS)?;
    let k = &ctx.kernels;
    let mut encoder = ctx.encoder();
    for (i, pass) in passes(split).into_iter().enumerate() {
        let params = FoldParams { n, pass, first: i == 0, signs: split.signs() };
        run(ctx, &mut encoder, &k.fold_bits, params, &[(0, &high), (1, &acc)])?;
    }
    let params = FoldParams { n, ..FoldParams::default() };
    run(ctx, &mut encoder, &k.fold_finish, params, &[(1, &acc), (3, &low), (4, &out)])?;
    let words = ctx.read_back(encoder, &out)?;
    words.par_chunks_exact(PROJECTIVE_WORDS).map(words_to_projective).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ff::Field;
    use rand::SeedableRng;

    use super::*;

    /// The split's passes put back together give the challenge, and a split's halves take
    /// at most 127 bits (four passes).
    #[test]
    fn passes_cover_the_challenge_bits() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let zeta = <Fp as ff::WithSmallOrderMulGroup<3>>::ZETA;
        for challenge in [Fp::ZERO, Fp::ONE, -Fp::ONE, zeta, -zeta, Fp::from(u64::from(u32::MAX)), Fp::from(1u64 << 32)]
            .into_iter()
            .chain((0..20).map(|_| Fp::random(&mut rng)))
        {
            let split = Split::new(&challenge);
            let passes = passes(&split);
            assert!(passes.len() <= 4, "a split takes at most 127 bits");
            let whole_word = |count: u32| count == 32;
            assert!(
                passes
                    .iter()
                    .all(|p| p.count <= PASS_BITS && p.bits.iter().all(|&b| whole_word(p.count) || b >> p.count == 0))
            );
            let half = |k: usize| {
                let value = passes.iter().fold(Fp::ZERO, |acc, p| {
                    acc * Fp::from(2).pow_vartime([u64::from(p.count)]) + Fp::from(u64::from(p.bits[k]))
                });
                if split.negative[k] { -value } else { value }
            };
            assert_eq!(half(0) + half(1) * zeta, challenge);
        }
        assert_eq!(passes(&Split::new(&Fp::ZERO)), vec![Pass::default()]);
        assert_eq!(passes(&Split::new(&Fp::ONE)), vec![Pass { bits: [1, 0], count: 1 }]);
        // Without a split the challenge's own bits: 2^32 in two passes.
        let unsplit = Split { magnitudes: [Fp::from(1u64 << 32).to_repr(), [0; 32]], negative: [false; 2] };
        assert_eq!(passes(&unsplit), vec![Pass { bits: [1 << 31, 0], count: 32 }, Pass { bits: [0, 0], count: 1 }]);
    }
}
