//! The field core of `shaders/field.wgsl`, written out here: every limb a named scalar or an
//! array element at a constant index (so a GPU compiler keeps them in registers and naga needs
//! no bounds checks), and the Montgomery reduction's products with the modulus's zero limbs left
//! out (a pasta modulus has seven). The arithmetic: 16-bit limbs, so that a limb product plus
//! two limbs fits a u32; the product by coarsely integrated operand scanning (per limb of `a`,
//! one row: add `a_i · b`, then add the multiple of p that clears the low limb and shift).

use std::fmt::Write;

/// Fe of a field element.
const LIMBS: usize = 16;
/// u32 words of a field element.
const WORDS: usize = 8;
/// The end of `f_add` and `f_mul`: `r` is below 2p, one conditional subtraction of p.
const REDUCE_ONCE: &str = "    if (f_geq(r, MODULUS)) {\n        r = f_sub_raw(r, MODULUS);\n    }\n    return r;\n}\n";

/// The core over sixteen limbs ([`crate::FieldForm::Rows`]) for the modulus `modulus` (16-bit
/// limbs, little-endian) and the reduction factor `neg_inv` (`-p^-1 mod 2^16`): the product
/// loops over its sixteen rows (one limb of `a` each, the row written out), everything else is
/// written out.
pub(crate) fn limbs_core(modulus: &[u32; LIMBS], neg_inv: u32) -> String {
    let limbs = [is_zero(LIMBS), geq(LIMBS), limb_sub_raw(LIMBS, 16), limb_add(LIMBS, 16)];
    [&limbs[..], &[mul_rows_in_a_loop(modulus, neg_inv), unpack(), pack()]].concat().join("\n")
}

/// The core over packed words ([`crate::FieldForm::Packed`]): a field element is its eight u32
/// words, half the registers of sixteen limbs; the product takes its 16-bit limbs out of the
/// words as it goes (the rows in a loop, two rows per word of `a`) and packs the result.
pub(crate) fn packed_core(modulus: &[u32; LIMBS], neg_inv: u32) -> String {
    [is_zero(WORDS), geq(WORDS), packed_sub_raw(), packed_add(), packed_mul(modulus, neg_inv), identity_pack()]
        .join("\n")
}

/// The core over packed words with 64-bit products ([`crate::FieldForm::Int64`]): a field
/// element is its eight u32 words, like [`packed_core`], and the product multiplies whole
/// words into u64 (a word product plus two words fits one), eight rows of eight instead of
/// sixteen of sixteen. Needs shaders with 64-bit integers (`wgpu::Features::SHADER_INT64`).
/// `modulus` holds the modulus's 32-bit words, `neg_inv` is `-p^-1 mod 2^32`.
pub(crate) fn int64_core(modulus: &[u32; WORDS], neg_inv: u32) -> String {
    [is_zero(WORDS), geq(WORDS), packed_sub_raw(), packed_add(), int64_mul(modulus, neg_inv), identity_pack()]
        .join("\n")
}

