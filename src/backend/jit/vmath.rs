//! Vectorized math functions emitted as Cranelift IR, for the JIT's vector loops.
//!
//! [`unary`] and [`binary`] emit `op(x)` on one `F64X2` or `F32X4` vector. Every
//! function is computed in double precision on `F64X2` lanes (an `F32X4` is
//! widened to two `F64X2` halves and narrowed back, which makes the `f32`
//! results nearly correctly rounded). The fast path is branch-free; lanes it
//! does not cover (huge trigonometric arguments, the special cases of `pow`)
//! set a mask, and when any lane of a vector is set, a cold block recomputes
//! every lane of that vector with the scalar reference routine `fallback`.
//!
//! Algorithms: Cody–Waite argument reduction with FMA, fdlibm/musl kernels
//! (log, sin/cos, atan, log1p, cbrt) and Taylor/minimax polynomials, 2^n built
//! from exponent bits in two steps so that subnormal results round once.
//! Special values follow `ir::scalar` (Rust std on glibc).

// Coefficients are kept digit for digit as published (fdlibm, musl).
#![allow(clippy::excessive_precision)]

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    ConstantData, Endianness, FuncRef, InstBuilder, MemFlagsData, Type, Value, types,
};
use cranelift_frontend::FunctionBuilder;

use crate::ir::op::{BinaryOp, UnaryOp};

const F: Type = types::F64X2;
const I: Type = types::I64X2;

/// Emits `op(x)` for a vector `x` of type F64X2 or F32X4 (per `ty`), returning the result vector,
/// or None if this op/type has no vector implementation yet.
pub fn unary(
    b: &mut FunctionBuilder,
    op: UnaryOp,
    x: Value,
    ty: Type,
    fallback: FuncRef,
) -> Option<Value> {
    if !has_unary(op) || (ty != types::F64X2 && ty != types::F32X4) {
        return None;
    }
    if ty == types::F64X2 {
        let (v, slow) = unary_core(b, op, x);
        let any = slow.map(|m| b.ins().vany_true(m));
        Some(finish(b, ty, &[x], v, any, fallback))
    } else {
        let (lo, hi) = split_f32(b, x);
        let (vl, sl) = unary_core(b, op, lo);
        let (vh, sh) = unary_core(b, op, hi);
        let v = merge_f32(b, vl, vh);
        let any = any_of(b, sl, sh);
        Some(finish(b, ty, &[x], v, any, fallback))
    }
}

/// Same for two-operand functions (arctan2, hypot, pow, ...).
pub fn binary(
    b: &mut FunctionBuilder,
    op: BinaryOp,
    x: Value,
    y: Value,
    ty: Type,
    fallback: FuncRef,
) -> Option<Value> {
    if !(has_binary(op) || has_exact(op)) || (ty != types::F64X2 && ty != types::F32X4) {
        return None;
    }
    if ty == types::F64X2 {
        let (v, slow) = binary_core(b, op, x, y, false);
        let any = slow.map(|m| b.ins().vany_true(m));
        Some(finish(b, ty, &[x, y], v, any, fallback))
    } else {
        let (xl, xh) = split_f32(b, x);
        let (yl, yh) = split_f32(b, y);
        let (vl, sl) = binary_core(b, op, xl, yl, true);
        let (vh, sh) = binary_core(b, op, xh, yh, true);
        let v = merge_f32(b, vl, vh);
        let any = any_of(b, sl, sh);
        Some(finish(b, ty, &[x, y], v, any, fallback))
    }
}

/// Whether [`unary`] has a vector implementation of `op` (declared in the
/// op table, `ir::op`; `unary_core` implements exactly those).
pub fn has_unary(op: UnaryOp) -> bool {
    op.implementation().fast().vector
}

/// Whether [`binary`] has a vector implementation of `op`.
pub fn has_binary(op: BinaryOp) -> bool {
    op.implementation().fast().vector
}

/// Whether [`binary`] has a vector implementation of `op` equal to its
/// reference bit for bit (`Fast::exact`: complex exp's parts), which
/// vector loops inline under either `Math`.
pub fn has_exact(op: BinaryOp) -> bool {
    op.implementation().fast().exact
}

fn unary_core(b: &mut FunctionBuilder, op: UnaryOp, x: Value) -> (Value, Option<Value>) {
    use UnaryOp::*;
    match op {
        Exp => (exp(b, x), None),
        Expm1 => (expm1(b, x), None),
        Exp2 => (exp2(b, x), None),
        Log => (log(b, x), None),
        Log1p => (log1p(b, x), None),
        Log2 => (log2(b, x), None),
        Log10 => (log10(b, x), None),
        Sin | Cos | Tan => trig(b, op, x),
        Arcsin => (asin(b, x), None),
        Arccos => (acos(b, x), None),
        Arctan => (atan(b, x), None),
        Sinh => (sinh(b, x), None),
        Cosh => (cosh(b, x), None),
        Tanh => (tanh(b, x), None),
        Cbrt => (cbrt(b, x), None),
        _ => unreachable!("the op table declares no vector version of {}", op.name()),
    }
}

fn binary_core(
    b: &mut FunctionBuilder,
    op: BinaryOp,
    x: Value,
    y: Value,
    single: bool,
) -> (Value, Option<Value>) {
    match op {
        BinaryOp::Arctan2 => (atan2(b, x, y), None),
        BinaryOp::Hypot => (hypot(b, x, y), None),
        BinaryOp::Pow => pow(b, x, y, single),
        BinaryOp::CExpRe => cexp(b, x, y, false),
        BinaryOp::CExpIm => cexp(b, x, y, true),
        _ => unreachable!("the op table declares no vector version of {}", op.name()),
    }
}

// ---------------------------------------------------------------------------
// Plumbing: constants, bit casts, selects, the f32 halves and the slow path.

fn le() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// A splatted f64 constant (a constant-pool vector, loaded or folded into its user).
fn k(b: &mut FunctionBuilder, v: f64) -> Value {
    vconst(b, F, v.to_bits())
}

/// A splatted i64 constant.
fn ki(b: &mut FunctionBuilder, v: i64) -> Value {
    vconst(b, I, v as u64)
}

