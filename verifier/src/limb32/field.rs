//! Vesta's base field (pasta's `Fq`) in Montgomery form over eight 32-bit limbs.
//!
//! pasta_curves multiplies 64-bit limbs into 128-bit products; WebAssembly has no such
//! instruction, so every product is a call to a 128-bit multiplication routine. Here every
//! product is a 32 x 32 -> 64-bit multiplication, which WebAssembly has. Checked against pasta's
//! arithmetic in the tests.

/// Limbs of a field element, least significant first.
pub(crate) type Limbs = [u32; LIMBS];

/// Limbs per element.
pub(crate) const LIMBS: usize = 8;

/// The modulus q = 0x40000000000000000000000000000000224698fc0994a8dd8c46eb2100000001.
const MODULUS: Limbs = [0x0000_0001, 0x8c46_eb21, 0x0994_a8dd, 0x2246_98fc, 0, 0, 0, 0x4000_0000];

/// q - 2: the exponent of an inversion (Fermat).
const MODULUS_MINUS_TWO: Limbs = [0xffff_ffff, 0x8c46_eb20, 0x0994_a8dd, 0x2246_98fc, 0, 0, 0, 0x4000_0000];

/// -q^-1 mod 2^32.
const INV: u32 = 0xffff_ffff;

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

    pub(crate) fn square(&self) -> Fq {
        self.mul(self)
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

    /// Montgomery multiplication (CIOS): `a·b·R^-1 mod q`.
    pub(crate) fn mul(&self, other: &Fq) -> Fq {
        let (a, b) = (&self.0, &other.0);
        let mut t = [0u32; LIMBS + 2];
        for &bi in b {
            let mut carry = 0u64;
            for j in 0..LIMBS {
                let s = u64::from(t[j]) + u64::from(a[j]) * u64::from(bi) + carry;
                t[j] = s as u32;
                carry = s >> 32;
            }
            let s = u64::from(t[LIMBS]) + carry;
            t[LIMBS] = s as u32;
            t[LIMBS + 1] = (s >> 32) as u32;

            let m = t[0].wrapping_mul(INV);
            let s = u64::from(t[0]) + u64::from(m) * u64::from(MODULUS[0]);
            let mut carry = s >> 32;
            for j in 1..LIMBS {
                let s = u64::from(t[j]) + u64::from(m) * u64::from(MODULUS[j]) + carry;
                t[j - 1] = s as u32;
                carry = s >> 32;
            }
            let s = u64::from(t[LIMBS]) + carry;
            t[LIMBS - 1] = s as u32;
            t[LIMBS] = t[LIMBS + 1] + (s >> 32) as u32;
        }
        let mut out = [0u32; LIMBS];
        out.copy_from_slice(&t[..LIMBS]);
        // The result is below 2q: one subtraction at most.
        if t[LIMBS] != 0 || !less_than(&out, &MODULUS) {
            sub_in_place(&mut out, &MODULUS);
        }
        Fq(out)
    }
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
