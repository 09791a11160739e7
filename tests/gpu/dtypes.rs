//! int8, int16, uint8, uint16, uint32, uint64 and float16 on the GPU against
//! the interpreter, bit for bit: packed inputs at every offset inside a
//! 32-bit word (lengths 0, 1, 3, 5, 1023, 1025; broadcasting; strided and
//! reversed views), NumPy's wrapping, saturating casts and float16's
//! rounding, reductions and matrix products.
#![cfg(feature = "gpu")]

use crate::common::{close, gpu_available, same_bits};
use jitexpr::{Array, ArrayView, Backend, DType, ErrorKind, Options, Scalar, Signature, Vars};
use ndarray::s;

/// The dtypes added to the shaders (uint64 needs `SHADER_INT64`, which
/// lavapipe has).
const NEW: [DType; 7] = [
    DType::Int8,
    DType::Int16,
    DType::UInt8,
    DType::UInt16,
    DType::UInt32,
    DType::UInt64,
    DType::Float16,
];

const LENGTHS: [usize; 6] = [0, 1, 3, 5, 1023, 1025];

const INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    3,
    -7,
    7,
    8,
    15,
    16,
    17,
    31,
    32,
    33,
    63,
    64,
    100,
    127,
    128,
    200,
    255,
    256,
    -128,
    -129,
    1000,
    -1000,
    32767,
    -32768,
    65535,
    65536,
    1 << 31,
    -(1 << 31),
    4_294_967_295,
    i64::MAX,
    i64::MIN,
    12345,
    -54321,
];

/// Ties, overflow to inf and underflow of float16, subnormals, NaN.
const FLOATS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1.5,
    2.5,
    -2.5,
    65504.0,
    65519.0,
    65520.0,
    1e5,
    -1e5,
    6e-8,
    3e-8,
    2.98e-8,
    2.9802322387695312e-8,
    1e-5,
    6.1e-5,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    0.1,
    3.25,
    -300.7,
    1e-300,
    255.9,
    -128.5,
    4294967296.0,
    1.0009765625,
    1.00048828125,
    1.000732421875,
    -2049.0,
];

fn gpu() -> Options {
    Options::with_backend(Backend::Gpu)
}

fn interp() -> Options {
    Options::with_backend(Backend::Interpreter)
}

/// `n` values of `d` from the tables, starting at `seed`.
fn values(d: DType, n: usize, seed: usize) -> Array {
    let v: Vec<Scalar> = (0..n)
        .map(|k| {
            let j = k * 7 + seed;
            if d.is_float() {
                Scalar::Float64(FLOATS[j % FLOATS.len()]).cast(d)
            } else {
                Scalar::Int64(INTS[j % INTS.len()]).cast(d)
            }
        })
        .collect();
    Array::from_scalars(d, &[n], &v).unwrap()
}

/// Values of `d` in `shape` (C order), from the tables at `seed`.
pub fn shaped(d: DType, shape: &[usize], seed: usize) -> Array {
    let n = shape.iter().product();
    Array::from_scalars(d, shape, &values(d, n, seed).to_scalars()).unwrap()
}

/// A view of every third element (`step` 3) or of the elements reversed (`step` -1).
fn stepped(a: &Array, step: isize) -> ArrayView<'_> {
    macro_rules! each {
        ($($v:ident),*) => {
            match a.view() {
                $(ArrayView::$v(x) => ArrayView::$v(x.slice_move(s![..;step]).into_dyn()),)*
                other => other,
            }
        };
    }
    each!(
        Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float16, Float32, Float64, Bool
    )
}

/// Evaluates `e` on both backends: the same bits, or the same error kind.
fn check(
    e: &str,
    vars: &Vars<'_>,
    failures: &mut Vec<String>,
    agree: impl Fn(&Array, &Array) -> bool,
) {
    let want = jitexpr::evaluate_with(e, vars, interp());
    let got = jitexpr::evaluate_with(e, vars, gpu());
    match (got, want) {
        (Ok(g), Ok(w)) if agree(&g, &w) => {}
        (Err(g), Err(w)) if g.kind() == w.kind() => {}
        (g, w) => failures.push(format!(
            "`{e}` {:?}:\n  gpu:    {:?}\n  interp: {:?}",
            Signature::of(vars),
            g.map(|a| a.to_scalars()).map_err(|e| e.render()),
            w.map(|a| a.to_scalars()).map_err(|e| e.render())
        )),
    }
}

const INT_EXPRS: &[&str] = &[
    "a + b",
    "a - b",
    "a * b",
    "a // b",
    "a % b",
    "fmod(a, b)",
    "a ** b",
    "a ** 3",
    "a << b",
    "a >> b",
    "a << 3",
    "a >> 2",
    "a & b",
    "a | b",
    "a ^ b",
    "~a",
    "-a",
    "abs(a)",
    "sign(a)",
    "reciprocal(a)",
    "maximum(a, b)",
    "minimum(a, b)",
    "(a < b) ^ (a <= b) ^ (a == b)",
    "(a != b) | (a > b) & (a >= b)",
    "where(a > b, a, b)",
    "a + 100",
    "a * 3 - 7",
    "isnan(a) | signbit(a) | isinf(a) | ~isfinite(a)",
    "floor(a) + ceil(a) + trunc(a)",
    "a / b",
    "sqrt(a)",
];