fn vconst(b: &mut FunctionBuilder, ty: Type, bits: u64) -> Value {
    let mut bytes = bits.to_le_bytes().to_vec();
    bytes.extend_from_slice(&bits.to_le_bytes());
    let c = b.func.dfg.constants.insert(ConstantData::from(bytes));
    b.ins().vconst(ty, c)
}

fn as_i(b: &mut FunctionBuilder, x: Value) -> Value {
    b.ins().bitcast(I, le(), x)
}

fn as_f(b: &mut FunctionBuilder, x: Value) -> Value {
    b.ins().bitcast(F, le(), x)
}

/// Lane mask of `x cc v`.
fn cmpk(b: &mut FunctionBuilder, cc: FloatCC, x: Value, v: f64) -> Value {
    let c = k(b, v);
    b.ins().fcmp(cc, x, c)
}

/// `m ? x : y` per lane (`m` an all-ones/all-zeros lane mask).
fn sel(b: &mut FunctionBuilder, m: Value, x: Value, y: Value) -> Value {
    let ty = b.func.dfg.value_type(x);
    let m = if b.func.dfg.value_type(m) == ty {
        m
    } else {
        b.ins().bitcast(ty, le(), m)
    };
    b.ins().bitselect(m, x, y)
}

/// `m ? v : y` per lane, `v` a constant.
fn selk(b: &mut FunctionBuilder, m: Value, v: f64, y: Value) -> Value {
    let c = k(b, v);
    sel(b, m, c, y)
}

/// Horner evaluation of `c[0]*x^(n-1) + ... + c[n-1]` with FMA.
fn horner(b: &mut FunctionBuilder, x: Value, c: &[f64]) -> Value {
    let mut u = k(b, c[0]);
    for &ci in &c[1..] {
        let cv = k(b, ci);
        u = b.ins().fma(u, x, cv);
    }
    u
}

/// `|x|` with the sign of `s`.
fn copysign(b: &mut FunctionBuilder, x: Value, s: Value) -> Value {
    let ax = b.ins().fabs(x);
    let xi = as_i(b, ax);
    let si = as_i(b, s);
    let sign = ki(b, i64::MIN);
    let sb = b.ins().band(si, sign);
    let r = b.ins().bor(xi, sb);
    as_f(b, r)
}

/// Lane mask of "the sign bit of `x` is set".
fn sign_set(b: &mut FunctionBuilder, x: Value) -> Value {
    let xi = as_i(b, x);
    let zero = ki(b, 0);
    b.ins().icmp(IntCC::SignedLessThan, xi, zero)
}

/// The integer in an integral-valued f64 lane `n` (|n| < 2^51), as i64 lanes.
fn to_int(b: &mut FunctionBuilder, n: Value) -> Value {
    let m = k(b, 6755399441055744.0);
    let t = b.ins().fadd(n, m);
    let ti = as_i(b, t);
    let mi = ki(b, 0x4338_0000_0000_0000);
    b.ins().isub(ti, mi)
}

/// 2^n for integral n in [-1022, 1023].
fn pow2(b: &mut FunctionBuilder, n: Value) -> Value {
    let m = k(b, 6755399441055744.0 + 1023.0);
    let t = b.ins().fadd(n, m);
    let ti = as_i(b, t);
    let sh = b.ins().iconst(types::I32, 52);
    let e = b.ins().ishl(ti, sh);
    as_f(b, e)
}

/// `v * 2^n` for integral n in [-2044, 2046], rounding once (subnormals included).
fn ldexp2(b: &mut FunctionBuilder, v: Value, n: Value) -> Value {
    let half = k(b, 0.5);
    let h = b.ins().fmul(n, half);
    let n1 = b.ins().floor(h);
    let n2 = b.ins().fsub(n, n1);
    let p1 = pow2(b, n1);
    let p2 = pow2(b, n2);
    let t = b.ins().fmul(v, p1);
    b.ins().fmul(t, p2)
}

fn shuffle(b: &mut FunctionBuilder, x: Value, y: Value, mask: [u8; 16]) -> Value {
    let imm = b.func.dfg.immediates.push(ConstantData::from(&mask[..]));
    b.ins().shuffle(x, y, imm)
}

/// The low and high lane pairs of an F32X4, widened to F64X2.
fn split_f32(b: &mut FunctionBuilder, x: Value) -> (Value, Value) {
    let lo = b.ins().fvpromote_low(x);
    let bytes = b.ins().bitcast(types::I8X16, le(), x);
    let mut m = [0u8; 16];
    for (i, v) in m.iter_mut().enumerate() {
        *v = 8 + (i as u8 % 8);
    }
    let hb = shuffle(b, bytes, bytes, m);
    let h = b.ins().bitcast(types::F32X4, le(), hb);
    let hi = b.ins().fvpromote_low(h);
    (lo, hi)
}

/// The inverse of [`split_f32`] (rounding each lane to f32).
fn merge_f32(b: &mut FunctionBuilder, lo: Value, hi: Value) -> Value {
    let l = b.ins().fvdemote(lo);
    let h = b.ins().fvdemote(hi);
    let lb = b.ins().bitcast(types::I8X16, le(), l);
    let hb = b.ins().bitcast(types::I8X16, le(), h);
    let mut m = [0u8; 16];
    for (i, v) in m.iter_mut().enumerate() {
        *v = if i < 8 { i as u8 } else { 8 + i as u8 };
    }
    let r = shuffle(b, lb, hb, m);
    b.ins().bitcast(types::F32X4, le(), r)
}

fn any_of(b: &mut FunctionBuilder, x: Option<Value>, y: Option<Value>) -> Option<Value> {
    match (x, y) {
        (Some(x), Some(y)) => {
            let m = b.ins().bor(x, y);
            Some(b.ins().vany_true(m))
        }
        _ => None,
    }
}

