//! jitexpr's own exp and sin/cos operations on one `f64` (Cody–Waite
//! reductions with FMA, fdlibm kernels), with their constants: the one copy
//! of what the JIT's vector math (`backend::jit::vmath` in Cranelift IR,
//! `backend::jit::aot` compiled ahead of time) computes lane by lane, and of
//! complex `exp`'s common formula [`cexp_part`], which the interpreter
//! (`cmath::exp`) and the JIT's exact vector versions of `cexp_re` and
//! `cexp_im` compute, so that every tier has the same bits. (Here, in the
//! IR's layer, because the interpreter's semantics use it.)
//!
//! Written branch-free (selects, bit operations, `mul_add`, which is one
//! rounding on every CPU), `#[inline(always)]` so that the AOT loops
//! vectorize them with their target features.

// Coefficients are kept digit for digit as published (fdlibm, musl).
#![allow(clippy::excessive_precision)]

pub(crate) const LOG2E: f64 = std::f64::consts::LOG2_E;
pub(crate) const LN2_HI: f64 = std::f64::consts::LN_2;
pub(crate) const LN2_LO: f64 = 2.3190468138462996e-17;

/// Taylor coefficients 1/13! .. 1/2! of exp(r) - 1 - r, |r| <= ln2/2 (error < 2^-57).
pub(crate) const EXPM1_POLY: [f64; 12] = [
    1.6059043836821613e-10,
    2.08767569878681e-09,
    2.505210838544172e-08,
    2.755731922398589e-07,
    2.7557319223985893e-06,
    2.48015873015873e-05,
    0.0001984126984126984,
    0.001388888888888889,
    0.008333333333333333,
    0.041666666666666664,
    0.16666666666666666,
    0.5,
];

/// [`EXPM1_POLY`]'s even-degree Taylor coefficients (1/12! … 1/2!) and its
/// odd ones (1/13! … 1/3!): e^r = 1 + (z·E(z) + r + r·z·O(z)) with z = r²,
/// and e^-r the same with the odd part negated (`cosh` takes both from one
/// reduction).
pub(crate) const EXP_EVEN: [f64; 6] = [
    EXPM1_POLY[1],
    EXPM1_POLY[3],
    EXPM1_POLY[5],
    EXPM1_POLY[7],
    EXPM1_POLY[9],
    EXPM1_POLY[11],
];
pub(crate) const EXP_ODD: [f64; 6] = [
    EXPM1_POLY[0],
    EXPM1_POLY[2],
    EXPM1_POLY[4],
    EXPM1_POLY[6],
    EXPM1_POLY[8],
    EXPM1_POLY[10],
];

pub(crate) const PIO2: [f64; 3] = [
    std::f64::consts::FRAC_PI_2,
    6.123233995736766e-17,
    -1.4973849048591698e-33,
];
/// Above this |x|, sin/cos/tan lanes take the scalar routine.
pub(crate) const TRIG_MAX: f64 = 1e5;

/// fdlibm's `__kernel_sin` polynomial: r + r z (S1 + z P(z)), P = SIN_POLY.
pub(crate) const SIN_POLY: [f64; 5] = [
    1.58969099521155010221e-10,
    -2.50507602534068634195e-08,
    2.75573137070700676789e-06,
    -1.98412698298579493134e-04,
    8.33333333332248946124e-03,
];
/// See [`SIN_POLY`].
pub(crate) const SIN_S1: f64 = -1.66666666666666324348e-01;
/// fdlibm's `__kernel_cos` polynomial.
pub(crate) const COS_POLY: [f64; 6] = [
    -1.13596475577881948265e-11,
    2.08757232129817482790e-09,
    -2.75573143513906633035e-07,
    2.48015872894767294178e-05,
    -1.38888888888741095749e-03,
    4.16666666666666019037e-02,
];

#[inline(always)]
pub(crate) fn fma(a: f64, b: f64, c: f64) -> f64 {
    a.mul_add(b, c)
}

#[inline(always)]
pub(crate) fn sel(m: bool, a: f64, b: f64) -> f64 {
    if m { a } else { b }
}

#[inline(always)]
pub(crate) fn horner(x: f64, c: &[f64]) -> f64 {
    let mut u = c[0];
    for &ci in &c[1..] {
        u = fma(u, x, ci);
    }
    u
}

#[inline(always)]
pub(crate) fn bits(x: f64) -> u64 {
    x.to_bits()
}

#[inline(always)]
pub(crate) fn from_bits(x: u64) -> f64 {
    f64::from_bits(x)
}

/// The integer in an integral-valued `n` (|n| < 2^51).
#[inline(always)]
pub(crate) fn to_int(n: f64) -> u64 {
    bits(n + 6755399441055744.0).wrapping_sub(0x4338_0000_0000_0000)
}

