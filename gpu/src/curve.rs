//! The curve kernel's host half (tests of the group law and of Fq on the device), and the
//! throughput of point additions and field products in registers ([`chains`]).

use std::time::Instant;

use halo2_proofs::pasta::{Eq, EqAffine, Fq};

use crate::GpuError;
use crate::convert::{FIELD_WORDS, PROJECTIVE_WORDS, points_to_words, words_to_fq, words_to_projective};
use crate::device::GpuContext;

/// What [`curve_ops`] computes on the device for one pair `(P, Q)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CurveOps {
    /// `P + Q` (the projective sum).
    pub sum: Eq,
    /// `2P`.
    pub double: Eq,
    /// `2P + Q` by the mixed sum (`Q` affine, `2P` projective with its `Z` not one).
    pub double_plus_affine: Eq,
    /// `x(P) · x(Q)` in Fq (the identity's x taken as zero).
    pub product: Fq,
}

/// u32 words of one pair's [`CurveOps`] as the kernel writes them: three projective points and
/// a field element.
const OPS_WORDS: usize = 3 * PROJECTIVE_WORDS + FIELD_WORDS;

/// For each pair `(P, Q)`: the group law and an Fq product computed on the device ([`CurveOps`]).
pub fn curve_ops(ctx: &GpuContext, pairs: &[(EqAffine, EqAffine)]) -> Result<Vec<CurveOps>, GpuError> {
    let flat: Vec<EqAffine> = pairs.iter().flat_map(|(p, q)| [*p, *q]).collect();
    let input = ctx.storage("curve test input", &points_to_words(&flat))?;
    let output = ctx.scratch("curve test output", pairs.len() * OPS_WORDS)?;
    let pipeline = ctx.kernels.curve_ops.get(ctx);
    let bind_group = ctx.bind(pipeline, &[(0, &input), (1, &output)]);
    let count = u32::try_from(pairs.len()).map_err(|_| GpuError::TooLarge("curve test".into()))?;
    let mut encoder = ctx.encoder();
    ctx.dispatch(&mut encoder, pipeline, &bind_group, (count, 1));
    let words = ctx.read_back(encoder, &output)?;
    words
        .chunks_exact(OPS_WORDS)
        .map(|w| {
            let point = |k: usize| words_to_projective(&w[k * PROJECTIVE_WORDS..(k + 1) * PROJECTIVE_WORDS]);
            Ok(CurveOps {
                sum: point(0)?,
                double: point(1)?,
                double_plus_affine: point(2)?,
                product: words_to_fq(&w[3 * PROJECTIVE_WORDS..])?,
            })
        })
        .collect()
}

/// The results and times of [`chains`].
#[derive(Clone, Debug)]
pub struct Chains {
    /// `P + rounds · Q` for each pair.
    pub sums: Vec<Eq>,
    /// The same by the mixed sum (`Q` affine).
    pub mixed_sums: Vec<Eq>,
    /// `x(P) · x(Q)^rounds` for each pair.
    pub products: Vec<Fq>,
    /// Seconds the additions took on the device (one dispatch).
    pub add_seconds: f64,
    /// Seconds the mixed sums took (one dispatch).
    pub mixed_seconds: f64,
    /// Seconds the products took (one dispatch).
    pub mul_seconds: f64,
}

/// The arithmetic's throughput with no memory traffic: `threads` threads, thread `i` taking
/// pair `i % pairs.len()`, each adds `Q` to `P` `rounds` times (one dispatch with the projective
/// sum, one with the mixed sum), then (another dispatch) takes `rounds` products by `x(Q)` in
/// Fq. The results come back for checking; the times are the device's, from submission to
/// completion, so the additions per second are `threads · rounds / add_seconds`.
pub fn chains(ctx: &GpuContext, pairs: &[(EqAffine, EqAffine)], threads: u32, rounds: u32) -> Result<Chains, GpuError> {
    let count = u32::try_from(pairs.len()).map_err(|_| GpuError::TooLarge("chain pairs".into()))?;
    if count == 0 {
        return Ok(Chains {
            sums: Vec::new(),
            mixed_sums: Vec::new(),
            products: Vec::new(),
            add_seconds: 0.0,
            mixed_seconds: 0.0,
            mul_seconds: 0.0,
        });
    }
    let flat: Vec<EqAffine> = pairs.iter().flat_map(|(p, q)| [*p, *q]).collect();
    let input = ctx.storage("chain input", &points_to_words(&flat))?;
    let (x, y, threads_x) = ctx.grid(threads)?;
    let uniform = ctx.uniform("chain params", &[threads, count, rounds, threads_x]);
    let run = |kernel: &crate::device::Kernel, words: usize| -> Result<(Vec<u32>, f64), GpuError> {
        let output = ctx.scratch("chain output", pairs.len() * words)?;
        let pipeline = kernel.get(ctx);
        let bind_group = ctx.bind(pipeline, &[(0, &input), (1, &output), (2, &uniform)]);
        let mut encoder = ctx.encoder();
        ctx.dispatch(&mut encoder, pipeline, &bind_group, (x, y));
        let start = Instant::now();
        ctx.finish_now(encoder)?;
        let seconds = start.elapsed().as_secs_f64();
        Ok((ctx.read_back(ctx.encoder(), &output)?, seconds))
    };
    let (sum_words, add_seconds) = run(&ctx.kernels.add_chain, PROJECTIVE_WORDS)?;
    let (mixed_words, mixed_seconds) = run(&ctx.kernels.add_affine_chain, PROJECTIVE_WORDS)?;
    let (product_words, mul_seconds) = run(&ctx.kernels.mul_chain, FIELD_WORDS)?;
    let points = |words: Vec<u32>| -> Result<Vec<Eq>, GpuError> {
        words.chunks_exact(PROJECTIVE_WORDS).map(words_to_projective).collect()
    };
    let (sums, mixed_sums) = (points(sum_words)?, points(mixed_words)?);
    let products = product_words.chunks_exact(FIELD_WORDS).map(words_to_fq).collect::<Result<_, _>>()?;
    Ok(Chains { sums, mixed_sums, products, add_seconds, mixed_seconds, mul_seconds })
}