/// Returns `fast`, or (when `any` is set) every lane recomputed by `fallback`.
fn finish(
    b: &mut FunctionBuilder,
    ty: Type,
    args: &[Value],
    fast: Value,
    any: Option<Value>,
    fallback: FuncRef,
) -> Value {
    let Some(any) = any else { return fast };
    let slow = b.create_block();
    let merge = b.create_block();
    let res = b.append_block_param(merge, ty);
    b.ins().brif(any, slow, &[], merge, &[fast.into()]);
    b.seal_block(slow);
    b.set_cold_block(slow);
    b.switch_to_block(slow);
    let mut acc = fast;
    for lane in 0..ty.lane_count() as u8 {
        let xs: Vec<Value> = args.iter().map(|&a| b.ins().extractlane(a, lane)).collect();
        let call = b.ins().call(fallback, &xs);
        let r = b.inst_results(call)[0];
        acc = b.ins().insertlane(acc, r, lane);
    }
    b.ins().jump(merge, &[acc.into()]);
    b.seal_block(merge);
    b.switch_to_block(merge);
    res
}

// ---------------------------------------------------------------------------
// exp family.

// The constants of the algorithms here are the one copy: `aot` (the same
// algorithms compiled ahead of time) uses them too; those of exp and sin/cos
// live in `ir::fmath`, whose scalar form the interpreter's complex exp uses.

pub(crate) use crate::ir::fmath::{EXP_EVEN, EXP_ODD, EXPM1_POLY, LN2_HI, LN2_LO, LOG2E};

/// exp(r) - 1 for |r| <= ~0.35.
fn expm1_poly(b: &mut FunctionBuilder, r: Value) -> Value {
    let u = horner(b, r, &EXPM1_POLY);
    let r2 = b.ins().fmul(r, r);
    b.ins().fma(r2, u, r)
}

/// x = n*ln2 + r (Cody–Waite, as `fmath::exp_reduce`): (n, -n, r).
fn ln2_reduce(b: &mut FunctionBuilder, x: Value) -> (Value, Value, Value) {
    let l2e = k(b, LOG2E);
    let t = b.ins().fmul(x, l2e);
    let n = b.ins().nearest(t);
    let nn = b.ins().fneg(n);
    let h = k(b, LN2_HI);
    let l = k(b, LN2_LO);
    let r = b.ins().fma(nn, h, x);
    let r = b.ins().fma(nn, l, r);
    (n, nn, r)
}

/// x = n*ln2 + r: returns (n, expm1(r)).
fn exp_reduce(b: &mut FunctionBuilder, x: Value) -> (Value, Value) {
    let (n, _, r) = ln2_reduce(b, x);
    (n, expm1_poly(b, r))
}

/// exp(x) * 2^shift (shift 0 or -1).
fn exp_shifted(b: &mut FunctionBuilder, x: Value, shift: f64) -> Value {
    let (n, p) = exp_reduce(b, x);
    let one = k(b, 1.0);
    let e = b.ins().fadd(one, p);
    let n = if shift != 0.0 {
        let s = k(b, shift);
        b.ins().fadd(n, s)
    } else {
        n
    };
    let r = ldexp2(b, e, n);
    let big = cmpk(b, FloatCC::GreaterThan, x, 711.0);
    let r = selk(b, big, f64::INFINITY, r);
    let small = cmpk(b, FloatCC::LessThan, x, -745.2);
    selk(b, small, 0.0, r)
}

fn exp(b: &mut FunctionBuilder, x: Value) -> Value {
    exp_shifted(b, x, 0.0)
}

fn expm1(b: &mut FunctionBuilder, x: Value) -> Value {
    // x = n*ln2 + r; expm1(x) = 2^n * (expm1(r) + (1 - 2^-n)), with
    // expm1(r) = r + r^2*u and the sum r + (1 - 2^-n) kept exact.
    let (n, _, r) = ln2_reduce(b, x);
    let u = horner(b, r, &EXPM1_POLY);
    let r2 = b.ins().fmul(r, r);
    let big = cmpk(b, FloatCC::GreaterThan, n, 1000.0);
    let nc = selk(b, big, 1000.0, n);
    let nn = b.ins().fneg(nc);
    let m = pow2(b, nn);
    let one = k(b, 1.0);
    let c = b.ins().fsub(one, m);
    let (hi, e) = two_sum(b, r, c);
    let lo = b.ins().fma(r2, u, e);
    let t = b.ins().fadd(hi, lo);
    let r = ldexp2(b, t, n);
    let over = cmpk(b, FloatCC::GreaterThan, x, 709.8);
    let r = selk(b, over, f64::INFINITY, r);
    let under = cmpk(b, FloatCC::LessThan, x, -40.0);
    let r = selk(b, under, -1.0, r);
    let ax = b.ins().fabs(x);
    let tiny = cmpk(b, FloatCC::LessThan, ax, 2f64.powi(-54));
    sel(b, tiny, x, r)
}

fn exp2(b: &mut FunctionBuilder, x: Value) -> Value {
    let n = b.ins().nearest(x);
    let r = b.ins().fsub(x, n);
    let h = k(b, LN2_HI);
    let l = k(b, LN2_LO);
    let sh = b.ins().fmul(r, h);
    let nsh = b.ins().fneg(sh);
    let sl = b.ins().fma(r, h, nsh);
    let sl = b.ins().fma(r, l, sl);
    let p = expm1_poly(b, sh);
    let t = b.ins().fma(sl, p, sl);
    let t = b.ins().fadd(p, t);
    let one = k(b, 1.0);
    let e = b.ins().fadd(one, t);
    let res = ldexp2(b, e, n);
    let big = cmpk(b, FloatCC::GreaterThan, x, 1025.0);
    let res = selk(b, big, f64::INFINITY, res);
    let small = cmpk(b, FloatCC::LessThan, x, -1080.0);
    selk(b, small, 0.0, res)
}

fn sinh(b: &mut FunctionBuilder, x: Value) -> Value {
    let a = b.ins().fabs(x);
    let t = expm1(b, a);
    let one = k(b, 1.0);
    let half = k(b, 0.5);
    let t1 = b.ins().fadd(t, one);
    let q = b.ins().fdiv(t, t1);
    // a < 1: (2t - t*t/(t+1)) / 2; a < 22: (t + t/(t+1)) / 2.
    let tq = b.ins().fmul(t, q);
    let t2 = b.ins().fadd(t, t);
    let small = b.ins().fsub(t2, tq);
    let mid = b.ins().fadd(t, q);
    let lt1 = cmpk(b, FloatCC::LessThan, a, 1.0);
    let r = sel(b, lt1, small, mid);
    let r = b.ins().fmul(r, half);
    let e = exp_shifted(b, a, -1.0);
    let large = cmpk(b, FloatCC::GreaterThan, a, 22.0);
    let r = sel(b, large, e, r);
    copysign(b, r, x)
}

