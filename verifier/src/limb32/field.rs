//! Vesta's base field (pasta's `Fq`) in Montgomery form over eight 32-bit limbs.
//!
//! pasta_curves multiplies 64-bit limbs into 128-bit products; WebAssembly has no such
//! instruction, so every product is a call to a 128-bit multiplication routine. Here every
//! product is a 32 x 32 -> 64-bit multiplication, which WebAssembly has. Checked against pasta's
//! arithmetic in the tests.

/// Runs the block once for each limb index, bound to the constant `$i` (written out, so that
/// every index is a constant and the limbs stay in registers).
macro_rules! each_limb {
    ($i:ident => $body:block) => {{
        {
            const $i: usize = 0;
            $body
        }
        {
            const $i: usize = 1;
            $body
        }
        {
            const $i: usize = 2;
            $body
        }
        {
            const $i: usize = 3;
            $body
        }
        {
            const $i: usize = 4;
            $body
        }
        {
            const $i: usize = 5;
            $body
        }
        {
            const $i: usize = 6;
            $body
        }
        {
            const $i: usize = 7;
            $body
        }
    }};
}

/// Limbs of a field element, least significant first.
pub(crate) type Limbs = [u32; LIMBS];

/// Limbs per element.
pub(crate) const LIMBS: usize = 8;

/// The modulus q = 0x40000000000000000000000000000000224698fc0994a8dd8c46eb2100000001.
const MODULUS: Limbs = [0x0000_0001, 0x8c46_eb21, 0x0994_a8dd, 0x2246_98fc, 0, 0, 0, 0x4000_0000];

/// q - 2: the exponent of an inversion (Fermat).
const MODULUS_MINUS_TWO: Limbs = [0xffff_ffff, 0x8c46_eb20, 0x0994_a8dd, 0x2246_98fc, 0, 0, 0, 0x4000_0000];

/// The top limb of the modulus is `1 << TOP_SHIFT`.
const TOP_SHIFT: u32 = 30;

/// R^2 mod q with R = 2^256: converts a canonical value into Montgomery form.
const R2: Limbs = [0xf, 0xfc96_78ff, 0x891a_16e3, 0x67bb_433d, 0x04cc_f590, 0x7fae_2310, 0x7ccf_daa9, 0x096d_41af];

/// An element of Fq in Montgomery form (`a·R mod q`), fully reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fq(pub(crate) Limbs);

impl Fq {
    pub(crate) const ZERO: Fq = Fq([0; LIMBS]);

    /// From the canonical little-endian bytes (as `PrimeField::to_repr` writes them); `None`
    /// when not below the modulus.
    pub(crate) fn from_canonical(bytes: &[u8; 32]) -> Option<Fq> {
        let mut limbs = [0u32; LIMBS];
        for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(4)) {
            *limb = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        if !less_than(&limbs, &MODULUS) {
            return None;
        }
        Some(Fq(limbs).mul(&Fq(R2)))
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.0 == [0; LIMBS]
    }

    pub(crate) fn add(&self, other: &Fq) -> Fq {
        let mut out = [0u32; LIMBS];
        let mut carry = 0u64;
        for ((o, a), b) in out.iter_mut().zip(self.0).zip(other.0) {
            let s = u64::from(a) + u64::from(b) + carry;
            *o = s as u32;
            carry = s >> 32;
        }
        // Both below q < 2^255: the sum fits in 256 bits.
        if !less_than(&out, &MODULUS) {
            sub_in_place(&mut out, &MODULUS);
        }
        Fq(out)
    }

    pub(crate) fn sub(&self, other: &Fq) -> Fq {
        let mut out = self.0;
        if sub_in_place(&mut out, &other.0) {
            // Borrowed: add q back.
            let mut carry = 0u64;
            for (o, m) in out.iter_mut().zip(MODULUS) {
                let s = u64::from(*o) + u64::from(m) + carry;
                *o = s as u32;
                carry = s >> 32;
            }
        }
        Fq(out)
    }

    pub(crate) fn double(&self) -> Fq {
        self.add(self)
    }

    /// `1/a`, `None` for zero (`a^(q-2)`, square and multiply).
    pub(crate) fn invert(&self) -> Option<Fq> {
        if self.is_zero() {
            return None;
        }
        let mut out: Option<Fq> = None;
        for limb in MODULUS_MINUS_TWO.iter().rev() {
            for bit in (0..32).rev() {
                out = out.map(|o| o.square());
                if (limb >> bit) & 1 == 1 {
                    out = Some(out.map_or(*self, |o| o.mul(self)));
                }
            }
        }
        out
    }

    /// Montgomery multiplication: `a·b·R^-1 mod q`.
    pub(crate) fn mul(&self, other: &Fq) -> Fq {
        let (a, b) = (&self.0, &other.0);
        let mut t = [0u32; 2 * LIMBS];
        each_limb!(I => {
            let mut carry = 0u64;
            each_limb!(J => {
                let s = u64::from(t[I + J]) + u64::from(a[J]) * u64::from(b[I]) + carry;
                t[I + J] = s as u32;
                carry = s >> 32;
            });
            t[I + LIMBS] = carry as u32;
        });
        reduce(t)
    }

