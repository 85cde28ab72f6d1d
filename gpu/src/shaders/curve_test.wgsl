// For the arithmetic tests (a module of its own, without the real kernels): pairs of affine
// points (P, Q) in, P + Q, 2P and 2P + Q by the mixed sum out (canonical projective words), and
// Fq products; and the throughput chains (P + r·Q by the projective and by the mixed sum, and
// x(P)·x(Q)^r: r additions or products in a row in registers).

@group(0) @binding(0) var<storage, read> test_in: array<u32>;
@group(0) @binding(1) var<storage, read_write> test_out: array<u32>;

// Input pair i: P and Q, each as 16 words of canonical affine coordinates.
fn load_pair(i: u32) -> array<Point, 2> {
    var pw: array<u32, 16>;
    var qw: array<u32, 16>;
    for (var k = 0u; k < 16u; k++) {
        pw[k] = test_in[i * 32u + k];
        qw[k] = test_in[i * 32u + 16u + k];
    }
    return array<Point, 2>(p_from_affine_words(pw), p_from_affine_words(qw));
}

// Q of input pair i as an affine point in Montgomery form.
fn load_affine_q(i: u32) -> Affine {
    let q = load_pair(i)[1];
    return Affine(q.x, q.y, f_is_zero(q.z));
}

const OPS_WORDS: u32 = 80u;

@compute @workgroup_size(1)
fn curve_ops(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let pq = load_pair(i);
    let p = pq[0];
    let q = pq[1];
    let sum = p_to_words(p_add(p, q));
    let doubled = p_to_words(p_double(p));
    // The mixed sum onto a point whose Z is not one.
    let mixed = p_to_words(p_add_affine(p_double(p), load_affine_q(i)));
    // x(P) * x(Q) in Fq, canonical.
    let product = f_pack(f_from_mont(f_mul(p.x, q.x)));
    for (var k = 0u; k < 24u; k++) {
        test_out[i * OPS_WORDS + k] = sum[k];
        test_out[i * OPS_WORDS + 24u + k] = doubled[k];
        test_out[i * OPS_WORDS + 48u + k] = mixed[k];
    }
    for (var k = 0u; k < 8u; k++) {
        test_out[i * OPS_WORDS + 72u + k] = product[k];
    }
}

struct ChainParams {
    threads: u32,    // threads in the dispatch
    pairs: u32,      // input pairs: thread i takes pair i % pairs
    rounds: u32,     // additions or products per thread
    threads_x: u32,  // threads per row of the dispatch grid
}

@group(0) @binding(2) var<uniform> chain: ChainParams;

// A chain's sum for its pair, canonical projective words.
fn store_chain_sum(pair: u32, p: Point) {
    let w = p_to_words(p);
    for (var k = 0u; k < 24u; k++) {
        test_out[pair * 24u + k] = w[k];
    }
}

// Every thread computes P + rounds·Q for its pair, one addition after another; the threads of a
// pair write the same words.
@compute @workgroup_size(64)
fn add_chain(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * chain.threads_x;
    if (i >= chain.threads) {
        return;
    }
    let pair = i % chain.pairs;
    let pq = load_pair(pair);
    var acc = pq[0];
    for (var r = 0u; r < chain.rounds; r++) {
        acc = p_add(acc, pq[1]);
    }
    store_chain_sum(pair, acc);
}

// The same by the mixed sum (Q affine).
@compute @workgroup_size(64)
fn add_affine_chain(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * chain.threads_x;
    if (i >= chain.threads) {
        return;
    }
    let pair = i % chain.pairs;
    var acc = load_pair(pair)[0];
    let q = load_affine_q(pair);
    for (var r = 0u; r < chain.rounds; r++) {
        acc = p_add_affine(acc, q);
    }
    store_chain_sum(pair, acc);
}

// Every thread computes x(P) · x(Q)^rounds in Fq, one product after another.
@compute @workgroup_size(64)
fn mul_chain(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * chain.threads_x;
    if (i >= chain.threads) {
        return;
    }
    let pair = i % chain.pairs;
    let pq = load_pair(pair);
    var acc = pq[0].x;
    for (var r = 0u; r < chain.rounds; r++) {
        acc = f_mul(acc, pq[1].x);
    }
    let w = f_pack(f_from_mont(acc));
    for (var k = 0u; k < 8u; k++) {
        test_out[pair * 8u + k] = w[k];
    }
}