/// As `aot::cosh`, operation for operation: e^r and e^-r from one
/// reduction and the even and odd halves of exp's polynomial.
fn cosh(b: &mut FunctionBuilder, x: Value) -> Value {
    let a = b.ins().fabs(x);
    let (n, nn, r) = ln2_reduce(b, a);
    let z = b.ins().fmul(r, r);
    let pe = horner(b, z, &EXP_EVEN);
    let even = b.ins().fmul(z, pe);
    let po = horner(b, z, &EXP_ODD);
    let rz = b.ins().fmul(r, z);
    let odd = b.ins().fma(rz, po, r);
    let one = k(b, 1.0);
    let small = b.ins().fadd(one, even);
    let s = b.ins().fadd(even, odd);
    let ep = b.ins().fadd(one, s);
    let d = b.ins().fsub(even, odd);
    let en = b.ins().fadd(one, d);
    let n1 = b.ins().fsub(n, one);
    let hi = ldexp2(b, ep, n1);
    let m1 = b.ins().fsub(nn, one);
    let p = pow2(b, m1);
    let lo = b.ins().fmul(en, p);
    let sum = b.ins().fadd(hi, lo);
    let large = cmpk(b, FloatCC::GreaterThan, a, 22.0);
    let r = sel(b, large, hi, sum);
    let zero = cmpk(b, FloatCC::Equal, n, 0.0);
    let r = sel(b, zero, small, r);
    let over = cmpk(b, FloatCC::GreaterThan, a, 711.0);
    selk(b, over, f64::INFINITY, r)
}

fn tanh(b: &mut FunctionBuilder, x: Value) -> Value {
    let a = b.ins().fabs(x);
    let one = k(b, 1.0);
    let two = k(b, 2.0);
    // t = expm1(2a); a >= 1: 1 - 2/(t+2); a < 1: t/(t+2).
    let a2 = b.ins().fadd(a, a);
    let t = expm1(b, a2);
    let d = b.ins().fadd(t, two);
    let ge1 = cmpk(b, FloatCC::GreaterThanOrEqual, a, 1.0);
    let num = sel(b, ge1, two, t);
    let q = b.ins().fdiv(num, d);
    let big = b.ins().fsub(one, q);
    let r = sel(b, ge1, big, q);
    let huge = cmpk(b, FloatCC::GreaterThan, a, 22.0);
    let r = selk(b, huge, 1.0, r);
    copysign(b, r, x)
}

// ---------------------------------------------------------------------------
// log family (fdlibm/musl).

pub(crate) const LG: [f64; 7] = [
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
];
pub(crate) const FD_LN2_HI: f64 = 6.93147180369123816490e-01;
pub(crate) const FD_LN2_LO: f64 = 1.90821492927058770002e-10;

/// For finite positive x: x = 2^k * (1 + f), 1+f in [sqrt(2)/2, sqrt(2)).
/// Returns (k as f64, f).
fn log_decompose(b: &mut FunctionBuilder, x: Value) -> (Value, Value) {
    let tiny = cmpk(b, FloatCC::LessThan, x, f64::MIN_POSITIVE);
    let s54 = k(b, 2f64.powi(54));
    let xs = b.ins().fmul(x, s54);
    let xs = sel(b, tiny, xs, x);
    let kadj = k(b, -54.0);
    let zero = k(b, 0.0);
    let kadj = sel(b, tiny, kadj, zero);
    let xi = as_i(b, xs);
    let off = ki(b, 0x0009_5f62_0000_0000);
    let ix = b.ins().iadd(xi, off);
    let sh = b.ins().iconst(types::I32, 52);
    let e = b.ins().ushr(ix, sh);
    let magic = ki(b, 0x4330_0000_0000_0000);
    let e = b.ins().bor(e, magic);
    let e = as_f(b, e);
    let bias = k(b, 4503599627370496.0 + 1023.0);
    let kf = b.ins().fsub(e, bias);
    let kf = b.ins().fadd(kf, kadj);
    let mm = ki(b, 0x000f_ffff_ffff_ffff);
    let m = b.ins().band(ix, mm);
    let base = ki(b, 0x3fe6_a09e_0000_0000);
    let m = b.ins().iadd(m, base);
    let m = as_f(b, m);
    let one = k(b, 1.0);
    let f = b.ins().fsub(m, one);
    (kf, f)
}

/// For f in [sqrt(2)/2 - 1, sqrt(2) - 1): (hfsq, s*(hfsq+R)) with
/// log(1+f) = f - hfsq + s*(hfsq+R).
fn log_kernel(b: &mut FunctionBuilder, f: Value) -> (Value, Value) {
    let half = k(b, 0.5);
    let ff = b.ins().fmul(f, f);
    let hfsq = b.ins().fmul(ff, half);
    let two = k(b, 2.0);
    let d = b.ins().fadd(two, f);
    let s = b.ins().fdiv(f, d);
    let z = b.ins().fmul(s, s);
    let w = b.ins().fmul(z, z);
    let t1 = horner(b, w, &[LG[5], LG[3], LG[1]]);
    let t1 = b.ins().fmul(t1, w);
    let t2 = horner(b, w, &[LG[6], LG[4], LG[2], LG[0]]);
    let t2 = b.ins().fmul(t2, z);
    let r = b.ins().fadd(t2, t1);
    let hr = b.ins().fadd(hfsq, r);
    let shr = b.ins().fmul(s, hr);
    (hfsq, shr)
}

/// The special values of the log family at x = NaN, negative, ±0, +inf.
/// `at_zero` is the value at ±0 (-inf for log).
fn log_specials(b: &mut FunctionBuilder, x: Value, r: Value) -> Value {
    let inf = cmpk(b, FloatCC::Equal, x, f64::INFINITY);
    let r = selk(b, inf, f64::INFINITY, r);
    let zero = cmpk(b, FloatCC::Equal, x, 0.0);
    let r = selk(b, zero, f64::NEG_INFINITY, r);
    let bad = cmpk(b, FloatCC::UnorderedOrLessThan, x, 0.0);
    selk(b, bad, f64::NAN, r)
}

