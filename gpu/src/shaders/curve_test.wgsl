// For the arithmetic tests (a module of its own, without the real kernels): pairs of affine
// points (P, Q) in, P + Q and 2P out (canonical projective words), and Fq products.

@group(0) @binding(0) var<storage, read> test_in: array<u32>;
@group(0) @binding(1) var<storage, read_write> test_out: array<u32>;

@compute @workgroup_size(1)
fn curve_ops(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    var pw: array<u32, 16>;
    var qw: array<u32, 16>;
    for (var k = 0u; k < 16u; k++) {
        pw[k] = test_in[i * 32u + k];
        qw[k] = test_in[i * 32u + 16u + k];
    }
    let p = p_from_affine_words(pw);
    let q = p_from_affine_words(qw);
    let sum = p_to_words(p_add(p, q));
    let doubled = p_to_words(p_double(p));
    // x(P) * x(Q) in Fq, canonical.
    let product = f_pack(f_from_mont(f_mul(p.x, q.x)));
    for (var k = 0u; k < 24u; k++) {
        test_out[i * 56u + k] = sum[k];
        test_out[i * 56u + 24u + k] = doubled[k];
    }
    for (var k = 0u; k < 8u; k++) {
        test_out[i * 56u + 48u + k] = product[k];
    }
}
