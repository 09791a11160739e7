//! Ahead-of-time compiled vector math: the `vmath` algorithms in Rust,
//! compiled for AVX-512 (8 × f64 per instruction, 32 registers) and for
//! AVX2+FMA (4 × f64), which Cranelift cannot emit on x86-64; [`isa`] picks
//! one at run time.
//!
//! Each routine evaluates one function over a block of up to [`BLOCK`]
//! elements: `extern "C" fn(x, y, out, n)` reads `x[..n]` (and `y[..n]` for
//! two-operand functions; ignored otherwise) and writes `out[..n]`. Kernels
//! whose math functions all have a routine here evaluate their operands
//! into small stack buffers, call the routine on the block, and go on (see
//! `codegen`); so the polynomials run at full vector width with their
//! constants in registers, and no kernel value is spilled around a call.
//!
//! The per-element code is written branch-free on `f64` (selects, bit
//! operations, `mul_add`) and is the same algorithm, operation for operation,
//! as `vmath` (Cody–Waite reduction with FMA, fdlibm/musl kernels), so the
//! same ULP bounds hold; LLVM vectorizes the loops. `f32` routines compute in
//! `f64` and round once, except sin and cos (`sin_cos_f32`: the reduction in
//! `f64`, the polynomials in `f32`, 8 lanes per AVX2 instruction). Lanes
//! outside the fast range of sin/cos (|x| > 1e5) are recomputed with the
//! reference routine, like `vmath`'s slow path (a scalar pass run only for
//! blocks that have such a lane: the sin/cos loops themselves or-reduce
//! the check, vectorized, and return it).
//! `exp`, `log` and `tanh` run a lean form of the same operations (no
//! selects for special values, no subnormal rescaling, one exact scaling)
//! that gives their bits on the common range (|x| <= 708; positive normal
//! x; 2^-54 <= |x| <= 22), checked in the same pass, and
//! recompute the other lanes of a block with the full form, likewise only
//! where a block has one. Both instruction sets run the same operations, so
//! they give the same results bit for bit; `JITEXPR_NO_AVX512` forces AVX2.
//!
//! Nothing here is `unsafe`: calling the `#[target_feature]` loops (only
//! when the CPU has their features, see [`Isa::supported`]) and the kernels' entry
//! points are in `call::aot`, with the rest of the backend's `unsafe`.

// Coefficients are kept digit for digit as published (fdlibm, musl).
#![allow(clippy::excessive_precision)]

use super::vmath::{AT, ATAN_TABLE, EXPM1_POLY, FD_LN2_HI, FD_LN2_LO, LG, PIO2, TRIG_MAX};
use crate::ir::fmath::{EXP_EVEN, EXP_ODD};
use crate::ir::fmath::{
    bits, exp_reduce, expm1_poly, fma, from_bits, horner, pow2, sel, to_int, trig_quadrant,
    trig_reduce,
};
use crate::ir::fmath::{cexp_common, cexp_part};
use crate::ir::op::{BinaryOp, UnaryOp};
use crate::ir::scalar;
use crate::types::Scalar;

/// The most elements a kernel hands to a routine at once (its buffers are
/// `BLOCK` elements: 2 KiB of f64, so every buffer of a stage stays in L1).
pub const BLOCK: usize = 256;

/// An instruction set the routines are compiled for. Both variants are the
/// same per-element code, so they give the same results bit for bit.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isa {
    /// AVX2 and FMA: 4 × f64 per instruction.
    Avx2,
    /// AVX-512 (F, DQ, VL, BW) and FMA: 8 × f64 per instruction.
    Avx512,
}

impl Isa {
    /// Both instruction sets, AVX2 first.
    #[cfg(test)]
    pub const ALL: [Isa; 2] = [Isa::Avx2, Isa::Avx512];

    /// Whether this CPU has the instructions (ignoring `JITEXPR_NO_AOT` and
    /// `JITEXPR_NO_AVX512`); detected once.
    pub fn supported(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            use std::sync::OnceLock;
            static CPU: OnceLock<(bool, bool)> = OnceLock::new();
            let (avx2, avx512) = *CPU.get_or_init(|| {
                use std::arch::is_x86_feature_detected as has;
                let avx2 = has!("avx2") && has!("fma");
                let avx512 = avx2
                    && has!("avx512f")
                    && has!("avx512dq")
                    && has!("avx512vl")
                    && has!("avx512bw");
                (avx2, avx512)
            });
            match self {
                Isa::Avx2 => avx2,
                Isa::Avx512 => avx512,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = self;
            false
        }
    }
}