/// The Montgomery product by coarsely integrated operand scanning over 32-bit words, each limb
/// product and its carries in a u64, the accumulator in `t0..t9`, the rows in a loop.
fn int64_mul(modulus: &[u32; WORDS], neg_inv: u32) -> String {
    let mut s = String::from("fn f_mul(a: Fe, b: Fe) -> Fe {\n");
    for j in 0..=WORDS + 1 {
        let _ = writeln!(s, "    var t{j} = 0u;");
    }
    for j in 0..WORDS {
        let _ = writeln!(s, "    let b{j} = u64(b[{j}]);");
        let _ = writeln!(s, "    var a{j} = a[{j}];");
    }
    s.push_str("    var ai: u64;\n    var m: u64;\n    var s: u64;\n");
    let _ = writeln!(s, "    for (var row = 0u; row < {WORDS}u; row++) {{\n        ai = u64(a0);");
    for j in 0..WORDS - 1 {
        let _ = writeln!(s, "        a{j} = a{};", j + 1);
    }
    // t += ai * b
    s.push_str("        s = u64(t0) + ai * b0;\n        t0 = u32(s);\n");
    for j in 1..WORDS {
        let _ = writeln!(s, "        s = u64(t{j}) + ai * b{j} + (s >> 32u);\n        t{j} = u32(s);");
    }
    let w = WORDS;
    let _ =
        writeln!(s, "        s = u64(t{w}) + (s >> 32u);\n        t{w} = u32(s);\n        t{} = u32(s >> 32u);", w + 1);
    // t = (t + m * p) / 2^32, m clearing the low word.
    let _ = writeln!(s, "        m = u64(t0 * {neg_inv}u);");
    let _ = writeln!(s, "        s = u64(t0) + m * {}lu;", modulus[0]);
    for (j, &word) in modulus.iter().enumerate().skip(1) {
        match word {
            0 => {
                let _ = writeln!(s, "        s = u64(t{j}) + (s >> 32u);");
            }
            _ => {
                let _ = writeln!(s, "        s = u64(t{j}) + m * {word}lu + (s >> 32u);");
            }
        }
        let _ = writeln!(s, "        t{} = u32(s);", j - 1);
    }
    let _ = writeln!(
        s,
        "        s = u64(t{w}) + (s >> 32u);\n        t{} = u32(s);\n        t{w} = t{} + u32(s >> 32u);\n    }}",
        w - 1,
        w + 1
    );
    let words: Vec<String> = (0..WORDS).map(|j| format!("t{j}")).collect();
    let _ = writeln!(s, "    var r = Fe({});", words.join(", "));
    s.push_str("    // t < 2p < 2^256, so t8 is zero and one subtraction is enough.\n");
    s.push_str(REDUCE_ONCE);
    s
}

/// Limbs of the lazy form ([`crate::FieldForm::Lazy13`]): 20 of 13 bits, 260 bits in all.
pub(crate) const LAZY_LIMBS: usize = 20;
/// Bits per limb of the lazy form: a limb product has 26 bits, so forty of them add up in a u32.
pub(crate) const LAZY_BITS: u32 = 13;

/// The core over twenty 13-bit limbs ([`crate::FieldForm::Lazy13`]), Montgomery radix 2^260:
/// the product adds every row's limb products into its columns without carrying (a column
/// takes at most forty 26-bit products before it shifts out, below 2^32) and carries once at
/// the end.
pub(crate) fn lazy_core(modulus: &[u32; LAZY_LIMBS], neg_inv: u32) -> String {
    let n = LAZY_LIMBS;
    let mask = (1u32 << LAZY_BITS) - 1;
    let mut core = vec![is_zero(n), geq(n), limb_sub_raw(n, LAZY_BITS), limb_add(n, LAZY_BITS)];
    // The product.
    let mut s = String::from("fn f_mul(a: Fe, b: Fe) -> Fe {\n");
    for j in 0..n {
        let _ = writeln!(s, "    var t{j} = 0u;");
        let _ = writeln!(s, "    let b{j} = b[{j}];");
        let _ = writeln!(s, "    var a{j} = a[{j}];");
    }
    s.push_str("    var ai: u32;\n    var m: u32;\n    var carry: u32;\n");
    let _ = writeln!(s, "    for (var row = 0u; row < {n}u; row++) {{\n        ai = a0;");
    for j in 0..n - 1 {
        let _ = writeln!(s, "        a{j} = a{};", j + 1);
    }
    for j in 0..n {
        let _ = writeln!(s, "        t{j} = t{j} + ai * b{j};");
    }
    let _ = writeln!(s, "        m = (t0 * {neg_inv}u) & {mask}u;");
    for (j, &limb) in modulus.iter().enumerate() {
        if limb != 0 {
            let _ = writeln!(s, "        t{j} = t{j} + m * {limb}u;");
        }
    }
    let _ = writeln!(s, "        carry = t0 >> {LAZY_BITS}u;");
    s.push_str("        t0 = t1 + carry;\n");
    for j in 1..n - 1 {
        let _ = writeln!(s, "        t{j} = t{};", j + 1);
    }
    let _ = writeln!(s, "        t{} = 0u;\n    }}", n - 1);
    s.push_str("    carry = 0u;\n");
    for j in 0..n {
        let _ = writeln!(s, "    t{j} = t{j} + carry;\n    carry = t{j} >> {LAZY_BITS}u;\n    t{j} = t{j} & {mask}u;");
    }
    let limbs: Vec<String> = (0..n).map(|j| format!("t{j}")).collect();
    let _ = writeln!(s, "    var r = Fe({});", limbs.join(", "));
    s.push_str("    // t < 2p < 2^256: one subtraction is enough.\n");
    s.push_str(REDUCE_ONCE);
    core.push(s);
    // Words <-> limbs.
    let mut limbs = Vec::new();
    for k in 0..n as u32 {
        let start = k * LAZY_BITS;
        let (w, o) = (start / 32, start % 32);
        let mut term = format!("(w[{w}] >> {o}u)");
        if o + LAZY_BITS > 32 && (w as usize + 1) < WORDS {
            term = format!("({term} | (w[{}] << {}u))", w + 1, 32 - o);
        }
        limbs.push(format!("{term} & {mask}u"));
    }
    core.push(format!("fn f_unpack(w: array<u32, 8>) -> Fe {{\n    return Fe({});\n}}\n", limbs.join(", ")));
    let mut words = Vec::new();
    for w in 0..WORDS as u32 {
        let (lo, hi) = (32 * w, 32 * w + 32);
        let mut terms = Vec::new();
        for k in 0..n as u32 {
            let start = k * LAZY_BITS;
            if start + LAZY_BITS <= lo || start >= hi {
                continue;
            }
            terms.push(if start >= lo {
                format!("(a[{k}] << {}u)", start - lo)
            } else {
                format!("(a[{k}] >> {}u)", lo - start)
            });
        }
        words.push(terms.join(" | "));
    }
    core.push(format!("fn f_pack(a: Fe) -> array<u32, 8> {{\n    return array<u32, 8>({});\n}}\n", words.join(", ")));
    core.join("\n")
}

