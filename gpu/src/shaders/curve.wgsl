// Vesta (y^2 = x^3 + 5 over Fq) in homogeneous projective coordinates, Montgomery form, with
// the complete formulas of Renes, Costello and Batina (2016), algorithms 7 and 9 for a = 0:
// no special cases for the identity (0 : 1 : 0), doubling or inverse points.
//
// Needs field.wgsl over Fq and the constant MONT_B3 (3 * b in Montgomery form).

const MONT_B3: Fe = Fe({{MONT_B3}});

struct Point {
    x: Fe,
    y: Fe,
    z: Fe,
}

fn p_identity() -> Point {
    return Point(f_zero(), MONT_ONE, f_zero());
}

// Algorithm 7: P + Q.
fn p_add(p: Point, q: Point) -> Point {
    var t0 = f_mul(p.x, q.x);
    var t1 = f_mul(p.y, q.y);
    var t2 = f_mul(p.z, q.z);
    var t3 = f_add(p.x, p.y);
    var t4 = f_add(q.x, q.y);
    t3 = f_mul(t3, t4);
    t4 = f_add(t0, t1);
    t3 = f_sub(t3, t4);
    t4 = f_add(p.y, p.z);
    var x3 = f_add(q.y, q.z);
    t4 = f_mul(t4, x3);
    x3 = f_add(t1, t2);
    t4 = f_sub(t4, x3);
    x3 = f_add(p.x, p.z);
    var y3 = f_add(q.x, q.z);
    x3 = f_mul(x3, y3);
    y3 = f_add(t0, t2);
    y3 = f_sub(x3, y3);
    x3 = f_add(t0, t0);
    t0 = f_add(x3, t0);
    t2 = f_mul(MONT_B3, t2);
    var z3 = f_add(t1, t2);
    t1 = f_sub(t1, t2);
    y3 = f_mul(MONT_B3, y3);
    x3 = f_mul(t4, y3);
    t2 = f_mul(t3, t1);
    x3 = f_sub(t2, x3);
    y3 = f_mul(y3, t0);
    t1 = f_mul(t1, z3);
    y3 = f_add(t1, y3);
    t0 = f_mul(t0, t3);
    z3 = f_mul(z3, t4);
    z3 = f_add(z3, t0);
    return Point(x3, y3, z3);
}

// Algorithm 9: 2P.
fn p_double(p: Point) -> Point {
    var t0 = f_square(p.y);
    var z3 = f_add(t0, t0);
    z3 = f_add(z3, z3);
    z3 = f_add(z3, z3);
    var t1 = f_mul(p.y, p.z);
    var t2 = f_square(p.z);
    t2 = f_mul(MONT_B3, t2);
    var x3 = f_mul(t2, z3);
    var y3 = f_add(t0, t2);
    z3 = f_mul(t1, z3);
    t1 = f_add(t2, t2);
    t2 = f_add(t1, t2);
    t0 = f_sub(t0, t2);
    y3 = f_mul(t0, y3);
    y3 = f_add(x3, y3);
    t1 = f_mul(p.x, p.y);
    x3 = f_mul(t0, t1);
    x3 = f_add(x3, x3);
    return Point(x3, y3, z3);
}

fn p_neg(p: Point) -> Point {
    return Point(p.x, f_neg(p.y), p.z);
}

// An affine point as 16 words (x then y; pasta's identity is (0, 0)) whose coordinates are
// already in Montgomery form (the MSM's upload), into Montgomery projective form.
fn p_from_montgomery_affine_words(w: array<u32, 16>) -> Point {
    var xw: array<u32, 8>;
    var yw: array<u32, 8>;
    for (var i = 0u; i < 8u; i++) {
        xw[i] = w[i];
        yw[i] = w[i + 8u];
    }
    let x = f_unpack(xw);
    let y = f_unpack(yw);
    if (f_is_zero(x) && f_is_zero(y)) {
        return p_identity();
    }
    return Point(x, y, MONT_ONE);
}

// The same from canonical coordinates, as pasta stores them (the identity stays (0 : 1 : 0)).
fn p_from_affine_words(w: array<u32, 16>) -> Point {
    let p = p_from_montgomery_affine_words(w);
    if (f_is_zero(p.z)) {
        return p;
    }
    return Point(f_to_mont(p.x), f_to_mont(p.y), MONT_ONE);
}

// Montgomery projective -> canonical projective words (x, y, z: 24 words).
fn p_to_words(p: Point) -> array<u32, 24> {
    let x = f_pack(f_from_mont(p.x));
    let y = f_pack(f_from_mont(p.y));
    let z = f_pack(f_from_mont(p.z));
    var w: array<u32, 24>;
    for (var i = 0u; i < 8u; i++) {
        w[i] = x[i];
        w[i + 8u] = y[i];
        w[i + 16u] = z[i];
    }
    return w;
}
