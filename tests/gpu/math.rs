//! The WGSL math library (`backend::wgsl::math`) against the reference
//! interpreter (`ir::scalar`): special values bit for bit, seeded random
//! arguments within a per-function ULP bound.
//!
//! Each function runs in a small shader of its own (binding layout as the
//! code generator's: inputs, then the output, then a uniform), so float64
//! functions are tested even before the code generator emits float64.
//! Without an adapter these tests print a notice and pass, unless
//! `JITEXPR_REQUIRE_GPU=1`.
#![cfg(feature = "gpu")]

use std::collections::BTreeSet;

use crate::common::gpu_device as gpu;
use jitexpr::internals::backend::wgsl::{device, math};
use jitexpr::internals::ir::{BinaryOp, UnaryOp};
use jitexpr::{DType, Scalar};

/// Runs `body` (a WGSL expression over `a` and `b`) on every element; values as bit patterns.
fn run_raw(
    g: &'static device::Gpu,
    ty: &str,
    lib: &str,
    body: &str,
    a: &[u64],
    b: &[u64],
) -> Vec<u64> {
    let n = a.len();
    let wide = ty == "f64";
    let enc = |v: &[u64]| -> Vec<u8> {
        v.iter()
            .flat_map(|&x| {
                if wide {
                    x.to_le_bytes().to_vec()
                } else {
                    (x as u32).to_le_bytes().to_vec()
                }
            })
            .collect()
    };
    let shader = format!(
        "@group(0) @binding(0) var<storage, read> in0: array<{ty}>;\n\
         @group(0) @binding(1) var<storage, read> in1: array<{ty}>;\n\
         @group(0) @binding(2) var<storage, read_write> out: array<{ty}>;\n\
         struct Params {{ n: u32, p1: u32, p2: u32, p3: u32 }}\n\
         @group(0) @binding(3) var<uniform> params: Params;\n\
         @compute @workgroup_size(256)\n\
         fn main(@builtin(global_invocation_id) gid: vec3<u32>) {{\n\
             let i = gid.x;\n\
             if (i >= params.n) {{ return; }}\n\
             let a = in0[i];\n\
             let b = in1[min(i, arrayLength(&in1) - 1u)];\n\
             out[i] = {body};\n\
         }}\n{lib}"
    );
    let bb = if b.is_empty() { vec![0u64] } else { b.to_vec() };
    let params: Vec<u8> = [n as u32, 0, 0, 0]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    let size = if wide { 8 } else { 4 };
    let bytes = g
        .run(&shader, &[enc(a), enc(&bb)], &params, n * size, n)
        .unwrap_or_else(|e| panic!("{body}: {}\n{shader}", e.render()));
    bytes
        .chunks_exact(size)
        .map(|c| {
            if wide {
                u64::from_le_bytes(c.try_into().unwrap())
            } else {
                u64::from(u32::from_le_bytes(c.try_into().unwrap()))
            }
        })
        .collect()
}

fn wgpu_f64() -> wgpu::Features {
    wgpu::Features::SHADER_F64 | wgpu::Features::SHADER_INT64
}

/// In [`BOUNDS`]: the library has no function for this dtype (yet).
const NONE: u64 = u64::MAX;

#[derive(Clone, Copy, Debug)]
enum Op {
    U(UnaryOp),
    B(BinaryOp),
}