fn log(b: &mut FunctionBuilder, x: Value) -> Value {
    let (kf, f) = log_decompose(b, x);
    let (hfsq, shr) = log_kernel(b, f);
    // k*ln2_hi - ((hfsq - (s*(hfsq+R) + k*ln2_lo)) - f)
    let lo = k(b, FD_LN2_LO);
    let t = b.ins().fma(kf, lo, shr);
    let t = b.ins().fsub(hfsq, t);
    let t = b.ins().fsub(t, f);
    let hi = k(b, FD_LN2_HI);
    let kh = b.ins().fmul(kf, hi);
    let r = b.ins().fsub(kh, t);
    log_specials(b, x, r)
}

/// log(1+f) as hi + lo (hi = f - hfsq).
fn log_hilo(b: &mut FunctionBuilder, f: Value) -> (Value, Value) {
    let (hfsq, shr) = log_kernel(b, f);
    let hi = b.ins().fsub(f, hfsq);
    let e = b.ins().fsub(f, hi);
    let e = b.ins().fsub(e, hfsq);
    let lo = b.ins().fadd(e, shr);
    (hi, lo)
}

/// Error-free product a*c = p + e.
fn two_prod(b: &mut FunctionBuilder, a: Value, c: Value) -> (Value, Value) {
    let p = b.ins().fmul(a, c);
    let np = b.ins().fneg(p);
    let e = b.ins().fma(a, c, np);
    (p, e)
}

/// Error-free sum a+c = s + e.
fn two_sum(b: &mut FunctionBuilder, a: Value, c: Value) -> (Value, Value) {
    let s = b.ins().fadd(a, c);
    let bb = b.ins().fsub(s, a);
    let ab = b.ins().fsub(s, bb);
    let e1 = b.ins().fsub(c, bb);
    let e2 = b.ins().fsub(a, ab);
    let e = b.ins().fadd(e1, e2);
    (s, e)
}

fn log2(b: &mut FunctionBuilder, x: Value) -> Value {
    let (kf, f) = log_decompose(b, x);
    let (hi, lo) = log_hilo(b, f);
    let ih = k(b, std::f64::consts::LOG2_E);
    let il = k(b, 2.0355273740931033e-17);
    let (ph, pl) = two_prod(b, hi, ih);
    let t = b.ins().fma(hi, il, pl);
    let t = b.ins().fma(lo, ih, t);
    // |k| >= |ph| or k == 0: fast two-sum.
    let w = b.ins().fadd(kf, ph);
    let e = b.ins().fsub(kf, w);
    let e = b.ins().fadd(e, ph);
    let t = b.ins().fadd(t, e);
    let r = b.ins().fadd(w, t);
    log_specials(b, x, r)
}

fn log10(b: &mut FunctionBuilder, x: Value) -> Value {
    let (kf, f) = log_decompose(b, x);
    let (hi, lo) = log_hilo(b, f);
    let ih = k(b, std::f64::consts::LOG10_E);
    let il = k(b, 1.098319650216765e-17);
    let (ph, pl) = two_prod(b, hi, ih);
    let t = b.ins().fma(hi, il, pl);
    let t = b.ins().fma(lo, ih, t);
    let lh = k(b, std::f64::consts::LOG10_2);
    let ll = k(b, -2.8037281277851704e-18);
    let (kh, kl) = two_prod(b, kf, lh);
    let kl = b.ins().fma(kf, ll, kl);
    let (s, e) = two_sum(b, kh, ph);
    let t = b.ins().fadd(t, kl);
    let t = b.ins().fadd(t, e);
    let r = b.ins().fadd(s, t);
    log_specials(b, x, r)
}

fn log1p(b: &mut FunctionBuilder, x: Value) -> Value {
    let one = k(b, 1.0);
    let u = b.ins().fadd(x, one);
    let (kf, f) = log_decompose(b, u);
    // Correction c ~ log(1+x) - log(u), divided by u: k >= 2: 1-(u-x), else x-(u-1).
    let um = b.ins().fsub(u, x);
    let c_big = b.ins().fsub(one, um);
    let u1 = b.ins().fsub(u, one);
    let c_small = b.ins().fsub(x, u1);
    let ge2 = cmpk(b, FloatCC::GreaterThanOrEqual, kf, 2.0);
    let c = sel(b, ge2, c_big, c_small);
    let c = b.ins().fdiv(c, u);
    let ge54 = cmpk(b, FloatCC::GreaterThanOrEqual, kf, 54.0);
    let c = selk(b, ge54, 0.0, c);
    // 1+x in [sqrt(2)/2, sqrt(2)): k = 0, f = x exactly.
    let lo_b = cmpk(b, FloatCC::GreaterThan, x, -0.2928932188134524);
    let hi_b = cmpk(b, FloatCC::LessThan, x, 0.41421356237309503);
    let near = b.ins().band(lo_b, hi_b);
    let f = sel(b, near, x, f);
    let c = selk(b, near, 0.0, c);
    let kf = selk(b, near, 0.0, kf);
    let (hfsq, shr) = log_kernel(b, f);
    // s*(hfsq+R) + (k*ln2_lo + c) - hfsq + f + k*ln2_hi
    let lo = k(b, FD_LN2_LO);
    let t = b.ins().fma(kf, lo, c);
    let t = b.ins().fadd(shr, t);
    let t = b.ins().fsub(t, hfsq);
    let t = b.ins().fadd(t, f);
    let hi = k(b, FD_LN2_HI);
    let r = b.ins().fma(kf, hi, t);
    // Specials: x = -1 → -inf, x < -1 or NaN → NaN, +inf → +inf, tiny → x.
    let inf = cmpk(b, FloatCC::Equal, x, f64::INFINITY);
    let r = selk(b, inf, f64::INFINITY, r);
    let m1 = cmpk(b, FloatCC::Equal, x, -1.0);
    let r = selk(b, m1, f64::NEG_INFINITY, r);
    let bad = cmpk(b, FloatCC::UnorderedOrLessThan, x, -1.0);
    let r = selk(b, bad, f64::NAN, r);
    let ax = b.ins().fabs(x);
    let tiny = cmpk(b, FloatCC::LessThan, ax, 2f64.powi(-54));
    sel(b, tiny, x, r)
}

