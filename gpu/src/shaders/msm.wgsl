// Pippenger's bucket method, the GPU half. The host sorts the points of each window by their
// digit (a counting sort), so a bucket's points are one stretch of `entries`, and cuts every
// bucket into runs of at most RUN_LENGTH entries (`runs`: start and end pairs); then
//   bucket_sum:    one thread per run adds its points;
//   partial_sum:   one thread per run adds a run of the previous step's sums (a bucket cut into
//                  several runs needs one or more of these steps until one sum per bucket is left);
//   bucket_reduce: one thread per (window, segment of buckets) computes, over its segment
//                  [lo, hi), T = sum (b - lo) * B_b and R = sum B_b (the running-sum trick),
//                  so that the window's sum (b + 1) * B_b (bucket b holds the digits +-(b + 1))
//                  is the sum over segments of T + (lo + 1) * R, which the host finishes.
// Short runs and segments bound the loop iterations of one thread: Mesa's llvmpipe (lavapipe)
// stops every loop of an invocation after 65,535 iterations in all, silently, and one point
// addition here takes a few hundred of them (its products loop over their rows). They also
// spread a crowded bucket over many threads.
// An entry is a point index, with bit 31 set when the point enters negated.

struct MsmParams {
    n: u32,                  // points
    buckets: u32,            // buckets per window (2^(c-1): signed digits)
    windows: u32,            // windows in this pass
    segment: u32,            // buckets per reduce segment
    segments: u32,           // segments per window
    threads_x: u32,          // threads per row of the dispatch grid
    runs: u32,               // runs in a bucket_sum or partial_sum step
    pad0: u32,
}

const NEGATE_BIT: u32 = 0x80000000u;
const POINT_WORDS: u32 = 16u;
const PROJ_WORDS: u32 = 24u;

@group(0) @binding(0) var<storage, read> points: array<u32>;
@group(0) @binding(1) var<storage, read> runs: array<u32>;
@group(0) @binding(2) var<storage, read> entries: array<u32>;
@group(0) @binding(3) var<storage, read_write> buckets: array<u32>;
@group(0) @binding(4) var<storage, read_write> reduced: array<u32>;
@group(0) @binding(5) var<uniform> msm: MsmParams;
@group(0) @binding(6) var<storage, read> partials: array<u32>;

fn load_point(index: u32) -> Affine {
    var w: array<u32, 16>;
    let base = index * POINT_WORDS;
    for (var i = 0u; i < POINT_WORDS; i++) {
        w[i] = points[base + i];
    }
    return a_from_words(w);
}

// The point of entry `e`, negated when its flag says so.
fn load_entry(e: u32) -> Affine {
    let entry = entries[e];
    let q = load_point(entry & ~NEGATE_BIT);
    if ((entry & NEGATE_BIT) != 0u) {
        return a_neg(q);
    }
    return q;
}

// Sums stay in Montgomery form between the kernels (the limbs packed into words).
fn store_bucket(slot: u32, p: Point) {
    let base = slot * PROJ_WORDS;
    let x = f_pack(p.x);
    let y = f_pack(p.y);
    let z = f_pack(p.z);
    for (var i = 0u; i < 8u; i++) {
        buckets[base + i] = x[i];
        buckets[base + 8u + i] = y[i];
        buckets[base + 16u + i] = z[i];
    }
}

fn load_bucket(slot: u32) -> Point {
    let base = slot * PROJ_WORDS;
    var x: array<u32, 8>;
    var y: array<u32, 8>;
    var z: array<u32, 8>;
    for (var i = 0u; i < 8u; i++) {
        x[i] = buckets[base + i];
        y[i] = buckets[base + 8u + i];
        z[i] = buckets[base + 16u + i];
    }
    return Point(f_unpack(x), f_unpack(y), f_unpack(z));
}

fn load_partial(slot: u32) -> Point {
    let base = slot * PROJ_WORDS;
    var x: array<u32, 8>;
    var y: array<u32, 8>;
    var z: array<u32, 8>;
    for (var i = 0u; i < 8u; i++) {
        x[i] = partials[base + i];
        y[i] = partials[base + 8u + i];
        z[i] = partials[base + 16u + i];
    }
    return Point(f_unpack(x), f_unpack(y), f_unpack(z));
}

// A run starts from its first point (no sum with the identity); the others enter by the mixed
// sum (the points are affine).
@compute @workgroup_size(64)
fn bucket_sum(@builtin(global_invocation_id) gid: vec3<u32>) {
    let g = gid.x + gid.y * msm.threads_x;
    if (g >= msm.runs) {
        return;
    }
    let start = runs[2u * g];
    let end = runs[2u * g + 1u];
    var acc = p_identity();
    if (start < end) {
        acc = p_from_affine(load_entry(start));
        for (var e = start + 1u; e < end; e++) {
            acc = p_add_affine(acc, load_entry(e));
        }
    }
    store_bucket(g, acc);
}

@compute @workgroup_size(64)
fn partial_sum(@builtin(global_invocation_id) gid: vec3<u32>) {
    let g = gid.x + gid.y * msm.threads_x;
    if (g >= msm.runs) {
        return;
    }
    let start = runs[2u * g];
    let end = runs[2u * g + 1u];
    var acc = p_identity();
    if (start < end) {
        acc = load_partial(start);
        for (var e = start + 1u; e < end; e++) {
            acc = p_add(acc, load_partial(e));
        }
    }
    store_bucket(g, acc);
}

// The running sums start from the segment's top bucket: a segment of m buckets takes 2m - 3
// additions.
@compute @workgroup_size(64)
fn bucket_reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
    let g = gid.x + gid.y * msm.threads_x;
    if (g >= msm.windows * msm.segments) {
        return;
    }
    let window = g / msm.segments;
    let segment = g % msm.segments;
    let lo = segment * msm.segment;
    let hi = min(lo + msm.segment, msm.buckets);
    let first = window * msm.buckets;
    var running = load_bucket(first + hi - 1u);
    var total = p_identity();
    if (hi - 1u > lo) {
        total = running;
        for (var b = hi - 2u; b > lo; b--) {
            running = p_add(running, load_bucket(first + b));
            total = p_add(total, running);
        }
        running = p_add(running, load_bucket(first + lo));
    }
    let t = p_to_words(total);
    let r = p_to_words(running);
    let base = g * 2u * PROJ_WORDS;
    for (var i = 0u; i < PROJ_WORDS; i++) {
        reduced[base + i] = t[i];
        reduced[base + PROJ_WORDS + i] = r[i];
    }
}