/// Max ULP against the interpreter, per function: (function, float32 bound, float64 bound).
/// The bounds are the maxima measured with `GPU_MATH_N=200000`; [`NONE`]: no GPU function.
const BOUNDS: &[(Op, u64, u64)] = &[
    (Op::U(UnaryOp::Cbrt), 1, 1),
    (Op::U(UnaryOp::Exp), 1, 1),
    (Op::U(UnaryOp::Expm1), 1, 1),
    (Op::U(UnaryOp::Exp2), 1, 1),
    (Op::U(UnaryOp::Log), 1, 1),
    (Op::U(UnaryOp::Log1p), 1, 1),
    (Op::U(UnaryOp::Log2), 1, 1),
    (Op::U(UnaryOp::Log10), 2, 2),
    (Op::U(UnaryOp::Sin), 1, 1),
    (Op::U(UnaryOp::Cos), 1, 1),
    (Op::U(UnaryOp::Tan), 2, 3),
    (Op::U(UnaryOp::Arcsin), 1, 1),
    (Op::U(UnaryOp::Arccos), 1, 1),
    (Op::U(UnaryOp::Arctan), 1, 1),
    (Op::U(UnaryOp::Sinh), 2, 2),
    (Op::U(UnaryOp::Cosh), 2, 2),
    (Op::U(UnaryOp::Tanh), 2, 3),
    (Op::U(UnaryOp::Arcsinh), 2, 1),
    (Op::U(UnaryOp::Arccosh), 2, 2),
    (Op::U(UnaryOp::Arctanh), 2, 1),
    (Op::U(UnaryOp::Erf), 1, 1),
    (Op::U(UnaryOp::Erfc), 3, 4),
    (Op::B(BinaryOp::Arctan2), 2, 1),
    (Op::B(BinaryOp::Hypot), 0, 1),
    (Op::B(BinaryOp::Pow), 1, 1),
    (Op::B(BinaryOp::Fmod), 0, 0),
    (Op::B(BinaryOp::Nextafter), 0, 0),
    (Op::B(BinaryOp::FloorDiv), 0, 0),
    (Op::B(BinaryOp::Mod), 0, 0),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Typical argument scale and points where functions are delicate.
fn domain(op: Op) -> (f64, Vec<f64>) {
    use std::f64::consts::*;
    match op {
        Op::U(UnaryOp::Exp | UnaryOp::Expm1 | UnaryOp::Sinh | UnaryOp::Cosh) => (
            100.0,
            vec![
                88.72283, 88.722839, 89.4159, -87.33655, -103.97208, -745.13, 709.78, 710.47,
                0.3466, 0.5, 1.0,
            ],
        ),
        Op::U(UnaryOp::Exp2) => (160.0, vec![128.0, -126.0, -149.0, -150.0, 1024.0, -1074.0]),
        Op::U(UnaryOp::Tanh) => (12.0, vec![0.5493, 0.2554, 10.0, 22.0, 1e-3]),
        Op::U(UnaryOp::Sin | UnaryOp::Cos | UnaryOp::Tan) => (
            20.0,
            vec![
                FRAC_PI_2,
                PI,
                FRAC_PI_4,
                3.0 * FRAC_PI_2,
                100.0 * PI,
                1e4 * FRAC_PI_2,
                201.0,
            ],
        ),
        Op::U(UnaryOp::Arcsin | UnaryOp::Arccos | UnaryOp::Arctanh) => {
            (1.0, vec![1.0, 0.5, 0.975, 1e-4])
        }
        Op::U(UnaryOp::Arccosh) => (10.0, vec![1.0, 2.0, 4096.0]),
        Op::U(UnaryOp::Log | UnaryOp::Log2 | UnaryOp::Log10 | UnaryOp::Cbrt) => {
            (10.0, vec![1.0, SQRT_2, FRAC_1_SQRT_2, 2.0, 10.0])
        }
        Op::U(UnaryOp::Log1p) => (2.0, vec![-0.2929, 0.4142, 1e-8, -1.0 + 1e-6]),
        Op::U(UnaryOp::Erf | UnaryOp::Erfc) => (
            8.0,
            vec![
                0.84375, 0.25, 1.25, 2.857, 6.0, 10.0, 26.5, 27.2, 1e-9, 1e-30,
            ],
        ),
        Op::B(BinaryOp::Pow) => (4.0, vec![1.0, 2.0, 0.5, 10.0, 1.0 + 1e-9]),
        _ => (10.0, vec![1.0, 2.0, 0.5]),
    }
}

fn specials(wide: bool) -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.0,
        -2.0,
        3.0,
        -3.0,
        10.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        1e30,
        -1e30,
    ];
    if wide {
        v.extend([
            f64::MAX,
            -f64::MAX,
            5e-324,
            -5e-324,
            f64::MIN_POSITIVE,
            1e300,
            -1e300,
            // Odd and even integers at the top of the significand (the sign of pow).
            4503599627370497.0,
            -4503599627370497.0,
            9007199254740992.0,
            -1.0000001,
        ]);
    } else {
        v.extend([
            f32::MAX as f64,
            -f32::MAX as f64,
            1e-45,
            -1e-45,
            f32::MIN_POSITIVE as f64,
            1e-40,
            16777215.0,
            -16777215.0,
            -1.0000001,
        ]);
    }
    v
}