/// The instruction set the routines run with: AVX-512 if the CPU has it and
/// `JITEXPR_NO_AVX512` is unset, else AVX2+FMA if the CPU has those, else
/// none (also when `JITEXPR_NO_AOT` is set). Decided once per process.
#[doc(hidden)]
pub fn isa() -> Option<Isa> {
    use std::sync::OnceLock;
    static ISA: OnceLock<Option<Isa>> = OnceLock::new();
    *ISA.get_or_init(|| {
        let set = |v: &str| std::env::var_os(v).is_some();
        if set("JITEXPR_NO_AOT") {
            None
        } else if Isa::Avx512.supported() && !set("JITEXPR_NO_AVX512") {
            Some(Isa::Avx512)
        } else if Isa::Avx2.supported() {
            Some(Isa::Avx2)
        } else {
            None
        }
    })
}

/// `true` if the CPU has AVX2 and FMA (and `JITEXPR_NO_AOT` is unset), so the
/// routines may be used; see `isa` for which variant.
pub fn available() -> bool {
    isa().is_some()
}

/// The function of a routine: a unary or binary operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AotFn {
    /// One operand.
    Unary(UnaryOp),
    /// Two operands.
    Binary(BinaryOp),
}

/// Whether a routine exists for `f` (on any CPU; see [`available`]): as the
/// op table (`ir::op`) declares; `entry` has one for exactly those (tested).
pub fn has(f: AotFn) -> bool {
    match f {
        AotFn::Unary(op) => op.implementation().fast().aot,
        AotFn::Binary(op) => op.implementation().fast().aot,
    }
}

// ---------------------------------------------------------------------------
// The per-element algorithms (see `vmath` for their derivation).

/// `v * 2^n` for integral n in [-2044, 2046], rounding once.
#[inline(always)]
fn ldexp2(v: f64, n: f64) -> f64 {
    let n1 = (n * 0.5).floor();
    let n2 = n - n1;
    v * pow2(n1) * pow2(n2)
}

/// exp(x) * 2^shift (shift 0 or -1).
#[inline(always)]
fn exp_shifted(x: f64, shift: f64) -> f64 {
    let (n, r) = exp_reduce(x);
    let e = 1.0 + expm1_poly(r);
    let n = if shift != 0.0 { n + shift } else { n };
    let r = ldexp2(e, n);
    let r = sel(x > 711.0, f64::INFINITY, r);
    sel(x < -745.2, 0.0, r)
}

#[inline(always)]
fn exp(x: f64) -> f64 {
    exp_shifted(x, 0.0)
}

/// Where [`exp_lean`] gives [`exp`]'s bits: |x| <= 708, where the result is
/// a normal number, so one scaling by 2^n (n in [-1022, 1022]) is exact like
/// `ldexp2`'s two, and neither overflow nor underflow select applies.
#[inline(always)]
fn exp_lean_range(x: f64) -> bool {
    x.abs() <= 708.0
}

/// [`exp`] on [`exp_lean_range`] (NaN excluded).
#[inline(always)]
fn exp_lean(x: f64) -> f64 {
    let (n, r) = exp_reduce(x);
    (1.0 + expm1_poly(r)) * pow2(n)
}

#[inline(always)]
fn two_sum(a: f64, c: f64) -> (f64, f64) {
    let s = a + c;
    let bb = s - a;
    let ab = s - bb;
    (s, (c - bb) + (a - ab))
}

/// expm1's value before its scaling by 2^n: e^r - 2^-c for the reduced
/// argument r of x = n ln 2 + r, with c = n (capped at 1000), summed in two
/// parts.
#[inline(always)]
fn expm1_unscaled(r: f64, c: f64) -> f64 {
    let u = horner(r, &EXPM1_POLY);
    let r2 = r * r;
    let (hi, e) = two_sum(r, 1.0 - pow2(-c));
    hi + fma(r2, u, e)
}

#[inline(always)]
fn expm1(x: f64) -> f64 {
    let (n, r) = exp_reduce(x);
    let r = ldexp2(expm1_unscaled(r, sel(n > 1000.0, 1000.0, n)), n);
    let r = sel(x > 709.8, f64::INFINITY, r);
    let r = sel(x < -40.0, -1.0, r);
    sel(x.abs() < 2f64.powi(-54), x, r)
}

#[inline(always)]
fn sinh(x: f64) -> f64 {
    let a = x.abs();
    let t = expm1(a);
    let q = t / (t + 1.0);
    let small = (t + t) - t * q;
    let mid = t + q;
    let r = sel(a < 1.0, small, mid) * 0.5;
    let r = sel(a > 22.0, exp_shifted(a, -1.0), r);
    r.copysign(x)
}

