// The IPA's generator collapse, one round: g[i] <- g[i] + u * g[i + half] for every i below
// half. The host splits the public challenge u = k1 + k2 * lambda (GLV: Vesta's endomorphism
// phi(x, y) = (zeta * x, y) is multiplication by lambda, and |k1|, |k2| < 2^127), so every
// thread computes k1 * G + k2 * phi(G) for its own point G of the upper half by one
// double-and-add over both halves' bits from the top (the same branch in every thread: the
// bits are the same), adding G, phi(G) or their sum per bit (one addition, the term chosen
// first), in passes of at most 32 bits:
//   fold_bits:   acc = 2^count * acc + (the pass's bits of k1) * A + (those of k2) * B, with
//                A = +-G and B = +-phi(G) by the halves' signs, acc starting at the identity in
//                the first pass;
//   fold_finish: out = acc + low[i], canonical projective words (the host makes them affine).
// (Without a split, k2 = 0 and k1 = u: the same kernel.)
// Passes bound the loop iterations of one thread: Mesa's llvmpipe (lavapipe) stops every loop
// of an invocation after 65,535 iterations in all, silently, and one point operation here takes
// a few hundred of them (its products loop over their rows); 32 bits take about 11,000.

struct FoldParams {
    n: u32,          // points in each half
    threads_x: u32,  // threads per row of the dispatch grid
    bits1: u32,      // this pass's bits of k1, the first one highest
    bits2: u32,      // the same of k2
    count: u32,      // how many of them (0 to 32)
    first: u32,      // 1: the accumulator starts at the identity
    signs: u32,      // bit 0: k1 is negative; bit 1: k2 is negative
    pad0: u32,
}

const NEGATIVE_K1: u32 = 1u;
const NEGATIVE_K2: u32 = 2u;

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
    var acc = p_identity();
    if (fold.first == 0u) {
        acc = load_acc(g);
    }
    var a = load_high(g);
    var b = a_endo(a);
    if ((fold.signs & NEGATIVE_K1) != 0u) {
        a = a_neg(a);
    }
    if ((fold.signs & NEGATIVE_K2) != 0u) {
        b = a_neg(b);
    }
    // One addition site: a software adapter runs a branch's code under a mask whether or not
    // any lane takes it, so three sites would cost three additions per bit there.
    let only_a = p_from_affine(a);
    let only_b = p_from_affine(b);
    let both = p_add_affine(only_a, b);
    for (var i = fold.count; i > 0u; i--) {
        acc = p_double(acc);
        let bit1 = ((fold.bits1 >> (i - 1u)) & 1u) == 1u;
        let bit2 = ((fold.bits2 >> (i - 1u)) & 1u) == 1u;
        var term = both;
        if (!bit2) {
            term = only_a;
        } else if (!bit1) {
            term = only_b;
        }
        if (bit1 || bit2) {
            acc = p_add(acc, term);
        }
    }
    store_acc(g, acc);
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
