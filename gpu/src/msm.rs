//! The MSM on the GPU: Pippenger's bucket method. The host cuts each scalar into c-bit digits,
//! sorts the points of every window by digit (a counting sort) and cuts every bucket into runs
//! of at most [`RUN_LENGTH`] points; the GPU adds each run (`bucket_sum`), then the sums of a
//! bucket cut into several runs (`partial_sum`, as many steps as it takes), and reduces segments
//! of buckets (`bucket_reduce`); the host finishes each window with a small MSM over the
//! segments (`Σ T + lo · R`) and the windows by Horner's rule.
//!
//! Runs and segments are short because Mesa's llvmpipe (the software adapter CI runs on) ends
//! every loop of a shader invocation after 65,535 iterations in all, without an error, and one
//! point addition costs a few hundred of them (its products loop over their rows): a thread
//! that adds a thousand points there returns a wrong sum. Runs also spread a crowded bucket
//! (small scalars put many points in a few buckets) over many threads.

use ff::PrimeField;
use group::{Curve, Group};

use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use rayon::prelude::*;
use zkinfer_engine::backend::{Backend, CpuBackend};

use crate::GpuError;
use crate::convert::{AFFINE_WORDS, PROJECTIVE_WORDS, points_to_montgomery_words, words_to_projective};
use crate::device::{AdapterKind, GpuContext};

/// An entry's flag: the point enters negated (a negative small scalar).
const NEGATE_BIT: u32 = 1 << 31;
/// Bits in a full-width scalar.
const SCALAR_BITS: u32 = 255;
/// The widest window (buckets per window = 2^c).
const MAX_WINDOW_BITS: u32 = 16;
/// The narrowest window.
const MIN_WINDOW_BITS: u32 = 4;
/// The most points (or partial sums) one thread adds in one step.
const RUN_LENGTH: u32 = 32;
/// The widest reduce segment (`2^bits` buckets, two additions each) on a software adapter,
/// within llvmpipe's loop limit.
const SOFTWARE_SEGMENT_BITS: u32 = 4;
/// Reduce threads to aim for: a thread adds its segment's buckets one after another, so a
/// segment is cut shorter until this many threads share the work (the host then finishes more
/// segments, in parallel).
const REDUCE_THREADS: usize = 1 << 14;

/// The scalars of one MSM.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scalars<'a> {
    /// Full-width field elements.
    Full(&'a [Fp]),
    /// Small signed integers.
    Small(&'a [i64]),
}

/// One scalar as the digit extractor sees it: magnitude bytes and a sign.
#[derive(Clone, Copy)]
struct Magnitude {
    bytes: [u8; 32],
    negative: bool,
}

impl Magnitude {
    /// The `bits`-bit digit starting at bit `start`.
    fn digit(&self, start: u32, bits: u32) -> u32 {
        let byte = (start / 8) as usize;
        let mut window = 0u32;
        for k in 0..3 {
            if let Some(b) = self.bytes.get(byte + k) {
                window |= u32::from(*b) << (8 * k);
            }
        }
        (window >> (start % 8)) & ((1 << bits) - 1)
    }
}

fn magnitudes(scalars: Scalars<'_>) -> (Vec<Magnitude>, u32) {
    match scalars {
        Scalars::Full(values) => {
            let m = values.par_iter().map(|s| Magnitude { bytes: s.to_repr(), negative: false }).collect();
            (m, SCALAR_BITS)
        }
        Scalars::Small(values) => {
            let m: Vec<Magnitude> = values
                .par_iter()
                .map(|v| {
                    let mut bytes = [0u8; 32];
                    bytes[..8].copy_from_slice(&v.unsigned_abs().to_le_bytes());
                    Magnitude { bytes, negative: *v < 0 }
                })
                .collect();
            let widest = values.par_iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
            (m, 64 - widest.leading_zeros())
        }
    }
}

/// The window width for `n` points and `bits`-bit scalars.
fn window_bits(n: usize, bits: u32) -> u32 {
    let log_n = usize::BITS - n.leading_zeros();
    log_n.saturating_sub(3).clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS).min(bits.max(1))
}

