// Arithmetic modulo one of the pasta primes (the host fills in the constants: see shader.rs).
//
// Storage form: a field element is 8 u32 words, little-endian (the canonical integer in
// memory, or its Montgomery form inside a kernel). Working form (Fe): 16 limbs of 16 bits each,
// or the 8 words themselves (FieldForm::Packed); either way the product works on 16-bit limbs,
// so that every limb product and its carries fit one u32. Montgomery radix R = 2^256.
//
// The core (f_is_zero, f_geq, f_sub_raw, f_add, f_mul, f_unpack, f_pack) is written out by the
// host (field_code.rs): no indexing by variables, so a compiler keeps every limb in a
// register, and no products with the modulus's zero limbs. The product's rows are a loop or
// written out too (FieldForm).

alias Fe = array<u32, {{FE_LEN}}>;

const LIMBS: u32 = 16u;
const WORDS: u32 = 8u;
const LIMB_MASK: u32 = 0xffffu;

// The modulus, R^2 mod p (canonical -> Montgomery), R mod p (Montgomery one) and
// -p^-1 mod 2^16 (the Montgomery reduction factor). Constants, not `var<private>` (a private
// variable is a per-thread copy the compiler has to prove unchanged before it folds it).
const MODULUS: Fe = Fe({{MODULUS}});
const R2: Fe = Fe({{R2}});
const MONT_ONE: Fe = Fe({{MONT_ONE}});
const NEG_INV: u32 = {{NEG_INV}}u;

fn f_zero() -> Fe {
    return Fe();
}

{{CORE}}

fn f_sub(a: Fe, b: Fe) -> Fe {
    if (f_geq(a, b)) {
        return f_sub_raw(a, b);
    }
    // a - b + p = p - (b - a)
    return f_sub_raw(MODULUS, f_sub_raw(b, a));
}

fn f_neg(a: Fe) -> Fe {
    if (f_is_zero(a)) {
        return a;
    }
    return f_sub_raw(MODULUS, a);
}

fn f_square(a: Fe) -> Fe {
    return f_mul(a, a);
}

// canonical -> Montgomery
fn f_to_mont(a: Fe) -> Fe {
    return f_mul(a, R2);
}

// Montgomery -> canonical
fn f_from_mont(a: Fe) -> Fe {
    var one = f_zero();
    one[0] = 1u;
    return f_mul(a, one);
}