const FLOAT16_EXPRS: &[&str] = &[
    "a + b",
    "a - b",
    "a * b",
    "a / b",
    "a // b",
    "a % b",
    "-a",
    "abs(a)",
    "sqrt(a)",
    "floor(a) + ceil(a)",
    "rint(a) - trunc(a)",
    "sign(a)",
    "reciprocal(a)",
    "maximum(a, b)",
    "minimum(a, b)",
    "copysign(a, b)",
    "(a < b) ^ (a <= b) ^ (a == b)",
    "(a != b) | (a > b) & (a >= b)",
    "where(a > b, a, b)",
    "isnan(a) | isinf(a)",
    "signbit(a) ^ isfinite(a)",
    "a * 3 - 7",
    "a + 0.1",
];

/// Casts between every pair of these dtypes and from the float32, float64,
/// int32 and int64 specials, and mixed-dtype arithmetic (promotion).
const CASTS: &[&str] = &[
    "bool(a)",
    "int8(a)",
    "uint8(a)",
    "int16(a)",
    "uint16(a)",
    "int32(a)",
    "uint32(a)",
    "int64(a)",
    "uint64(a)",
    "float16(a)",
    "float32(a)",
    "float64(a)",
    "a + x",
    "a * i",
    "a - k",
    "a * f",
    "a + m",
    "where(m, a, b) + c",
    "a + c",
    "c * a - b",
];

const FROM_SPECIALS: &[&str] = &[
    "int8(x)",
    "int8(f)",
    "uint8(x)",
    "uint8(f)",
    "int16(x)",
    "int16(f)",
    "uint16(x)",
    "uint16(f)",
    "uint32(x)",
    "uint32(f)",
    "uint64(x)",
    "uint64(f)",
    "float16(x)",
    "float16(f)",
    "float16(i)",
    "float16(k)",
    "float16(m)",
    "int8(i)",
    "uint8(k)",
    "uint16(i) + uint8(k)",
    "int16(k) - int8(i)",
];

/// `x` float32, `f` float64, `i` int32, `k` int64 and `m` bool.
fn specials_vars(s: &[Array; 5]) -> Vars<'_> {
    Vars::new()
        .with("x", s[0].view())
        .with("f", s[1].view())
        .with("i", s[2].view())
        .with("k", s[3].view())
        .with("m", s[4].view())
}