/// cosh |x| = 2^(n-1) e^r + 2^(-n-1) e^-r from one reduction (|x| =
/// n ln 2 + r), e^r and e^-r sharing the even and odd halves of exp's polynomial;
/// for n = 0 (|x| < ln 2 / 2) the even half alone, 1 + (z E(z)). One
/// reduction and polynomial instead of `expm1` and `exp` with two
/// divisions: 1.87-1.91 -> 1.02-1.06 ns/element at 1e4 on one thread
/// (Intel Xeon, AVX-512); the same 2 ULP bound.
#[inline(always)]
fn cosh(x: f64) -> f64 {
    let a = x.abs();
    let (n, r) = exp_reduce(a);
    let z = r * r;
    let even = z * horner(z, &EXP_EVEN);
    let odd = fma(r * z, horner(z, &EXP_ODD), r);
    let small = 1.0 + even;
    let ep = 1.0 + (even + odd);
    let en = 1.0 + (even - odd);
    let hi = ldexp2(ep, n - 1.0);
    // 2^(-n-1) is a normal power of two for n <= 1021 (a < 707); above 22
    // the term is below half an ULP of `hi` and is left out.
    let lo = en * pow2(-n - 1.0);
    let r = sel(a > 22.0, hi, hi + lo);
    let r = sel(n == 0.0, small, r);
    sel(a > 711.0, f64::INFINITY, r)
}

#[inline(always)]
fn tanh(x: f64) -> f64 {
    let a = x.abs();
    sel(a > 22.0, 1.0, tanh_of(a, expm1(a + a))).copysign(x)
}

/// tanh a for a = |x| from t = expm1(2a), before the sign of x.
#[inline(always)]
fn tanh_of(a: f64, t: f64) -> f64 {
    let d = t + 2.0;
    let ge1 = a >= 1.0;
    let q = sel(ge1, 2.0, t) / d;
    sel(ge1, 1.0 - q, q)
}

/// Where [`tanh_lean`] gives [`tanh`]'s bits: 2^-54 <= |x| <= 22, where
/// `expm1(2|x|)` takes none of its selects (n in [0, 64], so its two-step
/// scaling is one exact one) and `tanh` not its `|x| > 22` one.
#[inline(always)]
fn tanh_lean_range(x: f64) -> bool {
    let a = x.abs();
    (2f64.powi(-54)..=22.0).contains(&a)
}

/// [`tanh`] on [`tanh_lean_range`]: the same operations without the
/// selects that do not apply there.
#[inline(always)]
fn tanh_lean(x: f64) -> f64 {
    let a = x.abs();
    let (n, r) = exp_reduce(a + a);
    tanh_of(a, expm1_unscaled(r, n) * pow2(n)).copysign(x)
}

/// Normal x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)): (k, f).
#[inline(always)]
fn log_parts(x: f64) -> (f64, f64) {
    let ix = bits(x).wrapping_add(0x0009_5f62_0000_0000);
    let e = from_bits((ix >> 52) | 0x4330_0000_0000_0000);
    let m = (ix & 0x000f_ffff_ffff_ffff).wrapping_add(0x3fe6_a09e_0000_0000);
    (e - (4503599627370496.0 + 1023.0), from_bits(m) - 1.0)
}

/// x = 2^k (1 + f): (k, f), subnormal x rescaled first.
#[inline(always)]
fn log_decompose(x: f64) -> (f64, f64) {
    let tiny = x < f64::MIN_POSITIVE;
    let (k, f) = log_parts(sel(tiny, x * 2f64.powi(54), x));
    (k + sel(tiny, -54.0, 0.0), f)
}

/// (hfsq, s*(hfsq+R)).
#[inline(always)]
fn log_kernel(f: f64) -> (f64, f64) {
    let hfsq = (f * f) * 0.5;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = horner(w, &[LG[5], LG[3], LG[1]]) * w;
    let t2 = horner(w, &[LG[6], LG[4], LG[2], LG[0]]) * z;
    let r = t2 + t1;
    (hfsq, s * (hfsq + r))
}

/// k ln 2 + log(1 + f).
#[inline(always)]
fn log_combine(kf: f64, f: f64) -> f64 {
    let (hfsq, shr) = log_kernel(f);
    let t = fma(kf, FD_LN2_LO, shr);
    let t = (hfsq - t) - f;
    kf * FD_LN2_HI - t
}