/// Seeded arguments: random bit patterns (every magnitude, subnormals), uniform
/// on the function's scale, and points near its delicate places.
fn random_args(rng: &mut Rng, op: Op, wide: bool, n: usize) -> Vec<f64> {
    let (scale, points) = domain(op);
    (0..n)
        .map(|i| match i % 4 {
            0 => {
                if wide {
                    f64::from_bits(rng.next())
                } else {
                    f32::from_bits(rng.next() as u32) as f64
                }
            }
            1 => (rng.unit() * 2.0 - 1.0) * scale,
            2 => {
                let p = points[(rng.next() % points.len() as u64) as usize];
                let s = if rng.next().is_multiple_of(4) {
                    -1.0
                } else {
                    1.0
                };
                s * p * (1.0 + (rng.unit() - 0.5) * 1e-3f64.powi((rng.next() % 4) as i32))
            }
            _ => {
                let e = (rng.unit() * 2.0 - 1.0) * if wide { 300.0 } else { 37.0 };
                let s = if rng.next().is_multiple_of(2) {
                    -1.0
                } else {
                    1.0
                };
                s * 10f64.powf(e)
            }
        })
        .filter(|x| x.is_finite() || wide)
        .collect()
}

fn to_bits(x: f64, wide: bool) -> u64 {
    if wide {
        x.to_bits()
    } else {
        u64::from((x as f32).to_bits())
    }
}

fn reference(op: Op, a: u64, b: u64, wide: bool) -> u64 {
    let s = |v: u64| {
        if wide {
            Scalar::Float64(f64::from_bits(v))
        } else {
            Scalar::Float32(f32::from_bits(v as u32))
        }
    };
    let r = match op {
        Op::U(u) => jitexpr::internals::ir::scalar::unary(u, s(a)),
        Op::B(bop) => jitexpr::internals::ir::scalar::binary(bop, s(a), s(b)),
    };
    match r {
        Scalar::Float64(v) => v.to_bits(),
        Scalar::Float32(v) => u64::from(v.to_bits()),
        other => panic!("{other:?}"),
    }
}

fn is_nan(v: u64, wide: bool) -> bool {
    if wide {
        f64::from_bits(v).is_nan()
    } else {
        f32::from_bits(v as u32).is_nan()
    }
}

/// Distance in units in the last place (through ±0, to ±inf as one past the largest finite).
fn ulps(x: u64, y: u64, wide: bool) -> u64 {
    let ord = |v: u64| -> i128 {
        let (sign, mag) = if wide {
            (v >> 63 != 0, (v & !(1 << 63)) as i128)
        } else {
            (v >> 31 != 0, (v & 0x7fff_ffff) as i128)
        };
        if sign { -mag } else { mag }
    };
    (ord(x) - ord(y)).unsigned_abs() as u64
}