/// The reduce segment, as log2 of its buckets: at most `⌈c/2⌉` bits, shorter until about
/// [`REDUCE_THREADS`] segments share the `all_buckets` of a pass, within the software limit.
fn reduce_segment_bits(c: u32, all_buckets: usize, kind: AdapterKind) -> u32 {
    let spread = (all_buckets / REDUCE_THREADS).max(2).ilog2();
    let bits = c.div_ceil(2).min(spread);
    match kind {
        AdapterKind::Software => bits.min(SOFTWARE_SEGMENT_BITS),
        _ => bits,
    }
}

/// One window's counting sort into `entries` (one per scalar): `offsets[d]..offsets[d + 1]`
/// are the entries of digit `d` (digit 0 has none: those points add nothing).
fn sort_window(scalars: &[Magnitude], window: u32, c: u32, entries: &mut [u32]) -> Vec<u32> {
    let buckets = 1usize << c;
    let start = window * c;
    let width = c.min(256 - start);
    let digits: Vec<u32> = scalars.iter().map(|s| s.digit(start, width)).collect();
    let mut offsets = vec![0u32; buckets + 1];
    for &d in &digits {
        if d != 0 {
            offsets[d as usize + 1] += 1;
        }
    }
    for b in 0..buckets {
        offsets[b + 1] += offsets[b];
    }
    let mut next = offsets.clone();
    for (i, (&d, s)) in digits.iter().zip(scalars).enumerate() {
        if d != 0 {
            let slot = &mut next[d as usize];
            entries[*slot as usize] = i as u32 | if s.negative { NEGATE_BIT } else { 0 };
            *slot += 1;
        }
    }
    offsets
}

/// `Σ scalars[i] · bases[i]` on the GPU.
pub(crate) fn msm(ctx: &GpuContext, scalars: Scalars<'_>, bases: &[EqAffine]) -> Result<Eq, GpuError> {
    let n = bases.len();
    // Points beyond one binding go in chunks.
    let chunk = (ctx.max_binding() / (AFFINE_WORDS as u64 * 4)).min(NEGATE_BIT as u64) as usize;
    if n > chunk {
        let mut sum = Eq::identity();
        for start in (0..n).step_by(chunk) {
            let end = (start + chunk).min(n);
            let part = match scalars {
                Scalars::Full(s) => Scalars::Full(&s[start..end]),
                Scalars::Small(s) => Scalars::Small(&s[start..end]),
            };
            sum += msm(ctx, part, &bases[start..end])?;
        }
        return Ok(sum);
    }
    let mut phases = Phases::new(ctx.profiling());
    let (magnitudes, bits) = magnitudes(scalars);
    phases.mark("digits");
    if n == 0 || bits == 0 {
        return Ok(Eq::identity());
    }
    let c = window_bits(n, bits);
    let windows = bits.div_ceil(c);
    let buckets = 1usize << c;
    let segment_bits = reduce_segment_bits(c, windows as usize * buckets, ctx.adapter().kind);
    let segment = 1usize << segment_bits;
    let segments = buckets / segment;

    // Windows per pass: the entry and sum buffers must fit one binding each.
    let sums_per_window = buckets + n / RUN_LENGTH as usize + 1;
    let per_window = (sums_per_window * PROJECTIVE_WORDS).max(n) as u64 * 4;
    let per_pass = (ctx.max_binding() / per_window).clamp(1, u64::from(windows)) as u32;

    let points = ctx.storage("msm points", &points_to_montgomery_words(bases, ctx.field_form().radix_bits()))?;
    phases.mark("upload points");
    let mut window_sums = vec![Eq::identity(); windows as usize];
    for first in (0..windows).step_by(per_pass as usize) {
        let pass: Vec<u32> = (first..(first + per_pass).min(windows)).collect();
        let mut entries = vec![0u32; pass.len() * n];
        let offsets: Vec<Vec<u32>> = entries
            .par_chunks_mut(n)
            .zip(&pass)
            .map(|(window_entries, &w)| sort_window(&magnitudes, w, c, window_entries))
            .collect();
        // Every bucket's stretch of the pass's entries, window by window.
        let stretches: Vec<(u32, u32)> = offsets
            .iter()
            .enumerate()
            .flat_map(|(k, offsets)| {
                let base = (k * n) as u32;
                offsets.windows(2).map(move |o| (base + o[0], base + o[1]))
            })
            .collect();
        let shape = PassShape { n, windows: pass.len(), buckets, segment, segments };
        let steps = plan_steps(stretches);
        phases.mark("sort");
        let reduced = run_pass(ctx, &points, &entries, &steps, shape, &mut phases)?;
        let sums: Vec<Eq> = reduced
            .par_chunks_exact(segments * 2 * PROJECTIVE_WORDS)
            .map(|words| finish_window(words, segment))
            .collect::<Result<_, GpuError>>()?;
        for (&w, sum) in pass.iter().zip(sums) {
            window_sums[w as usize] = sum;
        }
        phases.mark("finish windows");
    }
    // Horner over the windows, the highest first.
    let mut acc = Eq::identity();
    for sum in window_sums.iter().rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        acc += sum;
    }
    phases.report(&format!("msm n={n} bits={bits} c={c} windows={windows} segment={segment}"));
    Ok(acc)
}

