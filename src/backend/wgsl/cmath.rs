//! Complex functions in WGSL: the GPU's versions of `ir::cmath`'s `sqrt exp
//! expm1 log log1p log2 log10 sin cos tan arcsin arccos arctan sinh cosh
//! tanh arcsinh arccosh arctanh sign reciprocal`, as functions of the two
//! parts (`c_exp_f32(x, y) -> vec2<f32>`), and the complex split's internal
//! binary operations over them (`m_cexp_re_f32(x, y)`, `m_cexp_im_f32`…,
//! `ir::split`), built on the real routines of `wgsl::math`.
//!
//! One source for both widths (`$T` the type, `$S` the helpers' suffix, `$L`
//! the literal suffix, `$K…` constants that differ by width): complex128 in
//! f64, complex64 in f32 (the interpreter computes complex64 functions in
//! f64 and rounds once; the GPU may lack f64, so its thresholds are f32's:
//! overflow of `e^x` at 88 rather than 709, the scaling of `sqrt`'s and
//! `sign`'s tiny and huge arguments). The algorithms are `cmath`'s (Annex G
//! special values, the same branch cuts and signs of zero), without its
//! double-double: `expm1`'s real part and `log`'s `|z|² - 1` use exact
//! products and sums (Dekker, Knuth) in the width itself, `tanh` and
//! `arcsin` the plain formulas (`(sinh x cosh x + i sin y cos y) / (sinh² x
//! + cos² y)`, Kahan's square roots). Special values are tested and made on
//! bit patterns (the driver may assume finite math); measured accuracy: see
//! the README and `tests/gpu/complex.rs`.

use crate::ir::op::{BinaryOp, UnaryOp};
use crate::types::DType;

/// The WGSL function computing the complex split's internal part `op` (a
/// `BinaryOp::complex_part`) on parts of dtype `d`.
pub fn part_fn(op: BinaryOp, d: DType) -> Option<&'static str> {
    let (_, _) = op.complex_part()?;
    let wide = match d {
        DType::Float32 => false,
        DType::Float64 => true,
        _ => return None,
    };
    names()
        .iter()
        .find(|(o, w, _)| *o == op && *w == wide)
        .map(|&(_, _, n)| n)
}

/// (part, wide, WGSL name) for every internal part and width.
fn names() -> &'static [(BinaryOp, bool, &'static str)] {
    static NAMES: std::sync::OnceLock<Vec<(BinaryOp, bool, &'static str)>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut v = Vec::new();
        for &op in BinaryOp::ALL
            .iter()
            .filter(|op| op.complex_part().is_some())
        {
            for (wide, sfx) in [(false, "f32"), (true, "f64")] {
                let name: &'static str =
                    Box::leak(format!("m_{}_{sfx}", op.name()).into_boxed_str());
                v.push((op, wide, name));
            }
        }
        v
    })
}

