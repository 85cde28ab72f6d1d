//! The numeric rules of zkinfer, written down once. The interpreter uses these functions and
//! nothing else; the circuits implement exactly the same formulas.
//!
//! - A tensor holds integers `q` with a power-of-two scale `s`: the real value is `q / 2^s`.
//! - Real → integer (weights at quantize time, inputs at the model boundary) rounds half away
//!   from zero: [`quantize_real`].
//! - Every integer rescale by `n ≥ 1` bits rounds half up: `floor((v + 2^(n-1)) / 2^n)`
//!   ([`round_shift`]); `n = 0` is the identity.
//! - Every tensor declares a signed bit width `b`; its values must lie in
//!   `[-2^(b-1), 2^(b-1) - 1]` ([`signed_range`]), otherwise the interpreter reports an error.

/// Largest bit width of inputs, weights and activations. With at most 2^24 terms per dot
/// product, `|accumulator| < 2^(16 + 16 + 24) = 2^56`, so `i64` arithmetic cannot overflow.
pub const MAX_VALUE_BITS: u32 = 16;

/// Widest rescale: `shift + bits` of a rescale to a `bits`-wide result. The circuit decomposes
/// `acc + 2^(shift-1) + 2^(shift+bits-1)`, a value below `2^(shift+bits)`, and its constants in
/// `i64`; up to 62 bits that arithmetic is exact (the accumulator is below `2^56`, see
/// [`MAX_VALUE_BITS`]), at 63 or more it would wrap. Models with a wider rescale are refused.
pub const MAX_RESCALE_BITS: u32 = 62;

/// The rounding rescale: `floor((v + 2^(n-1)) / 2^n)` for `n ≥ 1`, `v` for `n = 0`.
pub fn round_shift(v: i64, n: u32) -> i64 {
    if n == 0 { v } else { (v + (1i64 << (n - 1))) >> n }
}

/// Rounded integer division for positive `d`: `floor((v + floor(d/2)) / d)` (round half up).
pub fn round_div(v: i64, d: i64) -> i64 {
    (v + d / 2).div_euclid(d)
}

/// `round(x · 2^scale)` with ties away from zero.
pub fn quantize_real(x: f64, scale: i32) -> i64 {
    (x * (2f64).powi(scale)).round() as i64
}

/// The error function, by Abramowitz and Stegun's formula 7.1.26 (absolute error below
/// 1.5e-7: far below the resolution of any table it fills).
pub fn erf(x: f64) -> f64 {
    const P: f64 = 0.327_591_1;
    const A: [f64; 5] = [0.254_829_592, -0.284_496_736, 1.421_413_741, -1.453_152_027, 1.061_405_429];
    let t = 1.0 / (1.0 + P * x.abs());
    let poly = A.iter().rev().fold(0.0, |acc, a| acc * t + a) * t;
    let y = 1.0 - poly * (-x * x).exp();
    if x < 0.0 { -y } else { y }
}

/// GELU: `x · Φ(x)` with the normal distribution function (`tanh`: its tanh approximation).
pub fn gelu(x: f64, tanh: bool) -> f64 {
    if tanh {
        0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044_715 * x * x * x)).tanh())
    } else {
        0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2))
    }
}

/// The real value of `q` at `scale`.
pub fn dequantize(q: i64, scale: i32) -> f64 {
    q as f64 / (2f64).powi(scale)
}

/// `[-2^(bits-1), 2^(bits-1) - 1]`.
pub fn signed_range(bits: u32) -> (i64, i64) {
    let half = 1i64 << (bits - 1);
    (-half, half - 1)
}

/// The largest scale `s` (clamped to `[-32, 32]`) with `max_abs · 2^s ≤ (2^(bits-1) - 1) / 2^headroom`.
pub fn fit_scale(max_abs: f64, bits: u32, headroom: u32) -> i32 {
    let limit = ((1i64 << (bits - 1)) - 1) as f64 / (2f64).powi(headroom as i32);
    if max_abs <= 0.0 || !max_abs.is_finite() {
        return (bits as i32 - 1 - headroom as i32).max(0);
    }
    let mut s = (limit / max_abs).log2().floor() as i32;
    while s > -32 && max_abs * (2f64).powi(s) > limit {
        s -= 1;
    }
    while s < 32 && max_abs * (2f64).powi(s + 1) <= limit {
        s += 1;
    }
    s.clamp(-32, 32)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn round_shift_rounds_half_up() {
        assert_eq!(round_shift(5, 1), 3); // 2.5 -> 3
        assert_eq!(round_shift(-5, 1), -2); // -2.5 -> -2
        assert_eq!(round_shift(-6, 2), -1); // -1.5 -> -1
        assert_eq!(round_shift(6, 2), 2); // 1.5 -> 2
        assert_eq!(round_shift(7, 0), 7);
        for v in -1000..1000i64 {
            let exact = v as f64 / 8.0;
            assert_eq!(round_shift(v, 3), (exact + 0.5).floor() as i64, "v = {v}");
        }
    }

    #[test]
    fn round_div_matches_round_half_up() {
        for v in -300..300i64 {
            for d in 1..12i64 {
                assert_eq!(round_div(v, d), ((v as f64 / d as f64) + 0.5).floor() as i64, "{v}/{d}");
            }
        }
    }

    #[test]
    fn fit_scale_uses_the_range() {
        assert_eq!(fit_scale(1.0, 8, 0), 6); // 64 <= 127 < 128
        assert_eq!(fit_scale(1.0, 8, 1), 5);
        assert_eq!(fit_scale(0.9, 8, 0), 7); // 115.2 <= 127
        assert_eq!(fit_scale(200.0, 8, 0), -1); // 100 <= 127
        assert_eq!(quantize_real(-2.5, 0), -3);
        assert_eq!(signed_range(8), (-128, 127));
    }
}