/// `a - b` word by word, the borrow from comparisons.
fn packed_sub_raw() -> String {
    let mut s = String::from("fn f_sub_raw(a: Fe, b: Fe) -> Fe {\n    var r: Fe;\n    var d: u32;\n");
    s.push_str("    var borrow = 0u;\n    var below: u32;\n");
    for i in 0..WORDS {
        let _ = writeln!(s, "    d = a[{i}] - b[{i}];");
        let _ = writeln!(s, "    below = u32(a[{i}] < b[{i}]);");
        let _ = writeln!(s, "    r[{i}] = d - borrow;");
        let _ = writeln!(s, "    borrow = below | u32(d < borrow);");
    }
    s.push_str("    return r;\n}\n");
    s
}

/// `a + b` word by word (both below p < 2^255: no carry out), then one conditional subtraction.
fn packed_add() -> String {
    let mut s = String::from("fn f_add(a: Fe, b: Fe) -> Fe {\n    var r: Fe;\n    var x: u32;\n");
    s.push_str("    var carry = 0u;\n    var over: u32;\n");
    for i in 0..WORDS {
        let _ = writeln!(s, "    x = a[{i}] + b[{i}];");
        let _ = writeln!(s, "    over = u32(x < a[{i}]);");
        let _ = writeln!(s, "    r[{i}] = x + carry;");
        let _ = writeln!(s, "    carry = over | u32(r[{i}] < x);");
    }
    s.push_str(REDUCE_ONCE);
    s
}

/// The product over 16-bit limbs taken out of the words: `b`'s sixteen limbs once, `a`'s two per
/// loop iteration (a word of `a` shifts in per iteration).
fn packed_mul(modulus: &[u32; LIMBS], neg_inv: u32) -> String {
    let mut s = mul_head_without_b();
    for j in 0..WORDS {
        let _ = writeln!(s, "    let b{} = b[{j}] & LIMB_MASK;", 2 * j);
        let _ = writeln!(s, "    let b{} = b[{j}] >> 16u;", 2 * j + 1);
        let _ = writeln!(s, "    var w{j} = a[{j}];");
    }
    s.push_str("    var word: u32;\n");
    s.push_str("    for (var i = 0u; i < WORDS; i++) {\n        word = w0;\n");
    for j in 0..WORDS - 1 {
        let _ = writeln!(s, "        w{j} = w{};", j + 1);
    }
    s.push_str("        ai = word & LIMB_MASK;\n");
    mul_row(&mut s, modulus, neg_inv, "        ");
    s.push_str("        ai = word >> 16u;\n");
    mul_row(&mut s, modulus, neg_inv, "        ");
    s.push_str("    }\n");
    let words: Vec<String> = (0..WORDS).map(|j| format!("t{} | (t{} << 16u)", 2 * j, 2 * j + 1)).collect();
    let _ = writeln!(s, "    var r = Fe({});", words.join(", "));
    s.push_str("    // t < 2p < 2^256, so t16 is zero and one subtraction is enough.\n");
    s.push_str(REDUCE_ONCE);
    s
}

