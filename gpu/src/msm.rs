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

/// The windows of an MSM: at most `c` bits each (buckets per window: 2^c), `bits` in all, their
/// widths balanced. Windows of c bits and a narrow top one would crowd the top window's few
/// buckets: 255 bits over 2^14 points take c = 12, and a top window of 3 bits puts 2,048
/// points in each of its buckets (three steps of sums instead of one).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Windows {
    /// The widest window, in bits.
    c: u32,
    /// Each window's first bit, and one past the last window's last bit.
    starts: Vec<u32>,
}

impl Windows {
    fn balanced(bits: u32, c: u32) -> Self {
        let count = bits.div_ceil(c).max(1);
        let (width, wider) = (bits / count, bits % count);
        // The lowest `wider` windows take one bit more.
        let starts = (0..=count).map(|w| w * width + w.min(wider)).collect();
        Self { c, starts }
    }

    fn count(&self) -> u32 {
        (self.starts.len() - 1) as u32
    }

    /// Window `w`'s first bit and width.
    fn span(&self, w: u32) -> (u32, u32) {
        let start = self.starts[w as usize];
        (start, self.starts[w as usize + 1] - start)
    }
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

/// Scalars per chunk of the digit pass (a chunk's scalars stay in cache while every window's
/// digit is taken from them).
const DIGIT_CHUNK: usize = 1 << 14;

/// The digits of a pass's windows, taken in one parallel pass over the scalars: `chunks[t]`
/// holds, for chunk `t` of [`DIGIT_CHUNK`] scalars, the digits of each window of the pass, one
/// window after the other. (c ≤ [`MAX_WINDOW_BITS`], so a digit fits a u16.)
struct PassDigits {
    windows: usize,
    chunks: Vec<Vec<u16>>,
}

impl PassDigits {
    fn new(scalars: &[Magnitude], pass: &[u32], layout: &Windows) -> Self {
        let chunks = scalars
            .par_chunks(DIGIT_CHUNK)
            .map(|chunk| {
                let mut digits = vec![0u16; pass.len() * chunk.len()];
                for (window_digits, &window) in digits.chunks_exact_mut(chunk.len()).zip(pass) {
                    let (start, width) = layout.span(window);
                    for (d, s) in window_digits.iter_mut().zip(chunk) {
                        // A digit has at most MAX_WINDOW_BITS = 16 bits.
                        *d = s.digit(start, width) as u16;
                    }
                }
                digits
            })
            .collect();
        Self { windows: pass.len(), chunks }
    }

    /// The digits of the pass's `k`-th window, scalar by scalar.
    fn window(&self, k: usize) -> impl Iterator<Item = u32> + Clone + '_ {
        self.chunks.iter().flat_map(move |chunk| {
            let len = chunk.len() / self.windows;
            chunk[k * len..(k + 1) * len].iter().map(|&d| u32::from(d))
        })
    }
}

/// One window's counting sort into `entries` (one per scalar): `offsets[d]..offsets[d + 1]`
/// are the entries of digit `d` (digit 0 has none: those points add nothing).
fn sort_window(
    digits: impl Iterator<Item = u32> + Clone,
    scalars: &[Magnitude],
    signed: bool,
    c: u32,
    entries: &mut [u32],
) -> Vec<u32> {
    let buckets = 1usize << c;
    let mut offsets = vec![0u32; buckets + 1];
    for d in digits.clone() {
        if d != 0 {
            offsets[d as usize + 1] += 1;
        }
    }
    for b in 0..buckets {
        offsets[b + 1] += offsets[b];
    }
    let mut next = offsets.clone();
    for (i, d) in digits.enumerate() {
        if d != 0 {
            let slot = &mut next[d as usize];
            let negate = signed && scalars[i].negative;
            entries[*slot as usize] = i as u32 | if negate { NEGATE_BIT } else { 0 };
            *slot += 1;
        }
    }
    offsets
}

/// The host's plan of one pass: the points of each window sorted by digit, and the runs of
/// every step (the first over `entries`, each later one over the previous step's sums; see
/// [`plan_steps`]).
struct PassPlan {
    /// The pass's windows one after another, `n` entries each.
    entries: Vec<u32>,
    steps: Vec<Vec<u32>>,
}