#[inline(always)]
fn log(x: f64) -> f64 {
    let (kf, f) = log_decompose(x);
    let r = log_combine(kf, f);
    let r = sel(x == f64::INFINITY, f64::INFINITY, r);
    let r = sel(x == 0.0, f64::NEG_INFINITY, r);
    sel(x.is_nan() | (x < 0.0), f64::NAN, r)
}

/// Where [`log_lean`] gives [`log`]'s bits: positive normal finite x (no
/// subnormal rescaling, no special value).
#[inline(always)]
fn log_lean_range(x: f64) -> bool {
    (f64::MIN_POSITIVE..=f64::MAX).contains(&x)
}

/// [`log`] on [`log_lean_range`]: the same operations without the rescaling
/// of subnormals and the selects of special values.
#[inline(always)]
fn log_lean(x: f64) -> f64 {
    let (kf, f) = log_parts(x);
    log_combine(kf, f)
}

#[inline(always)]
fn log1p(x: f64) -> f64 {
    let u = x + 1.0;
    let (kf, f) = log_decompose(u);
    let c_big = 1.0 - (u - x);
    let c_small = x - (u - 1.0);
    let c = sel(kf >= 2.0, c_big, c_small) / u;
    let c = sel(kf >= 54.0, 0.0, c);
    let near = (x > -0.2928932188134524) & (x < 0.41421356237309503);
    let f = sel(near, x, f);
    let c = sel(near, 0.0, c);
    let kf = sel(near, 0.0, kf);
    let (hfsq, shr) = log_kernel(f);
    let t = fma(kf, FD_LN2_LO, c);
    let t = ((shr + t) - hfsq) + f;
    let r = fma(kf, FD_LN2_HI, t);
    let r = sel(x == f64::INFINITY, f64::INFINITY, r);
    let r = sel(x == -1.0, f64::NEG_INFINITY, r);
    let r = sel(x.is_nan() | (x < -1.0), f64::NAN, r);
    sel(x.abs() < 2f64.powi(-54), x, r)
}

#[inline(always)]
fn sin(x: f64) -> f64 {
    sin_cos(x).0
}

#[inline(always)]
fn cos(x: f64) -> f64 {
    let (q, s, c) = trig_reduce(x);
    trig_quadrant(q, s, c, 1)
}

/// (sin x, cos x) with one reduction: each equal to [`sin`]/[`cos`] bit for bit.
#[inline(always)]
fn sin_cos(x: f64) -> (f64, f64) {
    let (q, s, c) = trig_reduce(x);
    let sin = sel(x.abs() < 2f64.powi(-27), x, trig_quadrant(q, s, c, 0));
    (sin, trig_quadrant(q, s, c, 1))
}

/// sin x and cos x of an `f32` x (|x| <= TRIG_MAX): the reduction in `f64`
/// (two parts of π/2: r = x - qπ/2 to about 2^-100 absolute, far below an
/// `f32` ulp of r), then `f32` polynomials on r rounded to `f32`, eight
/// lanes per AVX2 instruction: Taylor series of sin to r^9 and of cos to
/// r^10, whose truncation errors on |r| <= π/4 are 0.04 and 0.001 ulp.
#[inline(always)]
fn sin_cos_f32(x: f32) -> (f32, f32) {
    let xd = f64::from(x);
    let n = (xd * std::f64::consts::FRAC_2_PI).round_ties_even();
    let r = fma(-n, PIO2[0], xd);
    let r = fma(-n, PIO2[1], r) as f32;
    let z = r * r;
    let s = (r * z).mul_add(
        z.mul_add(
            z.mul_add(z.mul_add(1.0 / 362_880.0, -1.0 / 5040.0), 1.0 / 120.0),
            -1.0 / 6.0,
        ),
        r,
    );
    let c = z.mul_add(
        z.mul_add(
            z.mul_add(
                z.mul_add(z.mul_add(-1.0 / 3_628_800.0, 1.0 / 40_320.0), -1.0 / 720.0),
                1.0 / 24.0,
            ),
            -0.5,
        ),
        1.0,
    );
    let q = to_int(n) as u32;
    let quadrant = |q: u32| {
        let v = if q & 1 != 0 { c } else { s };
        f32::from_bits(v.to_bits() ^ ((q << 30) & (1 << 31)))
    };
    // Below 2^-12, sin x rounds to x (and keeps the sign of -0).
    let sin = if x.abs() < 2f32.powi(-12) {
        x
    } else {
        quadrant(q)
    };
    (sin, quadrant(q.wrapping_add(1)))
}

/// Lanes that `sin`/`cos` leave to the reference routine.
#[inline(always)]
fn trig_slow(x: f64) -> bool {
    let a = x.abs();
    a > TRIG_MAX && a < f64::INFINITY
}