/// Phase times of one MSM, printed when the context profiles ([`GpuContext::set_profiling`]).
struct Phases {
    on: bool,
    last: std::time::Instant,
    times: Vec<(&'static str, f64)>,
}

impl Phases {
    fn new(on: bool) -> Self {
        Self { on, last: std::time::Instant::now(), times: Vec::new() }
    }

    /// The time since the last mark goes to `phase` (phases repeated over passes add up).
    fn mark(&mut self, phase: &'static str) {
        if !self.on {
            return;
        }
        let ms = self.last.elapsed().as_secs_f64() * 1e3;
        match self.times.iter_mut().find(|(p, _)| *p == phase) {
            Some((_, total)) => *total += ms,
            None => self.times.push((phase, ms)),
        }
        self.last = std::time::Instant::now();
    }

    fn report(&self, what: &str) {
        if self.on {
            let parts: Vec<String> = self.times.iter().map(|(p, ms)| format!("{p} {ms:.1} ms")).collect();
            eprintln!("{what}: {}", parts.join(", "));
        }
    }
}

/// `Σ_segments T + lo · R` for one window's reduced segments.
fn finish_window(words: &[u32], segment: usize) -> Result<Eq, GpuError> {
    let pair =
        |w: &[u32]| Ok((words_to_projective(&w[..PROJECTIVE_WORDS])?, words_to_projective(&w[PROJECTIVE_WORDS..])?));
    // One window per thread (the caller's): converting inside a window in parallel as well was
    // measured slower (H200, 16 cores: 2^14 terms 5.6 -> 10.7 ms, 2^20 14 -> 22 ms).
    let pairs: Vec<(Eq, Eq)> = words.chunks_exact(2 * PROJECTIVE_WORDS).map(pair).collect::<Result<_, GpuError>>()?;
    let totals: Eq = pairs.iter().map(|(t, _)| *t).sum();
    let running: Vec<Eq> = pairs.iter().map(|(_, r)| *r).collect();
    let mut affine = vec![Eq::identity().to_affine(); running.len()];
    Eq::batch_normalize(&running, &mut affine);
    let lows: Vec<i64> = (0..running.len()).map(|s| (s * segment) as i64).collect();
    Ok(totals + CpuBackend.msm_small(&lows, &affine))
}

/// Cuts each stretch `[start, end)` into runs of at most [`RUN_LENGTH`] (an empty stretch into
/// one empty run). Returns the runs as (start, end) pairs and the number of runs per stretch.
fn cut_runs(stretches: &[(u32, u32)]) -> (Vec<u32>, Vec<u32>) {
    let mut pairs = Vec::with_capacity(2 * stretches.len());
    let mut counts = Vec::with_capacity(stretches.len());
    for &(start, end) in stretches {
        let count = (end - start).div_ceil(RUN_LENGTH).max(1);
        for r in 0..count {
            let from = start + r * RUN_LENGTH;
            pairs.extend([from, (from + RUN_LENGTH).min(end)]);
        }
        counts.push(count);
    }
    (pairs, counts)
}

/// The steps that add every bucket's points: the first over the entries, each later one over the
/// previous step's sums, until every bucket has one sum. The last step's sums come in bucket
/// order (one run per bucket).
fn plan_steps(bucket_stretches: Vec<(u32, u32)>) -> Vec<Vec<u32>> {
    let mut steps = Vec::new();
    let mut stretches = bucket_stretches;
    loop {
        let (pairs, counts) = cut_runs(&stretches);
        steps.push(pairs);
        if counts.iter().all(|&k| k == 1) {
            return steps;
        }
        // Bucket i's sums are the next `counts[i]` outputs of this step.
        let mut at = 0;
        stretches = counts
            .iter()
            .map(|&k| {
                at += k;
                (at - k, at)
            })
            .collect();
    }
}

/// The sizes of one pass.
#[derive(Clone, Copy)]
struct PassShape {
    n: usize,
    windows: usize,
    buckets: usize,
    segment: usize,
    segments: usize,
}

fn run_pass(
    ctx: &GpuContext,
    points: &wgpu::Buffer,
    entries: &[u32],
    steps: &[Vec<u32>],
    shape: PassShape,
    phases: &mut Phases,
) -> Result<Vec<u32>, GpuError> {
    let too_large = |what: &str| GpuError::TooLarge(format!("MSM {what}"));
    let PassShape { n, windows, buckets, segment, segments } = shape;
    let entries = ctx.storage("msm entries", entries)?;
    let k = &ctx.kernels;
    let mut encoder = ctx.encoder();
    let mut sums: Option<wgpu::Buffer> = None;
    for pairs in steps {
        let runs = pairs.len() / 2;
        let threads = u32::try_from(runs).map_err(|_| too_large("runs"))?;
        let (x, y, threads_x) = ctx.grid(threads)?;
        let uniform =
            ctx.uniform("msm params", &[n as u32, buckets as u32, windows as u32, 0, 0, threads_x, threads, 0]);
        let run_buffer = ctx.storage("msm runs", pairs)?;
        let out = ctx.scratch("msm sums", runs * PROJECTIVE_WORDS)?;
        // The first step adds points, the later ones the previous step's sums.
        let (pipeline, bind_group) = match &sums {
            None => {
                let pipeline = k.bucket_sum.get(ctx);
                let buffers = [(0, points), (1, &run_buffer), (2, &entries), (3, &out), (5, &uniform)];
                (pipeline, ctx.bind(pipeline, &buffers))
            }
            Some(previous) => {
                let pipeline = k.partial_sum.get(ctx);
                let buffers = [(1, &run_buffer), (3, &out), (5, &uniform), (6, previous)];
                (pipeline, ctx.bind(pipeline, &buffers))
            }
        };
        ctx.dispatch(&mut encoder, pipeline, &bind_group, (x, y));
        sums = Some(out);
    }
    let bucket_sums = sums.ok_or(GpuError::BadResult("an MSM pass without steps"))?;
    if phases.on {
        ctx.finish_now(std::mem::replace(&mut encoder, ctx.encoder()))?;
        phases.mark("bucket sums (GPU)");
    }
    debug_assert_eq!(bucket_sums.size() as usize, windows * buckets * PROJECTIVE_WORDS * 4);

    let reduced = ctx.scratch("msm reduced", windows * segments * 2 * PROJECTIVE_WORDS)?;
    let threads = u32::try_from(windows * segments).map_err(|_| too_large("segments"))?;
    let (x, y, threads_x) = ctx.grid(threads)?;
    let uniform = ctx.uniform(
        "msm params",
        &[n as u32, buckets as u32, windows as u32, segment as u32, segments as u32, threads_x, 0, 0],
    );
    let pipeline = k.bucket_reduce.get(ctx);
    let bind_group = ctx.bind(pipeline, &[(3, &bucket_sums), (4, &reduced), (5, &uniform)]);
    ctx.dispatch(&mut encoder, pipeline, &bind_group, (x, y));
    if phases.on {
        ctx.finish_now(std::mem::replace(&mut encoder, ctx.encoder()))?;
        phases.mark("bucket reduce (GPU)");
    }
    let words = ctx.read_back(encoder, &reduced);
    phases.mark("read back");
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_cover_the_scalar() {
        let s = Fp::from(0xdead_beef_1234_5678u64);
        let m = Magnitude { bytes: s.to_repr(), negative: false };
        let c = 13;
        let mut back = 0u128;
        for w in 0..(64 / c + 1) {
            back |= u128::from(m.digit(w * c, c)) << (w * c);
        }
        assert_eq!(back, 0xdead_beef_1234_5678);
    }

    #[test]
    fn the_sort_groups_points_by_digit() {
        let scalars: Vec<Magnitude> = [3u64, 0, 1, 3, 2]
            .iter()
            .map(|v| {
                let mut bytes = [0u8; 32];
                bytes[..8].copy_from_slice(&v.to_le_bytes());
                Magnitude { bytes, negative: *v == 2 }
            })
            .collect();
        let mut entries = vec![0u32; scalars.len()];
        let offsets = sort_window(&scalars, 0, 2, &mut entries);
        assert_eq!(offsets, [0, 0, 1, 2, 4]);
        assert_eq!(&entries[..4], &[2, 4 | NEGATE_BIT, 0, 3]);
    }

    #[test]
    fn reduce_segments_spread_over_threads() {
        // 2^20 points, c = 16, 16 windows: 2^20 buckets over 2^14 threads, 64 buckets each.
        assert_eq!(reduce_segment_bits(16, 16 << 16, AdapterKind::Hardware), 6);
        // Few buckets: the shortest segment, two buckets.
        assert_eq!(reduce_segment_bits(8, 2 << 8, AdapterKind::Hardware), 1);
        // Never beyond ⌈c/2⌉ bits, nor the software limit.
        assert_eq!(reduce_segment_bits(6, 1 << 30, AdapterKind::Hardware), 3);
        assert_eq!(reduce_segment_bits(16, 1 << 30, AdapterKind::Software), SOFTWARE_SEGMENT_BITS);
    }

    #[test]
    fn runs_are_short_and_cover_every_bucket() {
        let (pairs, counts) = cut_runs(&[(0, 0), (0, 70), (70, 71)]);
        assert_eq!(pairs, [0, 0, 0, 32, 32, 64, 64, 70, 70, 71]);
        assert_eq!(counts, [1, 3, 1]);
    }

    #[test]
    fn steps_end_with_one_sum_per_bucket() {
        // A bucket of 5,000 points: 157 runs, then 5, then 1.
        let steps = plan_steps(vec![(0, 0), (0, 5000), (5000, 5001)]);
        let runs: Vec<usize> = steps.iter().map(|s| s.len() / 2).collect();
        assert_eq!(runs, [159, 7, 3]);
        assert_eq!(steps[2], [0, 1, 1, 6, 6, 7]);
        // Short buckets need one step.
        assert_eq!(plan_steps(vec![(0, 3), (3, 3)]), [vec![0, 3, 3, 3]]);
    }
}
