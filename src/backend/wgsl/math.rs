//! Math functions in WGSL: our own range reductions and polynomials, so GPU
//! results stay within a documented ULP bound of the reference interpreter
//! (WGSL's built-ins allow 2^-11 absolute error for `sin`, 4096 ULP for
//! `atan`, and nothing at all for f64).
//!
//! [`unary_fn`]/[`binary_fn`] name the WGSL function computing an op on a
//! dtype (for the complex split's internal parts, `cmath`'s); [`library`]
//! gives the definitions of a set of named functions, with everything they
//! call (`cmath`'s complex functions included), for the code generator to
//! append.
//!
//! float32 functions use only f32 and u32 arithmetic (the adapter may lack
//! f64): musl/fdlibm single-precision algorithms (`expf`, `expm1f`, `logf`
//! family, `log1pf`, `atanf`, `asinf`/`acosf`, `atan2f`, `sinhf`/`coshf`/
//! `tanhf`, `asinhf`/`acoshf`/`atanhf`, `cbrtf`, `erff`/`erfcf`), sin/cos/tan with a
//! three-part Cody–Waite reduction for |x| < 200 and Payne–Hanek (2/π to
//! 192 bits, exact integer products) beyond, `pow` in double-single
//! arithmetic from a 32-entry log2 table, exact integer `fmod`.
//!
//! float64 functions (for adapters with `SHADER_F64` and `SHADER_INT64`; the
//! f64 built-ins of some drivers return garbage, so only arithmetic, `abs`,
//! `floor`/`trunc`/`round` and `sqrt` are used) port fdlibm's double
//! algorithms on the high word (`bitcast<u64>`): the same families, sin/cos/
//! tan with fdlibm's three-step Cody–Waite for |x| < 2^20 π/2 and a
//! Payne–Hanek beyond (192 bits of 2/π times the 53-bit significand in exact
//! u64 limbs), `pow` in double-double from a 64-entry log2 table.
//!
//! Measured against the interpreter on lavapipe (2·10⁵ seeded arguments a
//! function, `tests/gpu_math.rs`): at most 1 ULP, except 2 ULP for f32
//! log10, tan, sinh, cosh, tanh, arcsinh, arccosh, arctanh, arctan2 and f64
//! log10, sinh, cosh, arccosh, 3 ULP for f64 tan and tanh and f32 erfc, 4 ULP
//! for f64 erfc (two `exp`s; the interpreter's are glibc's); fmod, floordiv,
//! mod and nextafter are exact; special values (NaN, ±inf, ±0, overflow and
//! underflow) are bit for bit the interpreter's.
//!
//! What shader compilers may do, and how the code copes (all seen on Mesa's
//! lavapipe): `fma` need not be fused (so exact products use Dekker's split
//! on bit masks, never `fma`); floating-point expressions may be
//! reassociated (`(a + b) - a` becomes `b`), so every compensated sum goes
//! through the opaque identity `m_o32`; NaN, infinity and signed zeros may be
//! "assumed away", so special values are tested and made on bit patterns.

// Coefficients are kept digit for digit as published (fdlibm, musl).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write;

use crate::ir::op::{BinaryOp, UnaryOp};
use crate::types::DType;

/// The WGSL function computing `op(x)` for `x` of dtype `d`, if there is one.
pub fn unary_fn(op: UnaryOp, d: DType) -> Option<&'static str> {
    use UnaryOp::*;
    if d == DType::Float64 {
        return unary_f64(op);
    }
    if d != DType::Float32 {
        return None;
    }
    Some(match op {
        Cbrt => "m_cbrt_f32",
        Exp => "m_exp_f32",
        Expm1 => "m_expm1_f32",
        Exp2 => "m_exp2_f32",
        Log => "m_log_f32",
        Log1p => "m_log1p_f32",
        Log2 => "m_log2_f32",
        Log10 => "m_log10_f32",
        Sin => "m_sin_f32",
        Cos => "m_cos_f32",
        Tan => "m_tan_f32",
        Arcsin => "m_asin_f32",
        Arccos => "m_acos_f32",
        Arctan => "m_atan_f32",
        Sinh => "m_sinh_f32",
        Cosh => "m_cosh_f32",
        Tanh => "m_tanh_f32",
        Arcsinh => "m_asinh_f32",
        Arccosh => "m_acosh_f32",
        Arctanh => "m_atanh_f32",
        Erf => "m_erf_f32",
        Erfc => "m_erfc_f32",
        _ => return None,
    })
}

/// The WGSL function computing `op(x, y)` for operands of dtype `d`, if there is one.
pub fn binary_fn(op: BinaryOp, d: DType) -> Option<&'static str> {
    use BinaryOp::*;
    if op.complex_part().is_some() {
        return super::cmath::part_fn(op, d);
    }
    if d == DType::Float64 {
        return binary_f64(op);
    }
    if d != DType::Float32 {
        return None;
    }
    Some(match op {
        Arctan2 => "m_atan2_f32",
        Hypot => "m_hypot_f32",
        Pow => "m_pow_f32",
        Fmod => "m_fmod_f32",
        Nextafter => "m_nextafter_f32",
        FloorDiv => "m_floordiv_f32",
        Mod => "m_mod_f32",
        _ => return None,
    })
}

fn unary_f64(op: UnaryOp) -> Option<&'static str> {
    use UnaryOp::*;
    Some(match op {
        Cbrt => "m_cbrt_f64",
        Trunc => "m_trunc_f64",
        Rint => "m_rint_f64",
        Exp => "m_exp_f64",
        Expm1 => "m_expm1_f64",
        Exp2 => "m_exp2_f64",
        Log => "m_log_f64",
        Log1p => "m_log1p_f64",
        Log2 => "m_log2_f64",
        Log10 => "m_log10_f64",
        Sin => "m_sin_f64",
        Cos => "m_cos_f64",
        Tan => "m_tan_f64",
        Arcsin => "m_asin_f64",
        Arccos => "m_acos_f64",
        Arctan => "m_atan_f64",
        Sinh => "m_sinh_f64",
        Cosh => "m_cosh_f64",
        Tanh => "m_tanh_f64",
        Arcsinh => "m_asinh_f64",
        Arccosh => "m_acosh_f64",
        Arctanh => "m_atanh_f64",
        Erf => "m_erf_f64",
        Erfc => "m_erfc_f64",
        _ => return None,
    })
}

fn binary_f64(op: BinaryOp) -> Option<&'static str> {
    use BinaryOp::*;
    Some(match op {
        Arctan2 => "m_atan2_f64",
        Pow => "m_pow_f64",
        Hypot => "m_hypot_f64",
        Fmod => "m_fmod_f64",
        Nextafter => "m_nextafter_f64",
        FloorDiv => "m_floordiv_f64",
        Mod => "m_mod_f64",
        _ => return None,
    })
}

/// WGSL definitions of the functions in `names` and of everything they call,
/// each once, in a fixed order.
pub fn library(names: &BTreeSet<&'static str>) -> String {
    let items = items();
    let mut want: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<&str> = names.iter().copied().collect();
    while let Some(n) = stack.pop() {
        if want.insert(n)
            && let Some(it) = items.iter().find(|it| it.name == n)
        {
            stack.extend(it.deps.iter().copied());
        }
    }
    let mut out = String::new();
    for it in items {
        if want.contains(it.name) {
            out.push('\n');
            if it.name == "M_POW_TAB_F32" {
                out.push_str(&pow_table_f32());
            } else {
                out.push_str(&it.code);
            }
        }
    }
    out
}

struct Item {
    name: &'static str,
    deps: Vec<&'static str>,
    code: Cow<'static, str>,
}

/// The sections of the WGSL sources: a line `//@ name dep dep...` starts each.
fn items() -> &'static [Item] {
    static ITEMS: std::sync::OnceLock<Vec<Item>> = std::sync::OnceLock::new();
    ITEMS.get_or_init(make_items)
}

fn make_items() -> Vec<Item> {
    let mut items = Vec::new();
    for src in [F32, F64] {
        for sec in src.split("//@ ").skip(1) {
            let (head, code) = sec.split_once('\n').unwrap_or((sec, ""));
            let mut words = head.split_whitespace();
            let name = words.next().unwrap_or("");
            items.push(Item {
                name,
                deps: words.collect(),
                code: Cow::Borrowed(code),
            });
        }
    }
    items.extend(erf_items());
    let known: Vec<&'static str> = items.iter().map(|it| it.name).collect();
    items.extend(
        super::cmath::items(&known)
            .into_iter()
            .map(|(name, deps, code)| Item {
                name,
                deps,
                code: Cow::Owned(code),
            }),
    );
    items
}

/// A WGSL f64 literal of `c`, exact (by its bits).
fn lit64(c: f64) -> String {
    format!("bitcast<f64>(0x{:016x}lu)", c.to_bits())
}

/// A WGSL f32 literal of `c` rounded to f32 (by its bits).
fn lit32(c: f64) -> String {
    format!("bitcast<f32>(0x{:08x}u)", (c as f32).to_bits())
}

/// `c[0] + x * (c[1] + x * (...))` in WGSL, as fdlibm writes its polynomials.
fn horner(x: &str, c: &[f64], lit: fn(f64) -> String) -> String {
    c.iter().rev().fold(String::new(), |acc, &ci| {
        if acc.is_empty() {
            lit(ci)
        } else {
            format!("{} + {x} * ({acc})", lit(ci))
        }
    })
}

/// erf and erfc in WGSL, generated from the coefficients of the reference
/// (`ir::scalar::erf`, FreeBSD/musl `s_erf.c`): float64 the same algorithm
/// with our `exp`; float32 musl's `erff` (the same coefficients rounded to
/// f32, the f32 thresholds, `z` cut to 11 significand bits).
fn erf_items() -> Vec<Item> {
    use crate::ir::scalar::erf::{EFX8, ERX, PA, PP, QA, QQ, RA, RB, SA, SB};
    let mut items = Vec::new();
    // (suffix, type, literal, one, thresholds of `hi` (|x|'s high word, or
    // its bits for f32): 0.84375, 1.25, 1/0.35, 6, erf's tiny, erfc's tiny, 1/4, 28,
    // the mask cutting z, the bits type's suffix, the sign mask, NaN test)
    struct Flavor {
        sfx: &'static str,
        ty: &'static str,
        lit: fn(f64) -> String,
        hi: &'static str,
        t: [&'static str; 8],
        cut: &'static str,
        sign: &'static str,
        deps: &'static str,
        /// The quiet-NaN and opaque helpers, the high word of +inf.
        qnan: &'static str,
        o: &'static str,
        nan_hi: &'static str,
        /// The names of erfc2, erf and erfc, and what reading `hi` needs.
        names: [&'static str; 3],
        hi_dep: Option<&'static str>,
    }
    let flavors = [
        Flavor {
            sfx: "f64",
            ty: "f64",
            lit: lit64,
            hi: "m_hi64(x)",
            t: [
                "0x3feb0000u",
                "0x3ff40000u",
                "0x4006db6du",
                "0x40180000u",
                "0x3e300000u",
                "0x3c700000u",
                "0x3fd00000u",
                "0x403c0000u",
            ],
            cut: "bitcast<f64>(bitcast<u64>(x) & 0xffffffff00000000lu)",
            sign: "bitcast<f64>(bitcast<u64>(y) | (bitcast<u64>(x0) & 0x8000000000000000lu))",
            deps: "m_exp_f64 m_hi64 m_qnan64 m_o64",
            qnan: "m_qnan64",
            o: "m_o64",
            nan_hi: "0x7ff00000u",
            names: ["m_erfc2_f64", "m_erf_f64", "m_erfc_f64"],
            hi_dep: Some("m_hi64"),
        },
        Flavor {
            sfx: "f32",
            ty: "f32",
            lit: lit32,
            hi: "bitcast<u32>(x)",
            t: [
                "0x3f580000u",
                "0x3fa00000u",
                "0x4036db6du",
                "0x40c00000u",
                "0x31800000u",
                "0x23800000u",
                "0x3e800000u",
                "0x41e00000u",
            ],
            cut: "bitcast<f32>(bitcast<u32>(x) & 0xffffe000u)",
            sign: "bitcast<f32>(bitcast<u32>(y) | (bitcast<u32>(x0) & 0x80000000u))",
            deps: "m_exp_f32 m_qnan32 m_o32",
            qnan: "m_qnan32",
            o: "m_o32",
            nan_hi: "0x7f800000u",
            names: ["m_erfc2_f32", "m_erf_f32", "m_erfc_f32"],
            hi_dep: None,
        },
    ];
    for f in flavors {
        let (sfx, ty, l) = (f.sfx, f.ty, f.lit);
        let (qnan, o, nan_hi) = (f.qnan, f.o, f.nan_hi);
        let [erfc2_name, erf_name, erfc_name] = f.names;
        let one = l(1.0);
        let two = l(2.0);
        let zero = l(0.0);
        let half = l(0.5);
        let [t0, t1, t2, t3, t4, t5, t6, t7] = f.t;
        let hi = f.hi;
        let (pp, qq) = (horner("z", &PP, l), horner("z", &QQ, l));
        let (pa, qa) = (horner("s", &PA, l), horner("s", &QA, l));
        let (ra, sa) = (horner("s", &RA, l), horner("s", &SA, l));
        let (rb, sb) = (horner("s", &RB, l), horner("s", &SB, l));
        let (erx, efx8) = (l(ERX), l(EFX8));
        let (eighth, eight, c9) = (l(0.125), l(8.0), l(0.5625));
        let cut = f.cut;
        let code = format!(
            "// erfc(|x|) for 0.84375 <= |x| < 28 (FreeBSD/musl s_erf.c); ix: the high bits of |x|.
fn m_erfc2_{sfx}(ix: u32, x0: {ty}) -> {ty} {{
    let x = abs(x0);
    if (ix < {t1}) {{
        let s = x - {one};
        return ({one} - {erx}) - ({pa}) / ({one} + s * ({qa}));
    }}
    let s = {one} / (x * x);
    var r: {ty};
    var q: {ty};
    if (ix < {t2}) {{
        r = {ra};
        q = {one} + s * ({sa});
    }} else {{
        r = {rb};
        q = {one} + s * ({sb});
    }}
    let z = {cut};
    return exp_{sfx}(-z * z - {c9}) * exp_{sfx}((z - x) * (z + x) + r / q) / x;
}}
"
        )
        .replace("exp_f64(", "m_exp_f64(")
        .replace("exp_f32(", "m_exp_f32(");
        items.push(Item {
            name: erfc2_name,
            deps: f.deps.split_whitespace().collect(),
            code: Cow::Owned(code),
        });
        let sign = f.sign;
        let erf = format!(
            "fn m_erf_{sfx}(x0: {ty}) -> {ty} {{
    let x = x0;
    let ix = {hi} & 0x7fffffffu;
    if (ix >= {nan_hi}) {{
        if ({nan_test}) {{ return {qnan}(x, x); }}
        let y = {one};
        return {sign};
    }}
    if (ix < {t0}) {{
        if (ix < {t4}) {{ return {eighth} * ({eight} * x + {efx8} * x); }}
        let z = x * x;
        return x + x * (({pp}) / ({one} + z * ({qq})));
    }}
    var y = {one};
    if (ix < {t3}) {{ y = {one} - m_erfc2_{sfx}(ix, x); }}
    return {sign};
}}
",
            nan_test = nan_test(sfx),
        );
        items.push(Item {
            name: erf_name,
            deps: [erfc2_name, qnan].into_iter().chain(f.hi_dep).collect(),
            code: Cow::Owned(erf),
        });
        let erfc = format!(
            "fn m_erfc_{sfx}(x: {ty}) -> {ty} {{
    let ix = {hi} & 0x7fffffffu;
    let neg = ({hi} >> 31u) != 0u;
    if (ix >= {nan_hi}) {{
        if ({nan_test}) {{ return {qnan}(x, x); }}
        return select({zero}, {two}, neg);
    }}
    if (ix < {t0}) {{
        if (ix < {t5}) {{ return {one} - x; }}
        let z = x * x;
        let y = ({pp}) / ({one} + z * ({qq}));
        if (neg || ix < {t6}) {{ return {one} - (x + x * y); }}
        return {half} - ({o}(x - {half}) + x * y);
    }}
    if (ix < {t7}) {{
        let r = m_erfc2_{sfx}(ix, x);
        return select(r, {two} - r, neg);
    }}
    return select({zero}, {two}, neg);
}}
",
            nan_test = nan_test(sfx).replace("x0", "x"),
        );
        items.push(Item {
            name: erfc_name,
            deps: [erfc2_name, qnan, o].into_iter().chain(f.hi_dep).collect(),
            code: Cow::Owned(erfc),
        });
    }
    items
}