// ---------------------------------------------------------------------------
// Trigonometric functions.

pub(crate) use crate::ir::fmath::{COS_POLY, PIO2, SIN_POLY, SIN_S1, TRIG_MAX};

fn sin_kernel(b: &mut FunctionBuilder, r: Value, z: Value) -> Value {
    let p = horner(b, z, &SIN_POLY);
    let s1 = k(b, SIN_S1);
    let p = b.ins().fma(z, p, s1);
    let v = b.ins().fmul(z, r);
    b.ins().fma(v, p, r)
}

fn cos_kernel(b: &mut FunctionBuilder, z: Value) -> Value {
    let p = horner(b, z, &COS_POLY);
    // cos = w + (((1-w) - hz) + z*(z*p)), w = 1 - z/2.
    let zr = b.ins().fmul(z, p);
    let half = k(b, 0.5);
    let hz = b.ins().fmul(z, half);
    let one = k(b, 1.0);
    let w = b.ins().fsub(one, hz);
    let t = b.ins().fsub(one, w);
    let t = b.ins().fsub(t, hz);
    let t = b.ins().fma(z, zr, t);
    b.ins().fadd(w, t)
}

fn trig(b: &mut FunctionBuilder, op: UnaryOp, x: Value) -> (Value, Option<Value>) {
    let tp = k(b, std::f64::consts::FRAC_2_PI);
    let t = b.ins().fmul(x, tp);
    let n = b.ins().nearest(t);
    let nn = b.ins().fneg(n);
    let p0 = k(b, PIO2[0]);
    let p1 = k(b, PIO2[1]);
    let p2 = k(b, PIO2[2]);
    let r = b.ins().fma(nn, p0, x);
    let r = b.ins().fma(nn, p1, r);
    let r = b.ins().fma(nn, p2, r);
    let z = b.ins().fmul(r, r);
    let s = sin_kernel(b, r, z);
    let c = cos_kernel(b, z);
    let q = to_int(b, n);
    let q = if op == UnaryOp::Cos {
        let one = ki(b, 1);
        b.ins().iadd(q, one)
    } else {
        q
    };
    let one = ki(b, 1);
    let zero = ki(b, 0);
    let odd = b.ins().band(q, one);
    let odd = b.ins().icmp(IntCC::NotEqual, odd, zero);
    let res = if op == UnaryOp::Tan {
        // even: s/c, odd: -c/s
        let num = sel(b, odd, c, s);
        let den = sel(b, odd, s, c);
        let nden = b.ins().fneg(den);
        let den = sel(b, odd, nden, den);
        let q = b.ins().fdiv(num, den);
        // One correction step removes the division's rounding error.
        let nq = b.ins().fneg(q);
        let rem = b.ins().fma(nq, den, num);
        let corr = b.ins().fdiv(rem, den);
        let r = b.ins().fadd(q, corr);
        let ax = b.ins().fabs(x);
        let tiny = cmpk(b, FloatCC::LessThan, ax, 2f64.powi(-27));
        sel(b, tiny, x, r)
    } else {
        let r = sel(b, odd, c, s);
        // negate when q & 2
        let sh = b.ins().iconst(types::I32, 62);
        let sign = b.ins().ishl(q, sh);
        let minbit = ki(b, i64::MIN);
        let sign = b.ins().band(sign, minbit);
        let ri = as_i(b, r);
        let ri = b.ins().bxor(ri, sign);
        let r = as_f(b, ri);
        if op == UnaryOp::Sin {
            let ax = b.ins().fabs(x);
            let tiny = cmpk(b, FloatCC::LessThan, ax, 2f64.powi(-27));
            sel(b, tiny, x, r)
        } else {
            r
        }
    };
    let ax = b.ins().fabs(x);
    let big = cmpk(b, FloatCC::GreaterThan, ax, TRIG_MAX);
    let fin = cmpk(b, FloatCC::LessThan, ax, f64::INFINITY);
    let slow = b.ins().band(big, fin);
    (res, Some(slow))
}

/// The real (`im` false) or imaginary part of e^(x + iy): `ir::fmath::cexp_part`
/// operation for operation (so the interpreter's bits), lanes outside
/// `ir::fmath::cexp_common` slow (the reference routine, `cmath::exp_part`).
fn cexp(b: &mut FunctionBuilder, x: Value, y: Value, im: bool) -> (Value, Option<Value>) {
    let (n, p) = exp_reduce(b, x);
    let one = k(b, 1.0);
    let hi = b.ins().fadd(one, p);
    let lo = b.ins().fsub(one, hi);
    let lo = b.ins().fadd(lo, p);
    let op = if im { UnaryOp::Sin } else { UnaryOp::Cos };
    let (t, _) = trig(b, op, y);
    let lot = b.ins().fmul(lo, t);
    let v = b.ins().fma(hi, t, lot);
    let s = pow2(b, n);
    let v = b.ins().fmul(v, s);
    let ax = b.ins().fabs(x);
    let ay = b.ins().fabs(y);
    let xin = cmpk(b, FloatCC::LessThanOrEqual, ax, 708.0);
    let big = cmpk(
        b,
        FloatCC::GreaterThanOrEqual,
        ay,
        crate::ir::fmath::CEXP_MIN_Y,
    );
    let yin = cmpk(b, FloatCC::LessThanOrEqual, ay, TRIG_MAX);
    let common = b.ins().band(xin, big);
    let common = b.ins().band(common, yin);
    (v, Some(b.ins().bnot(common)))
}

// ---------------------------------------------------------------------------
// Inverse trigonometric functions (fdlibm atan).

