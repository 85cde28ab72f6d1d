// Vesta (y^2 = x^3 + 5 over Fq) in homogeneous projective coordinates, Montgomery form, with
// the complete formulas of Renes, Costello and Batina (2016), algorithms 7, 8 and 9 for a = 0:
// no special cases for the identity (0 : 1 : 0), doubling or inverse points. Algorithm 8 (the
// mixed sum, 11 products instead of 12) adds an affine point, which cannot be the identity:
// `p_add_affine` skips an affine identity.
//
// Needs field.wgsl over Fq; the host fills in MONT_B3 (3 * b in Montgomery form) and MONT_ZETA.

const MONT_B3: Fe = Fe({{MONT_B3}});
// The cube root of unity zeta in Fq of Vesta's endomorphism phi(x, y) = (zeta * x, y), in
// Montgomery form.
const MONT_ZETA: Fe = Fe({{MONT_ZETA}});

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

// An affine point in Montgomery form; `infinity` marks the identity (pasta's (0, 0)).
struct Affine {
    x: Fe,
    y: Fe,
    infinity: bool,
}

// Algorithm 8: P + Q for an affine Q (Z2 = 1); Q the identity leaves P.
fn p_add_affine(p: Point, q: Affine) -> Point {
    if (q.infinity) {
        return p;
    }
    var t0 = f_mul(p.x, q.x);
    var t1 = f_mul(p.y, q.y);
    var t3 = f_add(q.x, q.y);
    var t4 = f_add(p.x, p.y);
    t3 = f_mul(t3, t4);
    t4 = f_add(t0, t1);
    t3 = f_sub(t3, t4);
    t4 = f_mul(q.y, p.z);
    t4 = f_add(t4, p.y);
    var y3 = f_mul(q.x, p.z);
    y3 = f_add(y3, p.x);
    var x3 = f_add(t0, t0);
    t0 = f_add(x3, t0);
    var t2 = f_mul(MONT_B3, p.z);
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

fn a_neg(q: Affine) -> Affine {
    return Affine(q.x, f_neg(q.y), q.infinity);
}

// phi(Q) = (zeta * x, y): the point times lambda (the identity stays the identity).
fn a_endo(q: Affine) -> Affine {
    return Affine(f_mul(q.x, MONT_ZETA), q.y, q.infinity);
}

// The affine point as a projective one (the identity as (0 : 1 : 0)).
fn p_from_affine(q: Affine) -> Point {
    if (q.infinity) {
        return p_identity();
    }
    return Point(q.x, q.y, MONT_ONE);
}

// An affine point from 16 words (x then y; pasta's identity is (0, 0)), the coordinates taken
// as they are: the MSM's and the collapse's uploads are already in Montgomery form.
fn a_from_words(w: array<u32, 16>) -> Affine {
    var xw: array<u32, 8>;
    var yw: array<u32, 8>;
    for (var i = 0u; i < 8u; i++) {
        xw[i] = w[i];
        yw[i] = w[i + 8u];
    }
    let x = f_unpack(xw);
    let y = f_unpack(yw);
    return Affine(x, y, f_is_zero(x) && f_is_zero(y));
}

// An affine point as 16 words of canonical coordinates, as pasta stores them, into Montgomery
// projective form (the identity as (0 : 1 : 0)).
fn p_from_affine_words(w: array<u32, 16>) -> Point {
    let a = a_from_words(w);
    if (a.infinity) {
        return p_identity();
    }
    return Point(f_to_mont(a.x), f_to_mont(a.y), MONT_ONE);
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