/// atan(a) for a >= 0 (or NaN); a may be +inf.
#[inline(always)]
fn atan_pos(a: f64) -> f64 {
    let mut v = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let mut last = false;
    for (bound, vals) in ATAN_TABLE {
        let m = a >= bound;
        for (slot, c) in v.iter_mut().zip(vals) {
            *slot = sel(m, c, *slot);
        }
        last = m;
    }
    let num = sel(last, -1.0, fma(a, v[0], -v[1]));
    let den = fma(a, v[2], v[3]);
    let xr = num / den;
    let z = xr * xr;
    let w = z * z;
    let s1 = horner(w, &[AT[10], AT[8], AT[6], AT[4], AT[2], AT[0]]) * z;
    let s2 = horner(w, &[AT[9], AT[7], AT[5], AT[3], AT[1]]) * w;
    let s = s1 + s2;
    let t = ((xr * s) - v[5]) - xr;
    v[4] - t
}

#[inline(always)]
fn atan(x: f64) -> f64 {
    atan_pos(x.abs()).copysign(x)
}

/// atan2(ay, x) for ay >= 0 (or NaN), before the sign of y.
#[inline(always)]
fn atan2_pos(ay: f64, x: f64) -> f64 {
    let ax = x.abs();
    let r = ay / ax;
    let t = atan_pos(r);
    let t = sel((ax == 0.0) & (ay == 0.0), 0.0, t);
    let t = sel(
        (ax == f64::INFINITY) & (ay == f64::INFINITY),
        std::f64::consts::FRAC_PI_4,
        t,
    );
    let ph = std::f64::consts::PI;
    let s = ph - t;
    let e = ((ph - s) - t) + 1.2246467991473532e-16;
    let u = s + e;
    let t = sel(bits(x) >> 63 != 0, u, t);
    sel(r == f64::INFINITY, std::f64::consts::FRAC_PI_2, t)
}

#[inline(always)]
fn atan2(y: f64, x: f64) -> f64 {
    atan2_pos(y.abs(), x).copysign(y)
}

/// sqrt((1 - a)(1 + a)).
#[inline(always)]
fn sqrt1m(a: f64) -> f64 {
    ((1.0 - a) * (1.0 + a)).sqrt()
}

/// arcsin x = atan(|x| / sqrt(1 - x²)), with the sign of x.
#[inline(always)]
fn asin(x: f64) -> f64 {
    let a = x.abs();
    atan_pos(a / sqrt1m(a)).copysign(x)
}

/// arccos x = atan2(sqrt(1 - x²), x).
#[inline(always)]
fn acos(x: f64) -> f64 {
    atan2_pos(sqrt1m(x.abs()), x)
}

// ---------------------------------------------------------------------------
// Block loops, compiled once per instruction set.

/// Elements per iteration of [`map_f64`]'s loop: two AVX-512 vectors (four
/// AVX2 ones), whose independent polynomial chains overlap. One vector an
/// iteration (LLVM's choice) took 6.04-6.36 µs for `exp(a)` at 1e4 on one
/// thread, two 5.55-6.01 (Intel Xeon with AVX-512, 6 alternations).
const UNROLL: usize = 16;

/// `out[i] = f(x[i])` over the shorter of the two, [`UNROLL`] elements an
/// iteration (inlined into each `#[target_feature]` loop, so vectorized at
/// its width); returns whether `flag` holds for some `x[i]`, computed in the
/// same pass (an or-reduction without early exit, so it vectorizes).
#[inline(always)]
fn map_f64(x: &[f64], out: &mut [f64], f: impl Fn(f64) -> f64, flag: impl Fn(f64) -> bool) -> bool {
    let n = x.len().min(out.len());
    let (x, out) = (&x[..n], &mut out[..n]);
    let whole = n - n % UNROLL;
    let mut any = false;
    for (o, v) in out[..whole]
        .chunks_exact_mut(UNROLL)
        .zip(x[..whole].chunks_exact(UNROLL))
    {
        for k in 0..UNROLL {
            o[k] = f(v[k]);
            any |= flag(v[k]);
        }
    }
    for (o, &v) in out[whole..].iter_mut().zip(&x[whole..]) {
        *o = f(v);
        any |= flag(v);
    }
    any
}