/// 2^n for integral n in [-1022, 1023].
#[inline(always)]
pub(crate) fn pow2(n: f64) -> f64 {
    from_bits(bits(n + (6755399441055744.0 + 1023.0)) << 52)
}

#[inline(always)]
pub(crate) fn expm1_poly(r: f64) -> f64 {
    fma(r * r, horner(r, &EXPM1_POLY), r)
}

/// x = n ln 2 + r with |r| <= ln 2 / 2 (Cody–Waite): (n, r).
#[inline(always)]
pub(crate) fn exp_reduce(x: f64) -> (f64, f64) {
    let n = (x * LOG2E).round_ties_even();
    let r = fma(-n, LN2_HI, x);
    let r = fma(-n, LN2_LO, r);
    (n, r)
}

#[inline(always)]
pub(crate) fn sin_kernel(r: f64, z: f64) -> f64 {
    let p = horner(z, &SIN_POLY);
    let p = fma(z, p, SIN_S1);
    fma(z * r, p, r)
}

#[inline(always)]
pub(crate) fn cos_kernel(z: f64) -> f64 {
    let p = horner(z, &COS_POLY);
    let zr = z * p;
    let hz = z * 0.5;
    let w = 1.0 - hz;
    let t = (1.0 - w) - hz;
    w + fma(z, zr, t)
}

/// The reduced argument of x (|x| <= TRIG_MAX): the quadrant q (x = q·π/2
/// + r) and the sin and cos kernels of r.
#[inline(always)]
pub(crate) fn trig_reduce(x: f64) -> (u64, f64, f64) {
    let n = (x * std::f64::consts::FRAC_2_PI).round_ties_even();
    let r = fma(-n, PIO2[0], x);
    let r = fma(-n, PIO2[1], r);
    let r = fma(-n, PIO2[2], r);
    let z = r * r;
    (to_int(n), sin_kernel(r, z), cos_kernel(z))
}

/// sin (`shift` 0) or cos (`shift` 1, a quarter turn) from [`trig_reduce`]'s parts.
#[inline(always)]
pub(crate) fn trig_quadrant(q: u64, s: f64, c: f64, shift: u64) -> f64 {
    let q = q.wrapping_add(shift);
    let r = sel(q & 1 != 0, c, s);
    from_bits(bits(r) ^ ((q << 62) & (1 << 63)))
}

/// Where complex `exp`'s common formula [`cexp_part`] applies (and
/// `ir::cmath::exp` uses it): |x| <= 708 (`aot::exp_lean_range`: e^x normal,
/// x not NaN) and y finite, within sin/cos's fast range and at least
/// [`CEXP_MIN_Y`] in magnitude. The other arguments (special values, e^x
/// near overflow or underflow, huge y, y = 0 or tiny) take `cmath::exp`'s
/// Annex G path.
#[inline(always)]
pub(crate) fn cexp_common(x: f64, y: f64) -> bool {
    (x.abs() <= 708.0) & (y.abs() >= CEXP_MIN_Y) & (y.abs() <= TRIG_MAX)
}

/// The smallest |y| of [`cexp_common`]: below it `sin y` may be subnormal,
/// and `fma(hi, t, lo t)` would round to a subnormal's few bits before the
/// scaling by 2^n (e^(2.5+5e-320j)'s imaginary part was 7 ULP off).
pub(crate) const CEXP_MIN_Y: f64 = 9.332636185032189e-302; // 2^-1000

/// The real (`im` false) or imaginary part of e^(x + iy) on
/// [`cexp_common`]: e^x cos y or e^x sin y with this module's `exp` and
/// `sin`/`cos` operations (Cody–Waite reductions, fdlibm kernels), the
/// product taken before e^x's `1 + p` is rounded: with e^x = (hi + lo) 2^n,
/// `fma(hi, t, lo t) 2^n`. The interpreter (`cmath::exp`), the AOT block
/// routines (`backend::jit::aot`) and `vmath::cexp` (operation for
/// operation) compute it, so every tier has its bits.
#[inline(always)]
pub(crate) fn cexp_part(x: f64, y: f64, im: bool) -> f64 {
    let (n, r) = exp_reduce(x);
    let p = expm1_poly(r);
    let hi = 1.0 + p;
    let lo = (1.0 - hi) + p;
    let (q, s, c) = trig_reduce(y);
    let t = if im {
        sel(y.abs() < 2f64.powi(-27), y, trig_quadrant(q, s, c, 0))
    } else {
        trig_quadrant(q, s, c, 1)
    };
    fma(hi, t, lo * t) * pow2(n)
}