impl PassPlan {
    fn new(scalars: &[Magnitude], signed: bool, pass: &[u32], layout: &Windows, phases: &mut Phases) -> Self {
        let n = scalars.len();
        let digits = PassDigits::new(scalars, pass, layout);
        phases.mark("sort: digits");
        let mut entries = vec![0u32; pass.len() * n];
        // Each window sorts its entries and cuts its buckets into the first step's runs.
        let windows: Vec<(Vec<u32>, Vec<u32>)> = entries
            .par_chunks_mut(n)
            .enumerate()
            .map(|(k, window_entries)| {
                let offsets = sort_window(digits.window(k), scalars, signed, layout.c, window_entries);
                let base = (k * n) as u32;
                let stretches: Vec<(u32, u32)> = offsets.windows(2).map(|o| (base + o[0], base + o[1])).collect();
                cut_runs(&stretches)
            })
            .collect();
        phases.mark("sort: windows");
        let mut pairs = Vec::with_capacity(windows.iter().map(|(p, _)| p.len()).sum());
        let mut counts = Vec::with_capacity(windows.iter().map(|(_, c)| c.len()).sum());
        for (p, c) in windows {
            pairs.extend_from_slice(&p);
            counts.extend_from_slice(&c);
        }
        let steps = plan_steps(pairs, counts);
        phases.mark("sort: runs");
        Self { entries, steps }
    }
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
    let signed = matches!(scalars, Scalars::Small(_));
    phases.mark("digits");
    if n == 0 || bits == 0 {
        return Ok(Eq::identity());
    }
    let layout = Windows::balanced(bits, window_bits(n, bits));
    let (c, windows) = (layout.c, layout.count());
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
        let plan = PassPlan::new(&magnitudes, signed, &pass, &layout, &mut phases);
        let shape = PassShape { n, windows: pass.len(), buckets, segment, segments };
        let reduced = run_pass(ctx, &points, &plan, shape, &mut phases)?;
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
    for (w, sum) in window_sums.iter().enumerate().rev() {
        for _ in 0..layout.span(w as u32).1 {
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

/// The steps that add every bucket's points, from the first step's runs (`pairs`) and the
/// number of runs of each bucket (`counts`): each later step adds the previous step's sums,
/// until every bucket has one sum. The last step's sums come in bucket order (one run per
/// bucket).
fn plan_steps(pairs: Vec<u32>, counts: Vec<u32>) -> Vec<Vec<u32>> {
    let mut steps = vec![pairs];
    let mut counts = counts;
    while counts.iter().any(|&k| k != 1) {
        // Bucket i's sums are the next `counts[i]` outputs of this step.
        let mut at = 0;
        let stretches: Vec<(u32, u32)> = counts
            .iter()
            .map(|&k| {
                at += k;
                (at - k, at)
            })
            .collect();
        let (pairs, next) = cut_runs(&stretches);
        steps.push(pairs);
        counts = next;
    }
    steps
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
    plan: &PassPlan,
    shape: PassShape,
    phases: &mut Phases,
) -> Result<Vec<u32>, GpuError> {
    let too_large = |what: &str| GpuError::TooLarge(format!("MSM {what}"));
    let PassShape { n, windows, buckets, segment, segments } = shape;
    let entries = ctx.storage("msm entries", &plan.entries)?;
    let k = &ctx.kernels;
    let mut encoder = ctx.encoder();
    let mut sums: Option<wgpu::Buffer> = None;
    for pairs in &plan.steps {
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
        let digits = PassDigits::new(&scalars, &[0], &Windows::balanced(2, 2));
        let offsets = sort_window(digits.window(0), &scalars, true, 2, &mut entries);
        assert_eq!(offsets, [0, 0, 1, 2, 4]);
        assert_eq!(&entries[..4], &[2, 4 | NEGATE_BIT, 0, 3]);
    }

    #[test]
    fn windows_are_balanced() {
        // 255 bits with c = 12: 22 windows of 11 or 12 bits, not 21 of 12 and one of 3.
        let w = Windows::balanced(255, 12);
        assert_eq!(w.count(), 22);
        let widths: Vec<u32> = (0..w.count()).map(|k| w.span(k).1).collect();
        assert!(widths.iter().all(|&b| b == 11 || b == 12), "{widths:?}");
        assert_eq!(w.starts.last(), Some(&255));
        // Widths that divide the bits stay as they are; one window takes them all.
        assert_eq!(Windows::balanced(255, 15).starts, (0..=17).map(|k| 15 * k).collect::<Vec<_>>());
        assert_eq!(Windows::balanced(12, 12).starts, [0, 12]);
        assert_eq!(Windows::balanced(1, 4).starts, [0, 1]);
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
        let (pairs, counts) = cut_runs(&[(0, 0), (0, 5000), (5000, 5001)]);
        let steps = plan_steps(pairs, counts);
        let runs: Vec<usize> = steps.iter().map(|s| s.len() / 2).collect();
        assert_eq!(runs, [159, 7, 3]);
        assert_eq!(steps[2], [0, 1, 1, 6, 6, 7]);
        // Short buckets need one step.
        let (pairs, counts) = cut_runs(&[(0, 3), (3, 3)]);
        assert_eq!(plan_steps(pairs, counts), [vec![0, 3, 3, 3]]);
    }
}