/// Checks one function on one dtype; returns the max ULP seen on non-special values.
fn check(g: &'static device::Gpu, op: Op, dtype: DType, n: usize) -> (u64, Vec<String>) {
    let wide = dtype == DType::Float64;
    let (name, binary) = match op {
        Op::U(u) => (math::unary_fn(u, dtype), false),
        Op::B(b) => (math::binary_fn(b, dtype), true),
    };
    let name = name.unwrap_or_else(|| panic!("no WGSL function for {op:?} on {dtype}"));
    let mut lib = math::library(&BTreeSet::from([name]));
    // Development: the whole library from a file, without rebuilding the crate.
    if let Ok(path) = std::env::var("GPU_MATH_LIB") {
        lib = std::fs::read_to_string(path).unwrap();
        lib.push_str(&math::library(&BTreeSet::from(["M_POW_TAB_F32"])));
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (name.len() as u64 * 7919));
    let sp = specials(wide);
    let (mut a, mut b): (Vec<f64>, Vec<f64>) = if binary {
        sp.iter()
            .flat_map(|&x| sp.iter().map(move |&y| (x, y)))
            .unzip()
    } else {
        (sp.clone(), vec![])
    };
    let ra = random_args(&mut rng, op, wide, n);
    if binary {
        let mut rb = random_args(&mut rng, op, wide, ra.len());
        rb.resize(ra.len(), 1.5);
        // Mostly moderate second operands (exponents, divisors), some from anywhere.
        b.extend(rb.iter().enumerate().map(|(i, &y)| match i % 3 {
            0 => y,
            1 => (y * 1e3).round() / 1e3,
            _ => (rng.unit() * 2.0 - 1.0) * if op_is(op, BinaryOp::Pow) { 60.0 } else { 10.0 },
        }));
    }
    a.extend(ra);
    let a: Vec<u64> = a.iter().map(|&x| to_bits(x, wide)).collect();
    let b: Vec<u64> = b.iter().map(|&x| to_bits(x, wide)).collect();
    let body = if binary {
        format!("{name}(a, b)")
    } else {
        format!("{name}(a)")
    };
    let got = run_raw(g, if wide { "f64" } else { "f32" }, &lib, &body, &a, &b);
    let show = |v: u64| {
        if wide {
            format!("{:e}", f64::from_bits(v))
        } else {
            format!("{:e}", f32::from_bits(v as u32))
        }
    };
    let mut worst = (0u64, String::new());
    let mut bad = Vec::new();
    for i in 0..a.len() {
        let bi = if binary { b[i] } else { 0 };
        let want = reference(op, a[i], bi, wide);
        let have = got[i];
        let special_in = |v: u64| {
            let m = if wide {
                v & !(1 << 63)
            } else {
                v & 0x7fff_ffff
            };
            let inf = if wide {
                0x7ff0_0000_0000_0000
            } else {
                0x7f80_0000
            };
            m == 0 || m >= inf
        };
        let exact = is_nan(want, wide)
            || is_nan(have, wide)
            || special_in(want)
            || special_in(a[i])
            || (binary && special_in(bi));
        let args = if binary {
            format!("({}, {})", show(a[i]), show(bi))
        } else {
            format!("({})", show(a[i]))
        };
        if exact {
            // NaN: the sign too (copysign and signbit show it), not the payload.
            let sign = |v: u64| if wide { v >> 63 } else { v >> 31 };
            let same = want == have
                || (is_nan(want, wide) && is_nan(have, wide) && sign(want) == sign(have));
            if !same && bad.len() < 20 {
                bad.push(format!(
                    "{name}{args}: gpu {} interp {}",
                    show(have),
                    show(want)
                ));
            }
        } else {
            let u = ulps(want, have, wide);
            if u > worst.0 {
                worst = (
                    u,
                    format!("{name}{args}: gpu {} interp {}", show(have), show(want)),
                );
            }
        }
    }
    eprintln!(
        "{name}: max {} ulp over {} values ({})",
        worst.0,
        a.len(),
        worst.1
    );
    (worst.0, bad)
}

fn op_is(op: Op, b: BinaryOp) -> bool {
    matches!(op, Op::B(x) if x == b)
}