/// atan's argument reduction: for |x| >= bound, atan(x) = hi + lo + atan((a p - q)/(a r + s))
/// with [p, q, r, s, hi, lo] (fdlibm's atanhi/atanlo).
pub(crate) const ATAN_TABLE: [(f64, [f64; 6]); 4] = [
    (
        7.0 / 16.0,
        [
            2.0,
            1.0,
            1.0,
            2.0,
            4.63647609000806093515e-01,
            2.26987774529616870924e-17,
        ],
    ),
    (
        11.0 / 16.0,
        [
            1.0,
            1.0,
            1.0,
            1.0,
            std::f64::consts::FRAC_PI_4,
            3.06161699786838301793e-17,
        ],
    ),
    (
        19.0 / 16.0,
        [
            1.0,
            1.5,
            1.5,
            1.0,
            9.82793723247329054082e-01,
            1.39033110312309984516e-17,
        ],
    ),
    (
        39.0 / 16.0,
        [
            0.0,
            1.0,
            1.0,
            0.0,
            std::f64::consts::FRAC_PI_2,
            6.12323399573676603587e-17,
        ],
    ),
];

pub(crate) const AT: [f64; 11] = [
    3.33333333333329318027e-01,
    -1.99999999998764832476e-01,
    1.42857142725034663711e-01,
    -1.11111104054623557880e-01,
    9.09088713343650656196e-02,
    -7.69187620504482999495e-02,
    6.66107313738753120669e-02,
    -5.83357013379057348645e-02,
    4.97687799461593236017e-02,
    -3.65315727442169155270e-02,
    1.62858201153657823623e-02,
];

/// atan(a) for a >= 0 (or NaN); a may be +inf.
fn atan_pos(b: &mut FunctionBuilder, a: Value) -> Value {
    // Intervals: [0,7/16) direct; [7/16,11/16) atan(1/2) + atan((2a-1)/(2+a));
    // [11/16,19/16) atan(1) + atan((a-1)/(a+1)); [19/16,39/16) atan(3/2) +
    // atan((a-1.5)/(1+1.5a)); beyond: pi/2 + atan(-1/a).
    // Reduced x = (a*p - q)/(a*r + s).
    let table = ATAN_TABLE;
    let mut v: Vec<Value> = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        .iter()
        .map(|&c| k(b, c))
        .collect();
    let mut masks = Vec::new();
    for (bound, vals) in table {
        let m = cmpk(b, FloatCC::GreaterThanOrEqual, a, bound);
        for (slot, c) in v.iter_mut().zip(vals) {
            *slot = selk(b, m, c, *slot);
        }
        masks.push(m);
    }
    let nq = b.ins().fneg(v[1]);
    let num = b.ins().fma(a, v[0], nq);
    // a = inf would give inf*0 - 1 = NaN; the last interval's numerator is -1.
    let num = selk(b, masks[3], -1.0, num);
    let den = b.ins().fma(a, v[2], v[3]);
    let xr = b.ins().fdiv(num, den);
    let z = b.ins().fmul(xr, xr);
    let w = b.ins().fmul(z, z);
    let s1 = horner(b, w, &[AT[10], AT[8], AT[6], AT[4], AT[2], AT[0]]);
    let s1 = b.ins().fmul(s1, z);
    let s2 = horner(b, w, &[AT[9], AT[7], AT[5], AT[3], AT[1]]);
    let s2 = b.ins().fmul(s2, w);
    let s = b.ins().fadd(s1, s2);
    // hi - ((x*s - lo) - x)
    let t = b.ins().fmul(xr, s);
    let t = b.ins().fsub(t, v[5]);
    let t = b.ins().fsub(t, xr);
    b.ins().fsub(v[4], t)
}

fn atan(b: &mut FunctionBuilder, x: Value) -> Value {
    let a = b.ins().fabs(x);
    let r = atan_pos(b, a);
    copysign(b, r, x)
}

/// atan2(y, x) for y >= 0 (sign applied by the caller).
fn atan2_pos(b: &mut FunctionBuilder, ay: Value, x: Value) -> Value {
    let ax = b.ins().fabs(x);
    let r = b.ins().fdiv(ay, ax);
    let t = atan_pos(b, r);
    let zx = cmpk(b, FloatCC::Equal, ax, 0.0);
    let zy = cmpk(b, FloatCC::Equal, ay, 0.0);
    let both0 = b.ins().band(zx, zy);
    let t = selk(b, both0, 0.0, t);
    let ix = cmpk(b, FloatCC::Equal, ax, f64::INFINITY);
    let iy = cmpk(b, FloatCC::Equal, ay, f64::INFINITY);
    let both_inf = b.ins().band(ix, iy);
    let t = selk(b, both_inf, std::f64::consts::FRAC_PI_4, t);
    // x negative (or -0): pi - t.
    let pl = k(b, 1.2246467991473532e-16);
    let ph = k(b, std::f64::consts::PI);
    let s = b.ins().fsub(ph, t);
    let e = b.ins().fsub(ph, s);
    let e = b.ins().fsub(e, t);
    let e = b.ins().fadd(e, pl);
    let u = b.ins().fadd(s, e);
    let neg = sign_set(b, x);
    let t = sel(b, neg, u, t);
    // y/x = inf (x = ±0, y = inf, or overflow): pi/2 whatever the sign of x.
    let vert = cmpk(b, FloatCC::Equal, r, f64::INFINITY);
    selk(b, vert, std::f64::consts::FRAC_PI_2, t)
}

fn atan2(b: &mut FunctionBuilder, y: Value, x: Value) -> Value {
    let ay = b.ins().fabs(y);
    let r = atan2_pos(b, ay, x);
    copysign(b, r, y)
}

/// sqrt((1-a)(1+a)), accurately for |a| <= 1.
fn sqrt1m(b: &mut FunctionBuilder, a: Value) -> Value {
    let one = k(b, 1.0);
    let w = b.ins().fsub(one, a);
    let p = b.ins().fadd(one, a);
    let d = b.ins().fmul(w, p);
    b.ins().sqrt(d)
}

fn asin(b: &mut FunctionBuilder, x: Value) -> Value {
    let a = b.ins().fabs(x);
    let d = sqrt1m(b, a);
    let r = b.ins().fdiv(a, d);
    let t = atan_pos(b, r);
    copysign(b, t, x)
}

fn acos(b: &mut FunctionBuilder, x: Value) -> Value {
    let ax = b.ins().fabs(x);
    let d = sqrt1m(b, ax);
    atan2_pos(b, d, x)
}

