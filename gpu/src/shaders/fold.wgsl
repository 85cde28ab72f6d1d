// The IPA's generator collapse, one round: g[i] <- g[i] + u * g[i + half] for every i below
// half. Every thread multiplies its own point of the upper half by the same public challenge u
// (double-and-add from the top bit, so the branch is the same in every thread), in passes of
// at most 32 bits of u each:
//   fold_bits:   acc = 2^count * acc + (the pass's bits of u) * high[i], acc starting at the
//                identity in the first pass;
//   fold_finish: out = acc + low[i], canonical projective words (the host makes them affine).
// Passes bound the loop iterations of one thread: Mesa's llvmpipe (lavapipe) stops every loop
// of an invocation after 65,535 iterations in all, silently, and one point operation here takes
// a few hundred of them (its products loop over their rows); 32 bits take about 11,000.

struct FoldParams {
    n: u32,          // points in each half
    threads_x: u32,  // threads per row of the dispatch grid
    bits: u32,       // this pass's bits of the challenge, the first one highest
    count: u32,      // how many of them (0 to 32)
    first: u32,      // 1: the accumulator starts at the identity
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

const POINT_WORDS: u32 = 16u;
const PROJ_WORDS: u32 = 24u;

@group(0) @binding(0) var<storage, read> high: array<u32>;
@group(0) @binding(1) var<storage, read_write> acc: array<u32>;
@group(0) @binding(2) var<uniform> fold: FoldParams;
@group(0) @binding(3) var<storage, read> low: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;

fn load_high(index: u32) -> Affine {
    var w: array<u32, 16>;
    let base = index * POINT_WORDS;
    for (var i = 0u; i < POINT_WORDS; i++) {
        w[i] = high[base + i];
    }
    return a_from_words(w);
}

fn load_low(index: u32) -> Affine {
    var w: array<u32, 16>;
    let base = index * POINT_WORDS;
    for (var i = 0u; i < POINT_WORDS; i++) {
        w[i] = low[base + i];
    }
    return a_from_words(w);
}

// The accumulator stays in Montgomery form between passes (the limbs packed into words).
fn store_acc(index: u32, p: Point) {
    let base = index * PROJ_WORDS;
    let x = f_pack(p.x);
    let y = f_pack(p.y);
    let z = f_pack(p.z);
    for (var i = 0u; i < 8u; i++) {
        acc[base + i] = x[i];
        acc[base + 8u + i] = y[i];
        acc[base + 16u + i] = z[i];
    }
}

fn load_acc(index: u32) -> Point {
    let base = index * PROJ_WORDS;
    var x: array<u32, 8>;
    var y: array<u32, 8>;
    var z: array<u32, 8>;
    for (var i = 0u; i < 8u; i++) {
        x[i] = acc[base + i];
        y[i] = acc[base + 8u + i];
        z[i] = acc[base + 16u + i];
    }
    return Point(f_unpack(x), f_unpack(y), f_unpack(z));
}

@compute @workgroup_size(64)
fn fold_bits(@builtin(global_invocation_id) gid: vec3<u32>) {
    let g = gid.x + gid.y * fold.threads_x;
    if (g >= fold.n) {
        return;
    }
    var a = p_identity();
    if (fold.first == 0u) {
        a = load_acc(g);
    }
    let p = load_high(g);
    for (var b = fold.count; b > 0u; b--) {
        a = p_double(a);
        if (((fold.bits >> (b - 1u)) & 1u) == 1u) {
            a = p_add_affine(a, p);
        }
    }
    store_acc(g, a);
}

@compute @workgroup_size(64)
fn fold_finish(@builtin(global_invocation_id) gid: vec3<u32>) {
    let g = gid.x + gid.y * fold.threads_x;
    if (g >= fold.n) {
        return;
    }
    let words = p_to_words(p_add_affine(load_acc(g), load_low(g)));
    let base = g * PROJ_WORDS;
    for (var i = 0u; i < PROJ_WORDS; i++) {
        out[base + i] = words[i];
    }
}