fn check_all(dtype: DType, n: usize) {
    let Some(g) = gpu() else { return };
    if dtype == DType::Float64 && !g.features.contains(wgpu_f64()) {
        eprintln!("notice: adapter without SHADER_F64/SHADER_INT64; float64 math skipped");
        return;
    }
    let only = std::env::var("GPU_MATH_ONLY").ok();
    let mut over = Vec::new();
    for &(op, b32, b64) in BOUNDS {
        if only
            .as_deref()
            .is_some_and(|o| !format!("{op:?}").contains(o))
        {
            continue;
        }
        let bound = if dtype == DType::Float64 { b64 } else { b32 };
        if bound == NONE {
            let name = match op {
                Op::U(u) => math::unary_fn(u, dtype),
                Op::B(b) => math::binary_fn(b, dtype),
            };
            assert_eq!(name, None, "{op:?} on {dtype}: a function but no bound");
            continue;
        }
        // GPU_MATH_N: more random arguments per function (the default keeps the test quick).
        let n = std::env::var("GPU_MATH_N").map_or(n, |v| v.parse().unwrap());
        let (u, bad) = check(g, op, dtype, n);
        over.extend(bad);
        if u > bound {
            over.push(format!("{op:?}: {u} ulp > bound {bound}"));
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n"));
}

/// Every float math function of the op tables (`ir::op`) has a bound here,
/// so a new function is measured on the GPU (`NONE` needs no WGSL function).
#[test]
fn every_math_function_has_a_bound() {
    let unary = UnaryOp::ALL
        .iter()
        .filter(|u| u.implementation().is_math())
        .map(|&u| Op::U(u));
    // The complex split's internal parts have no WGSL version.
    let binary = BinaryOp::ALL
        .iter()
        .filter(|b| b.implementation().is_math() && !b.is_internal())
        .map(|&b| Op::B(b));
    for op in unary.chain(binary) {
        assert!(
            BOUNDS
                .iter()
                .any(|&(o, ..)| format!("{o:?}") == format!("{op:?}")),
            "{op:?} has no entry in BOUNDS"
        );
    }
}

#[test]
fn float32_functions_within_bounds() {
    check_all(DType::Float32, 4000);
}

#[test]
fn float64_functions_within_bounds() {
    check_all(DType::Float64, 4000);
}

/// Every float32 function end to end (code generator, `library`, the real
/// shader's prelude and bindings) against the interpreter, and one
/// expression using many functions at once (each library function defined once).
#[test]
fn float32_functions_through_the_public_api() {
    use jitexpr::{Backend, Options, Vars};
    use ndarray::Array1;
    if gpu().is_none() {
        return;
    }
    let mut rng = Rng(42);
    let sp: Vec<f32> = specials(false).iter().map(|&v| v as f32).collect();
    let n = sp.len() * sp.len() + 400;
    let mut xs: Vec<f32> = sp.iter().flat_map(|&a| sp.iter().map(move |_| a)).collect();
    let mut ys: Vec<f32> = sp.iter().flat_map(|_| sp.iter().copied()).collect();
    while xs.len() < n {
        xs.push(((rng.unit() * 2.0 - 1.0) * 8.0) as f32);
        ys.push(((rng.unit() * 2.0 - 1.0) * 8.0) as f32);
    }
    let x = Array1::from_vec(xs);
    let y = Array1::from_vec(ys);
    let vars = Vars::new().with("x", &x).with("y", &y);
    let mut exprs: Vec<(String, u64)> = BOUNDS
        .iter()
        .map(|&(op, b32, _)| {
            let e = match op {
                Op::U(u) => format!("{}(x)", u.name()),
                Op::B(BinaryOp::Pow) => "x ** y".into(),
                Op::B(BinaryOp::FloorDiv) => "x // y".into(),
                Op::B(BinaryOp::Mod) => "x % y".into(),
                Op::B(b) => format!("{}(x, y)", b.name()),
            };
            (e, b32)
        })
        .collect();
    // Products of positive factors: errors add up, nothing cancels.
    exprs.push((
        "where(x > 0, exp(sin(x)) * exp(cos(y)) * hypot(x, y), exp(arctan2(x, y)) * cosh(y))"
            .into(),
        16,
    ));
    for (e, bound) in exprs {
        let want =
            jitexpr::evaluate_with(&e, &vars, Options::with_backend(Backend::Interpreter)).unwrap();
        let got = jitexpr::evaluate_with(&e, &vars, Options::with_backend(Backend::Gpu))
            .unwrap_or_else(|err| panic!("{e}: {}", err.render()));
        let (want, got) = (want.to_scalars(), got.to_scalars());
        for i in 0..n {
            let (Scalar::Float32(w), Scalar::Float32(h)) = (want[i], got[i]) else {
                panic!("{e}: not float32");
            };
            let (w, h) = (u64::from(w.to_bits()), u64::from(h.to_bits()));
            let ok = if is_nan(w, false) || is_nan(h, false) {
                is_nan(w, false) && is_nan(h, false)
            } else {
                ulps(w, h, false) <= bound
            };
            assert!(
                ok,
                "{e} at x = {:e}, y = {:e}: gpu {:e} interp {:e}",
                x[i],
                y[i],
                f32::from_bits(h as u32),
                f32::from_bits(w as u32)
            );
        }
    }
}