/// Storage words are the working form.
fn identity_pack() -> String {
    "fn f_unpack(w: array<u32, 8>) -> Fe {\n    return w;\n}\n\nfn f_pack(a: Fe) -> array<u32, 8> {\n    return a;\n}\n"
        .to_string()
}

/// `f_is_zero` over `n` values.
fn is_zero(n: usize) -> String {
    let terms: Vec<String> = (0..n).map(|i| format!("a[{i}]")).collect();
    format!("fn f_is_zero(a: Fe) -> bool {{\n    return ({}) == 0u;\n}}\n", terms.join(" | "))
}

/// `f_geq` (`a >= b`) over `n` values, from the top one down, without branches.
fn geq(n: usize) -> String {
    let mut s = String::from("fn f_geq(a: Fe, b: Fe) -> bool {\n    var gt = false;\n    var eq = true;\n");
    for j in (0..n).rev() {
        let _ = writeln!(s, "    gt = gt | (eq & (a[{j}] > b[{j}]));");
        let _ = writeln!(s, "    eq = eq & (a[{j}] == b[{j}]);");
    }
    s.push_str("    return gt | eq;\n}\n");
    s
}

/// `f_sub_raw` (`a - b`, `a >= b`) over `n` limbs of `bits` bits: each limb borrows `2^bits`.
fn limb_sub_raw(n: usize, bits: u32) -> String {
    let mask = (1u32 << bits) - 1;
    let mut s =
        String::from("fn f_sub_raw(a: Fe, b: Fe) -> Fe {\n    var r: Fe;\n    var d: u32;\n    var borrow = 0u;\n");
    for i in 0..n {
        let _ = writeln!(s, "    d = (a[{i}] | {}u) - b[{i}] - borrow;", 1u32 << bits);
        let _ = writeln!(s, "    r[{i}] = d & {mask}u;");
        let _ = writeln!(s, "    borrow = 1u - (d >> {bits}u);");
    }
    s.push_str("    return r;\n}\n");
    s
}

/// `f_add` over `n` limbs of `bits` bits (both operands below p: no carry out), then one
/// conditional subtraction.
fn limb_add(n: usize, bits: u32) -> String {
    let mask = (1u32 << bits) - 1;
    let mut s = String::from("fn f_add(a: Fe, b: Fe) -> Fe {\n    var r: Fe;\n    var t: u32;\n    var carry = 0u;\n");
    for i in 0..n {
        let _ = writeln!(s, "    t = a[{i}] + b[{i}] + carry;");
        let _ = writeln!(s, "    r[{i}] = t & {mask}u;");
        let _ = writeln!(s, "    carry = t >> {bits}u;");
    }
    s.push_str(REDUCE_ONCE);
    s
}

/// The Montgomery product by coarsely integrated operand scanning, the accumulator in scalars
/// `t0..t17`, the rows in a loop: `a`'s limbs shift down one per row.
fn mul_rows_in_a_loop(modulus: &[u32; LIMBS], neg_inv: u32) -> String {
    let mut s = mul_head();
    for i in 0..LIMBS {
        let _ = writeln!(s, "    var a{i} = a[{i}];");
    }
    s.push_str("    for (var row = 0u; row < LIMBS; row++) {\n        ai = a0;\n");
    for i in 0..LIMBS - 1 {
        let _ = writeln!(s, "        a{i} = a{};", i + 1);
    }
    mul_row(&mut s, modulus, neg_inv, "        ");
    s.push_str("    }\n");
    mul_tail(&mut s);
    s
}

fn mul_head() -> String {
    let mut s = mul_head_without_b();
    for j in 0..LIMBS {
        let _ = writeln!(s, "    let b{j} = b[{j}];");
    }
    s
}

