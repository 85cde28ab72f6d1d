// The field core with loops (see field.wgsl).

fn f_is_zero(a: Limbs) -> bool {
    var acc = 0u;
    for (var i = 0u; i < LIMBS; i++) {
        acc |= a[i];
    }
    return acc == 0u;
}

// a >= b as integers.
fn f_geq(a: Limbs, b: Limbs) -> bool {
    for (var i = 0u; i < LIMBS; i++) {
        let j = LIMBS - 1u - i;
        if (a[j] != b[j]) {
            return a[j] > b[j];
        }
    }
    return true;
}

// a - b as integers (a >= b).
fn f_sub_raw(a: Limbs, b: Limbs) -> Limbs {
    var r: Limbs;
    var borrow = 0u;
    for (var i = 0u; i < LIMBS; i++) {
        let d = (a[i] | 0x10000u) - b[i] - borrow;
        r[i] = d & LIMB_MASK;
        borrow = 1u - (d >> 16u);
    }
    return r;
}

fn f_add(a: Limbs, b: Limbs) -> Limbs {
    // Both are below p < 2^255, so the sum fits 256 bits.
    var r: Limbs;
    var carry = 0u;
    for (var i = 0u; i < LIMBS; i++) {
        let s = a[i] + b[i] + carry;
        r[i] = s & LIMB_MASK;
        carry = s >> 16u;
    }
    if (f_geq(r, MODULUS)) {
        r = f_sub_raw(r, MODULUS);
    }
    return r;
}

// Montgomery product a * b / R mod p (coarsely integrated operand scanning).
fn f_mul(a: Limbs, b: Limbs) -> Limbs {
    var t: array<u32, 18>;
    for (var i = 0u; i < LIMBS; i++) {
        // t += a[i] * b
        var carry = 0u;
        let ai = a[i];
        for (var j = 0u; j < LIMBS; j++) {
            let s = t[j] + ai * b[j] + carry;
            t[j] = s & LIMB_MASK;
            carry = s >> 16u;
        }
        let s16 = t[16] + carry;
        t[16] = s16 & LIMB_MASK;
        t[17] = s16 >> 16u;
        // t = (t + m * p) / 2^16 with m chosen so that the low limb vanishes
        let m = (t[0] * NEG_INV) & LIMB_MASK;
        carry = (t[0] + m * MODULUS[0]) >> 16u;
        for (var j = 1u; j < LIMBS; j++) {
            let s = t[j] + m * MODULUS[j] + carry;
            t[j - 1u] = s & LIMB_MASK;
            carry = s >> 16u;
        }
        let s15 = t[16] + carry;
        t[15] = s15 & LIMB_MASK;
        t[16] = t[17] + (s15 >> 16u);
        t[17] = 0u;
    }
    var r: Limbs;
    for (var i = 0u; i < LIMBS; i++) {
        r[i] = t[i];
    }
    // t < 2p < 2^256, so t[16] is zero and one subtraction is enough.
    if (f_geq(r, MODULUS)) {
        r = f_sub_raw(r, MODULUS);
    }
    return r;
}

// Eight u32 words (little-endian) into sixteen 16-bit limbs.
fn f_unpack(w: array<u32, 8>) -> Limbs {
    var r: Limbs;
    for (var i = 0u; i < WORDS; i++) {
        r[2u * i] = w[i] & LIMB_MASK;
        r[2u * i + 1u] = w[i] >> 16u;
    }
    return r;
}

fn f_pack(a: Limbs) -> array<u32, 8> {
    var w: array<u32, 8>;
    for (var i = 0u; i < WORDS; i++) {
        w[i] = a[2u * i] | (a[2u * i + 1u] << 16u);
    }
    return w;
}