/// Defines `$name(x, out)` computing `$f` per element in f64 and in f32
/// (through f64, or with the f32 function of the `@` form), compiled with
/// the target features `$feat`.
macro_rules! unary_loops {
    ($feat:literal; $($f:ident => $f64name:ident, $f32name:ident;)*) => {$(
        unary_loops!(@ $feat; $f, |v: f32| $f(f64::from(v)) as f32 => $f64name, $f32name);
    )*};
    // `$f` per f64 element, `$g` per f32 element.
    (@ $feat:literal; $f:expr, $g:expr => $f64name:ident, $f32name:ident) => {
        #[target_feature(enable = $feat)]
        pub(crate) fn $f64name(x: &[f64], out: &mut [f64]) {
            map_f64(x, out, $f, |_| false);
        }

        #[target_feature(enable = $feat)]
        pub(crate) fn $f32name(x: &[f32], out: &mut [f32]) {
            let g = $g;
            for (o, &v) in out.iter_mut().zip(x) {
                *o = g(v);
            }
        }
    };
}

/// Like `unary_loops`, for sin and cos: each loop also returns whether some
/// lane is outside the fast range (`trig_slow`), checked in the same loop.
macro_rules! trig_loops {
    ($feat:literal; $($f:ident, $g:expr => $f64name:ident, $f32name:ident;)*) => {$(
        #[target_feature(enable = $feat)]
        pub(crate) fn $f64name(x: &[f64], out: &mut [f64]) -> bool {
            let mut slow = false;
            for (o, &v) in out.iter_mut().zip(x) {
                *o = $f(v);
                slow |= trig_slow(v);
            }
            slow
        }

        #[target_feature(enable = $feat)]
        pub(crate) fn $f32name(x: &[f32], out: &mut [f32]) -> bool {
            let g = $g;
            let mut slow = false;
            for (o, &v) in out.iter_mut().zip(x) {
                *o = g(v);
                slow |= trig_slow(f64::from(v));
            }
            slow
        }
    )*};
}

/// Like `unary_loops`, for a function `$f` with a lean form `$lean` that
/// gives its bits on `$range`: the lean loop runs over the block, then, if
/// some lane is outside the range (an or-reduction without early exit, so it
/// vectorizes), those lanes are recomputed with `$f`. Same results, fewer
/// operations per element where every lane is in range.
macro_rules! lean_loops {
    ($feat:literal; $($f:ident, $lean:ident, $range:ident => $f64name:ident, $f32name:ident;)*) => {$(
        #[target_feature(enable = $feat)]
        pub(crate) fn $f64name(x: &[f64], out: &mut [f64]) {
            if map_f64(x, out, $lean, |v| !$range(v)) {
                for (o, &v) in out.iter_mut().zip(x) {
                    if !$range(v) {
                        *o = $f(v);
                    }
                }
            }
        }

        #[target_feature(enable = $feat)]
        pub(crate) fn $f32name(x: &[f32], out: &mut [f32]) {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = $lean(f64::from(v)) as f32;
            }
            if x.iter().fold(false, |m, &v| m | !$range(f64::from(v))) {
                for (o, &v) in out.iter_mut().zip(x) {
                    if !$range(f64::from(v)) {
                        *o = $f(f64::from(v)) as f32;
                    }
                }
            }
        }
    )*};
}