/// The WGSL items of the complex functions (both widths) as `(name, the
/// functions it calls, code)` for `math`'s library (`known`: its other
/// items' names); the dependencies are read off the code.
pub(super) fn items(known: &[&'static str]) -> Vec<(&'static str, Vec<&'static str>, String)> {
    let mut out = Vec::new();
    for (wide, helpers) in [(false, HELPERS32), (true, HELPERS64)] {
        let (t, s, l) = if wide {
            ("f64", "64", "lf")
        } else {
            ("f32", "32", "f")
        };
        let lit = |v: f64| {
            if wide {
                format!("bitcast<f64>(0x{:016x}lu)", v.to_bits())
            } else {
                format!("bitcast<f32>(0x{:08x}u)", (v as f32).to_bits())
            }
        };
        let consts: &[(&str, f64, f64)] = &[
            // (placeholder, f32 value, f64 value)
            // sqrt: MAX / (1 + sqrt 2), 4 MIN_POSITIVE, the scale up and back.
            ("$KSQRTBIG", 1.4095639e38, 7.446288774449766e307),
            (
                "$KSQRTTINY",
                4.0 * 1.1754944e-38,
                4.0 * 2.2250738585072014e-308,
            ),
            ("$KSQRTUP", 16777216.0, 18014398509481984.0),
            ("$KSQRTDOWN", 2f64.powi(-12), 2f64.powi(-27)),
            // e^x overflows above (the f32 one a little below 88.72).
            ("$KEXPBIG", 88.0, 709.0),
            ("$KEXPTOP", 176.0, 1420.0),
            // sinh/cosh: where e^-|x| no longer counts, and big_exp_half's ranges.
            ("$KSINHSMALL", 9.0, 22.0),
            ("$KHALF2", 176.0, 1454.0),
            ("$KMAX", f64::from(f32::MAX), f64::MAX),
            // tanh: where e^(-2|x|) underflows to nothing.
            ("$KTANHHUGE", 87.0, 760.0),
            // log1p: x² + y² in range below this.
            ("$KL1PBIG", 1e18, 1e150),
            // arctanh: huge arguments, and tiny |y| at |x| = 1.
            ("$KATHBIG", 2f64.powi(60), 2f64.powi(500)),
            ("$KATHTINY", 1e-18, 1e-150),
            // arcsin, arccos: f32's huge z, whose roots' products are scaled by KAS².
            ("$KASBIG", 2f64.powi(60), f64::INFINITY),
            ("$KASSMALL", 2f64.powi(-30), 0.0),
            ("$KAS", 2f64.powi(-32), 1.0),
            ("$KASLN", 65.0 * std::f64::consts::LN_2, 0.0),
            ("$KLN2", std::f64::consts::LN_2, std::f64::consts::LN_2),
            (
                "$KPI4",
                std::f64::consts::FRAC_PI_4,
                std::f64::consts::FRAC_PI_4,
            ),
            (
                "$KPI2",
                std::f64::consts::FRAC_PI_2,
                std::f64::consts::FRAC_PI_2,
            ),
            (
                "$K3PI4",
                3.0 * std::f64::consts::FRAC_PI_4,
                3.0 * std::f64::consts::FRAC_PI_4,
            ),
            ("$KPI", std::f64::consts::PI, std::f64::consts::PI),
            (
                "$KLOG2E",
                std::f32::consts::LOG2_E as f64,
                std::f64::consts::LOG2_E,
            ),
            (
                "$KLOG10E",
                std::f32::consts::LOG10_E as f64,
                std::f64::consts::LOG10_E,
            ),
        ];
        let sign_overflow = if wide {
            // The interpreter's: |z| overflows, neither part infinite.
            "return vec2<f64>(0.0lf, c_cs64(1.0lf, y));"
        } else {
            // The interpreter's hypot is f64's: no overflow.
            "let m2 = m_hypot_f32(x * 0.25f, y * 0.25f);\n    return vec2<f32>((x * 0.25f) / m2, (y * 0.25f) / m2);"
        };
        let athbig = if wide {
            "let h = m_hypot_f64(ax, ay);\n        r = (ax / h) / h;"
        } else {
            // |z| overflows f32 (not the interpreter's f64): scaled by 1/4.
            "let h = m_hypot_f32(ax * 0.25f, ay * 0.25f);\n        r = (((ax * 0.25f) / h) * 0.25f) / h;"
        };
        let (halfexp_tail, expm1_zero, expm1_im_zero, log_big) = if wide {
            // The interpreter's: DBL_MAX * t * DBL_MAX.
            ("return m_o64($KMAX * t) * $KMAX;", "", "", f64::INFINITY)
        } else {
            // The interpreter's e^a / 2 * t is f64's, finite up to a ~ 192.
            (
                "if (a < 264.0f) {\n        let e = m_exp_f32((a - 88.0f) * 0.5f);\n        return m_o32(m_o32(m_o32(e * 0.5f) * t) * e) * m_exp_f32(88.0f);\n    }\n    return c_xs32(c_INF32(), t);",
                // In f64, -2 sin²(y/2) never underflows for a float32 y.
                "if (re == 0.0f && x == 0.0f) { re = c_neg32(0.0f); }",
                // The interpreter's e^x * sin 0 is f64's: 0 up to x ~ 709.78.
                "if (y == 0.0f && x < 709.7826538085938f) { im = y; }",
                1e38,
            )
        };
        let mut src = COMPLEX
            .replace("$SIGNOVF", sign_overflow)
            .replace("$ATHBIG", athbig)
            .replace("$HALFEXPTAIL", halfexp_tail)
            .replace("$EM1ZERO", expm1_zero)
            .replace("$EM1IMZERO", expm1_im_zero)
            .replace("$KLOGBIG", &lit(log_big));
        // Longest first: no placeholder is a prefix of one replaced later.
        let mut consts = consts.to_vec();
        consts.sort_by_key(|c| std::cmp::Reverse(c.0.len()));
        for &(k, v32, v64) in &consts {
            src = src.replace(k, &lit(if wide { v64 } else { v32 }));
        }
        let src = src.replace("$T", t).replace("$S", s).replace("$L", l);
        // The internal parts: one wrapper each.
        let mut parts = String::new();
        for &(op, w, name) in names() {
            if w != wide {
                continue;
            }
            let (f, im) = op.complex_part().unwrap_or((UnaryOp::Neg, false));
            parts.push_str(&format!(
                "//@ {name}\nfn {name}(x: {t}, y: {t}) -> {t} {{ return c_{}_{t}(x, y).{}; }}\n",
                f.name(),
                if im { 'y' } else { 'x' }
            ));
        }
        for sec in [helpers, src.as_str(), parts.as_str()]
            .iter()
            .flat_map(|s| s.split("//@ ").skip(1))
        {
            let (head, code) = sec.split_once('\n').unwrap_or((sec, ""));
            let name = head.trim().to_string();
            let code = code.to_string();
            out.push((name, code));
        }
    }
    let mine: Vec<&'static str> = out
        .iter()
        .map(|(n, _)| &*Box::leak(n.clone().into_boxed_str()))
        .collect();
    let all: Vec<&'static str> = known.iter().chain(mine.iter()).copied().collect();
    out.into_iter()
        .zip(&mine)
        .map(|((_, code), &name)| {
            let deps = all
                .iter()
                .copied()
                .filter(|&d| d != name && calls(&code, d))
                .collect();
            (name, deps, code)
        })
        .collect()
}

/// Whether `code` calls the function `name`.
fn calls(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let ok_before = !before.is_some_and(|c| c.is_alphanumeric() || c == '_');
        ok_before && code[i + name.len()..].starts_with('(')
    })
}

