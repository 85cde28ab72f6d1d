// The radix-2 decimation-in-time FFT over Fp: a bit-reversal permutation, then one dispatch
// per stage; twiddles are the powers of omega (Montgomery form), stage m = half a block uses
// every (n / 2m)-th of them. Values enter and leave in canonical form.

struct FftParams {
    n: u32,
    log_n: u32,
    half: u32,       // butterfly stage: half the block size
    stride: u32,     // butterfly stage: twiddle index step (n / (2 * half))
    threads_x: u32,
    count: u32,      // conversions: elements to convert
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@group(0) @binding(1) var<storage, read_write> other: array<u32>;
@group(0) @binding(2) var<uniform> fft: FftParams;

fn load_data(i: u32) -> Fe {
    var w: array<u32, 8>;
    for (var k = 0u; k < 8u; k++) {
        w[k] = data[i * 8u + k];
    }
    return f_unpack(w);
}

fn store_data(i: u32, a: Fe) {
    let w = f_pack(a);
    for (var k = 0u; k < 8u; k++) {
        data[i * 8u + k] = w[k];
    }
}

fn load_other(i: u32) -> Fe {
    var w: array<u32, 8>;
    for (var k = 0u; k < 8u; k++) {
        w[k] = other[i * 8u + k];
    }
    return f_unpack(w);
}

fn thread_index(gid: vec3<u32>) -> u32 {
    return gid.x + gid.y * fft.threads_x;
}

@compute @workgroup_size(64)
fn to_mont(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = thread_index(gid);
    if (i < fft.count) {
        store_data(i, f_to_mont(load_data(i)));
    }
}

@compute @workgroup_size(64)
fn from_mont(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = thread_index(gid);
    if (i < fft.count) {
        store_data(i, f_from_mont(load_data(i)));
    }
}

// other[reverse(i)] = data[i]
@compute @workgroup_size(64)
fn bit_reverse(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = thread_index(gid);
    if (i >= fft.n) {
        return;
    }
    var j = 0u;
    if (fft.log_n > 0u) {
        j = reverseBits(i) >> (32u - fft.log_n);
    }
    for (var k = 0u; k < 8u; k++) {
        other[j * 8u + k] = data[i * 8u + k];
    }
}

// data holds the values, other the twiddles.
@compute @workgroup_size(64)
fn butterfly(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = thread_index(gid);
    if (t >= fft.n / 2u) {
        return;
    }
    let j = t % fft.half;
    let i0 = (t / fft.half) * 2u * fft.half + j;
    let i1 = i0 + fft.half;
    let a = load_data(i0);
    let b = f_mul(load_data(i1), load_other(j * fft.stride));
    store_data(i0, f_add(a, b));
    store_data(i1, f_sub(a, b));
}

// For the arithmetic tests: data holds pairs (a, b) canonical; other gets a * b, a + b, a - b.
@compute @workgroup_size(64)
fn field_ops(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = thread_index(gid);
    if (i >= fft.count) {
        return;
    }
    let a = f_to_mont(load_data(2u * i));
    let b = f_to_mont(load_data(2u * i + 1u));
    var results = array<Fe, 3>(f_mul(a, b), f_add(a, b), f_sub(a, b));
    for (var r = 0u; r < 3u; r++) {
        let w = f_pack(f_from_mont(results[r]));
        for (var k = 0u; k < 8u; k++) {
            other[(3u * i + r) * 8u + k] = w[k];
        }
    }
}