/// Defines a module `$isa` of every block loop compiled with the target
/// features `$feat` (LLVM vectorizes at the widest width they allow: ymm for
/// AVX2, zmm for AVX-512, as the default `x86-64` CPU does not prefer 256 bits).
macro_rules! isa_loops {
    ($($isa:ident: $feat:literal;)*) => {$(
        #[cfg(target_arch = "x86_64")]
        pub(crate) mod $isa {
            use super::*;

            lean_loops! {
                $feat;
                exp, exp_lean, exp_lean_range => exp_f64, exp_f32;
                log, log_lean, log_lean_range => log_f64, log_f32;
                tanh, tanh_lean, tanh_lean_range => tanh_f64, tanh_f32;
            }

            unary_loops! {
                $feat;
                expm1 => expm1_f64, expm1_f32;
                log1p => log1p_f64, log1p_f32;
                sinh => sinh_f64, sinh_f32;
                cosh => cosh_f64, cosh_f32;
                atan => atan_f64, atan_f32;
                asin => asin_f64, asin_f32;
                acos => acos_f64, acos_f32;
            }

            // Exact operations at the full width (`Impl::Wide`), in each
            // float width itself.
            unary_loops!(@ $feat; f64::sqrt, f32::sqrt => sqrt_f64, sqrt_f32);

            #[target_feature(enable = $feat)]
            pub(crate) fn div_f64(x: &[f64], y: &[f64], out: &mut [f64]) {
                for ((o, &a), &b) in out.iter_mut().zip(x).zip(y) {
                    *o = a / b;
                }
            }

            #[target_feature(enable = $feat)]
            pub(crate) fn div_f32(x: &[f32], y: &[f32], out: &mut [f32]) {
                for ((o, &a), &b) in out.iter_mut().zip(x).zip(y) {
                    *o = a / b;
                }
            }

            // sin and cos (float32: their own f32 polynomials, `sin_cos_f32`),
            // each returning whether some lane is outside their fast range
            // (`trig_slow`: recomputed by the caller). The check is an
            // or-reduction in the same loop, without early exit, so it
            // vectorizes: a separate pass over the block cost 9% of
            // `sin(a)**2+cos(b)**2`.
            trig_loops! {
                $feat;
                sin, |v| sin_cos_f32(v).0 => sin_f64, sin_f32;
                cos, |v| sin_cos_f32(v).1 => cos_f64, cos_f32;
            }

            #[target_feature(enable = $feat)]
            pub(crate) fn atan2_f64(y: &[f64], x: &[f64], out: &mut [f64]) {
                for ((o, &a), &b) in out.iter_mut().zip(y).zip(x) {
                    *o = atan2(a, b);
                }
            }

            #[target_feature(enable = $feat)]
            pub(crate) fn atan2_f32(y: &[f32], x: &[f32], out: &mut [f32]) {
                for ((o, &a), &b) in out.iter_mut().zip(y).zip(x) {
                    *o = atan2(f64::from(a), f64::from(b)) as f32;
                }
            }

            /// sin and cos of `x` at once (`sin`, `cos`: same length as `x`);
            /// whether some lane is outside their fast range, as `sin_f64`.
            #[target_feature(enable = $feat)]
            pub(crate) fn sincos_f64(x: &[f64], sin: &mut [f64], cos: &mut [f64]) -> bool {
                let mut slow = false;
                for ((s, c), &v) in sin.iter_mut().zip(cos.iter_mut()).zip(x) {
                    (*s, *c) = sin_cos(v);
                    slow |= trig_slow(v);
                }
                slow
            }

            #[target_feature(enable = $feat)]
            pub(crate) fn sincos_f32(x: &[f32], sin: &mut [f32], cos: &mut [f32]) -> bool {
                let mut slow = false;
                for ((s, c), &v) in sin.iter_mut().zip(cos.iter_mut()).zip(x) {
                    (*s, *c) = sin_cos_f32(v);
                    slow |= trig_slow(f64::from(v));
                }
                slow
            }

            /// Complex exp's real (`IM` false) or imaginary part of
            /// `x + iy`: [`cexp_part`] on every lane, then the lanes outside
            /// [`cexp_common`] (if any: an or-reduction first) by `cmath`.
            #[target_feature(enable = $feat)]
            fn cexp_f64<const IM: bool>(x: &[f64], y: &[f64], out: &mut [f64]) {
                for ((o, &a), &b) in out.iter_mut().zip(x).zip(y) {
                    *o = cexp_part(a, b, IM);
                }
                if x.iter().zip(y).fold(false, |m, (&a, &b)| m | !cexp_common(a, b)) {
                    cexp_fixup(x, y, out, IM, |v| v);
                }
            }

            #[target_feature(enable = $feat)]
            fn cexp_f32<const IM: bool>(x: &[f32], y: &[f32], out: &mut [f32]) {
                for ((o, &a), &b) in out.iter_mut().zip(x).zip(y) {
                    *o = cexp_part(f64::from(a), f64::from(b), IM) as f32;
                }
                if x
                    .iter()
                    .zip(y)
                    .fold(false, |m, (&a, &b)| m | !cexp_common(f64::from(a), f64::from(b)))
                {
                    cexp_fixup(x, y, out, IM, f64::from);
                }
            }

            #[target_feature(enable = $feat)]
            pub(crate) fn cexp_re_f64(x: &[f64], y: &[f64], out: &mut [f64]) {
                cexp_f64::<false>(x, y, out)
            }

            #[target_feature(enable = $feat)]
            pub(crate) fn cexp_im_f64(x: &[f64], y: &[f64], out: &mut [f64]) {
                cexp_f64::<true>(x, y, out)
            }

            #[target_feature(enable = $feat)]
            pub(crate) fn cexp_re_f32(x: &[f32], y: &[f32], out: &mut [f32]) {
                cexp_f32::<false>(x, y, out)
            }

            #[target_feature(enable = $feat)]
            pub(crate) fn cexp_im_f32(x: &[f32], y: &[f32], out: &mut [f32]) {
                cexp_f32::<true>(x, y, out)
            }
        }
    )*};
}

isa_loops! {
    avx2: "avx2,fma";
    avx512: "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma";
}