    /// `a²·R^-1 mod q`: each cross product once, then doubled.
    // The limb indices are constants written out by `each_limb!`: some comparisons are
    // decided at compile time, which is the point.
    #[allow(clippy::absurd_extreme_comparisons)]
    pub(crate) fn square(&self) -> Fq {
        let a = &self.0;
        let mut t = [0u32; 2 * LIMBS];
        each_limb!(I => {
            let mut carry = 0u64;
            each_limb!(J => {
                if J > I {
                    let s = u64::from(t[I + J]) + u64::from(a[I]) * u64::from(a[J]) + carry;
                    t[I + J] = s as u32;
                    carry = s >> 32;
                }
            });
            if I + 1 < LIMBS {
                t[I + LIMBS] = carry as u32;
            }
        });
        // Double the cross products, then add the squares on the diagonal.
        let mut top = 0u32;
        for limb in t.iter_mut() {
            let doubled = (*limb << 1) | top;
            top = *limb >> 31;
            *limb = doubled;
        }
        let mut carry = 0u64;
        each_limb!(I => {
            let s = u64::from(t[2 * I]) + u64::from(a[I]) * u64::from(a[I]) + carry;
            t[2 * I] = s as u32;
            let s = u64::from(t[2 * I + 1]) + (s >> 32);
            t[2 * I + 1] = s as u32;
            carry = s >> 32;
        });
        // a² < 2^512: nothing carries out of the top limb.
        debug_assert_eq!(carry, 0);
        reduce(t)
    }
}

/// Montgomery reduction of a product below `q²`: `t·R^-1 mod q`, fully reduced.
///
/// Written for this modulus: its lowest limb is 1 (so `-q^-1 mod 2^32` is -1 and the lowest
/// product is `t_i` itself), limbs 4 to 6 are zero and the top limb is `2^30` (a shift), so a
/// step takes three multiplications instead of eight.
#[inline(always)]
fn reduce(mut t: [u32; 2 * LIMBS]) -> Fq {
    const _: () = assert!(
        MODULUS[0] == 1 && MODULUS[4] == 0 && MODULUS[5] == 0 && MODULUS[6] == 0 && MODULUS[7] == 1 << TOP_SHIFT
    );
    let [_, q1, q2, q3, ..] = MODULUS.map(u64::from);
    // The carry out of limb `i + 8` of the previous step.
    let mut high = 0u64;
    each_limb!(I => {
        let i = I;
        // m = -t_i mod 2^32 makes limb i zero: t_i + m is 0 or 2^32.
        let m = t[i].wrapping_neg();
        let wide = u64::from(m);
        let mut carry = u64::from(t[i] != 0);
        let mut add = |at: usize, value: u64| {
            let s = u64::from(t[at]) + value + carry;
            t[at] = s as u32;
            carry = s >> 32;
        };
        add(i + 1, wide * q1);
        add(i + 2, wide * q2);
        add(i + 3, wide * q3);
        add(i + 4, 0);
        add(i + 5, 0);
        add(i + 6, 0);
        add(i + 7, wide << TOP_SHIFT);
        add(i + LIMBS, high);
        high = carry;
    });
    let mut out = [0u32; LIMBS];
    out.copy_from_slice(&t[LIMBS..]);
    // (t + M·q) / R < q·(q/R + 1) < 2q: one subtraction at most.
    if high != 0 || !less_than(&out, &MODULUS) {
        sub_in_place(&mut out, &MODULUS);
    }
    Fq(out)
}

/// `a < b` as integers.
fn less_than(a: &Limbs, b: &Limbs) -> bool {
    for i in (0..LIMBS).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// `a -= b`; whether it borrowed.
fn sub_in_place(a: &mut Limbs, b: &Limbs) -> bool {
    let mut borrow = 0u64;
    for i in 0..LIMBS {
        let d = u64::from(a[i]).wrapping_sub(u64::from(b[i])).wrapping_sub(borrow);
        a[i] = d as u32;
        borrow = (d >> 63) & 1;
    }
    borrow == 1
}

#[cfg(test)]
mod tests {
    use ff::{Field, PrimeField};
    use halo2_proofs::pasta::Fq as Pasta;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn ours(x: &Pasta) -> Fq {
        Fq::from_canonical(&x.to_repr()).expect("canonical")
    }

    #[test]
    fn arithmetic_matches_pasta() {
        let mut rng = StdRng::seed_from_u64(7);
        let edges = [Pasta::ZERO, Pasta::ONE, -Pasta::ONE, Pasta::from(2), -Pasta::from(2), Pasta::from(u64::MAX)];
        let randoms: Vec<Pasta> = (0..300).map(|_| Pasta::random(&mut rng)).collect();
        let all: Vec<Pasta> = edges.iter().chain(&randoms).copied().collect();
        for (i, a) in all.iter().enumerate() {
            let b = &all[(i * 7 + 3) % all.len()];
            for c in [a, b] {
                assert_eq!(ours(c).is_zero(), bool::from(c.is_zero()));
            }
            assert_eq!(ours(a).mul(&ours(b)), ours(&(a * b)), "{a:?} * {b:?}");
            assert_eq!(ours(a).add(&ours(b)), ours(&(a + b)));
            assert_eq!(ours(a).sub(&ours(b)), ours(&(a - b)));
            assert_eq!(ours(a).square(), ours(&a.square()));
            assert_eq!(ours(a).double(), ours(&a.double()));
            assert_eq!(ours(a).invert(), Option::<Pasta>::from(a.invert()).map(|i| ours(&i)));
        }
    }

    #[test]
    fn non_canonical_bytes_are_refused() {
        let mut q = [0u8; 32];
        for (chunk, limb) in q.chunks_exact_mut(4).zip(MODULUS) {
            chunk.copy_from_slice(&limb.to_le_bytes());
        }
        assert_eq!(Fq::from_canonical(&q), None);
        assert_eq!(Fq::from_canonical(&[0xff; 32]), None);
        assert_eq!(Fq::from_canonical(&(-Pasta::ONE).to_repr()), Some(ours(&-Pasta::ONE)));
    }
}