fn mul_head_without_b() -> String {
    let mut s = String::from("fn f_mul(a: Fe, b: Fe) -> Fe {\n");
    for j in 0..LIMBS + 2 {
        let _ = writeln!(s, "    var t{j} = 0u;");
    }
    s.push_str("    var s: u32;\n    var carry: u32;\n    var m: u32;\n    var ai: u32;\n");
    s
}

/// One row: `t += ai * b`, then `t = (t + m * p) / 2^16` with `m` making the low limb vanish.
fn mul_row(s: &mut String, modulus: &[u32; LIMBS], neg_inv: u32, indent: &str) {
    let _ = writeln!(s, "{indent}carry = 0u;");
    for j in 0..LIMBS {
        let _ = writeln!(s, "{indent}s = t{j} + ai * b{j} + carry;");
        let _ = writeln!(s, "{indent}t{j} = s & LIMB_MASK;");
        let _ = writeln!(s, "{indent}carry = s >> 16u;");
    }
    let _ = writeln!(s, "{indent}s = t16 + carry;\n{indent}t16 = s & LIMB_MASK;\n{indent}t17 = s >> 16u;");
    let _ = writeln!(s, "{indent}m = (t0 * {neg_inv}u) & LIMB_MASK;");
    let _ = writeln!(s, "{indent}carry = (t0 + m * {}u) >> 16u;", modulus[0]);
    for (j, &limb) in modulus.iter().enumerate().skip(1) {
        match limb {
            0 => {
                let _ = writeln!(s, "{indent}s = t{j} + carry;");
            }
            _ => {
                let _ = writeln!(s, "{indent}s = t{j} + m * {limb}u + carry;");
            }
        }
        let _ = writeln!(s, "{indent}t{} = s & LIMB_MASK;", j - 1);
        let _ = writeln!(s, "{indent}carry = s >> 16u;");
    }
    let _ = writeln!(
        s,
        "{indent}s = t16 + carry;\n{indent}t15 = s & LIMB_MASK;\n{indent}t16 = t17 + (s >> 16u);\n{indent}t17 = 0u;"
    );
}

fn mul_tail(s: &mut String) {
    let limbs: Vec<String> = (0..LIMBS).map(|j| format!("t{j}")).collect();
    let _ = writeln!(s, "    var r = Fe({});", limbs.join(", "));
    s.push_str("    // t < 2p < 2^256, so t16 is zero and one subtraction is enough.\n");
    s.push_str(REDUCE_ONCE);
}

fn unpack() -> String {
    let limbs: Vec<String> =
        (0..WORDS).flat_map(|i| [format!("w[{i}] & LIMB_MASK"), format!("w[{i}] >> 16u")]).collect();
    format!("fn f_unpack(w: array<u32, 8>) -> Fe {{\n    return Fe({});\n}}\n", limbs.join(", "))
}

fn pack() -> String {
    let words: Vec<String> = (0..WORDS).map(|i| format!("a[{}] | (a[{}] << 16u)", 2 * i, 2 * i + 1)).collect();
    format!("fn f_pack(a: Fe) -> array<u32, 8> {{\n    return array<u32, 8>({});\n}}\n", words.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_limbs_of_the_modulus_cost_no_product() {
        let mut modulus = [0u32; LIMBS];
        modulus[0] = 1;
        modulus[15] = 0x4000;
        // One row written out: one product with the modulus's top limb, none with the zero limbs.
        let core = limbs_core(&modulus, 0xffff);
        assert_eq!(core.matches("m * 16384u").count(), 1);
        assert_eq!(core.matches("m * 0u").count(), 0);
        assert_eq!(core.matches("for (").count(), 1, "one loop, over the rows");
        // Packed: two rows per word of a.
        let packed = packed_core(&modulus, 0xffff);
        assert_eq!(packed.matches("m * 16384u").count(), 2);
        assert_eq!(packed.matches("m * 0u").count(), 0);
        // 64-bit products: one product with each non-zero word of the modulus per row.
        let mut words = [0u32; WORDS];
        words[0] = 1;
        words[7] = 0x4000_0000;
        let wide = int64_core(&words, u32::MAX);
        assert_eq!(wide.matches("m * 1073741824lu").count(), 1);
        assert_eq!(wide.matches("m * 0lu").count(), 0);
        assert_eq!(wide.matches("for (").count(), 1, "one loop, over the rows");
    }
}