const HELPERS32: &str = r#"
//@ c_nan32
fn c_nan32(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
//@ c_inf32
fn c_inf32(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
//@ c_fin32
fn c_fin32(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) < 0x7f800000u; }
//@ c_cs32
// |a| with b's sign (copysign).
fn c_cs32(a: f32, b: f32) -> f32 { return bitcast<f32>((bitcast<u32>(a) & 0x7fffffffu) | (bitcast<u32>(b) & 0x80000000u)); }
//@ c_xs32
// a with its sign flipped where b's sign bit is set (a * ±1).
fn c_xs32(a: f32, b: f32) -> f32 { return bitcast<f32>(bitcast<u32>(a) ^ (bitcast<u32>(b) & 0x80000000u)); }
//@ c_neg32
fn c_neg32(a: f32) -> f32 { return bitcast<f32>(bitcast<u32>(a) ^ 0x80000000u); }
//@ c_INF32
fn c_INF32() -> f32 { return bitcast<f32>(0x7f800000u); }
//@ c_NAN32
fn c_NAN32() -> f32 { return bitcast<f32>(0x7fc00000u); }
"#;

const HELPERS64: &str = r#"
//@ c_nan64
fn c_nan64(x: f64) -> bool { return (bitcast<u64>(x) & 0x7ffffffffffffffflu) > 0x7ff0000000000000lu; }
//@ c_inf64
fn c_inf64(x: f64) -> bool { return (bitcast<u64>(x) & 0x7ffffffffffffffflu) == 0x7ff0000000000000lu; }
//@ c_fin64
fn c_fin64(x: f64) -> bool { return (bitcast<u64>(x) & 0x7ffffffffffffffflu) < 0x7ff0000000000000lu; }
//@ c_cs64
fn c_cs64(a: f64, b: f64) -> f64 { return bitcast<f64>((bitcast<u64>(a) & 0x7ffffffffffffffflu) | (bitcast<u64>(b) & 0x8000000000000000lu)); }
//@ c_xs64
fn c_xs64(a: f64, b: f64) -> f64 { return bitcast<f64>(bitcast<u64>(a) ^ (bitcast<u64>(b) & 0x8000000000000000lu)); }
//@ c_neg64
fn c_neg64(a: f64) -> f64 { return bitcast<f64>(bitcast<u64>(a) ^ 0x8000000000000000lu); }
//@ c_INF64
fn c_INF64() -> f64 { return bitcast<f64>(0x7ff0000000000000lu); }
//@ c_NAN64
fn c_NAN64() -> f64 { return bitcast<f64>(0x7ff8000000000000lu); }
"#;

// `ir::cmath`'s functions, one section per function (`//@ name`; the
// dependencies are read off the calls).
const COMPLEX: &str = r#"
//@ c_yy_$T
// y - y: 0 for finite y, else NaN.
fn c_yy_$T(y: $T) -> $T { return select(c_NAN$S(), 0.0$L, c_fin$S(y)); }
//@ c_sqrt_$T
// Principal square root (FreeBSD csqrt: scaled so x + |z| neither overflows nor loses bits).
fn c_sqrt_$T(x: $T, y: $T) -> vec2<$T> {
    if (x == 0.0$L && y == 0.0$L) { return vec2<$T>(0.0$L, y); }
    if (c_inf$S(y)) { return vec2<$T>(c_INF$S(), y); }
    if (c_nan$S(x)) { return vec2<$T>(x, c_NAN$S()); }
    if (c_inf$S(x)) {
        if (x < 0.0$L) { return vec2<$T>(abs(c_yy_$T(y)), c_cs$S(c_INF$S(), y)); }
        return vec2<$T>(x, c_cs$S(c_yy_$T(y), y));
    }
    if (c_nan$S(y)) { return vec2<$T>(y, y); }
    var xs = x;
    var ys = y;
    var back = 1.0$L;
    if (abs(x) >= $KSQRTBIG || abs(y) >= $KSQRTBIG) {
        xs = x * 0.25$L;
        ys = y * 0.25$L;
        back = 2.0$L;
    } else if (abs(x) < $KSQRTTINY && abs(y) < $KSQRTTINY) {
        xs = x * $KSQRTUP;
        ys = y * $KSQRTUP;
        back = $KSQRTDOWN;
    }
    let h = m_hypot_$T(xs, ys);
    if (xs >= 0.0$L) {
        let t = sqrt((xs + h) * 0.5$L);
        return vec2<$T>(t * back, ys / (2.0$L * t) * back);
    }
    let t = sqrt((h - xs) * 0.5$L);
    return vec2<$T>(abs(ys) / (2.0$L * t) * back, c_cs$S(t, ys) * back);
}
//@ c_exp_$T
fn c_exp_$T(x: $T, y: $T) -> vec2<$T> {
    if (y == 0.0$L) { return vec2<$T>(m_exp_$T(x), y); }
    if (!c_fin$S(y)) {
        if (c_inf$S(x)) {
            if (x > 0.0$L) { return vec2<$T>(x, c_NAN$S()); }
            return vec2<$T>(0.0$L, c_cs$S(0.0$L, y));
        }
        return vec2<$T>(c_NAN$S(), c_NAN$S());
    }
    if (c_nan$S(x)) { return vec2<$T>(x, x); }
    let s = m_sin_$T(y);
    let c = m_cos_$T(y);
    if (x > $KEXPBIG && c_fin$S(x)) {
        // e^x overflows but e^x cos y may not.
        let h = m_exp_$T(x * 0.5$L);
        return vec2<$T>(m_o$S(h * c) * h, m_o$S(h * s) * h);
    }
    let e = m_exp_$T(x);
    return vec2<$T>(e * c, e * s);
}
//@ c_x2y2m1_$T
// a² + b² - 1 with exact products and sums (no cancellation near |z| = 1).
// The products enter the sums opaque: lavapipe contracted `s + a * a` into an
// fma, which the product's error term then counted twice (log1p was 19 ULP off).
fn c_x2y2m1_$T(a: $T, b: $T) -> $T {
    let p1 = m_2prod$S(a, a);
    let p2 = m_2prod$S(b, b);
    let s1 = m_2sum$S(m_o$S(p1.x), -1.0$L);
    let s2 = m_2sum$S(s1.x, m_o$S(p2.x));
    return c_tail_$T(s1, s2, p1.y, p2.y);
}
//@ c_tail_$T
// s2.x + s1.y + s2.y + e1 + e2 (a cancelled sum's head and the errors of its
// two-sums and products) with the big terms added exactly: the result may be
// far smaller than the errors (|z| within 2^-30 of 1).
fn c_tail_$T(s1: vec2<$T>, s2: vec2<$T>, e1: $T, e2: $T) -> $T {
    let u1 = m_2sum$S(s2.x, e1);
    let u2 = m_2sum$S(u1.x, e2);
    return u2.x + m_o$S(m_o$S(u1.y + u2.y) + m_o$S(s1.y + s2.y));
}
//@ c_logabs_$T
// ln|z|, accurately also near |z| = 1.
fn c_logabs_$T(x: $T, y: $T) -> $T {
    let ax = abs(x);
    let ay = abs(y);
    let ge = ax >= ay;
    let a = select(ay, ax, ge);
    let b = select(ax, ay, ge);
    if (a >= 0.5$L && a <= 2.0$L && c_fin$S(b)) { return 0.5$L * m_log1p_$T(c_x2y2m1_$T(a, b)); }
    if (a > $KLOGBIG && c_fin$S(a) && c_fin$S(b)) {
        // |z| overflows f32 (not the interpreter's f64).
        return m_log_$T(m_hypot_$T(a * 0.25$L, b * 0.25$L)) + 2.0$L * $KLN2;
    }
    return m_log_$T(m_hypot_$T(a, b));
}
//@ c_log_$T
fn c_log_$T(x: $T, y: $T) -> vec2<$T> { return vec2<$T>(c_logabs_$T(x, y), m_atan2_$T(y, x)); }
//@ c_log2_$T
fn c_log2_$T(x: $T, y: $T) -> vec2<$T> {
    let l = c_log_$T(x, y);
    return vec2<$T>(l.x * $KLOG2E, l.y * $KLOG2E);
}
//@ c_log10_$T
fn c_log10_$T(x: $T, y: $T) -> vec2<$T> {
    let l = c_log_$T(x, y);
    return vec2<$T>(l.x * $KLOG10E, l.y * $KLOG10E);
}
//@ c_log1p_$T
// log(1 + z): the real part log1p(2x + x² + y²) / 2, the argument in exact products and sums.
fn c_log1p_$T(x: $T, y: $T) -> vec2<$T> {
    let xp = x + 1.0$L;
    let im = m_atan2_$T(y, xp);
    if (!c_fin$S(x) || !c_fin$S(y) || abs(x) > $KL1PBIG || abs(y) > $KL1PBIG) {
        return vec2<$T>(c_logabs_$T(xp, y), im);
    }
    let p1 = m_2prod$S(x, x);
    let p2 = m_2prod$S(y, y);
    let s1 = m_2sum$S(m_o$S(2.0$L * x), m_o$S(p1.x));
    let s2 = m_2sum$S(s1.x, m_o$S(p2.x));
    let t = c_tail_$T(s1, s2, p1.y, p2.y);
    if (t < -0.75$L) { return vec2<$T>(c_logabs_$T(xp, y), im); }
    return vec2<$T>(0.5$L * m_log1p_$T(t), im);
}
//@ c_expm1_$T
// e^z - 1: the real part expm1(x) cos y - 2 sin²(y/2) with exact products and sums.
fn c_expm1_$T(x: $T, y: $T) -> vec2<$T> {
    if (c_fin$S(x) && c_fin$S(y) && y != 0.0$L && x > -700.0$L && x <= $KEXPBIG) {
        let h = m_sin_$T(0.5$L * y);
        let p = m_2prod$S(m_expm1_$T(x), m_cos_$T(y));
        let q = m_2prod$S(-2.0$L * h, h);
        let s = m_2sum$S(m_o$S(p.x), m_o$S(q.x));
        var re = s.x + m_o$S(m_o$S(s.y + p.y) + q.y);
        $EM1ZERO
        return vec2<$T>(re, m_exp_$T(x) * m_sin_$T(y));
    }
    if (x > $KEXPBIG && x < $KEXPTOP && c_fin$S(y) && y != 0.0$L) {
        let e = m_exp_$T(x * 0.5$L);
        return vec2<$T>(m_o$S(e * m_cos_$T(y)) * e, m_o$S(e * m_sin_$T(y)) * e);
    }
    let a = m_sin_$T(y * 0.5$L);
    var im = m_exp_$T(x) * m_sin_$T(y);
    $EM1IMZERO
    return vec2<$T>(m_o$S(m_expm1_$T(x) * m_cos_$T(y)) - m_o$S(2.0$L * a * a), im);
}
//@ c_halfexp_$T
// e^a / 2 * t without overflowing early (cmath's big_exp_half, times t).
fn c_halfexp_$T(a: $T, t: $T) -> $T {
    if (a < $KEXPBIG) { return m_o$S(m_exp_$T(a) * 0.5$L) * t; }
    if (a < $KHALF2) {
        let e = m_exp_$T(a * 0.5$L);
        return m_o$S(m_o$S(e * 0.5$L) * t) * e;
    }
    $HALFEXPTAIL
}
//@ c_sinh_$T
// Hyperbolic sine (FreeBSD csinh, Annex G).
fn c_sinh_$T(x: $T, y: $T) -> vec2<$T> {
    if (c_fin$S(x) && c_fin$S(y)) {
        if (y == 0.0$L) { return vec2<$T>(m_sinh_$T(x), y); }
        let s = m_sin_$T(y);
        let c = m_cos_$T(y);
        if (abs(x) < $KSINHSMALL) { return vec2<$T>(m_sinh_$T(x) * c, m_cosh_$T(x) * s); }
        return vec2<$T>(c_halfexp_$T(abs(x), c_xs$S(c, x)), c_halfexp_$T(abs(x), s));
    }
    if (x == 0.0$L) { return vec2<$T>(x, c_NAN$S()); }
    if (y == 0.0$L) { return vec2<$T>(select(x, c_NAN$S(), c_nan$S(x)), y); }
    if (c_fin$S(x)) { return vec2<$T>(c_NAN$S(), c_NAN$S()); }
    if (c_inf$S(x)) {
        if (!c_fin$S(y)) { return vec2<$T>(c_INF$S(), c_NAN$S()); }
        let s = m_sin_$T(y);
        let c = m_cos_$T(y);
        return vec2<$T>(c_xs$S(x, c), c_cs$S(c_INF$S(), s));
    }
    return vec2<$T>(c_NAN$S(), c_NAN$S());
}
//@ c_cosh_$T
// Hyperbolic cosine (FreeBSD ccosh, Annex G).
fn c_cosh_$T(x: $T, y: $T) -> vec2<$T> {
    if (c_fin$S(x) && c_fin$S(y)) {
        if (y == 0.0$L) { return vec2<$T>(m_cosh_$T(x), c_xs$S(y, x)); }
        let s = m_sin_$T(y);
        let c = m_cos_$T(y);
        if (abs(x) < $KSINHSMALL) { return vec2<$T>(m_cosh_$T(x) * c, m_sinh_$T(x) * s); }
        return vec2<$T>(c_halfexp_$T(abs(x), c), c_halfexp_$T(abs(x), c_xs$S(s, x)));
    }
    if (x == 0.0$L) { return vec2<$T>(c_NAN$S(), 0.0$L); }
    if (y == 0.0$L) {
        if (c_nan$S(x)) { return vec2<$T>(x, y); }
        return vec2<$T>(c_INF$S(), c_xs$S(y, x));
    }
    if (c_fin$S(x)) { return vec2<$T>(c_NAN$S(), c_NAN$S()); }
    if (c_inf$S(x)) {
        if (!c_fin$S(y)) { return vec2<$T>(c_INF$S(), c_NAN$S()); }
        let s = m_sin_$T(y);
        let c = m_cos_$T(y);
        return vec2<$T>(c_cs$S(c_INF$S(), c), c_xs$S(x, s));
    }
    return vec2<$T>(c_NAN$S(), c_NAN$S());
}
//@ c_tanh_$T
// Hyperbolic tangent: (sinh x cosh x + i sin y cos y) / (sinh² x + cos² y).
fn c_tanh_$T(x: $T, y: $T) -> vec2<$T> {
    if (!c_fin$S(x)) {
        if (c_nan$S(x)) { return vec2<$T>(x, select(x, y, y == 0.0$L)); }
        var im = y;
        if (!c_inf$S(y)) { im = m_sin_$T(y) * m_cos_$T(y); }
        return vec2<$T>(c_cs$S(1.0$L, x), c_cs$S(0.0$L, im));
    }
    if (!c_fin$S(y)) {
        if (x == 0.0$L) { return vec2<$T>(x, c_NAN$S()); }
        return vec2<$T>(c_NAN$S(), c_NAN$S());
    }
    let sy = m_sin_$T(y);
    let cy = m_cos_$T(y);
    let ax = abs(x);
    if (ax >= $KSINHSMALL) {
        if (y == 0.0$L) { return vec2<$T>(c_cs$S(1.0$L, x), y); }
        if (ax >= $KTANHHUGE) { return vec2<$T>(c_cs$S(1.0$L, x), c_cs$S(0.0$L, sy * cy)); }
        // 4 sin y cos y e^(-2|x|), underflowing once.
        let e = m_exp_$T(-ax);
        return vec2<$T>(c_cs$S(1.0$L, x), m_o$S(m_o$S(4.0$L * sy * cy) * e) * e);
    }
    let sh = m_sinh_$T(ax);
    let ch = m_cosh_$T(ax);
    let d = m_o$S(sh * sh) + m_o$S(cy * cy);
    var re = x;
    if (x != 0.0$L) { re = c_cs$S(m_o$S(sh * ch) / d, x); }
    var im = y;
    if (y != 0.0$L) { im = m_o$S(sy * cy) / d; }
    return vec2<$T>(re, im);
}
//@ c_sin_$T
// sin z = -i sinh(iz).
fn c_sin_$T(x: $T, y: $T) -> vec2<$T> {
    if (!c_fin$S(x) && c_inf$S(y)) { return vec2<$T>(c_NAN$S(), c_INF$S()); }
    let r = c_sinh_$T(c_neg$S(y), x);
    return vec2<$T>(r.y, c_neg$S(r.x));
}
//@ c_cos_$T
fn c_cos_$T(x: $T, y: $T) -> vec2<$T> { return c_cosh_$T(c_neg$S(y), x); }
//@ c_tan_$T
fn c_tan_$T(x: $T, y: $T) -> vec2<$T> {
    let r = c_tanh_$T(c_neg$S(y), x);
    return vec2<$T>(r.y, c_neg$S(r.x));
}
//@ c_asinfin_$T
// arcsin of a finite z (Kahan: the square roots of 1 - z and 1 + z).
fn c_asinfin_$T(x: $T, y: $T) -> vec2<$T> {
    // (f32: huge z scaled so the roots' products do not overflow.)
    let big = abs(x) > $KASBIG || abs(y) > $KASBIG;
    let k = select(1.0$L, $KAS, big);
    let s1 = c_sqrt_$T(1.0$L - x, c_neg$S(y)) * k;
    let s2 = c_sqrt_$T(1.0$L + x, y) * k;
    let re = m_atan2_$T(x * select(1.0$L, $KAS * $KAS, big), m_o$S(s1.x * s2.x) - m_o$S(s1.y * s2.y));
    let im = c_asinhk_$T(m_o$S(s1.x * s2.y) - m_o$S(s1.y * s2.x), big);
    return vec2<$T>(re, im);
}
//@ c_asinhk_$T
// asinh(v), or asinh(v / KAS²) when big.
fn c_asinhk_$T(v: $T, big: bool) -> $T {
    if (!big) { return m_asinh_$T(v); }
    if (abs(v) < $KASSMALL) { return m_asinh_$T(v / ($KAS * $KAS)); }
    return c_cs$S(m_log_$T(abs(v)) + $KASLN, v);
}
//@ c_arcsinh_$T
fn c_arcsinh_$T(x: $T, y: $T) -> vec2<$T> {
    if (!c_fin$S(x) || !c_fin$S(y)) {
        let ax = abs(x);
        let ay = abs(y);
        var r: $T;
        var i: $T;
        if (c_nan$S(x)) {
            if (y == 0.0$L) { r = x; i = y; } else if (c_inf$S(y)) { r = c_INF$S(); i = x; } else { r = x; i = x; }
        } else if (c_nan$S(y)) {
            if (c_inf$S(ax)) { r = ax; i = y; } else { r = y; i = y; }
        } else if (c_inf$S(ax)) {
            r = ax;
            i = select(0.0$L, $KPI4, c_inf$S(ay));
        } else {
            r = c_INF$S();
            i = $KPI2;
        }
        return vec2<$T>(c_cs$S(r, x), c_cs$S(i, y));
    }
    let a = c_asinfin_$T(y, c_neg$S(x));
    return vec2<$T>(c_neg$S(a.y), a.x);
}
//@ c_arcsin_$T
fn c_arcsin_$T(x: $T, y: $T) -> vec2<$T> {
    let r = c_arcsinh_$T(c_neg$S(y), x);
    return vec2<$T>(r.y, c_neg$S(r.x));
}
//@ c_arccos_$T
fn c_arccos_$T(x: $T, y: $T) -> vec2<$T> {
    if (!c_fin$S(x) || !c_fin$S(y)) {
        var r: $T;
        var i: $T;
        let ninf = c_neg$S(c_INF$S());
        if (c_nan$S(x)) {
            if (c_inf$S(y)) { r = x; i = ninf; } else { r = x; i = x; }
        } else if (c_nan$S(y)) {
            if (c_inf$S(x)) { r = y; i = ninf; } else if (x == 0.0$L) { r = $KPI2; i = y; } else { r = y; i = y; }
        } else if (c_inf$S(x)) {
            let yi = c_inf$S(y);
            if (x > 0.0$L) { r = select(0.0$L, $KPI4, yi); } else { r = select($KPI, $K3PI4, yi); }
            i = ninf;
        } else {
            r = $KPI2;
            i = ninf;
        }
        if (c_nan$S(y)) { return vec2<$T>(r, i); }
        return vec2<$T>(r, c_cs$S(i, c_neg$S(y)));
    }
    let big = abs(x) > $KASBIG || abs(y) > $KASBIG;
    let k = select(1.0$L, $KAS, big);
    let s1 = c_sqrt_$T(1.0$L - x, c_neg$S(y)) * k;
    let s2 = c_sqrt_$T(1.0$L + x, y) * k;
    let re = 2.0$L * m_atan2_$T(s1.x, s2.x);
    let im = c_asinhk_$T(m_o$S(s2.x * s1.y) - m_o$S(s2.y * s1.x), big);
    return vec2<$T>(re, im);
}
//@ c_arccosh_$T
fn c_arccosh_$T(x: $T, y: $T) -> vec2<$T> {
    let a = c_arccos_$T(x, y);
    return vec2<$T>(abs(a.y), c_cs$S(a.x, y));
}
//@ c_arctanh_$T
fn c_arctanh_$T(x: $T, y: $T) -> vec2<$T> {
    let ax = abs(x);
    let ay = abs(y);
    var r: $T;
    var i: $T;
    if (c_nan$S(x) || c_nan$S(y)) {
        if (c_inf$S(ay)) { r = 0.0$L; i = $KPI2; }
        else if (c_inf$S(ax)) { r = 0.0$L; i = y; }
        else if (ax == 0.0$L && !c_nan$S(x)) { r = ax; i = y; }
        else { r = c_NAN$S(); i = c_NAN$S(); }
    } else if (c_inf$S(ax) || c_inf$S(ay)) {
        r = 0.0$L;
        i = $KPI2;
    } else if (ax > $KATHBIG || ay > $KATHBIG) {
        $ATHBIG
        i = $KPI2;
    } else if (ax == 1.0$L && ay < $KATHTINY) {
        r = 0.5$L * ($KLN2 - m_log_$T(ay));
        i = 0.5$L * m_atan2_$T(2.0$L * ay, 0.0$L);
    } else {
        let u = 1.0$L - ax;
        let d = m_o$S(u * u) + m_o$S(ay * ay);
        r = 0.25$L * m_log1p_$T(4.0$L * ax / d);
        // (1 - ax)(1 + ax) - ay² = -(ax² + ay² - 1), without cancellation.
        i = 0.5$L * m_atan2_$T(2.0$L * ay, c_neg$S(c_x2y2m1_$T(ax, ay)));
    }
    return vec2<$T>(c_cs$S(r, x), c_cs$S(i, y));
}
//@ c_arctan_$T
fn c_arctan_$T(x: $T, y: $T) -> vec2<$T> {
    let r = c_arctanh_$T(c_neg$S(y), x);
    return vec2<$T>(r.y, c_neg$S(r.x));
}
//@ c_sign_$T
// NumPy 2's z / |z|.
fn c_sign_$T(x: $T, y: $T) -> vec2<$T> {
    let m = m_hypot_$T(x, y);
    if (c_nan$S(m)) { return vec2<$T>(c_NAN$S(), c_NAN$S()); }
    if (c_inf$S(m)) {
        let xi = c_inf$S(x);
        let yi = c_inf$S(y);
        if (xi && yi) { return vec2<$T>(c_NAN$S(), c_NAN$S()); }
        if (xi) { return vec2<$T>(c_cs$S(1.0$L, x), 0.0$L); }
        if (yi) { return vec2<$T>(0.0$L, c_cs$S(1.0$L, y)); }
        $SIGNOVF
    }
    if (m == 0.0$L) { return vec2<$T>(0.0$L, 0.0$L); }
    return vec2<$T>(x / m, y / m);
}
//@ c_reciprocal_$T
// NumPy's reciprocal loop, in the dtype's own width.
fn c_reciprocal_$T(r: $T, i: $T) -> vec2<$T> {
    if (abs(i) <= abs(r)) {
        let q = i / r;
        let d = r + m_o$S(i * q);
        return vec2<$T>(1.0$L / d, c_neg$S(q) / d);
    }
    let q = r / i;
    let d = m_o$S(r * q) + i;
    return vec2<$T>(q / d, -1.0$L / d);
}
"#;