// ---------------------------------------------------------------------------
// cbrt (musl), hypot, pow.

fn cbrt(b: &mut FunctionBuilder, x: Value) -> Value {
    let a = b.ins().fabs(x);
    let tiny = cmpk(b, FloatCC::LessThan, a, f64::MIN_POSITIVE);
    let s54 = k(b, 2f64.powi(54));
    let as_ = b.ins().fmul(a, s54);
    let a2 = sel(b, tiny, as_, a);
    // hx/3 + B on the high word, via exact float arithmetic.
    let ai = as_i(b, a2);
    let sh32 = b.ins().iconst(types::I32, 32);
    let hx = b.ins().ushr(ai, sh32);
    let magic = ki(b, 0x4330_0000_0000_0000);
    let hf = b.ins().bor(hx, magic);
    let hf = as_f(b, hf);
    let two52 = k(b, 4503599627370496.0);
    let hf = b.ins().fsub(hf, two52);
    let third = k(b, 1.0 / 3.0);
    let q = b.ins().fmul(hf, third);
    let q = b.ins().floor(q);
    let b1 = k(b, 715094163.0);
    let b2 = k(b, 696219795.0);
    let bias = sel(b, tiny, b2, b1);
    let q = b.ins().fadd(q, bias);
    let q = b.ins().fadd(q, two52);
    let qi = as_i(b, q);
    let lowmask = ki(b, 0xffff_ffff);
    let qi = b.ins().band(qi, lowmask);
    let ti = b.ins().ishl(qi, sh32);
    let t = as_f(b, ti);
    // t ~ cbrt(a) to 5 bits; polynomial step to 23 bits.
    let tt = b.ins().fmul(t, t);
    let ta = b.ins().fdiv(t, a);
    let r = b.ins().fmul(tt, ta);
    let p1 = horner(
        b,
        r,
        &[
            1.621429720105354466140,
            -1.88497979543377169875,
            1.87595182427177009643,
        ],
    );
    let p2 = horner(b, r, &[0.145996192886612446982, -0.758397934778766047437]);
    let rr = b.ins().fmul(r, r);
    let rrr = b.ins().fmul(rr, r);
    let p = b.ins().fma(rrr, p2, p1);
    let t = b.ins().fmul(t, p);
    // Round t to 22 bits (away from zero), then one Newton step in double.
    let ti = as_i(b, t);
    let add = ki(b, 0x8000_0000);
    let ti = b.ins().iadd(ti, add);
    let m = ki(b, 0xffff_ffff_c000_0000_u64 as i64);
    let ti = b.ins().band(ti, m);
    let t = as_f(b, ti);
    let s = b.ins().fmul(t, t);
    let r = b.ins().fdiv(a, s);
    let w = b.ins().fadd(t, t);
    let num = b.ins().fsub(r, t);
    let den = b.ins().fadd(w, r);
    let r = b.ins().fdiv(num, den);
    let t = b.ins().fma(t, r, t);
    // ±0, ±inf, NaN: x itself.
    let fin = cmpk(b, FloatCC::LessThan, a, f64::INFINITY);
    let nz = cmpk(b, FloatCC::GreaterThan, a, 0.0);
    let normal = b.ins().band(fin, nz);
    let t = sel(b, normal, t, a);
    copysign(b, t, x)
}

fn hypot(b: &mut FunctionBuilder, x: Value, y: Value) -> Value {
    let ax = b.ins().fabs(x);
    let ay = b.ins().fabs(y);
    let gt = b.ins().fcmp(FloatCC::GreaterThan, ax, ay);
    let big = sel(b, gt, ax, ay);
    let small = sel(b, gt, ay, ax);
    // Scale into a safe range by a power of two.
    let hi = cmpk(b, FloatCC::GreaterThan, big, 2f64.powi(500));
    let lo = cmpk(b, FloatCC::LessThan, big, 2f64.powi(-500));
    let one = k(b, 1.0);
    let s = selk(b, hi, 2f64.powi(-600), one);
    let s = selk(b, lo, 2f64.powi(600), s);
    let u = selk(b, hi, 2f64.powi(600), one);
    let u = selk(b, lo, 2f64.powi(-600), u);
    let bs = b.ins().fmul(big, s);
    let ss = b.ins().fmul(small, s);
    let s2 = b.ins().fmul(ss, ss);
    let q = b.ins().fma(bs, bs, s2);
    let r = b.ins().sqrt(q);
    let r = b.ins().fmul(r, u);
    let ix = cmpk(b, FloatCC::Equal, ax, f64::INFINITY);
    let iy = cmpk(b, FloatCC::Equal, ay, f64::INFINITY);
    let inf = b.ins().bor(ix, iy);
    selk(b, inf, f64::INFINITY, r)
}

fn pow(b: &mut FunctionBuilder, x: Value, y: Value, single: bool) -> (Value, Option<Value>) {
    let half = cmpk(b, FloatCC::Equal, y, 0.5);
    let sq = b.ins().sqrt(x);
    if !single {
        // Double precision needs log/exp in double-double: not yet, every
        // lane takes the scalar routine except y == 0.5 (sqrt, as `ir::scalar`).
        let nh = b.ins().bnot(half);
        return (sq, Some(nh));
    }
    // Single precision through double: |y*log(x)| < ~150, so the double
    // result is accurate to ~2^-45, far below an f32 ulp.
    let l = log(b, x);
    let z = b.ins().fmul(y, l);
    let r = exp(b, z);
    let r = sel(b, half, sq, r);
    // Fast lanes: 0 < x < inf, |y| < inf (or y == 0.5).
    let xp = cmpk(b, FloatCC::GreaterThan, x, 0.0);
    let xf = cmpk(b, FloatCC::LessThan, x, f64::INFINITY);
    let ay = b.ins().fabs(y);
    let yf = cmpk(b, FloatCC::LessThan, ay, f64::INFINITY);
    let ok = b.ins().band(xp, xf);
    let ok = b.ins().band(ok, yf);
    let ok = b.ins().bor(ok, half);
    let slow = b.ins().bnot(ok);
    (r, Some(slow))
}