/// WGSL: `x0` is a NaN (on the bit pattern).
fn nan_test(sfx: &str) -> &'static str {
    if sfx == "f64" {
        "(bitcast<u64>(x0) & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu"
    } else {
        "(bitcast<u32>(x0) & 0x7fffffffu) > 0x7f800000u"
    }
}

/// `pow`'s log2 table: for each of 32 subintervals of [0.699, 1.398) (by
/// the top 5 significand bits), `1/c` rounded to f32 and `-log2` of that
/// f32 as a hi + lo pair; `1/c` is exactly 1 on the interval holding 1.
fn pow_table_f32() -> String {
    let mut s = String::from("var<private> M_POW_TAB_F32: array<u32, 96> = array<u32, 96>(");
    for i in 0..32u32 {
        let lo = f32::from_bits(0x3f33_0000 + (i << 18)) as f64;
        let hi = f32::from_bits(0x3f33_0000 + ((i + 1) << 18)) as f64;
        let invc = if lo <= 1.0 && 1.0 < hi {
            1.0f32
        } else {
            (2.0 / (lo + hi)) as f32
        };
        let l = -(invc as f64).log2();
        let lh = l as f32;
        let ll = (l - lh as f64) as f32;
        let _ = write!(
            s,
            "{}0x{:08x}u, 0x{:08x}u, 0x{:08x}u",
            if i == 0 { "" } else { ", " },
            invc.to_bits(),
            lh.to_bits(),
            ll.to_bits()
        );
    }
    s.push_str(");\n");
    s
}