#[test]
fn new_dtypes_elementwise_equal_the_interpreter_bit_for_bit() {
    if !gpu_available() {
        return;
    }
    let mut failures = Vec::new();
    let mut runs = 0;
    for n in LENGTHS {
        let specials = [
            values(DType::Float32, n, 1),
            values(DType::Float64, n, 2),
            values(DType::Int32, n, 3),
            values(DType::Int64, n, 4),
            values(DType::Bool, n, 5),
        ];
        for e in FROM_SPECIALS {
            check(e, &specials_vars(&specials), &mut failures, same_bits);
            runs += 1;
        }
        for d in NEW {
            let a = values(d, n, 0);
            let b = values(d, n, 9);
            let c = shaped(d, &[3, 1], 4);
            let vars = specials_vars(&specials)
                .with("a", a.view())
                .with("b", b.view())
                .with("c", c.view());
            let exprs = if d == DType::Float16 {
                FLOAT16_EXPRS
            } else {
                INT_EXPRS
            };
            for e in exprs.iter().chain(CASTS) {
                check(e, &vars, &mut failures, same_bits);
                runs += 1;
            }
            // Strided and reversed views: the bytes of one uploaded word come
            // from elements far apart.
            let wide = values(d, 3 * n, 2);
            let long = values(d, n, 11);
            let vars = specials_vars(&specials)
                .with("a", stepped(&wide, 3))
                .with("b", stepped(&long, -1))
                .with("c", c.view());
            for e in [
                "a + b",
                "a * c - b",
                "where(a > c, b, a)",
                "float16(a) + float16(b)",
            ] {
                check(e, &vars, &mut failures, same_bits);
                runs += 1;
            }
        }
    }
    assert!(runs > 500, "{runs} runs");
    assert!(
        failures.is_empty(),
        "{} of {runs} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Broadcasting in several axes (element strides 0 and odd strides over a
/// packed input), and 0-d inputs.
#[test]
fn new_dtypes_broadcast_over_packed_inputs() {
    if !gpu_available() {
        return;
    }
    let mut failures = Vec::new();
    for d in NEW {
        let t = shaped(d, &[3, 5, 7], 1);
        let row = shaped(d, &[7], 2);
        let col = shaped(d, &[5, 1], 3);
        let one = shaped(d, &[3, 1, 1], 4);
        let z = shaped(d, &[], 5);
        let vars = Vars::new()
            .with("t", t.view())
            .with("row", row.view())
            .with("col", col.view())
            .with("one", one.view())
            .with("z", z.view());
        for e in [
            "t - row",
            "col * row",
            "one + col - row",
            "t * z",
            "z + z",
            "maximum(t, col)",
            "float32(t) + float32(one)",
        ] {
            check(e, &vars, &mut failures, same_bits);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// NumPy's reduction dtypes: `sum`/`prod` of a narrow or unsigned integer
/// accumulate in int64/uint64, `min`/`max` keep the dtype (a 32-bit word per
/// element on the GPU until the result is packed), float16 reduces in float32.
#[test]
fn new_dtypes_reductions_equal_the_interpreter() {
    if !gpu_available() {
        return;
    }
    let mut failures = Vec::new();
    for d in NEW {
        let a = values(d, 1025, 0);
        let short = values(d, 5, 3);
        let m = shaped(d, &[7, 65], 1);
        let t = shaped(d, &[3, 9, 4], 2);
        let vars = Vars::new()
            .with("a", a.view())
            .with("s", short.view())
            .with("m", m.view())
            .with("t", t.view());
        // Float sums (float16's in float32, the float64 means of integers)
        // add in another order: close, not exact; integer sums exactly.
        let rtol = if d == DType::Float16 { 1e-3 } else { 1e-12 };
        let agree = |g: &Array, w: &Array| {
            if g.dtype().is_float() {
                close(g, w, rtol)
            } else {
                same_bits(g, w)
            }
        };
        for e in [
            "sum(a)",
            "prod(s)",
            "mean(a)",
            "sum(m, axis=0)",
            "sum(m, axis=1)",
            "prod(t, axis=2)",
            "mean(t, axis=1)",
        ] {
            check(e, &vars, &mut failures, agree);
        }
        for e in [
            "min(a)",
            "max(a)",
            "min(s)",
            "max(m, axis=0)",
            "min(m, axis=1)",
            "max(t, axis=1)",
            "m - min(m, axis=1)",
            "max(t, axis=0) + t",
            "any(a)",
            "all(m, axis=1)",
            "min(m, axis=1) + max(m, axis=1)",
        ] {
            check(e, &vars, &mut failures, same_bits);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Products of narrow integers wrap in their dtype (32-bit sums, wrapped at
/// the end); operands may be inputs (packed), kept expressions (packed) or
/// earlier results (a word per element); a narrow result is not fused.
#[test]
fn new_dtypes_matrix_products_equal_the_interpreter() {
    if !gpu_available() {
        return;
    }
    let mut failures = Vec::new();
    for d in NEW {
        let a = shaped(d, &[6, 33], 1);
        let b = shaped(d, &[33, 5], 2);
        let v = shaped(d, &[33], 3);
        let c = shaped(d, &[5, 3], 4);
        let vars = Vars::new()
            .with("a", a.view())
            .with("b", b.view())
            .with("v", v.view())
            .with("c", c.view());
        let agree: fn(&Array, &Array) -> bool = if d == DType::Float16 {
            |g, w| close(g, w, 1e-3)
        } else {
            same_bits
        };
        for e in [
            "a @ b",
            "a @ v",
            "v @ b",
            "(a + 1) @ b",
            "a @ (b * 3)",
            "a @ b + 1",
            "(a @ b) @ c",
            "maximum(a @ b, 0)",
            "float32(a @ b)",
        ] {
            check(e, &vars, &mut failures, agree);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Without `SHADER_INT64`, uint64 (also as the accumulator of an unsigned
/// sum) is an error naming the adapter, as int64 and float64 are; the 8-,
/// 16- and 32-bit dtypes and float16 need no feature.
#[test]
fn uint64_without_the_adapter_feature_is_an_error_naming_it() {
    use jitexpr::internals::backend::wgsl::{GpuProgram, codegen::Caps};
    let sig = NEW
        .iter()
        .fold(Signature::new(), |s, &d| s.with(d.name(), d));
    let program = |e: &str| {
        jitexpr::compile_with(e, &sig, interp())
            .unwrap()
            .compiled()
            .optimized
            .clone()
    };
    let none = Caps {
        f64: false,
        i64: false,
        adapter: "Toy GPU".into(),
    };
    for e in [
        "uint64 + 1",
        "sum(uint8)",
        "uint32 * uint64",
        "prod(uint16, axis=0)",
    ] {
        let err = GpuProgram::compile_for(&program(e), &none).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{e}");
        assert!(
            err.message()
                .contains("uint64 needs a GPU with SHADER_INT64, and the adapter \"Toy GPU\""),
            "{e}: {}",
            err.message()
        );
        assert!(err.help().is_some_and(|h| h.contains("float32(")), "{e}");
    }
    for e in [
        "int8 + int16",
        "uint8 * 3 - uint16",
        "uint32 // 7",
        "float16 * float16",
        "float16(int8) + float16",
        "max(uint8) + min(int16, axis=0)",
        "int8(float16)",
    ] {
        assert!(
            GpuProgram::compile_for(&program(e), &none).is_ok(),
            "{e} needs no 64-bit feature"
        );
    }
}