/// Recomputes with the reference routine the sin/cos lanes outside the fast range.
pub(crate) fn trig_fixup_f64(op: UnaryOp, x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        if trig_slow(v)
            && let Scalar::Float64(r) = scalar::unary(op, Scalar::Float64(v))
        {
            *o = r;
        }
    }
}

pub(crate) fn trig_fixup_f32(op: UnaryOp, x: &[f32], out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        if trig_slow(f64::from(v))
            && let Scalar::Float32(r) = scalar::unary(op, Scalar::Float32(v))
        {
            *o = r;
        }
    }
}

/// Recomputes the complex exp lanes outside [`cexp_common`] with
/// `cmath::exp_part` (the interpreter's), in f64 and rounded once to `T`.
fn cexp_fixup<T: Copy + FromF64>(x: &[T], y: &[T], out: &mut [T], im: bool, wide: fn(T) -> f64) {
    for ((o, &a), &b) in out.iter_mut().zip(x).zip(y) {
        let (a, b) = (wide(a), wide(b));
        if !cexp_common(a, b) {
            *o = T::from_f64(crate::ir::cmath::exp_part((a, b), im));
        }
    }
}

/// Rounding an f64 result to a lane type.
trait FromF64 {
    fn from_f64(v: f64) -> Self;
}

impl FromF64 for f64 {
    fn from_f64(v: f64) -> f64 {
        v
    }
}

impl FromF64 for f32 {
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
}

// The calls of the `#[target_feature]` loops and the kernels' entry points
// are `unsafe`; they live with the rest of the backend's `unsafe`, in
// `call::aot`, which uses this module (not the other way round).

#[cfg(test)]
mod tests {
    use super::*;

    /// Random f64 bit patterns (xorshift64*), every exponent equally likely.
    fn patterns(n: usize) -> impl Iterator<Item = f64> {
        let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..n).map(move |_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            f64::from_bits(s.wrapping_mul(0x2545_f491_4f6c_dd1d))
        })
    }

    /// Points on and around the edges of a lean range, and ordinary values.
    fn edges() -> Vec<f64> {
        let mut v = vec![
            f64::MIN_POSITIVE,
            f64::MAX,
            708.0,
            -708.0,
            1.0,
            0.5,
            2.0,
            std::f64::consts::SQRT_2,
            std::f64::consts::FRAC_1_SQRT_2,
            1e-300,
            1e300,
            22.0,
            -22.0,
            -1.0,
            2f64.powi(-54),
            -(2f64.powi(-54)),
        ];
        for x in v.clone() {
            v.extend([next_up(x), next_down(x)]);
        }
        v
    }

    fn next_up(x: f64) -> f64 {
        f64::from_bits(x.to_bits() + 1)
    }

    fn next_down(x: f64) -> f64 {
        f64::from_bits(x.to_bits() - 1)
    }

    #[test]
    fn lean_forms_give_the_full_forms_bits_on_their_range() {
        let mut checked = (0, 0, 0);
        for x in patterns(2_000_000)
            .chain(patterns(2_000_000).map(|x| (x.abs() % 1416.0) - 708.0))
            .chain(patterns(1_000_000).map(|x| (x.abs() % 44.0) - 22.0))
            .chain(edges())
        {
            if log_lean_range(x) {
                assert_eq!(log_lean(x).to_bits(), log(x).to_bits(), "log({x:e})");
                checked.0 += 1;
            }
            if exp_lean_range(x) {
                assert_eq!(exp_lean(x).to_bits(), exp(x).to_bits(), "exp({x:e})");
                checked.1 += 1;
            }
            if tanh_lean_range(x) {
                assert_eq!(tanh_lean(x).to_bits(), tanh(x).to_bits(), "tanh({x:e})");
                checked.2 += 1;
            }
        }
        // Each range was sampled widely (half the bit patterns are positive).
        assert!(
            checked.0 > 900_000 && checked.1 > 1_900_000 && checked.2 > 500_000,
            "{checked:?}"
        );
    }

    #[test]
    fn lean_ranges_exclude_what_the_full_forms_select() {
        for x in [
            0.0,
            -0.0,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e-310,
        ] {
            assert!(!log_lean_range(x), "log range has {x:e}");
        }
        for x in [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            708.5,
            -708.5,
            800.0,
        ] {
            assert!(!exp_lean_range(x), "exp range has {x:e}");
        }
        for x in [
            f64::INFINITY,
            f64::NAN,
            22.5,
            -30.0,
            0.0,
            -0.0,
            1e-17,
            1e-310,
        ] {
            assert!(!tanh_lean_range(x), "tanh range has {x:e}");
        }
    }
}