const F32: &str = r#"
//@ m_o32
// An opaque identity: stops the shader compiler from reassociating (lavapipe folds (a+b)-a to b).
fn m_o32(x: f32) -> f32 { return bitcast<f32>(reverseBits(reverseBits(bitcast<u32>(x)))); }
//@ m_nan32
// The NaN an invalid operation makes on x86 (the interpreter's platform): sign set.
fn m_nan32() -> f32 { return bitcast<f32>(0xffc00000u); }
//@ m_qnan32
// x + y for x or y NaN: the first NaN operand, quieted (as x86 propagates it).
fn m_qnan32(x: f32, y: f32) -> f32 {
    let ux = bitcast<u32>(x);
    return bitcast<f32>(select(bitcast<u32>(y), ux, (ux & 0x7fffffffu) > 0x7f800000u) | 0x00400000u);
}
//@ m_isnan32
fn m_isnan32(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
//@ m_setsign32
// |x| with the sign bit s (0 or 0x80000000).
fn m_setsign32(x: f32, s: u32) -> f32 { return bitcast<f32>((bitcast<u32>(x) & 0x7fffffffu) | s); }
//@ m_scalbn32 m_o32
// x * 2^n with one rounding (musl scalbnf).
fn m_scalbn32(x: f32, n: i32) -> f32 {
    var y = x;
    var k = n;
    if (k > 127) {
        y = m_o32(y * bitcast<f32>(0x7f000000u));
        k = k - 127;
        if (k > 127) { y = m_o32(y * bitcast<f32>(0x7f000000u)); k = min(k - 127, 127); }
    } else if (k < -126) {
        y = m_o32(y * bitcast<f32>(0x0c800000u));
        k = k + 102;
        if (k < -126) { y = m_o32(y * bitcast<f32>(0x0c800000u)); k = max(k + 102, -126); }
    }
    return y * bitcast<f32>(u32(127 + k) << 23u);
}
//@ m_2sum32 m_o32
// a + b = s + e exactly (Knuth's two-sum).
fn m_2sum32(a: f32, b: f32) -> vec2<f32> {
    let s = m_o32(a + b);
    let bb = m_o32(s - a);
    return vec2<f32>(s, (a - m_o32(s - bb)) + (b - bb));
}
//@ m_2prod32
// a * b = p + e exactly (Dekker; the split is a bit mask: fma is not fused everywhere).
fn m_2prod32(a: f32, b: f32) -> vec2<f32> {
    let p = a * b;
    let ah = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
    let al = a - ah;
    let bh = bitcast<f32>(bitcast<u32>(b) & 0xfffff000u);
    let bl = b - bh;
    return vec2<f32>(p, ((ah * bh - p) + ah * bl + al * bh) + al * bl);
}
//@ m_expk32
// e^(hi - lo) for |hi - lo| <= 0.35 (fdlibm expf kernel).
fn m_expk32(hi: f32, lo: f32) -> f32 {
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (1.6666625440e-1f + t * -2.7667332906e-3f);
    return 1.0f - ((lo - (r * c) / (2.0f - c)) - hi);
}
//@ m_exp_f32 m_expk32 m_scalbn32
fn m_exp_f32(x: f32) -> f32 {
    let ax = bitcast<u32>(x) & 0x7fffffffu;
    if (ax > 0x7f800000u) { return x; }
    if (x > bitcast<f32>(0x42b17217u)) { return bitcast<f32>(0x7f800000u); }
    if (x < -104.0f) { return 0.0f; }
    if (ax < 0x31800000u) { return 1.0f + x; }
    let k = round(x * 1.4426950216e+00f);
    let hi = x - k * 6.9314575195e-01f;
    let lo = k * 1.4286067653e-06f;
    return m_scalbn32(m_expk32(hi, lo), i32(k));
}
//@ m_exp2_f32 m_expk32 m_scalbn32 m_2prod32
fn m_exp2_f32(x: f32) -> f32 {
    let ax = bitcast<u32>(x) & 0x7fffffffu;
    if (ax > 0x7f800000u) { return x; }
    if (x >= 128.0f) { return bitcast<f32>(0x7f800000u); }
    if (x <= -150.0f) { return 0.0f; }
    if (ax < 0x31800000u) { return 1.0f + x; }
    let k = round(x);
    let f = x - k;
    let p = m_2prod32(f, 6.9314718246e-01f);
    let lo = p.y + f * -1.9046542999e-09f;
    return m_scalbn32(m_expk32(p.x, -lo), i32(k));
}
//@ m_expm1_f32 m_o32
// musl expm1f.
fn m_expm1_f32(x0: f32) -> f32 {
    var x = x0;
    let u = bitcast<u32>(x);
    let hx = u & 0x7fffffffu;
    let sign = (u >> 31u) != 0u;
    if (hx >= 0x4195b844u) {
        if (hx > 0x7f800000u) { return x; }
        if (sign) { return -1.0f; }
        if (x > bitcast<f32>(0x42b17217u)) { return bitcast<f32>(0x7f800000u); }
    }
    var k = 0;
    var c = 0.0f;
    if (hx > 0x3eb17218u) {
        var hi: f32;
        var lo: f32;
        if (hx < 0x3f851592u) {
            if (!sign) { hi = x - 6.9313812256e-01f; lo = 9.0580006145e-06f; k = 1; }
            else { hi = x + 6.9313812256e-01f; lo = -9.0580006145e-06f; k = -1; }
        } else {
            let t = trunc(1.4426950216e+00f * x + select(0.5f, -0.5f, sign));
            k = i32(t);
            hi = x - t * 6.9313812256e-01f;
            lo = t * 9.0580006145e-06f;
        }
        x = m_o32(hi - lo);
        c = (hi - x) - lo;
    } else if (hx < 0x33000000u) {
        return x;
    }
    let hfx = 0.5f * x;
    let hxs = x * hfx;
    let r1 = 1.0f + hxs * (-3.3333212137e-2f + hxs * 1.5807170421e-3f);
    let t = 3.0f - r1 * hfx;
    var e = hxs * ((r1 - t) / (6.0f - x * t));
    if (k == 0) { return x - (x * e - hxs); }
    e = x * (e - c) - c;
    e = e - hxs;
    if (k == -1) { return 0.5f * (x - e) - 0.5f; }
    if (k == 1) {
        if (x < -0.25f) { return -2.0f * (e - (x + 0.5f)); }
        return 1.0f + 2.0f * (x - e);
    }
    if (k < 0 || k > 56) {
        var y = x - e + 1.0f;
        if (k == 128) { y = m_o32(y * 2.0f) * bitcast<f32>(0x7f000000u); }
        else { y = y * bitcast<f32>(u32(127 + k) << 23u); }
        return y - 1.0f;
    }
    let twopk = bitcast<f32>(u32(127 + k) << 23u);
    let uf = bitcast<f32>(u32(127 - k) << 23u);
    if (k < 23) { return (x - e + (1.0f - uf)) * twopk; }
    return (x - (e + uf) + 1.0f) * twopk;
}
//@ m_logk32
// log(1+f) - f + hfsq pieces for the musl logf family: returns (s*(hfsq+R), hfsq).
fn m_logk32(f: f32) -> vec2<f32> {
    let s = f / (2.0f + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (0.40000972152f + w * 0.24279078841f);
    let t2 = z * (0.66666662693f + w * 0.28498786688f);
    let hfsq = 0.5f * f * f;
    return vec2<f32>(s * (hfsq + t2 + t1), hfsq);
}
//@ m_logsplit32
// x > 0 finite: (k, f) with x = 2^k (1 + f), sqrt(2)/2 <= 1 + f < sqrt(2).
fn m_logsplit32(x: f32) -> vec2<f32> {
    var ix = bitcast<u32>(x);
    var k = 0;
    if (ix < 0x00800000u) { k = -25; ix = bitcast<u32>(x * 33554432.0f); }
    ix = ix + (0x3f800000u - 0x3f3504f3u);
    k = k + i32(ix >> 23u) - 127;
    ix = (ix & 0x007fffffu) + 0x3f3504f3u;
    return vec2<f32>(f32(k), bitcast<f32>(ix) - 1.0f);
}
//@ m_logspecial32
// x for NaN or +inf, -inf for ±0, NaN for x < 0 (the sign of glibc's: set but for
// log10); 0 when x is an ordinary positive number.
fn m_logspecial32(x: f32, neg_nan: u32) -> u32 {
    let u = bitcast<u32>(x);
    if ((u & 0x7fffffffu) == 0u) { return 0xff800000u; }
    if ((u & 0x7fffffffu) > 0x7f800000u) { return u | 0x00400000u; }
    if (u > 0x7f800000u) { return neg_nan; }
    if (u == 0x7f800000u) { return u; }
    return 0u;
}
//@ m_log_f32 m_logk32 m_logsplit32 m_logspecial32
fn m_log_f32(x: f32) -> f32 {
    let sp = m_logspecial32(x, 0xffc00000u);
    if (sp != 0u) { return bitcast<f32>(sp); }
    if (bitcast<u32>(x) == 0x3f800000u) { return 0.0f; }
    let kf = m_logsplit32(x);
    let dk = kf.x;
    let f = kf.y;
    let q = m_logk32(f);
    return q.x + dk * 9.0580006145e-06f - q.y + f + dk * 6.9313812256e-01f;
}
//@ m_log2_f32 m_logk32 m_logsplit32 m_logspecial32
fn m_log2_f32(x: f32) -> f32 {
    let sp = m_logspecial32(x, 0xffc00000u);
    if (sp != 0u) { return bitcast<f32>(sp); }
    let kf = m_logsplit32(x);
    let f = kf.y;
    let q = m_logk32(f);
    let hi = bitcast<f32>(bitcast<u32>(f - q.y) & 0xfffff000u);
    let lo = f - hi - q.y + q.x;
    return (lo + hi) * -1.7605285393e-04f + lo * 1.4428710938e+00f + hi * 1.4428710938e+00f + kf.x;
}
//@ m_log10_f32 m_logk32 m_logsplit32 m_logspecial32
fn m_log10_f32(x: f32) -> f32 {
    let sp = m_logspecial32(x, 0x7fc00000u);
    if (sp != 0u) { return bitcast<f32>(sp); }
    let kf = m_logsplit32(x);
    let f = kf.y;
    let dk = kf.x;
    let q = m_logk32(f);
    let hi = bitcast<f32>(bitcast<u32>(f - q.y) & 0xfffff000u);
    let lo = f - hi - q.y + q.x;
    return dk * 7.9034151668e-07f + (lo + hi) * -3.1689971365e-05f + lo * 4.3432617188e-01f + hi * 4.3432617188e-01f + dk * 3.0102920532e-01f;
}
//@ m_log1p_f32 m_logk32 m_o32
// musl log1pf.
fn m_log1p_f32(x: f32) -> f32 {
    let ix = bitcast<u32>(x);
    if ((ix & 0x7fffffffu) > 0x7f800000u) { return x; }
    var k = 1;
    var c = 0.0f;
    var f = 0.0f;
    if (ix < 0x3ed413d0u || (ix >> 31u) != 0u) {
        if (ix >= 0xbf800000u) {
            if (ix == 0xbf800000u) { return bitcast<f32>(0xff800000u); }
            return bitcast<f32>(0xffc00000u);
        }
        if ((ix << 1u) < (0x33800000u << 1u)) { return x; }
        if (ix <= 0xbe95f619u) { k = 0; f = x; }
    } else if (ix >= 0x7f800000u) {
        return x;
    }
    if (k != 0) {
        let u = m_o32(1.0f + x);
        var iu = bitcast<u32>(u);
        iu = iu + (0x3f800000u - 0x3f3504f3u);
        k = i32(iu >> 23u) - 127;
        if (k < 25) {
            c = select(x - (u - 1.0f), 1.0f - (u - x), k >= 2);
            c = c / u;
        }
        iu = (iu & 0x007fffffu) + 0x3f3504f3u;
        f = bitcast<f32>(iu) - 1.0f;
    }
    let q = m_logk32(f);
    let dk = f32(k);
    return q.x + (dk * 9.0580006145e-06f + c) - q.y + f + dk * 6.9313812256e-01f;
}
//@ M_INV_PIO2_BITS
var<private> M_INV_PIO2_BITS: array<u32, 24> = array<u32, 24>(
    0xa2u, 0xa2f9u, 0xa2f983u, 0xa2f9836eu, 0xf9836e4eu, 0x836e4e44u, 0x6e4e4415u, 0x4e441529u,
    0x441529fcu, 0x1529fc27u, 0x29fc2757u, 0xfc2757d1u, 0x2757d1f5u, 0x57d1f534u, 0xd1f534ddu, 0xf534ddc0u,
    0x34ddc0dbu, 0xddc0db62u, 0xc0db6295u, 0xdb629599u, 0x6295993cu, 0x95993c43u, 0x993c4390u, 0x3c439041u);
//@ m_mul64
// a * b as (low word, high word).
fn m_mul64(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
    return vec2<u32>((p00 & 0xffffu) | (mid << 16u), a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}
//@ m_rem_pio2_f32 m_2sum32 m_2prod32 m_mul64 M_INV_PIO2_BITS m_o32
// x = n pi/2 + (hi + lo), |hi| <= ~pi/4: returns (n mod 4, hi, lo). Cody-Waite in
// three exact parts for |x| < 200, else Payne-Hanek with 2/pi to 192 bits (the
// 2.62 fixed-point product of ARM's optimized-routines sinf).
fn m_rem_pio2_f32(x: f32) -> vec3<f32> {
    let u = bitcast<u32>(x);
    let ax = u & 0x7fffffffu;
    if (ax <= 0x3f490fdbu) { return vec3<f32>(0.0f, x, 0.0f); }
    if (ax < 0x43480000u) {
        let n = round(x * 6.3661974669e-01f);
        let r1 = x - n * 1.5707855225e+00f;
        let s = m_2sum32(r1, -(n * 1.0804273188e-05f));
        let lo = s.y - n * 6.0770943833e-11f - n * 6.1232342629e-17f;
        let hi = m_o32(s.x + lo);
        let q = i32(n) & 3;
        return vec3<f32>(f32(q), hi, (s.x - hi) + lo);
    }
    let idx = (u >> 26u) & 15u;
    let m = ((u & 0x7fffffu) | 0x800000u) << ((u >> 23u) & 7u);
    let r0 = m * M_INV_PIO2_BITS[idx];
    let p1 = m_mul64(m, M_INV_PIO2_BITS[idx + 4u]);
    let p2 = m_mul64(m, M_INV_PIO2_BITS[idx + 8u]);
    let lo0 = p2.y + p1.x;
    var hi0 = r0 + p1.y + select(0u, 1u, lo0 < p2.y);
    let n = (hi0 + 0x20000000u) >> 30u;
    hi0 = hi0 - (n << 30u);
    // The signed 64-bit fraction (units of 2^-62 quadrants) to sign and magnitude.
    let neg = (hi0 >> 31u) != 0u;
    var h = hi0;
    var l = lo0;
    if (neg) {
        l = ~lo0 + 1u;
        h = ~hi0 + select(0u, 1u, l == 0u);
    }
    var lz = countLeadingZeros(h);
    if (h == 0u) { let z = min(countLeadingZeros(l), 31u); lz = 32u + z; h = l << z; l = 0u; }
    else if (lz > 0u) { h = (h << lz) | (l >> (32u - lz)); l = l << lz; }
    // value = (h 2^32 + l) 2^-(lz + 62) quadrants
    let vh = f32(h >> 8u) * bitcast<f32>((127u - 22u - lz) << 23u);
    let vl = f32(((h & 0xffu) << 24u) | (l >> 8u)) * bitcast<f32>((127u - 54u - lz) << 23u);
    let p = m_2prod32(vh, 1.5707963705e+00f);
    let e = p.y + vh * -4.3711388287e-08f + vl * 1.5707963705e+00f;
    var hi = m_o32(p.x + e);
    var lo = e - (hi - p.x);
    var q = n;
    if (neg) { hi = -hi; lo = -lo; }
    if ((u >> 31u) != 0u) { hi = -hi; lo = -lo; q = 0u - q; }
    return vec3<f32>(f32(q & 3u), hi, lo);
}
//@ m_sink32
fn m_sink32(x: f32, y: f32) -> f32 {
    let z = x * x;
    let v = z * x;
    let r = 8.3333337680e-03f + z * (-1.9841270114e-04f + z * (2.7557314297e-06f + z * (-2.5050759689e-08f + z * 1.5896910177e-10f)));
    return x - ((z * (0.5f * y - v * r) - y) - v * -1.6666667163e-01f);
}
//@ m_cosk32 m_o32
fn m_cosk32(x: f32, y: f32) -> f32 {
    let z = x * x;
    let r = z * (4.1666667908e-02f + z * (-1.3888889225e-03f + z * (2.4801587642e-05f + z * (-2.7557314297e-07f + z * (2.0875723372e-09f + z * -1.1359647598e-11f)))));
    let hz = 0.5f * z;
    let w = m_o32(1.0f - hz);
    return w + (((1.0f - w) - hz) + (z * r - x * y));
}
//@ m_sin_f32 m_rem_pio2_f32 m_sink32 m_cosk32 m_nan32
fn m_sin_f32(x: f32) -> f32 {
    let ax = bitcast<u32>(x) & 0x7fffffffu;
    if (ax > 0x7f800000u) { return x; }
    if (ax == 0x7f800000u) { return m_nan32(); }
    if (ax < 0x39800000u) { return x; }
    let r = m_rem_pio2_f32(x);
    let q = u32(r.x);
    var v: f32;
    if ((q & 1u) == 0u) { v = m_sink32(r.y, r.z); } else { v = m_cosk32(r.y, r.z); }
    return select(v, -v, (q & 2u) != 0u);
}
//@ m_cos_f32 m_rem_pio2_f32 m_sink32 m_cosk32 m_nan32
fn m_cos_f32(x: f32) -> f32 {
    let ax = bitcast<u32>(x) & 0x7fffffffu;
    if (ax > 0x7f800000u) { return x; }
    if (ax == 0x7f800000u) { return m_nan32(); }
    if (ax < 0x39800000u) { return 1.0f; }
    let r = m_rem_pio2_f32(x);
    let q = u32(r.x);
    var v: f32;
    if ((q & 1u) == 0u) { v = m_cosk32(r.y, r.z); } else { v = -m_sink32(r.y, r.z); }
    return select(v, -v, (q & 2u) != 0u);
}
//@ m_tan_f32 m_rem_pio2_f32 m_sink32 m_cosk32 m_nan32
fn m_tan_f32(x: f32) -> f32 {
    let ax = bitcast<u32>(x) & 0x7fffffffu;
    if (ax > 0x7f800000u) { return x; }
    if (ax == 0x7f800000u) { return m_nan32(); }
    if (ax < 0x39800000u) { return x; }
    let r = m_rem_pio2_f32(x);
    let s = m_sink32(r.y, r.z);
    let c = m_cosk32(r.y, r.z);
    if ((u32(r.x) & 1u) == 0u) { return s / c; }
    return -c / s;
}
//@ m_asinr32
fn m_asinr32(z: f32) -> f32 {
    let p = z * (1.6666586697e-01f + z * (-4.2743422091e-02f + z * -8.6563630030e-03f));
    let q = 1.0f + z * -7.0662963390e-01f;
    return p / q;
}
//@ m_asin_f32 m_asinr32 m_nan32 m_setsign32 m_2prod32 m_2sum32
fn m_asin_f32(x: f32) -> f32 {
    let hx = bitcast<u32>(x);
    let ix = hx & 0x7fffffffu;
    if (ix >= 0x3f800000u) {
        if (ix == 0x3f800000u) { return m_setsign32(bitcast<f32>(0x3fc90fdbu), hx & 0x80000000u); }
        if (ix > 0x7f800000u) { return x; }
        return bitcast<f32>(0x7fc00000u);
    }
    if (ix < 0x3f000000u) {
        if (ix < 0x39800000u) { return x; }
        return x + x * m_asinr32(x * x);
    }
    // pi/2 - 2 (s + s R(z)), s = sqrt(z) + its rounding error, in double-single.
    let z = (1.0f - abs(x)) * 0.5f;
    let s = sqrt(z);
    let rr = m_2prod32(s, s);
    let slo = ((z - rr.x) - rr.y) / (2.0f * s);
    let u = m_2sum32(1.5707963705e+00f, -2.0f * s);
    let t = u.x + (u.y + (-4.3711388287e-08f - 2.0f * slo - 2.0f * s * m_asinr32(z)));
    return m_setsign32(t, hx & 0x80000000u);
}
//@ m_acos_f32 m_asinr32 m_nan32
fn m_acos_f32(x: f32) -> f32 {
    let hx = bitcast<u32>(x);
    let ix = hx & 0x7fffffffu;
    if (ix >= 0x3f800000u) {
        if (ix == 0x3f800000u) {
            if ((hx >> 31u) != 0u) { return bitcast<f32>(0x40490fdbu); }
            return 0.0f;
        }
        if (ix > 0x7f800000u) { return x; }
        return bitcast<f32>(0x7fc00000u);
    }
    if (ix < 0x3f000000u) {
        if (ix <= 0x32800000u) { return bitcast<f32>(0x3fc90fdbu); }
        return 1.5707962513e+00f - (x - (7.5497894159e-08f - x * m_asinr32(x * x)));
    }
    if ((hx >> 31u) != 0u) {
        let z = (1.0f + x) * 0.5f;
        let s = sqrt(z);
        let w = m_asinr32(z) * s - 7.5497894159e-08f;
        return 2.0f * (1.5707962513e+00f - (s + w));
    }
    let z = (1.0f - x) * 0.5f;
    let s = sqrt(z);
    let df = bitcast<f32>(bitcast<u32>(s) & 0xfffff000u);
    let c = (z - df * df) / (s + df);
    let w = m_asinr32(z) * s + c;
    return 2.0f * (df + w);
}
//@ m_atanp32
// atan(a) for a >= 0 finite or +inf (musl atanf).
fn m_atanp32(a: f32) -> f32 {
    let ix = bitcast<u32>(a);
    if (ix >= 0x4c800000u) { return bitcast<f32>(0x3fc90fdbu); }
    var x = a;
    var id = -1;
    var hi = 0.0f;
    var lo = 0.0f;
    if (ix < 0x3ee00000u) {
        if (ix < 0x39800000u) { return a; }
    } else if (ix < 0x3f980000u) {
        if (ix < 0x3f300000u) { id = 0; x = (2.0f * a - 1.0f) / (2.0f + a); hi = 4.6364760399e-01f; lo = 5.0121582440e-09f; }
        else { id = 1; x = (a - 1.0f) / (a + 1.0f); hi = 7.8539812565e-01f; lo = 3.7748947079e-08f; }
    } else if (ix < 0x401c0000u) {
        id = 2; x = (a - 1.5f) / (1.0f + 1.5f * a); hi = 9.8279368877e-01f; lo = 3.4473217170e-08f;
    } else {
        id = 3; x = -1.0f / a; hi = 1.5707962513e+00f; lo = 7.5497894159e-08f;
    }
    let z = x * x;
    let w = z * z;
    let s1 = z * (3.3333328366e-01f + w * (1.4253635705e-01f + w * 6.1687607318e-02f));
    let s2 = w * (-1.9999158382e-01f + w * -1.0648017377e-01f);
    if (id < 0) { return x - x * (s1 + s2); }
    return hi - ((x * (s1 + s2) - lo) - x);
}
//@ m_atan_f32 m_atanp32 m_setsign32
fn m_atan_f32(x: f32) -> f32 {
    let u = bitcast<u32>(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) { return x; }
    return m_setsign32(m_atanp32(abs(x)), u & 0x80000000u);
}
//@ m_atan2_f32 m_atanp32 m_qnan32
// musl atan2f (y, x).
fn m_atan2_f32(y: f32, x: f32) -> f32 {
    let ux = bitcast<u32>(x);
    let uy = bitcast<u32>(y);
    let ix = ux & 0x7fffffffu;
    let iy = uy & 0x7fffffffu;
    if (ix > 0x7f800000u || iy > 0x7f800000u) { return m_qnan32(x, y); }
    let pi = bitcast<f32>(0x40490fdbu);
    let pio2 = bitcast<f32>(0x3fc90fdbu);
    let ysgn = uy & 0x80000000u;
    let m = ((uy >> 31u) & 1u) | ((ux >> 30u) & 2u);
    if (iy == 0u) {
        if (m < 2u) { return y; }
        return bitcast<f32>(0x40490fdbu | ysgn);
    }
    if (ix == 0u) { return bitcast<f32>(0x3fc90fdbu | ysgn); }
    if (ix == 0x7f800000u) {
        if (iy == 0x7f800000u) {
            if (m < 2u) { return bitcast<f32>(0x3f490fdbu | ysgn); }
            return bitcast<f32>(0x4016cbe4u | ysgn);
        }
        if (m < 2u) { return bitcast<f32>(ysgn); }
        return bitcast<f32>(0x40490fdbu | ysgn);
    }
    if (ix + (26u << 23u) < iy || iy == 0x7f800000u) { return bitcast<f32>(0x3fc90fdbu | ysgn); }
    var z: f32;
    if ((m & 2u) != 0u && iy + (26u << 23u) < ix) { z = 0.0f; }
    else { z = m_atanp32(abs(y / x)); }
    let pi_lo = -8.7422776573e-08f;
    if (m == 0u) { return z; }
    if (m == 1u) { return -z; }
    if (m == 2u) { return pi - (z - pi_lo); }
    return (z - pi_lo) - pi;
}
//@ m_expo2_32 m_exp_f32 m_o32
// exp(x)/2 * s for x near the overflow threshold (musl __expo2f).
fn m_expo2_32(x: f32, s: f32) -> f32 {
    let scale = bitcast<f32>(0x7a000000u);
    return m_o32(m_exp_f32(x - 1.6288958740e+02f) * m_o32(s * scale)) * scale;
}
//@ m_sinh_f32 m_expm1_f32 m_expo2_32
fn m_sinh_f32(x: f32) -> f32 {
    let u = bitcast<u32>(x);
    let w = u & 0x7fffffffu;
    if (w > 0x7f800000u) { return x; }
    let h = select(0.5f, -0.5f, (u >> 31u) != 0u);
    let a = abs(x);
    if (w < 0x42b17217u) {
        let t = m_expm1_f32(a);
        if (w < 0x3f800000u) {
            if (w < 0x39800000u) { return x; }
            return h * (2.0f * t - t * t / (t + 1.0f));
        }
        return h * (t + t / (t + 1.0f));
    }
    return m_expo2_32(a, 2.0f * h);
}
//@ m_cosh_f32 m_expm1_f32 m_exp_f32 m_expo2_32
fn m_cosh_f32(x: f32) -> f32 {
    let w = bitcast<u32>(x) & 0x7fffffffu;
    if (w > 0x7f800000u) { return x; }
    let a = bitcast<f32>(w);
    if (w < 0x3f317217u) {
        if (w < 0x39800000u) { return 1.0f; }
        let t = m_expm1_f32(a);
        return 1.0f + t * t / (2.0f * (1.0f + t));
    }
    if (w < 0x42b17217u) {
        let t = m_exp_f32(a);
        return 0.5f * (t + 1.0f / t);
    }
    return m_expo2_32(a, 1.0f);
}
//@ m_tanh_f32 m_expm1_f32 m_setsign32
fn m_tanh_f32(x: f32) -> f32 {
    let u = bitcast<u32>(x);
    let w = u & 0x7fffffffu;
    if (w > 0x7f800000u) { return x; }
    let a = bitcast<f32>(w);
    var t: f32;
    if (w > 0x3f0c9f54u) {
        if (w > 0x41200000u) { t = 1.0f; }
        else { t = m_expm1_f32(2.0f * a); t = 1.0f - 2.0f / (t + 2.0f); }
    } else if (w > 0x3e82c578u) {
        t = m_expm1_f32(2.0f * a);
        t = t / (t + 2.0f);
    } else if (w >= 0x00800000u) {
        t = m_expm1_f32(-2.0f * a);
        t = -t / (t + 2.0f);
    } else {
        t = a;
    }
    return m_setsign32(t, u & 0x80000000u);
}
//@ m_asinh_f32 m_log_f32 m_log1p_f32 m_setsign32
fn m_asinh_f32(x: f32) -> f32 {
    let u = bitcast<u32>(x);
    let i = u & 0x7fffffffu;
    if (i >= 0x7f800000u) { return x; }
    let a = bitcast<f32>(i);
    var r: f32;
    if (i >= 0x3f800000u + (12u << 23u)) { r = m_log_f32(a) + 0.69314718056f; }
    else if (i >= 0x3f800000u + (1u << 23u)) { r = m_log_f32(2.0f * a + 1.0f / (sqrt(a * a + 1.0f) + a)); }
    else if (i >= 0x3f800000u - (12u << 23u)) { r = m_log1p_f32(a + a * a / (sqrt(a * a + 1.0f) + 1.0f)); }
    else { r = a; }
    return m_setsign32(r, u & 0x80000000u);
}
//@ m_acosh_f32 m_log_f32 m_log1p_f32 m_nan32
fn m_acosh_f32(x: f32) -> f32 {
    let u = bitcast<u32>(x);
    if (u > 0x7f800000u || x < 1.0f) { return bitcast<f32>(0x7fc00000u); }
    if (u == 0x7f800000u) { return x; }
    if (u < 0x3f800000u + (1u << 23u)) {
        let t = x - 1.0f;
        return m_log1p_f32(t + sqrt(t * t + 2.0f * t));
    }
    if (u < 0x3f800000u + (12u << 23u)) { return m_log_f32(2.0f * x - 1.0f / (x + sqrt(x * x - 1.0f))); }
    return m_log_f32(x) + 0.69314718056f;
}
//@ m_atanh_f32 m_log1p_f32 m_nan32 m_setsign32
fn m_atanh_f32(x: f32) -> f32 {
    let u = bitcast<u32>(x);
    let i = u & 0x7fffffffu;
    let s = u & 0x80000000u;
    if (i > 0x3f800000u) { return bitcast<f32>(0x7fc00000u | s); }
    if (i == 0x3f800000u) { return bitcast<f32>(0x7f800000u | s); }
    let y = bitcast<f32>(i);
    var r: f32;
    if (i < 0x3f000000u) {
        if (i < 0x2f800000u) { r = y; }
        else { r = 0.5f * m_log1p_f32(2.0f * y + 2.0f * y * y / (1.0f - y)); }
    } else {
        r = 0.5f * m_log1p_f32(2.0f * (y / (1.0f - y)));
    }
    return m_setsign32(r, s);
}
//@ m_cbrt_f32
// fdlibm cbrtf: a bit-level estimate, a rational step, a chop to 12 bits and a Newton step.
fn m_cbrt_f32(x: f32) -> f32 {
    let u = bitcast<u32>(x);
    let hx = u & 0x7fffffffu;
    let sign = u & 0x80000000u;
    if (hx >= 0x7f800000u || hx == 0u) { return x; }
    var t: f32;
    if (hx < 0x00800000u) {
        let tt = bitcast<f32>(hx) * 16777216.0f;
        t = bitcast<f32>((bitcast<u32>(tt) & 0x7fffffffu) / 3u + 642849266u);
    } else {
        t = bitcast<f32>(hx / 3u + 709958130u);
    }
    let a = bitcast<f32>(hx);
    let r = t * t / a;
    let s = 5.4285717010e-01f + r * t;
    t = t * (3.5714286566e-01f + 1.6071428061e+00f / (s + 1.4142856598e+00f + -7.0530611277e-01f / s));
    t = bitcast<f32>((bitcast<u32>(t) & 0xfffff000u) + 0x00001000u);
    let s2 = t * t;
    var r2 = a / s2;
    let w = t + t;
    r2 = (r2 - t) / (w + r2);
    t = t + t * r2;
    return bitcast<f32>(bitcast<u32>(t) | sign);
}
//@ m_hypot_f32 m_2prod32 m_2sum32 m_qnan32
fn m_hypot_f32(x0: f32, y0: f32) -> f32 {
    var ux = bitcast<u32>(x0) & 0x7fffffffu;
    var uy = bitcast<u32>(y0) & 0x7fffffffu;
    if (ux == 0x7f800000u || uy == 0x7f800000u) { return bitcast<f32>(0x7f800000u); }
    if (ux > 0x7f800000u || uy > 0x7f800000u) { return m_qnan32(x0, y0); }
    if (ux < uy) { let t = ux; ux = uy; uy = t; }
    var x = bitcast<f32>(ux);
    var y = bitcast<f32>(uy);
    if (uy == 0u || ux - uy >= (25u << 23u)) { return x + y; }
    var z = 1.0f;
    if (ux >= (127u + 60u) << 23u) {
        z = bitcast<f32>((127u + 90u) << 23u);
        x = x * bitcast<f32>((127u - 90u) << 23u);
        y = y * bitcast<f32>((127u - 90u) << 23u);
    } else if (uy < (127u - 60u) << 23u) {
        z = bitcast<f32>((127u - 90u) << 23u);
        x = x * bitcast<f32>((127u + 90u) << 23u);
        y = y * bitcast<f32>((127u + 90u) << 23u);
    }
    let xx = m_2prod32(x, x);
    let yy = m_2prod32(y, y);
    let s = m_2sum32(xx.x, yy.x);
    let sl = s.y + xx.y + yy.y;
    let r = sqrt(s.x);
    let rr = m_2prod32(r, r);
    let res = ((s.x - rr.x) - rr.y) + sl;
    return z * (r + res / (2.0f * r));
}
//@ m_fmod_f32 m_nan32 m_qnan32 m_scalbn32
// fmod, exact: integer remainder of the significands, 8 exponent steps at a time.
fn m_fmod_f32(x: f32, y: f32) -> f32 {
    let ux = bitcast<u32>(x);
    let uy = bitcast<u32>(y);
    let sx = ux & 0x80000000u;
    let ax = ux & 0x7fffffffu;
    let ay = uy & 0x7fffffffu;
    if (ax > 0x7f800000u || ay > 0x7f800000u) { return m_qnan32(x, y); }
    if (ay == 0u || ax == 0x7f800000u) { return m_nan32(); }
    if (ax < ay) { return x; }
    if (ax == ay) { return bitcast<f32>(sx); }
    var ex = i32(ax >> 23u);
    var ey = i32(ay >> 23u);
    var mx = ax & 0x7fffffu;
    var my = ay & 0x7fffffu;
    if (ex == 0) { ex = 1; } else { mx = mx | 0x800000u; }
    if (ey == 0) { ey = 1; } else { my = my | 0x800000u; }
    var r = mx % my;
    var d = ex - ey;
    while (d > 0 && r != 0u) {
        let s = min(d, 8);
        r = (r << u32(s)) % my;
        d = d - s;
    }
    if (r == 0u) { return bitcast<f32>(sx); }
    return bitcast<f32>(bitcast<u32>(m_scalbn32(f32(r), ey - 150)) | sx);
}
//@ m_divmod_f32 m_fmod_f32 m_nan32
// NumPy's npy_divmod (ir::scalar float_divmod): (floor division, remainder).
fn m_divmod_f32(a: f32, b: f32) -> vec2<f32> {
    let ua = bitcast<u32>(a);
    let ub = bitcast<u32>(b);
    let sq = (ua ^ ub) & 0x80000000u;
    var m = m_fmod_f32(a, b);
    if ((ua & 0x7fffffffu) > 0x7f800000u || (ub & 0x7fffffffu) > 0x7f800000u) { return vec2<f32>(m, m); }
    if ((ub & 0x7fffffffu) == 0u) {
        if ((ua & 0x7fffffffu) == 0u) { return vec2<f32>(m_nan32(), m); }
        return vec2<f32>(bitcast<f32>(0x7f800000u | sq), m);
    }
    if ((ua & 0x7fffffffu) == 0x7f800000u) { return vec2<f32>(m, m); }
    var div = (a - m) / b;
    if ((bitcast<u32>(m) & 0x7fffffffu) != 0u) {
        if ((ub >> 31u) != (bitcast<u32>(m) >> 31u)) {
            m = m + b;
            div = div - 1.0f;
        }
    } else {
        m = bitcast<f32>(ub & 0x80000000u);
    }
    var fd: f32;
    if ((bitcast<u32>(div) & 0x7fffffffu) != 0u) {
        let f = floor(div);
        fd = select(f, f + 1.0f, div - f > 0.5f);
    } else {
        fd = bitcast<f32>(sq);
    }
    return vec2<f32>(fd, m);
}
//@ m_floordiv_f32 m_divmod_f32
fn m_floordiv_f32(a: f32, b: f32) -> f32 { return m_divmod_f32(a, b).x; }
//@ m_mod_f32 m_divmod_f32
fn m_mod_f32(a: f32, b: f32) -> f32 { return m_divmod_f32(a, b).y; }
//@ m_nextafter_f32 m_qnan32
fn m_nextafter_f32(x: f32, y: f32) -> f32 {
    let ux = bitcast<u32>(x);
    let uy = bitcast<u32>(y);
    if ((ux & 0x7fffffffu) > 0x7f800000u || (uy & 0x7fffffffu) > 0x7f800000u) { return m_qnan32(x, y); }
    if (x == y) { return y; }
    if ((ux & 0x7fffffffu) == 0u) { return bitcast<f32>(1u | (uy & 0x80000000u)); }
    // Away from zero when y is farther out on the same side, else toward zero.
    let up = (x < y) == ((ux >> 31u) == 0u);
    return bitcast<f32>(select(ux - 1u, ux + 1u, up));
}
//@ M_POW_TAB_F32
//@ m_log2x_f32 M_POW_TAB_F32 m_2sum32 m_2prod32 m_o32
// log2(x) as hi + lo to about 2^-40 relative, x > 0 finite: a 32-entry table
// of 1/c and -log2(1/c), r = x/c - 1 exactly (Dekker) and a degree-8 series.
fn m_log2x_f32(x: f32) -> vec2<f32> {
    var ix = bitcast<u32>(x);
    var k = 0;
    if (ix < 0x00800000u) { ix = bitcast<u32>(x * 8388608.0f); k = -23; }
    let tmp = ix - 0x3f330000u;
    let i = (tmp >> 18u) & 31u;
    k = k + (bitcast<i32>(tmp) >> 23u);
    let z = bitcast<f32>(ix - (tmp & 0xff800000u));
    let invc = bitcast<f32>(M_POW_TAB_F32[3u * i]);
    let p = m_2prod32(z, invc);
    let rh = p.x - 1.0f;
    let rl = p.y;
    // ln(1 + r) = r - r^2/2 + r^3 (1/3 - r/4 + ...)
    let sq = m_2prod32(rh, rh);
    let bh = 0.5f * sq.x;
    let bl = 0.5f * (sq.y + 2.0f * rh * rl);
    let t = m_2sum32(rh, -bh);
    let r = rh + rl;
    let c = r * r * r * (0.33333333333f + r * (-0.25f + r * (0.2f + r * (-0.16666666667f + r * (0.14285714286f + r * -0.125f)))));
    let lo = t.y + rl - bl + c;
    let ln = m_2sum32(t.x, lo);
    // times 1/ln 2
    let l2 = m_2prod32(ln.x, 1.4426950216e+00f);
    let l2lo = l2.y + ln.x * 1.9259629911e-08f + ln.y * 1.4426950216e+00f;
    let a = m_2sum32(f32(k), bitcast<f32>(M_POW_TAB_F32[3u * i + 1u]));
    let b = m_2sum32(a.x, l2.x);
    let e = b.y + a.y + bitcast<f32>(M_POW_TAB_F32[3u * i + 2u]) + l2lo;
    let h = m_o32(b.x + e);
    return vec2<f32>(h, e - (h - b.x));
}
//@ m_pow_f32 m_qnan32 m_log2x_f32 m_2prod32 m_expk32 m_scalbn32 m_nan32 m_o32
// pow with C99/glibc special cases; x^0.5 is sqrt(x) (ir::scalar); |x|^y as 2^(y log2 |x|)
// in double-single arithmetic.
fn m_pow_f32(x: f32, y: f32) -> f32 {
    let ux = bitcast<u32>(x);
    let uy = bitcast<u32>(y);
    let ax = ux & 0x7fffffffu;
    let ay = uy & 0x7fffffffu;
    // NaN as glibc's powf: a quiet NaN to the 0th power (or 1 to a quiet NaN) is 1;
    // otherwise x + y, but NaN x to a finite power is x * x, negated for an odd
    // power when x is negative (so positive).
    let xnan = ax > 0x7f800000u;
    let ynan = ay > 0x7f800000u;
    if (ay == 0u) { return select(1.0f, m_qnan32(x, y), xnan && ax < 0x7fc00000u); }
    if (ux == 0x3f800000u) { return select(1.0f, m_qnan32(x, y), ynan && ay < 0x7fc00000u); }
    if (ynan || (xnan && ay == 0x7f800000u)) { return m_qnan32(x, y); }
    if (xnan) {
        let odd = ay < 0x4b800000u && trunc(y) == y && (i32(abs(y)) & 1) == 1;
        return bitcast<f32>(select(ux, ux & 0x7fffffffu, odd) | 0x00400000u);
    }
    if (uy == 0x3f000000u) {
        if (ax == 0u) { return x; }
        if ((ux >> 31u) != 0u) { return m_nan32(); }
        return sqrt(x);
    }
    if (uy == 0x3f800000u) { return x; }
    if (ay == 0x7f800000u) {
        if (ax == 0x3f800000u) { return 1.0f; }
        if ((ax < 0x3f800000u) == ((uy >> 31u) == 0u)) { return 0.0f; }
        return bitcast<f32>(0x7f800000u);
    }
    // 0: not an integer, 1: odd, 2: even
    var yint = 0u;
    if (ay >= 0x4b800000u) { yint = 2u; }
    else if (ay >= 0x3f800000u && trunc(y) == y) { yint = select(2u, 1u, (i32(abs(y)) & 1) == 1); }
    let neg = (ux >> 31u) != 0u;
    let s = select(0u, 0x80000000u, neg && yint == 1u);
    if (ax == 0u || ax == 0x7f800000u) {
        if (((uy >> 31u) != 0u) == (ax == 0u)) { return bitcast<f32>(0x7f800000u | s); }
        return bitcast<f32>(s);
    }
    if (neg && yint == 0u) { return m_nan32(); }
    let a = bitcast<f32>(ax);
    if (uy == 0x40000000u) { return bitcast<f32>(bitcast<u32>(a * a) | s); }
    let l = m_log2x_f32(a);
    let p = m_2prod32(y, l.x);
    if (p.x > 129.0f) { return bitcast<f32>(0x7f800000u | s); }
    if (p.x < -152.0f) { return bitcast<f32>(s); }
    let e = p.y + y * l.y;
    let zh = m_o32(p.x + e);
    let zl = e - (zh - p.x);
    let k = round(zh);
    let fh = zh - k;
    let g = m_2prod32(fh, 6.9314718246e-01f);
    let gl = g.y + fh * -1.9046542999e-09f + zl * 6.9314718246e-01f;
    let r = m_scalbn32(m_expk32(g.x, -gl), i32(k));
    return bitcast<f32>(bitcast<u32>(r) | s);
}
"#;

const F64: &str = r#"
//@ m_o64
// Opaque identity (see m_o32).
fn m_o64(x: f64) -> f64 {
    let u = bitcast<u64>(x);
    return bitcast<f64>((u64(reverseBits(reverseBits(u32(u >> 32u)))) << 32u) | (u & 0x00000000fffffffflu));
}
//@ m_hi64
fn m_hi64(x: f64) -> u32 { return u32(bitcast<u64>(x) >> 32u); }
//@ m_nan64
// The NaN an invalid operation makes on x86: sign set.
fn m_nan64() -> f64 { return bitcast<f64>(0xfff8000000000000lu); }
//@ m_qnan64
// x + y for x or y NaN: the first NaN operand, quieted.
fn m_qnan64(x: f64, y: f64) -> f64 {
    let ux = bitcast<u64>(x);
    return bitcast<f64>(select(bitcast<u64>(y), ux, (ux & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu) | 0x0008000000000000lu);
}
//@ m_inf64
fn m_inf64(s: u32) -> f64 { return bitcast<f64>(0x7ff0000000000000lu | (u64(s) << 32u)); }
//@ m_isnan64
fn m_isnan64(x: f64) -> bool { return (bitcast<u64>(x) & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu; }
//@ m_trunc_f64
// trunc and round from floor and ceil, which are exact everywhere: lavapipe's
// f64 trunc (Mesa 22.3, seen on an AMD Zen 3 host) loses the sign of zero and
// returns x unchanged above 2^31 (so `trunc(y) == y` is no integer test),
// and its round truncates. Every f64 shader uses these instead.
fn m_trunc_f64(x: f64) -> f64 { return select(floor(x), ceil(x), x < 0.0lf); }
//@ m_rint_f64
// Round half to even (see m_trunc_f64); a zero result keeps the sign of x.
fn m_rint_f64(x: f64) -> f64 {
    let f = floor(x);
    let d = x - f;
    var r = f;
    if (d > 0.5lf) {
        r = f + 1.0lf;
    } else if (d == 0.5lf) {
        let h = f * 0.5lf;
        if (floor(h) != h) { r = f + 1.0lf; }
    }
    if (r == 0.0lf) { r = bitcast<f64>(bitcast<u64>(x) & 0x8000000000000000lu); }
    return r;
}
//@ m_setsign64
// |x| with the sign bit s (0 or 0x80000000, the high word's).
fn m_setsign64(x: f64, s: u32) -> f64 { return bitcast<f64>((bitcast<u64>(x) & 0x7ffffffffffffffflu) | (u64(s) << 32u)); }
//@ m_pow2_64
fn m_pow2_64(k: i32) -> f64 { return bitcast<f64>(u64(u32(1023 + k)) << 52u); }
//@ m_scalbn64 m_o64 m_pow2_64
fn m_scalbn64(x: f64, n: i32) -> f64 {
    var y = x;
    var k = n;
    if (k > 1023) {
        y = m_o64(y * bitcast<f64>(0x7fe0000000000000lu));
        k = k - 1023;
        if (k > 1023) { y = m_o64(y * bitcast<f64>(0x7fe0000000000000lu)); k = min(k - 1023, 1023); }
    } else if (k < -1022) {
        y = m_o64(y * bitcast<f64>(0x0360000000000000lu));
        k = k + 969;
        if (k < -1022) { y = m_o64(y * bitcast<f64>(0x0360000000000000lu)); k = max(k + 969, -1022); }
    }
    return y * m_pow2_64(k);
}
//@ m_2sum64 m_o64
fn m_2sum64(a: f64, b: f64) -> vec2<f64> {
    let s = m_o64(a + b);
    let bb = m_o64(s - a);
    return vec2<f64>(s, (a - m_o64(s - bb)) + (b - bb));
}
//@ m_2prod64
fn m_2prod64(a: f64, b: f64) -> vec2<f64> {
    let p = a * b;
    let ah = bitcast<f64>(bitcast<u64>(a) & 0xfffffffff8000000lu);
    let al = a - ah;
    let bh = bitcast<f64>(bitcast<u64>(b) & 0xfffffffff8000000lu);
    let bl = b - bh;
    return vec2<f64>(p, ((ah * bh - p) + ah * bl + al * bh) + al * bl);
}
//@ m_expk64
// e^(hi - lo), |hi - lo| <= 0.35 (fdlibm exp kernel).
fn m_expk64(hi: f64, lo: f64) -> f64 {
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (1.66666666666666019037e-01lf + t * (-2.77777777770155933842e-03lf + t * (6.61375632143793436117e-05lf + t * (-1.65339022054652515390e-06lf + t * 4.13813679705723846039e-08lf))));
    return 1.0lf - ((lo - (r * c) / (2.0lf - c)) - hi);
}
//@ m_exp_f64 m_expk64 m_scalbn64 m_rint_f64
fn m_exp_f64(x: f64) -> f64 {
    let ax = bitcast<u64>(x) & 0x7ffffffffffffffflu;
    if (ax > 0x7ff0000000000000lu) { return x; }
    if (x > 7.09782712893383973096e+02lf) { return bitcast<f64>(0x7ff0000000000000lu); }
    if (x < -7.45133219101941108420e+02lf) { return 0.0lf; }
    if (ax < 0x3e30000000000000lu) { return 1.0lf + x; }
    let k = m_rint_f64(x * 1.44269504088896338700e+00lf);
    let hi = x - k * 6.93147180369123816490e-01lf;
    let lo = k * 1.90821492927058770002e-10lf;
    return m_scalbn64(m_expk64(hi, lo), i32(k));
}
//@ m_exp2_f64 m_expk64 m_scalbn64 m_2prod64 m_rint_f64
fn m_exp2_f64(x: f64) -> f64 {
    let ax = bitcast<u64>(x) & 0x7ffffffffffffffflu;
    if (ax > 0x7ff0000000000000lu) { return x; }
    if (x >= 1024.0lf) { return bitcast<f64>(0x7ff0000000000000lu); }
    if (x <= -1075.0lf) { return 0.0lf; }
    if (ax < 0x3c90000000000000lu) { return 1.0lf + x; }
    let k = m_rint_f64(x);
    let f = x - k;
    let p = m_2prod64(f, 6.93147180559945286227e-01lf);
    let lo = p.y + f * 2.31904681384629955842e-17lf;
    return m_scalbn64(m_expk64(p.x, -lo), i32(k));
}
//@ m_expm1_f64 m_o64 m_hi64 m_pow2_64 m_trunc_f64
// fdlibm expm1.
fn m_expm1_f64(x0: f64) -> f64 {
    var x = x0;
    let u = m_hi64(x);
    let hx = u & 0x7fffffffu;
    let sign = (u >> 31u) != 0u;
    if (hx >= 0x4043687au) {
        if ((bitcast<u64>(x) & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu) { return x; }
        if (sign) { return -1.0lf; }
        if (x > 7.09782712893383973096e+02lf) { return bitcast<f64>(0x7ff0000000000000lu); }
    }
    var k = 0;
    var c = 0.0lf;
    if (hx > 0x3fd62e42u) {
        var hi: f64;
        var lo: f64;
        if (hx < 0x3ff0a2b2u) {
            if (!sign) { hi = x - 6.93147180369123816490e-01lf; lo = 1.90821492927058770002e-10lf; k = 1; }
            else { hi = x + 6.93147180369123816490e-01lf; lo = -1.90821492927058770002e-10lf; k = -1; }
        } else {
            let t = m_trunc_f64(1.44269504088896338700e+00lf * x + select(0.5lf, -0.5lf, sign));
            k = i32(t);
            hi = x - t * 6.93147180369123816490e-01lf;
            lo = t * 1.90821492927058770002e-10lf;
        }
        x = m_o64(hi - lo);
        c = (hi - x) - lo;
    } else if (hx < 0x3c900000u) {
        return x;
    }
    let hfx = 0.5lf * x;
    let hxs = x * hfx;
    let r1 = 1.0lf + hxs * (-3.33333333333331316428e-02lf + hxs * (1.58730158725481460165e-03lf + hxs * (-7.93650757867487942473e-05lf + hxs * (4.00821782732936239552e-06lf + hxs * -2.01099218183624371326e-07lf))));
    let t = 3.0lf - r1 * hfx;
    var e = hxs * ((r1 - t) / (6.0lf - x * t));
    if (k == 0) { return x - (x * e - hxs); }
    e = x * (e - c) - c;
    e = e - hxs;
    if (k == -1) { return 0.5lf * (x - e) - 0.5lf; }
    if (k == 1) {
        if (x < -0.25lf) { return -2.0lf * (e - (x + 0.5lf)); }
        return 1.0lf + 2.0lf * (x - e);
    }
    if (k <= -2 || k > 56) {
        var y = 1.0lf - (e - x);
        if (k == 1024) { y = m_o64(y * 2.0lf) * bitcast<f64>(0x7fe0000000000000lu); }
        else { y = y * m_pow2_64(k); }
        return y - 1.0lf;
    }
    if (k < 20) {
        let t2 = 1.0lf - m_pow2_64(-k);
        return (t2 - (e - x)) * m_pow2_64(k);
    }
    let t2 = m_pow2_64(-k);
    return ((x - (e + t2)) + 1.0lf) * m_pow2_64(k);
}
//@ m_logk64
// (s (hfsq + R), hfsq) of log(1 + f) (fdlibm).
fn m_logk64(f: f64) -> vec2<f64> {
    let s = f / (2.0lf + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (3.999999999940941908e-01lf + w * (2.222219843214978396e-01lf + w * 1.531383769920937332e-01lf));
    let t2 = z * (6.666666666666735130e-01lf + w * (2.857142874366239149e-01lf + w * (1.818357216161805012e-01lf + w * 1.479819860511658591e-01lf)));
    let hfsq = 0.5lf * f * f;
    return vec2<f64>(s * (hfsq + t2 + t1), hfsq);
}
//@ m_logsplit64
// x > 0 finite: (k, f), x = 2^k (1 + f), sqrt(2)/2 <= 1 + f < sqrt(2).
fn m_logsplit64(x: f64) -> vec2<f64> {
    var u = bitcast<u64>(x);
    var k = 0;
    if (u < 0x0010000000000000lu) { k = -54; u = bitcast<u64>(x * 18014398509481984.0lf); }
    var hx = u32(u >> 32u);
    hx = hx + (0x3ff00000u - 0x3fe6a09eu);
    k = k + i32(hx >> 20u) - 1023;
    hx = (hx & 0x000fffffu) + 0x3fe6a09eu;
    let m = bitcast<f64>((u64(hx) << 32u) | (u & 0x00000000fffffffflu));
    return vec2<f64>(f64(k), m - 1.0lf);
}
//@ m_logspecial64
// As m_logspecial32.
fn m_logspecial64(x: f64, neg_nan: u64) -> u64 {
    let u = bitcast<u64>(x);
    if ((u & 0x7ffffffffffffffflu) == 0lu) { return 0xfff0000000000000lu; }
    if ((u & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu) { return u | 0x0008000000000000lu; }
    if (u > 0x7ff0000000000000lu) { return neg_nan; }
    if (u == 0x7ff0000000000000lu) { return u; }
    return 0lu;
}
//@ m_log_f64 m_logk64 m_logsplit64 m_logspecial64
fn m_log_f64(x: f64) -> f64 {
    let sp = m_logspecial64(x, 0xfff8000000000000lu);
    if (sp != 0lu) { return bitcast<f64>(sp); }
    if (bitcast<u64>(x) == 0x3ff0000000000000lu) { return 0.0lf; }
    let kf = m_logsplit64(x);
    let dk = kf.x;
    let f = kf.y;
    let q = m_logk64(f);
    return q.x + dk * 1.90821492927058770002e-10lf - q.y + f + dk * 6.93147180369123816490e-01lf;
}
//@ m_loghl64 m_logk64
// (hi, lo) with log(1 + f) = hi + lo, hi with 32 bits (musl log2/log10).
fn m_loghl64(f: f64) -> vec2<f64> {
    let q = m_logk64(f);
    let hi = bitcast<f64>(bitcast<u64>(f - q.y) & 0xffffffff00000000lu);
    return vec2<f64>(hi, f - hi - q.y + q.x);
}
//@ m_log2_f64 m_loghl64 m_logsplit64 m_logspecial64 m_o64
fn m_log2_f64(x: f64) -> f64 {
    let sp = m_logspecial64(x, 0xfff8000000000000lu);
    if (sp != 0lu) { return bitcast<f64>(sp); }
    let kf = m_logsplit64(x);
    let hl = m_loghl64(kf.y);
    var val_hi = hl.x * 1.44269504072144627571e+00lf;
    var val_lo = (hl.y + hl.x) * 1.67517131648865118353e-10lf + hl.y * 1.44269504072144627571e+00lf;
    let w = m_o64(kf.x + val_hi);
    val_lo = val_lo + ((kf.x - w) + val_hi);
    return val_lo + w;
}
//@ m_log10_f64 m_loghl64 m_logsplit64 m_logspecial64 m_o64
fn m_log10_f64(x: f64) -> f64 {
    let sp = m_logspecial64(x, 0x7ff8000000000000lu);
    if (sp != 0lu) { return bitcast<f64>(sp); }
    let kf = m_logsplit64(x);
    let hl = m_loghl64(kf.y);
    let dk = kf.x;
    let val_hi = hl.x * 4.34294481878168880939e-01lf;
    let y = dk * 3.01029995663611771306e-01lf;
    var val_lo = dk * 3.69423907715893078616e-13lf + (hl.y + hl.x) * 2.50829467116452752298e-11lf + hl.y * 4.34294481878168880939e-01lf;
    let w = m_o64(y + val_hi);
    val_lo = val_lo + ((y - w) + val_hi);
    return val_lo + w;
}
//@ m_log1p_f64 m_logk64 m_o64 m_hi64
// musl log1p.
fn m_log1p_f64(x: f64) -> f64 {
    let hx = m_hi64(x);
    if ((bitcast<u64>(x) & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu) { return x; }
    var k = 1;
    var c = 0.0lf;
    var f = 0.0lf;
    if (hx < 0x3fda827au || (hx >> 31u) != 0u) {
        if (hx >= 0xbff00000u) {
            if (bitcast<u64>(x) == 0xbff0000000000000lu) { return bitcast<f64>(0xfff0000000000000lu); }
            return bitcast<f64>(0xfff8000000000000lu);
        }
        if ((hx << 1u) < (0x3ca00000u << 1u)) { return x; }
        if (hx <= 0xbfd2bec4u) { k = 0; f = x; }
    } else if (hx >= 0x7ff00000u) {
        return x;
    }
    if (k != 0) {
        let u = m_o64(1.0lf + x);
        let ub = bitcast<u64>(u);
        var hu = u32(ub >> 32u);
        hu = hu + (0x3ff00000u - 0x3fe6a09eu);
        k = i32(hu >> 20u) - 1023;
        if (k < 54) {
            c = select(x - (u - 1.0lf), 1.0lf - (u - x), k >= 2);
            c = c / u;
        }
        hu = (hu & 0x000fffffu) + 0x3fe6a09eu;
        f = bitcast<f64>((u64(hu) << 32u) | (ub & 0x00000000fffffffflu)) - 1.0lf;
    }
    let q = m_logk64(f);
    let dk = f64(k);
    return q.x + (dk * 1.90821492927058770002e-10lf + c) - q.y + f + dk * 6.93147180369123816490e-01lf;
}
//@ m_rem_pio2_f64 m_o64 m_hi64 m_rem_pio2_large64 m_rint_f64
// x = n pi/2 + (hi + lo): (n mod 4, hi, lo). fdlibm's Cody-Waite in three
// steps for |x| < 2^20 pi/2, Payne-Hanek beyond.
fn m_rem_pio2_f64(x: f64) -> vec3<f64> {
    let ix = m_hi64(x) & 0x7fffffffu;
    if (ix <= 0x3fe921fbu) { return vec3<f64>(0.0lf, x, 0.0lf); }
    if (ix >= 0x413921fbu) { return m_rem_pio2_large64(x); }
    let n = m_rint_f64(x * 6.36619772367581382433e-01lf);
    var r = x - n * 1.57079632673412561417e+00lf;
    var w = n * 6.07710050650619224932e-11lf;
    var t = r;
    w = n * 6.07710050630396597660e-11lf;
    r = m_o64(t - w);
    w = n * 2.02226624879595063154e-21lf - ((t - r) - w);
    t = r;
    w = n * 2.02226624871116645580e-21lf;
    r = m_o64(t - w);
    w = n * 8.47842766036889956997e-32lf - ((t - r) - w);
    let y0 = m_o64(r - w);
    let y1 = (r - y0) - w;
    return vec3<f64>(f64(i32(n) & 3), y0, y1);
}
//@ M_2OPI_BITS
// Bits of 2/pi after the binary point, 32 a word, after 64 zero bits.
var<private> M_2OPI_BITS: array<u32, 42> = array<u32, 42>(0x00000000u, 0x00000000u, 0xa2f9836eu, 0x4e441529u, 0xfc2757d1u, 0xf534ddc0u, 0xdb629599u, 0x3c439041u, 0xfe5163abu, 0xdebbc561u, 0xb7246e3au, 0x424dd2e0u, 0x06492eeau, 0x09d1921cu, 0xfe1deb1cu, 0xb129a73eu, 0xe88235f5u, 0x2ebb4484u, 0xe99c7026u, 0xb45f7e41u, 0x3991d639u, 0x835339f4u, 0x9c845f8bu, 0xbdf9283bu, 0x1ff897ffu, 0xde05980fu, 0xef2f118bu, 0x5a0a6d1fu, 0x6d367ecfu, 0x27cb09b7u, 0x4f463f66u, 0x9e5fea2du, 0x7527bac7u, 0xebe5f17bu, 0x3d0739f7u, 0x8a5292eau, 0x6bfb5fb1u, 0x1f8d5d08u, 0x56033046u, 0xfc7b6babu, 0xf0cfbc20u, 0x9af4361du);
//@ m_rem_pio2_large64 M_2OPI_BITS m_2sum64 m_2prod64 m_o64 m_pow2_64
// Payne-Hanek: with x = M 2^E (M the 53-bit significand), x 2/pi mod 4 is
// (M W mod 2^192) 2^-190 for W the 192 bits of 2/pi from bit E - 1 on: exact
// integer products (u64), then the fraction times pi/2 in double-double.
fn m_rem_pio2_large64(x: f64) -> vec3<f64> {
    let ux = bitcast<u64>(x) & 0x7ffffffffffffffflu;
    let ex = u32(ux >> 52u);
    let mant = (ux & 0x000ffffffffffffflu) | 0x0010000000000000lu;
    let m0 = mant & 0x00000000fffffffflu;
    let m1 = mant >> 32u;
    let g0 = ex - 1013u;
    let q = g0 >> 5u;
    let sh = g0 & 31u;
    var w: array<u64, 6>;
    for (var k = 0u; k < 6u; k++) {
        let a = M_2OPI_BITS[q + k];
        let b = M_2OPI_BITS[q + k + 1u];
        var v = a;
        if (sh != 0u) { v = (a << sh) | (b >> (32u - sh)); }
        w[5u - k] = u64(v);
    }
    var acc: array<u64, 7>;
    for (var j = 0u; j < 6u; j++) {
        let p0 = m0 * w[j];
        acc[j] += p0 & 0x00000000fffffffflu;
        acc[j + 1u] += p0 >> 32u;
        if (j < 5u) {
            let p1 = m1 * w[j];
            acc[j + 1u] += p1 & 0x00000000fffffffflu;
            acc[j + 2u] += p1 >> 32u;
        }
    }
    var p: array<u32, 6>;
    var carry = 0lu;
    for (var k = 0u; k < 6u; k++) {
        let t = acc[k] + carry;
        p[k] = u32(t & 0x00000000fffffffflu);
        carry = t >> 32u;
    }
    let n = (p[5] + 0x20000000u) >> 30u;
    p[5] = p[5] - (n << 30u);
    let neg = (p[5] >> 31u) != 0u;
    if (neg) {
        var c = 1u;
        for (var k = 0u; k < 6u; k++) {
            let t = ~p[k] + c;
            c = select(0u, 1u, t == 0u && c == 1u);
            p[k] = t;
        }
    }
    var s = vec2<f64>(0.0lf, 0.0lf);
    for (var k = 5; k >= 0; k--) {
        let t = m_2sum64(s.x, f64(p[k]) * m_pow2_64(32 * k - 190));
        s = vec2<f64>(t.x, s.y + t.y);
    }
    let pr = m_2prod64(s.x, 1.57079632679489655800e+00lf);
    let e = pr.y + s.x * 6.12323399573676603587e-17lf + s.y * 1.57079632679489655800e+00lf;
    var hi = m_o64(pr.x + e);
    var lo = e - (hi - pr.x);
    var qn = n;
    if (neg) { hi = -hi; lo = -lo; }
    if ((bitcast<u64>(x) >> 63u) != 0lu) { hi = -hi; lo = -lo; qn = 0u - qn; }
    return vec3<f64>(f64(qn & 3u), hi, lo);
}
//@ m_sink64
fn m_sink64(x: f64, y: f64) -> f64 {
    let z = x * x;
    let v = z * x;
    let r = 8.33333333332248946124e-03lf + z * (-1.98412698298579493134e-04lf + z * (2.75573137070700676789e-06lf + z * (-2.50507602534068634195e-08lf + z * 1.58969099521155010221e-10lf)));
    return x - ((z * (0.5lf * y - v * r) - y) - v * -1.66666666666666324348e-01lf);
}
//@ m_cosk64 m_o64
fn m_cosk64(x: f64, y: f64) -> f64 {
    let z = x * x;
    let r = z * (4.16666666666666019037e-02lf + z * (-1.38888888888741095749e-03lf + z * (2.48015872894767294178e-05lf + z * (-2.75573143513906633035e-07lf + z * (2.08757232129817482790e-09lf + z * -1.13596475577881948265e-11lf)))));
    let hz = 0.5lf * z;
    let w = m_o64(1.0lf - hz);
    return w + (((1.0lf - w) - hz) + (z * r - x * y));
}
//@ m_sin_f64 m_rem_pio2_f64 m_sink64 m_cosk64 m_nan64 m_hi64 m_isnan64
fn m_sin_f64(x: f64) -> f64 {
    let ix = m_hi64(x) & 0x7fffffffu;
    if (m_isnan64(x)) { return x; }
    if (ix >= 0x7ff00000u) { return m_nan64(); }
    if (ix < 0x3e500000u) { return x; }
    let r = m_rem_pio2_f64(x);
    let q = u32(r.x);
    var v: f64;
    if ((q & 1u) == 0u) { v = m_sink64(r.y, r.z); } else { v = m_cosk64(r.y, r.z); }
    return select(v, -v, (q & 2u) != 0u);
}
//@ m_cos_f64 m_rem_pio2_f64 m_sink64 m_cosk64 m_nan64 m_hi64 m_isnan64
fn m_cos_f64(x: f64) -> f64 {
    let ix = m_hi64(x) & 0x7fffffffu;
    if (m_isnan64(x)) { return x; }
    if (ix >= 0x7ff00000u) { return m_nan64(); }
    if (ix < 0x3e46a09eu) { return 1.0lf; }
    let r = m_rem_pio2_f64(x);
    let q = u32(r.x);
    var v: f64;
    if ((q & 1u) == 0u) { v = m_cosk64(r.y, r.z); } else { v = -m_sink64(r.y, r.z); }
    return select(v, -v, (q & 2u) != 0u);
}
//@ m_tan_f64 m_rem_pio2_f64 m_sink64 m_cosk64 m_nan64 m_hi64 m_isnan64
fn m_tan_f64(x: f64) -> f64 {
    let ix = m_hi64(x) & 0x7fffffffu;
    if (m_isnan64(x)) { return x; }
    if (ix >= 0x7ff00000u) { return m_nan64(); }
    if (ix < 0x3e400000u) { return x; }
    let r = m_rem_pio2_f64(x);
    let s = m_sink64(r.y, r.z);
    let c = m_cosk64(r.y, r.z);
    if ((u32(r.x) & 1u) == 0u) { return s / c; }
    return -c / s;
}
//@ m_asinr64
fn m_asinr64(z: f64) -> f64 {
    let p = z * (1.66666666666666657415e-01lf + z * (-3.25565818622400915405e-01lf + z * (2.01212532134862925881e-01lf + z * (-4.00555345006794114027e-02lf + z * (7.91534994289814532176e-04lf + z * 3.47933107596021167570e-05lf)))));
    let q = 1.0lf + z * (-2.40339491173441421878e+00lf + z * (2.02094576023350569471e+00lf + z * (-6.88283971605453293030e-01lf + z * 7.70381505559019352791e-02lf)));
    return p / q;
}
//@ m_asin_f64 m_asinr64 m_nan64 m_setsign64 m_hi64
fn m_asin_f64(x: f64) -> f64 {
    let hx = m_hi64(x);
    let ix = hx & 0x7fffffffu;
    let sg = hx & 0x80000000u;
    if (ix >= 0x3ff00000u) {
        if ((bitcast<u64>(x) & 0x7ffffffffffffffflu) == 0x3ff0000000000000lu) { return m_setsign64(1.57079632679489655800e+00lf, sg); }
        if ((bitcast<u64>(x) & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu) { return x; }
        return bitcast<f64>(0x7ff8000000000000lu);
    }
    if (ix < 0x3fe00000u) {
        if (ix < 0x3e500000u) { return x; }
        return x + x * m_asinr64(x * x);
    }
    let t0 = (1.0lf - abs(x)) * 0.5lf;
    let s = sqrt(t0);
    var t: f64;
    if (ix >= 0x3fef3333u) {
        t = 1.57079632679489655800e+00lf - (2.0lf * (s + s * m_asinr64(t0)) - 6.12323399573676603587e-17lf);
    } else {
        let w = bitcast<f64>(bitcast<u64>(s) & 0xffffffff00000000lu);
        let c = (t0 - w * w) / (s + w);
        let p = 2.0lf * s * m_asinr64(t0) - (6.12323399573676603587e-17lf - 2.0lf * c);
        let q = 7.85398163397448278999e-01lf - 2.0lf * w;
        t = 7.85398163397448278999e-01lf - (p - q);
    }
    return m_setsign64(t, sg);
}
//@ m_acos_f64 m_asinr64 m_nan64 m_hi64
fn m_acos_f64(x: f64) -> f64 {
    let hx = m_hi64(x);
    let ix = hx & 0x7fffffffu;
    if (ix >= 0x3ff00000u) {
        if ((bitcast<u64>(x) & 0x7ffffffffffffffflu) == 0x3ff0000000000000lu) {
            if ((hx >> 31u) != 0u) { return 3.14159265358979311600e+00lf; }
            return 0.0lf;
        }
        if ((bitcast<u64>(x) & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu) { return x; }
        return bitcast<f64>(0x7ff8000000000000lu);
    }
    if (ix < 0x3fe00000u) {
        if (ix <= 0x3c600000u) { return 1.57079632679489655800e+00lf; }
        return 1.57079632679489655800e+00lf - (x - (6.12323399573676603587e-17lf - x * m_asinr64(x * x)));
    }
    if ((hx >> 31u) != 0u) {
        let z = (1.0lf + x) * 0.5lf;
        let s = sqrt(z);
        let w = m_asinr64(z) * s - 6.12323399573676603587e-17lf;
        return 3.14159265358979311600e+00lf - 2.0lf * (s + w);
    }
    let z = (1.0lf - x) * 0.5lf;
    let s = sqrt(z);
    let df = bitcast<f64>(bitcast<u64>(s) & 0xffffffff00000000lu);
    let c = (z - df * df) / (s + df);
    let w = m_asinr64(z) * s + c;
    return 2.0lf * (df + w);
}
//@ m_atanp64 m_hi64
// atan(a), a >= 0 or +inf (fdlibm).
fn m_atanp64(a: f64) -> f64 {
    let ix = m_hi64(a);
    if (ix >= 0x44100000u) { return 1.57079632679489655800e+00lf; }
    var x = a;
    var id = -1;
    var hi = 0.0lf;
    var lo = 0.0lf;
    if (ix < 0x3fdc0000u) {
        if (ix < 0x3e400000u) { return a; }
    } else if (ix < 0x3ff30000u) {
        if (ix < 0x3fe60000u) { id = 0; x = (2.0lf * a - 1.0lf) / (2.0lf + a); hi = 4.63647609000806093515e-01lf; lo = 2.26987774529616870924e-17lf; }
        else { id = 1; x = (a - 1.0lf) / (a + 1.0lf); hi = 7.85398163397448278999e-01lf; lo = 3.06161699786838301793e-17lf; }
    } else if (ix < 0x40038000u) {
        id = 2; x = (a - 1.5lf) / (1.0lf + 1.5lf * a); hi = 9.82793723247329054082e-01lf; lo = 1.39033110312309984516e-17lf;
    } else {
        id = 3; x = -1.0lf / a; hi = 1.57079632679489655800e+00lf; lo = 6.12323399573676603587e-17lf;
    }
    let z = x * x;
    let w = z * z;
    let s1 = z * (3.33333333333329318027e-01lf + w * (1.42857142725034663711e-01lf + w * (9.09088713343650656196e-02lf + w * (6.66107313738753120669e-02lf + w * (4.97687799461593236017e-02lf + w * 1.62858201153657823623e-02lf)))));
    let s2 = w * (-1.99999999998764832476e-01lf + w * (-1.11111104054623557880e-01lf + w * (-7.69187620504482999495e-02lf + w * (-5.83357013379057348645e-02lf + w * -3.65315727442169155270e-02lf))));
    if (id < 0) { return x - x * (s1 + s2); }
    return hi - ((x * (s1 + s2) - lo) - x);
}
//@ m_atan_f64 m_atanp64 m_setsign64 m_isnan64 m_hi64
fn m_atan_f64(x: f64) -> f64 {
    if (m_isnan64(x)) { return x; }
    return m_setsign64(m_atanp64(abs(x)), m_hi64(x) & 0x80000000u);
}
//@ m_atan2_f64 m_atanp64 m_qnan64 m_isnan64 m_hi64
// fdlibm atan2 (y, x).
fn m_atan2_f64(y: f64, x: f64) -> f64 {
    if (m_isnan64(x) || m_isnan64(y)) { return m_qnan64(x, y); }
    let hx = m_hi64(x);
    let hy = m_hi64(y);
    let ax = bitcast<u64>(x) & 0x7ffffffffffffffflu;
    let ay = bitcast<u64>(y) & 0x7ffffffffffffffflu;
    let ys = u64(hy & 0x80000000u) << 32u;
    let m = ((hy >> 31u) & 1u) | ((hx >> 30u) & 2u);
    if (ay == 0lu) {
        if (m < 2u) { return y; }
        return bitcast<f64>(0x400921fb54442d18lu | ys);
    }
    if (ax == 0lu) { return bitcast<f64>(0x3ff921fb54442d18lu | ys); }
    if (ax == 0x7ff0000000000000lu) {
        if (ay == 0x7ff0000000000000lu) {
            if (m < 2u) { return bitcast<f64>(0x3fe921fb54442d18lu | ys); }
            return bitcast<f64>(0x4002d97c7f3321d2lu | ys);
        }
        if (m < 2u) { return bitcast<f64>(ys); }
        return bitcast<f64>(0x400921fb54442d18lu | ys);
    }
    let ex = i32(ax >> 52u);
    let ey = i32(ay >> 52u);
    if (ey - ex > 60 || ay == 0x7ff0000000000000lu) { return bitcast<f64>(0x3ff921fb54442d18lu | ys); }
    var z: f64;
    if ((m & 2u) != 0u && ey - ex < -60) { z = 0.0lf; }
    else { z = m_atanp64(abs(y / x)); }
    let pi_lo = 1.2246467991473531772e-16lf;
    let pi = 3.1415926535897931160e+00lf;
    if (m == 0u) { return z; }
    if (m == 1u) { return -z; }
    if (m == 2u) { return pi - (z - pi_lo); }
    return (z - pi_lo) - pi;
}
//@ m_expo2_64 m_exp_f64 m_o64
fn m_expo2_64(x: f64, s: f64) -> f64 {
    let scale = bitcast<f64>(0x7fc0000000000000lu);
    return m_o64(m_exp_f64(x - 1.41609968988396832e+03lf) * m_o64(s * scale)) * scale;
}
//@ m_sinh_f64 m_expm1_f64 m_expo2_64 m_hi64 m_isnan64
fn m_sinh_f64(x: f64) -> f64 {
    if (m_isnan64(x)) { return x; }
    let u = m_hi64(x);
    let w = u & 0x7fffffffu;
    let h = select(0.5lf, -0.5lf, (u >> 31u) != 0u);
    let a = abs(x);
    if (w < 0x40862e42u) {
        let t = m_expm1_f64(a);
        if (w < 0x3ff00000u) {
            if (w < 0x3e500000u) { return x; }
            return h * (2.0lf * t - t * t / (t + 1.0lf));
        }
        return h * (t + t / (t + 1.0lf));
    }
    return m_expo2_64(a, 2.0lf * h);
}
//@ m_cosh_f64 m_expm1_f64 m_exp_f64 m_expo2_64 m_hi64 m_isnan64
fn m_cosh_f64(x: f64) -> f64 {
    if (m_isnan64(x)) { return x; }
    let w = m_hi64(x) & 0x7fffffffu;
    let a = abs(x);
    if (w < 0x3fe62e42u) {
        if (w < 0x3e500000u) { return 1.0lf; }
        let t = m_expm1_f64(a);
        return 1.0lf + t * t / (2.0lf * (1.0lf + t));
    }
    if (w < 0x40862e42u) {
        let t = m_exp_f64(a);
        return 0.5lf * (t + 1.0lf / t);
    }
    return m_expo2_64(a, 1.0lf);
}
//@ m_tanh_f64 m_expm1_f64 m_setsign64 m_hi64 m_isnan64
fn m_tanh_f64(x: f64) -> f64 {
    if (m_isnan64(x)) { return x; }
    let u = m_hi64(x);
    let w = u & 0x7fffffffu;
    let a = abs(x);
    var t: f64;
    if (w > 0x3fe193eau) {
        if (w > 0x40340000u) { t = 1.0lf; }
        else { t = m_expm1_f64(2.0lf * a); t = 1.0lf - 2.0lf / (t + 2.0lf); }
    } else if (w > 0x3fd058aeu) {
        t = m_expm1_f64(2.0lf * a);
        t = t / (t + 2.0lf);
    } else if (w >= 0x00100000u) {
        t = m_expm1_f64(-2.0lf * a);
        t = -t / (t + 2.0lf);
    } else {
        t = a;
    }
    return m_setsign64(t, u & 0x80000000u);
}
//@ m_asinh_f64 m_log_f64 m_log1p_f64 m_setsign64 m_hi64
// ir::scalar's fdlibm formula.
fn m_asinh_f64(x: f64) -> f64 {
    let a = abs(x);
    let s = m_hi64(x) & 0x80000000u;
    let ua = bitcast<u64>(a);
    var r: f64;
    if (ua >= 0x7ff0000000000000lu || ua < 0x3cb0000000000000lu) { r = a; }
    else if (a > 268435456.0lf) { r = m_log_f64(a) + 6.93147180559945286227e-01lf; }
    else if (a > 2.0lf) { r = m_log_f64(2.0lf * a + 1.0lf / (sqrt(a * a + 1.0lf) + a)); }
    else { let t = a * a; r = m_log1p_f64(a + t / (1.0lf + sqrt(1.0lf + t))); }
    if (ua > 0x7ff0000000000000lu) { return x; }
    return m_setsign64(r, s);
}
//@ m_acosh_f64 m_log_f64 m_log1p_f64 m_nan64
fn m_acosh_f64(x: f64) -> f64 {
    let u = bitcast<u64>(x);
    if (u > 0x7ff0000000000000lu || x < 1.0lf) { return bitcast<f64>(0x7ff8000000000000lu); }
    if (u == 0x7ff0000000000000lu) { return x; }
    if (x > 268435456.0lf) { return m_log_f64(x) + 6.93147180559945286227e-01lf; }
    if (x > 2.0lf) { return m_log_f64(2.0lf * x - 1.0lf / (x + sqrt(x * x - 1.0lf))); }
    let t = x - 1.0lf;
    return m_log1p_f64(t + sqrt(2.0lf * t + t * t));
}
//@ m_atanh_f64 m_log1p_f64 m_nan64 m_setsign64 m_hi64
fn m_atanh_f64(x: f64) -> f64 {
    let a = abs(x);
    let s = m_hi64(x) & 0x80000000u;
    let ua = bitcast<u64>(a);
    if (ua > 0x3ff0000000000000lu) { return bitcast<f64>(0x7ff8000000000000lu | (u64(s) << 32u)); }
    if (ua == 0x3ff0000000000000lu) { return bitcast<f64>(0x7ff0000000000000lu | (u64(s) << 32u)); }
    var r: f64;
    if (a < 0.5lf) { let t = a + a; r = 0.5lf * m_log1p_f64(t + t * a / (1.0lf - a)); }
    else { r = 0.5lf * m_log1p_f64((a + a) / (1.0lf - a)); }
    return m_setsign64(r, s);
}
//@ m_cbrt_f64 m_hi64
// FreeBSD cbrt: bit estimate, a polynomial step to 23 bits, round to 22 bits, one Newton step.
fn m_cbrt_f64(x: f64) -> f64 {
    let u = bitcast<u64>(x);
    let hx = m_hi64(x) & 0x7fffffffu;
    let sign = u & 0x8000000000000000lu;
    if (hx >= 0x7ff00000u || (u & 0x7ffffffffffffffflu) == 0lu) { return x; }
    let a = abs(x);
    var t: f64;
    if (hx < 0x00100000u) {
        let tt = a * 18014398509481984.0lf;
        t = bitcast<f64>(u64((m_hi64(tt) & 0x7fffffffu) / 3u + 696219795u) << 32u);
    } else {
        t = bitcast<f64>(u64(hx / 3u + 715094163u) << 32u);
    }
    var r = (t * t) * (t / a);
    t = t * ((1.87595182427177009643lf + r * (-1.88497979543377169875lf + r * 1.621429720105354466140lf)) + ((r * r) * r) * (-0.758397934778766047437lf + r * 0.145996192886612446982lf));
    t = bitcast<f64>((bitcast<u64>(t) + 0x0000000080000000lu) & 0xffffffffc0000000lu);
    let s = t * t;
    r = a / s;
    let w = t + t;
    r = (r - t) / (w + r);
    t = t + t * r;
    return bitcast<f64>(bitcast<u64>(t) | sign);
}
//@ m_hypot_f64 m_2prod64 m_2sum64 m_qnan64
fn m_hypot_f64(x0: f64, y0: f64) -> f64 {
    var ux = bitcast<u64>(x0) & 0x7ffffffffffffffflu;
    var uy = bitcast<u64>(y0) & 0x7ffffffffffffffflu;
    if (ux == 0x7ff0000000000000lu || uy == 0x7ff0000000000000lu) { return bitcast<f64>(0x7ff0000000000000lu); }
    if (ux > 0x7ff0000000000000lu || uy > 0x7ff0000000000000lu) { return m_qnan64(x0, y0); }
    if (ux < uy) { let t = ux; ux = uy; uy = t; }
    var x = bitcast<f64>(ux);
    var y = bitcast<f64>(uy);
    let ex = i32(ux >> 52u);
    let ey = i32(uy >> 52u);
    if (uy == 0lu || ex - ey > 64) { return x + y; }
    var z = 1.0lf;
    if (ex > 0x3ff + 510) {
        z = bitcast<f64>(0x6bb0000000000000lu);
        x = x * bitcast<f64>(0x1430000000000000lu);
        y = y * bitcast<f64>(0x1430000000000000lu);
    } else if (ey < 0x3ff - 450) {
        z = bitcast<f64>(0x1430000000000000lu);
        x = x * bitcast<f64>(0x6bb0000000000000lu);
        y = y * bitcast<f64>(0x6bb0000000000000lu);
    }
    let xx = m_2prod64(x, x);
    let yy = m_2prod64(y, y);
    let s = m_2sum64(xx.x, yy.x);
    let sl = s.y + xx.y + yy.y;
    let r = sqrt(s.x);
    let rr = m_2prod64(r, r);
    let res = ((s.x - rr.x) - rr.y) + sl;
    return z * (r + res / (2.0lf * r));
}
//@ m_fmod_f64 m_nan64 m_qnan64 m_scalbn64
// fmod, exact: integer remainder of the significands, 11 exponent steps at a time.
fn m_fmod_f64(x: f64, y: f64) -> f64 {
    let ux = bitcast<u64>(x);
    let uy = bitcast<u64>(y);
    let sx = ux & 0x8000000000000000lu;
    let ax = ux & 0x7ffffffffffffffflu;
    let ay = uy & 0x7ffffffffffffffflu;
    if (ax > 0x7ff0000000000000lu || ay > 0x7ff0000000000000lu) { return m_qnan64(x, y); }
    if (ay == 0lu || ax == 0x7ff0000000000000lu) { return m_nan64(); }
    if (ax < ay) { return x; }
    if (ax == ay) { return bitcast<f64>(sx); }
    var ex = i32(ax >> 52u);
    var ey = i32(ay >> 52u);
    var mx = ax & 0x000ffffffffffffflu;
    var my = ay & 0x000ffffffffffffflu;
    if (ex == 0) { ex = 1; } else { mx = mx | 0x0010000000000000lu; }
    if (ey == 0) { ey = 1; } else { my = my | 0x0010000000000000lu; }
    var r = mx % my;
    var d = ex - ey;
    while (d > 0 && r != 0lu) {
        let s = min(d, 11);
        r = (r << u32(s)) % my;
        d = d - s;
    }
    if (r == 0lu) { return bitcast<f64>(sx); }
    return bitcast<f64>(bitcast<u64>(m_scalbn64(f64(r), ey - 1075)) | sx);
}
//@ m_divmod_f64 m_fmod_f64 m_nan64
fn m_divmod_f64(a: f64, b: f64) -> vec2<f64> {
    let ua = bitcast<u64>(a);
    let ub = bitcast<u64>(b);
    let sq = (ua ^ ub) & 0x8000000000000000lu;
    let aa = ua & 0x7ffffffffffffffflu;
    let ab = ub & 0x7ffffffffffffffflu;
    var m = m_fmod_f64(a, b);
    if (aa > 0x7ff0000000000000lu || ab > 0x7ff0000000000000lu) { return vec2<f64>(m, m); }
    if (ab == 0lu) {
        if (aa == 0lu) { return vec2<f64>(m_nan64(), m); }
        return vec2<f64>(bitcast<f64>(0x7ff0000000000000lu | sq), m);
    }
    if (aa == 0x7ff0000000000000lu) { return vec2<f64>(m, m); }
    var div = (a - m) / b;
    if ((bitcast<u64>(m) & 0x7ffffffffffffffflu) != 0lu) {
        if ((ub >> 63u) != (bitcast<u64>(m) >> 63u)) {
            m = m + b;
            div = div - 1.0lf;
        }
    } else {
        m = bitcast<f64>(ub & 0x8000000000000000lu);
    }
    var fd: f64;
    if ((bitcast<u64>(div) & 0x7ffffffffffffffflu) != 0lu) {
        let f = floor(div);
        fd = select(f, f + 1.0lf, div - f > 0.5lf);
    } else {
        fd = bitcast<f64>(sq);
    }
    return vec2<f64>(fd, m);
}
//@ m_floordiv_f64 m_divmod_f64
fn m_floordiv_f64(a: f64, b: f64) -> f64 { return m_divmod_f64(a, b).x; }
//@ m_mod_f64 m_divmod_f64
fn m_mod_f64(a: f64, b: f64) -> f64 { return m_divmod_f64(a, b).y; }
//@ m_nextafter_f64 m_qnan64
fn m_nextafter_f64(x: f64, y: f64) -> f64 {
    let ux = bitcast<u64>(x);
    let uy = bitcast<u64>(y);
    if ((ux & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu || (uy & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu) { return m_qnan64(x, y); }
    if (x == y) { return y; }
    if ((ux & 0x7ffffffffffffffflu) == 0lu) { return bitcast<f64>(1lu | (uy & 0x8000000000000000lu)); }
    let up = (x < y) == ((ux >> 63u) == 0lu);
    return bitcast<f64>(select(ux - 1lu, ux + 1lu, up));
}
//@ M_POW_TAB_F64
// pow's log2 table: for 64 subintervals of [0.7057, 1.4114) (top 6 significand
// bits), 1/c rounded to f64 (exactly 1 on the interval holding 1) and
// -log2 of that f64 as hi + lo (computed to 60 digits).
var<private> M_POW_TAB_F64: array<u64, 192> = array<u64, 192>(0x3ff68bfab1bb57a1lu, 0xbfdfaba1079b7ff7lu, 0x3c41c6aadd3eeb6dlu, 0x3ff64d2061c23663lu, 0xbfdea8d36a83a730lu, 0x3c7f27b7770a8ee8lu, 0x3ff60fa0b8110406lu, 0xbfdda8d35d66e554lu, 0x3c58d58c9fde4f66lu, 0x3ff5d3709f6c74dalu, 0xbfdcab917fd01b18lu, 0xbc510053d7a47f5alu, 0x3ff598857a455d0dlu, 0xbfdbb0feee7b700alu, 0xbc79e115fa0fa670lu, 0x3ff55ed51c7a4885lu, 0xbfdab90d3e1588cflu, 0xbc5d4897b5eac165lu, 0x3ff52655c57c1d28lu, 0xbfd9c3ae76408ad7lu, 0x3c120c30699d4d08lu, 0x3ff4eefe1aceb16elu, 0xbfd8d0d50cda9fdalu, 0x3c7d298499f0e5d1lu, 0x3ff4b8c522ded401lu, 0xbfd7e073e181fa0elu, 0x3c7c977101b46af6lu, 0x3ff483a24027c6bclu, 0xbfd6f27e3952a1fdlu, 0x3c5771c56d51c8bflu, 0x3ff44f8d2ca2a900lu, 0xbfd606e7bada9907lu, 0x3c7a4ddbd3765beclu, 0x3ff41c7df57abc68lu, 0xbfd51da46a411966lu, 0xbc7aa28ff4887365lu, 0x3ff3ea6cf701d3e7lu, 0xbfd436a8a59df402lu, 0x3c504f89300451d0lu, 0x3ff3b952d8e09a00lu, 0xbfd351e9217e411alu, 0xbc7ec429afea3f13lu, 0x3ff389288a7eaf24lu, 0xbfd26f5ae593c858lu, 0x3c7dcd02dbd4982alu, 0x3ff359e73f9eeea9lu, 0xbfd18ef3498cb153lu, 0xbc734a30c274e288lu, 0x3ff32b886d2c6f97lu, 0xbfd0b0a7f21136c2lu, 0x3c74cdf43774c0f1lu, 0x3ff2fe05c635176clu, 0xbfcfa8dd9bca786blu, 0xbc6c1dfe9dc8ae59lu, 0x3ff2d159390ed07alu, 0xbfcdf47c26579326lu, 0xbc68a613b128a3f5lu, 0x3ff2a57ceca4ac3flu, 0xbfcc441879952070lu, 0x3c6b0cdd4f12830clu, 0x3ff27a6b3de96c26lu, 0xbfca97a00fd776balu, 0x3c5fcdde564e75d6lu, 0x3ff2501ebd6d1988lu, 0xbfc8ef00e338d4c3lu, 0x3c6c6023c7c5a4a4lu, 0x3ff226922d137ff7lu, 0xbfc74a29690c9890lu, 0x3c650aecd4b397e3lu, 0x3ff1fdc07de98449lu, 0xbfc5a9088d85dab9lu, 0x3c5cec5c806b1cc6lu, 0x3ff1d5a4ce1776b0lu, 0xbfc40b8daf8ebaaflu, 0xbc4423bdfb97f300lu, 0x3ff1ae3a66ee9f93lu, 0xbfc271a89ccdd401lu, 0xbc56b4dcfafc9e84lu, 0x3ff1877cbb106578lu, 0xbfc0db498dd77ab5lu, 0xbc55a5e39b0202b4lu, 0x3ff1616764ad86c0lu, 0xbfbe90c245110427lu, 0x3c5534ca4bad5e47lu, 0x3ff13bf623dbfc18lu, 0xbfbb71c0bd10e4bdlu, 0xbc4acde8ac3d916blu, 0x3ff11724dd0230bflu, 0xbfb859714be26323lu, 0xbc570c9e4f2ef0e6lu, 0x3ff0f2ef9756544clu, 0xbfb547b7743483d3lu, 0xbc5ebfde819dac0dlu, 0x3ff0cf527b709e3elu, 0xbfb23c776d0ba5eblu, 0xbc5db5cd71f2a7cflu, 0x3ff0ac49d1ef6f00lu, 0xbfae6f2c37b7f3c1lu, 0xbc41da634e8f46c3lu, 0x3ff089d2022c4bd3lu, 0xbfa871f21dc255eclu, 0xbc4127c418e682d1lu, 0x3ff067e79100c3aflu, 0xbfa2810cef608fcflu, 0xbc3a0ed5387ca645lu, 0x3ff046871f9a5a87lu, 0xbf9938949804837elu, 0x3c0aa0f5621d9146lu, 0x3ff025ad6a5ca6a0lu, 0xbf8b0de41563be3alu, 0xbc2e89966fe58b25lu, 0x3ff0000000000000lu, 0x0000000000000000lu, 0x0000000000000000lu, 0x3fef96b4f7e965d7lu, 0x3f931c7f012d5753lu, 0x3c3a97169d4094d8lu, 0x3fef1bdeedc50047lu, 0x3fa4dca569c7d1ealu, 0x3c3d2c81ee53c687lu, 0x3feea4b5eb06d241lu, 0x3fafff688dcfcd83lu, 0xbc4789d96db9216flu, 0x3fee31105179b761lu, 0x3fb57bea5fc74f48lu, 0x3c490c458f021b82lu, 0x3fedc0c6ee0a0d4alu, 0x3fbae393a01f23aalu, 0x3c55c4c31b3eb19blu, 0x3fed53b4cc716d9alu, 0x3fc01ba3e5a8f168lu, 0x3c0393373a01c7a8lu, 0x3fece9b70ea3abf2lu, 0x3fc2bbcc15bcd6balu, 0x3c6c2f90b0ae151alu, 0x3fec82acc79f6ba6lu, 0x3fc55287f72c67f3lu, 0x3c672055ab1e8945lu, 0x3fec1e76d94eeacalu, 0x3fc7e01a3deebe2dlu, 0x3c67ac3ba7d15c90lu, 0x3febbcf7d52ea91flu, 0x3fca64c2e35fa6dflu, 0xbc620178879284cclu, 0x3feb5e13df778444lu, 0x3fcce0bf4bd83e1clu, 0xbc5bdb6d7438e3e7lu, 0x3feb01b09490e3ablu, 0x3fcf544a69c8ad25lu, 0xbc53357fd45930d7lu, 0x3feaa7b4f095be35lu, 0x3fd0dfce6f42a2aalu, 0x3c7165dc384eb711lu, 0x3fea500938bcbb5alu, 0x3fd211768c7a5240lu, 0x3c75f4da057b0d64lu, 0x3fe9fa96e6788a1flu, 0x3fd33f37b9243d34lu, 0x3c6fce5b8ad87f04lu, 0x3fe9a7489429d483lu, 0x3fd4692b24736dd3lu, 0xbc6ad68b08edad56lu, 0x3fe95609eb40081alu, 0x3fd58f690cd35fe3lu, 0xbc7b58ba61421b83lu, 0x3fe906c793a992d4lu, 0x3fd6b208cbbfa714lu, 0xbc62006117a802eclu, 0x3fe8b96f24773acblu, 0x3fd7d120e0e37627lu, 0xbc7cacbe107ab181lu, 0x3fe86def1598ec7flu, 0x3fd8ecc6fc8e48c2lu, 0x3c7f633321153bcalu, 0x3fe82436b29cc5f3lu, 0x3fda05100989d84blu, 0xbc7c697a3722e4eclu, 0x3fe7dc360e5b4f43lu, 0x3fdb1a10365c84a3lu, 0xbc78d155638071aelu, 0x3fe795ddf77dc1f5lu, 0x3fdc2bdafe027267lu, 0xbc74a6f5dfee94a4lu, 0x3fe7511fedccfe44lu, 0x3fdd3a833026ccf7lu, 0xbc7bc00b0a00c056lu, 0x3fe70dee18395e06lu, 0x3fde461af8e5dc5dlu, 0x3c6e0c60ced6e492lu, 0x3fe6cc3b3b8cfd8flu, 0x3fdf4eb3e81fefeelu, 0xbc7dd571bcb1e82clu);
//@ m_log2x_f64 M_POW_TAB_F64 m_2sum64 m_2prod64 m_o64
// log2(x) as hi + lo to about 2^-66 relative, x > 0 finite.
fn m_log2x_f64(x: f64) -> vec2<f64> {
    var ix = bitcast<u64>(x);
    var k = 0i;
    if (ix < 0x0010000000000000lu) { ix = bitcast<u64>(x * 4503599627370496.0lf); k = -52; }
    let tmp = ix - 0x3fe6955500000000lu;
    let i = u32((tmp >> 46u) & 63lu);
    k = k + i32(bitcast<i64>(tmp) >> 52u);
    let z = bitcast<f64>(ix - (tmp & 0xfff0000000000000lu));
    let invc = bitcast<f64>(M_POW_TAB_F64[3u * i]);
    let p = m_2prod64(z, invc);
    let rh = p.x - 1.0lf;
    let rl = p.y;
    let sq = m_2prod64(rh, rh);
    let bh = 0.5lf * sq.x;
    let bl = 0.5lf * (sq.y + 2.0lf * rh * rl);
    let t = m_2sum64(rh, -bh);
    let r = rh + rl;
    let c = r * r * r * (0.333333333333333333lf + r * (-0.25lf + r * (0.2lf + r * (-0.166666666666666667lf + r * (0.142857142857142857lf + r * (-0.125lf + r * (0.111111111111111111lf + r * (-0.1lf + r * (0.0909090909090909091lf + r * -0.0833333333333333333lf)))))))));
    let lo = t.y + rl - bl + c;
    let ln = m_2sum64(t.x, lo);
    let l2 = m_2prod64(ln.x, 1.4426950408889634lf);
    let l2lo = l2.y + ln.x * 2.0355273740931033e-17lf + ln.y * 1.4426950408889634lf;
    let a = m_2sum64(f64(k), bitcast<f64>(M_POW_TAB_F64[3u * i + 1u]));
    let b = m_2sum64(a.x, l2.x);
    let e = b.y + a.y + bitcast<f64>(M_POW_TAB_F64[3u * i + 2u]) + l2lo;
    let h = m_o64(b.x + e);
    return vec2<f64>(h, e - (h - b.x));
}
//@ m_pow_f64 m_qnan64 m_log2x_f64 m_2prod64 m_expk64 m_scalbn64 m_nan64 m_o64 m_trunc_f64 m_rint_f64
// pow as m_pow_f32, in double-double.
fn m_pow_f64(x: f64, y: f64) -> f64 {
    let ux = bitcast<u64>(x);
    let uy = bitcast<u64>(y);
    let ax = ux & 0x7ffffffffffffffflu;
    let ay = uy & 0x7ffffffffffffffflu;
    // NaN as glibc's pow (see m_pow_f32).
    let xnan = ax > 0x7ff0000000000000lu;
    let ynan = ay > 0x7ff0000000000000lu;
    if (ay == 0lu) { return select(1.0lf, m_qnan64(x, y), xnan && ax < 0x7ff8000000000000lu); }
    if (ux == 0x3ff0000000000000lu) { return select(1.0lf, m_qnan64(x, y), ynan && ay < 0x7ff8000000000000lu); }
    if (ynan || (xnan && ay == 0x7ff0000000000000lu)) { return m_qnan64(x, y); }
    if (xnan) {
        let units = select(bitcast<u64>(abs(y) + 4503599627370496.0lf), ay, ay >= 0x4330000000000000lu);
        let odd = ay < 0x4340000000000000lu && m_trunc_f64(y) == y && (units & 1lu) == 1lu;
        return bitcast<f64>(select(ux, ux & 0x7ffffffffffffffflu, odd) | 0x0008000000000000lu);
    }
    if (uy == 0x3fe0000000000000lu) {
        if (ax == 0lu) { return x; }
        if ((ux >> 63u) != 0lu) { return m_nan64(); }
        return sqrt(x);
    }
    if (uy == 0x3ff0000000000000lu) { return x; }
    if (ay == 0x7ff0000000000000lu) {
        if (ax == 0x3ff0000000000000lu) { return 1.0lf; }
        if ((ax < 0x3ff0000000000000lu) == ((uy >> 63u) == 0lu)) { return 0.0lf; }
        return bitcast<f64>(0x7ff0000000000000lu);
    }
    var yint = 0u;
    if (ay >= 0x4340000000000000lu) { yint = 2u; }
    else if (ay >= 0x3ff0000000000000lu && m_trunc_f64(y) == y) {
        // The units bit: of the significand from 2^52 on, else of |y| + 2^52 (exact).
        let bits = select(bitcast<u64>(abs(y) + 4503599627370496.0lf), ay, ay >= 0x4330000000000000lu);
        yint = select(2u, 1u, (bits & 1lu) == 1lu);
    }
    let neg = (ux >> 63u) != 0lu;
    let s = select(0lu, 0x8000000000000000lu, neg && yint == 1u);
    if (ax == 0lu || ax == 0x7ff0000000000000lu) {
        if (((uy >> 63u) != 0lu) == (ax == 0lu)) { return bitcast<f64>(0x7ff0000000000000lu | s); }
        return bitcast<f64>(s);
    }
    if (neg && yint == 0u) { return m_nan64(); }
    let a = bitcast<f64>(ax);
    if (uy == 0x4000000000000000lu) { return bitcast<f64>(bitcast<u64>(a * a) | s); }
    let l = m_log2x_f64(a);
    let p = m_2prod64(y, l.x);
    if (p.x > 1025.0lf) { return bitcast<f64>(0x7ff0000000000000lu | s); }
    if (p.x < -1080.0lf) { return bitcast<f64>(s); }
    let e = p.y + y * l.y;
    let zh = m_o64(p.x + e);
    let zl = e - (zh - p.x);
    let k = m_rint_f64(zh);
    let fh = zh - k;
    let g = m_2prod64(fh, 6.931471805599453e-01lf);
    let gl = g.y + fh * 2.3190468138462996e-17lf + zl * 6.931471805599453e-01lf;
    let r = m_scalbn64(m_expk64(g.x, -gl), i32(k));
    return bitcast<f64>(bitcast<u64>(r) | s);
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every internal part has a WGSL function in both widths; complex64's
    /// need no f64 (an adapter without `SHADER_F64` runs them), and every
    /// placeholder of the source was replaced.
    #[test]
    fn every_part_in_both_widths() {
        for &op in BinaryOp::ALL
            .iter()
            .filter(|op| op.complex_part().is_some())
        {
            for (d, other) in [(DType::Float32, "f64"), (DType::Float64, "f32")] {
                let name =
                    super::super::cmath::part_fn(op, d).unwrap_or_else(|| panic!("{op:?} on {d}"));
                let lib = library(&BTreeSet::from([name]));
                assert!(lib.contains(&format!("fn {name}(")), "{name}");
                // (Comments, and `f32` inside a hex literal, do not count.)
                let uses = lib.lines().any(|l| {
                    let code = l.split("//").next().unwrap_or("");
                    code.match_indices(other)
                        .any(|(i, _)| !code[..i].ends_with(|c: char| c.is_ascii_alphanumeric()))
                });
                assert!(!uses, "{name} uses {other}");
                assert!(!lib.contains('$'), "{name}: a placeholder is left");
            }
        }
    }

    /// Every float math function of the op tables (`ir::op`) has a WGSL
    /// version for float32 and float64, defined in the library with
    /// everything it calls (checked without an adapter; the shaders
    /// themselves run in tests/gpu_math.rs and tests/golden.rs).
    #[test]
    fn every_math_function_has_a_wgsl_version() {
        let names = |d: DType| -> Vec<&'static str> {
            let unary = UnaryOp::ALL
                .iter()
                .filter(|op| op.implementation().is_math())
                .map(move |&op| unary_fn(op, d).unwrap_or_else(|| panic!("{op:?} on {d}")));
            // (With the complex split's internal parts, `cmath`'s.)
            let binary = BinaryOp::ALL
                .iter()
                .filter(|op| op.implementation().is_math())
                .map(move |&op| binary_fn(op, d).unwrap_or_else(|| panic!("{op:?} on {d}")));
            unary.chain(binary).collect()
        };
        let items = items();
        for d in [DType::Float32, DType::Float64] {
            for name in names(d) {
                let it = items.iter().find(|it| it.name == name);
                let it = it.unwrap_or_else(|| panic!("no WGSL item {name}"));
                assert!(it.code.contains(&format!("fn {name}(")), "{name}");
                for dep in &it.deps {
                    assert!(items.iter().any(|i| i.name == *dep), "{name} calls {dep}");
                }
            }
        }
        // The generated erf/erfc call what they declare.
        let lib = library(&BTreeSet::from(["m_erf_f32", "m_erfc_f64"]));
        for f in [
            "fn m_erfc2_f32(",
            "fn m_exp_f32(",
            "fn m_erfc2_f64(",
            "fn m_exp_f64(",
        ] {
            assert!(lib.contains(f), "{f}");
        }
    }
}
