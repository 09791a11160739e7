//! NumPy golden cases (tests/golden/*.json, made by tests/golden/gen_golden.py)
//! run on every backend (the reference interpreter, the JIT with reference and
//! fast math, and the GPU when there is an adapter), each in four memory
//! layouts: C order, Fortran order, negative strides on every axis, and every
//! other element of a wider array. Expected values come from NumPy 2 (and
//! SciPy for `erf`/`erfc`), never from jitexpr.
//!
//! [`every_operation_on_every_backend`] and [`every_reduction_on_every_backend`]
//! walk the operation tables instead: every operation × every dtype it
//! accepts × every backend and JIT tier, against the interpreter, so a
//! missing lowering fails here.

use std::path::Path;

use crate::common::ulp_distance;
use jitexpr::{Array, ArrayView, Backend, DType, Math, Options, Scalar, Vars};
use ndarray::{ArrayD, IxDyn, ShapeBuilder, Slice};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    expr: String,
    inputs: std::collections::BTreeMap<String, Data>,
    expected: Data,
    ulps: u64,
}

#[derive(Deserialize)]
struct Data {
    dtype: String,
    shape: Vec<usize>,
    data: Vec<serde_json::Value>,
}

#[derive(Clone, Copy, Debug)]
enum Layout {
    C,
    Fortran,
    Reversed,
    Strided,
}

const LAYOUTS: [Layout; 4] = [
    Layout::C,
    Layout::Fortran,
    Layout::Reversed,
    Layout::Strided,
];

fn float(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::String(s) => s.parse().unwrap_or_else(|_| panic!("bad float {s}")),
        serde_json::Value::Number(n) => n.as_f64().unwrap(),
        other => panic!("bad float {other}"),
    }
}

fn to_array(d: &Data) -> Array {
    let shape = IxDyn(&d.shape);
    let dtype = DType::from_name(&d.dtype).unwrap_or_else(|| panic!("dtype {}", d.dtype));
    match dtype {
        DType::Bool => Array::Bool(
            ArrayD::from_shape_vec(shape, d.data.iter().map(|v| v.as_bool().unwrap()).collect())
                .unwrap(),
        ),
        DType::Int32 => Array::Int32(
            ArrayD::from_shape_vec(
                shape,
                d.data.iter().map(|v| v.as_i64().unwrap() as i32).collect(),
            )
            .unwrap(),
        ),
        DType::Int64 => Array::Int64(
            ArrayD::from_shape_vec(shape, d.data.iter().map(|v| v.as_i64().unwrap()).collect())
                .unwrap(),
        ),
        DType::Float32 => Array::Float32(
            ArrayD::from_shape_vec(shape, d.data.iter().map(|v| float(v) as f32).collect())
                .unwrap(),
        ),
        DType::Float64 => Array::Float64(
            ArrayD::from_shape_vec(shape, d.data.iter().map(float).collect()).unwrap(),
        ),
        DType::Complex64 | DType::Complex128 => {
            let part = |v: &serde_json::Value, k: usize| float(&v.as_array().unwrap()[k]);
            let values: Vec<Scalar> = d
                .data
                .iter()
                .map(|v| Scalar::Complex128(jitexpr::c64::new(part(v, 0), part(v, 1))))
                .collect();
            Array::from_scalars(dtype, &d.shape, &values).unwrap()
        }
        other => {
            let values: Vec<Scalar> = d
                .data
                .iter()
                .map(|v| match (v.as_i64(), v.as_u64()) {
                    (Some(i), _) => Scalar::Int64(i),
                    (None, Some(u)) => Scalar::UInt64(u),
                    _ => Scalar::Float64(float(v)),
                })
                .collect();
            Array::from_scalars(other, &d.shape, &values).unwrap()
        }
    }
}

macro_rules! each_array {
    ($a:expr, $x:ident => $body:expr) => {
        match $a {
            Array::Bool($x) => Array::Bool($body),
            Array::Int32($x) => Array::Int32($body),
            Array::Int64($x) => Array::Int64($body),
            Array::Float32($x) => Array::Float32($body),
            Array::Float64($x) => Array::Float64($body),
            Array::Int8($x) => Array::Int8($body),
            Array::Int16($x) => Array::Int16($body),
            Array::UInt8($x) => Array::UInt8($body),
            Array::UInt16($x) => Array::UInt16($body),
            Array::UInt32($x) => Array::UInt32($body),
            Array::UInt64($x) => Array::UInt64($body),
            Array::Float16($x) => Array::Float16($body),
            Array::Complex64($x) => Array::Complex64($body),
            Array::Complex128($x) => Array::Complex128($body),
        }
    };
}

macro_rules! each_view {
    ($a:expr, $x:ident => $body:expr) => {
        match $a {
            Array::Bool($x) => ArrayView::Bool($body),
            Array::Int32($x) => ArrayView::Int32($body),
            Array::Int64($x) => ArrayView::Int64($body),
            Array::Float32($x) => ArrayView::Float32($body),
            Array::Float64($x) => ArrayView::Float64($body),
            Array::Int8($x) => ArrayView::Int8($body),
            Array::Int16($x) => ArrayView::Int16($body),
            Array::UInt8($x) => ArrayView::UInt8($body),
            Array::UInt16($x) => ArrayView::UInt16($body),
            Array::UInt32($x) => ArrayView::UInt32($body),
            Array::UInt64($x) => ArrayView::UInt64($body),
            Array::Float16($x) => ArrayView::Float16($body),
            Array::Complex64($x) => ArrayView::Complex64($body),
            Array::Complex128($x) => ArrayView::Complex128($body),
        }
    };
}

/// The storage that, viewed through `view`, holds the same logical values as `c` in `layout`.
fn storage(c: &Array, layout: Layout) -> Array {
    match layout {
        Layout::C => c.clone(),
        Layout::Fortran => each_array!(c, a => {
            ArrayD::from_shape_fn(IxDyn(a.shape()).f(), |i| a[i])
        }),
        Layout::Reversed => each_array!(c, a => {
            ArrayD::from_shape_vec(a.raw_dim(), reversed(a.view()).iter().copied().collect()).unwrap()
        }),
        Layout::Strided => each_array!(c, a => {
            let mut shape = a.shape().to_vec();
            match shape.last_mut() {
                Some(last) => *last *= 2,
                None => return c.clone(),
            }
            let n = a.ndim();
            ArrayD::from_shape_fn(IxDyn(&shape), |i| {
                let mut j = i.clone();
                j[n - 1] /= 2;
                a[j]
            })
        }),
    }
}

/// `a` with every axis reversed (negative strides).
fn reversed<T>(mut a: ndarray::ArrayViewD<'_, T>) -> ndarray::ArrayViewD<'_, T> {
    for axis in 0..a.ndim() {
        a.invert_axis(ndarray::Axis(axis));
    }
    a
}

fn view(storage: &Array, layout: Layout) -> ArrayView<'_> {
    match layout {
        Layout::C | Layout::Fortran => storage.view(),
        Layout::Reversed => each_view!(storage, a => reversed(a.view())),
        Layout::Strided => each_view!(storage, a => {
            let n = a.ndim();
            a.slice_each_axis(|ax| if n > 0 && ax.axis.index() == n - 1 { Slice::new(0, None, 2) } else { Slice::new(0, None, 1) })
        }),
    }
}

/// Reductions (cases with `ulps >= 64`) are compared with an absolute
/// tolerance scaled by the least precise float format involved, since
/// summation order differs from NumPy's and results may cancel to near zero.
fn compare(got: &Array, want: &Array, ulps: u64, eps: f64) -> Result<(), String> {
    if got.dtype() != want.dtype() {
        return Err(format!(
            "dtype {} != expected {}",
            got.dtype(),
            want.dtype()
        ));
    }
    if got.shape() != want.shape() {
        return Err(format!(
            "shape {:?} != expected {:?}",
            got.shape(),
            want.shape()
        ));
    }
    let is_f32 = got.dtype() == DType::Float32;
    // float16: ULPs of float16 (the bits in sign-magnitude order).
    let ulps16 = |a: u64, b: u64| {
        let ord = |x: u64| {
            let m = (x & 0x7fff) as i64;
            if x & 0x8000 != 0 { -m } else { m }
        };
        ord(a).abs_diff(ord(b))
    };
    // Complex: each part as a float of the part's dtype (NaNs of any sign equal).
    let part_ok = |g: f64, w: f64, f32: bool| {
        (g.is_nan() && w.is_nan())
            || g.to_bits() == w.to_bits()
            || (ulps > 0 && (g == w || ulp_distance(g, w, f32) <= ulps))
            || (ulps >= 64 && (g - w).abs() <= ulps as f64 * eps * (1.0 + w.abs()))
    };
    for (i, (g, w)) in got.to_scalars().iter().zip(want.to_scalars()).enumerate() {
        let ok = if let (Scalar::Complex64(a), Scalar::Complex64(b)) = (g, &w) {
            part_ok(f64::from(a.re), f64::from(b.re), true)
                && part_ok(f64::from(a.im), f64::from(b.im), true)
        } else if let (Scalar::Complex128(a), Scalar::Complex128(b)) = (g, &w) {
            part_ok(a.re, b.re, false) && part_ok(a.im, b.im, false)
        } else if got.dtype() == DType::Float16 {
            (g.to_f64().is_nan() && w.to_f64().is_nan())
                || g.bits() == w.bits()
                || (ulps > 0 && ulps16(g.bits(), w.bits()) <= ulps)
        } else if got.dtype().is_float() {
            let (g, w) = (g.to_f64(), w.to_f64());
            (g.is_nan() && w.is_nan())
                || (ulps == 0 && g.to_bits() == w.to_bits())
                || (ulps > 0 && (g == w || ulp_distance(g, w, is_f32) <= ulps))
                || (ulps >= 64 && (g - w).abs() <= ulps as f64 * eps * (1.0 + w.abs()))
        } else {
            g == &w
        };
        if !ok {
            return Err(format!(
                "element {i}: got {g} ({:?}), expected {w} ({:?})",
                g, w
            ));
        }
    }
    Ok(())
}

/// A GPU adapter is there; with `JITEXPR_REQUIRE_GPU=1` (CI) a missing
/// one is a failure, as in tests/common (which needs the `gpu` feature).
pub(crate) fn gpu_available() -> bool {
    #[cfg(feature = "gpu")]
    {
        let ok = jitexpr::internals::backend::wgsl::device::gpu().is_ok();
        assert!(
            ok || std::env::var("JITEXPR_REQUIRE_GPU").as_deref() != Ok("1"),
            "JITEXPR_REQUIRE_GPU=1 but no GPU adapter"
        );
        ok
    }
    #[cfg(not(feature = "gpu"))]
    {
        false
    }
}

/// The most ULP a GPU math function is from the interpreter (measured
/// bounds: `tests/gpu_math.rs`), added to a case's own bound.
const GPU_ULPS: u64 = 4;

/// Whether `e` says that the GPU adapter lacks a dtype (the one allowed
/// `Unsupported`; anything else unsupported on the GPU is a missing lowering).
fn adapter_lacks_dtype(e: &jitexpr::Error) -> bool {
    e.kind() == jitexpr::ErrorKind::Unsupported
        && (e.message().contains("needs a GPU with")
            || e.message().contains("no GPU available")
            // Complex powers and reductions are not in the shaders yet
            // (`ir::split`).
            || e.message().contains("does not support this complex operation"))
}

fn run_file(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: File = serde_json::from_str(&text).unwrap();
    assert!(!file.cases.is_empty());
    let mut failures = Vec::new();
    for case in &file.cases {
        let want = to_array(&case.expected);
        let single = |d: &str| d == "float32" || d == "complex64";
        let any_f32 =
            single(&case.expected.dtype) || case.inputs.values().any(|d| single(&d.dtype));
        let eps = if any_f32 {
            f64::from(f32::EPSILON)
        } else {
            f64::EPSILON
        };
        let inputs: Vec<(String, Array)> = case
            .inputs
            .iter()
            .map(|(n, d)| (n.clone(), to_array(d)))
            .collect();
        for layout in LAYOUTS {
            let stores: Vec<(String, Array)> = inputs
                .iter()
                .map(|(n, a)| (n.clone(), storage(a, layout)))
                .collect();
            let vars: Vars<'_> = stores
                .iter()
                .map(|(n, s)| (n.as_str(), view(s, layout)))
                .collect();
            let mut configs = vec![
                (Backend::Interpreter, Math::Reference),
                (Backend::Jit, Math::Reference),
                (Backend::Jit, Math::Fast),
            ];
            if gpu_available() {
                configs.push((Backend::Gpu, Math::Reference));
            }
            for (backend, math) in configs {
                let options = Options::with_backend(backend).with_math(math);
                // Fast math may add its own bound (4 ULP) to the reference's.
                let ulps = if math == Math::Fast && case.ulps > 0 {
                    case.ulps + 4
                } else {
                    case.ulps
                };
                let outcome = match jitexpr::evaluate_with(&case.expr, &vars, options) {
                    // Only a dtype the adapter lacks (float64/int64 without
                    // SHADER_F64/SHADER_INT64) may be unsupported on the GPU.
                    Err(e) if backend == Backend::Gpu && adapter_lacks_dtype(&e) => Ok(()),
                    // The GPU's math functions add their own bound (gpu_math.rs).
                    Ok(got) if backend == Backend::Gpu && case.ulps > 0 => {
                        compare(&got, &want, case.ulps + GPU_ULPS, eps)
                    }
                    // WGSL's `fma` may round twice (lavapipe's does): the
                    // GPU's complex product is within 1 ULP of NumPy's.
                    Ok(got) if backend == Backend::Gpu && got.dtype().is_complex() => {
                        compare(&got, &want, 1, eps)
                    }
                    Ok(got) => compare(&got, &want, ulps, eps),
                    Err(e) => Err(format!("error: {}", e.render())),
                };
                if let Err(msg) = outcome {
                    failures.push(format!(
                        "{} `{}` [{layout:?}, {backend:?}, {math:?}]: {msg}",
                        case.name, case.expr
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        file.cases.len(),
        failures.join("\n")
    );
}

macro_rules! golden {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(#[test] fn $test() { run_file($file); })*
    };
}

golden! {
    ops_float => "ops_float.json",
    ops_int => "ops_int.json",
    new_dtypes => "dtypes.json",
    bool_ops => "bool.json",
    functions_f64 => "functions_f64.json",
    functions_f32 => "functions_f32.json",
    functions_mixed => "functions_mixed.json",
    promotion => "promotion.json",
    broadcast => "broadcast.json",
    reductions => "reductions.json",
    reductions_special => "reductions_special.json",
    reductions_expr => "reductions_expr.json",
    casts => "casts.json",
    compound => "compound.json",
    complex => "complex.json",
    matmul => "matmul.json",
}

#[test]
fn layouts_preserve_logical_values() {
    let c = Array::Int32(ArrayD::from_shape_vec(IxDyn(&[2, 3]), (0..6).collect()).unwrap());
    for layout in LAYOUTS {
        let s = storage(&c, layout);
        assert_eq!(view(&s, layout).to_scalars(), c.to_scalars(), "{layout:?}");
    }
    let s = storage(&c, Layout::Reversed);
    match view(&s, Layout::Reversed) {
        ArrayView::Int32(v) => assert!(v.strides().iter().all(|&st| st < 0), "{:?}", v.strides()),
        _ => unreachable!(),
    }
}

/// The most ULP the JIT's fast math (vector and AOT versions) may be from
/// the interpreter (README's table: at most 3).
const FAST_ULPS: u64 = 4;

/// `n` values of `dtype`: special values first, then seeded pseudo-random
/// ones of every magnitude (`seed` varies them between operands).
fn walk_input(dtype: DType, n: usize, seed: u64) -> Array {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.0,
        -2.5,
        3.0,
        0.1,
        0.9,
        1.5,
        7.25,
        20.0,
        -100.0,
        700.0,
        -700.0,
        1e-8,
        1e-310,
        -5e-324,
        1e-40,
        1e300,
        -1e300,
        3e38,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    let floats: Vec<f64> = (0..n)
        .map(|k| {
            if k < specials.len() {
                return specials[(k + seed as usize) % specials.len()];
            }
            let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
            match k % 3 {
                0 => 20.0 * u - 10.0,
                1 => 2.0 * u - 1.0,
                _ => (if next() & 1 == 0 { 1.0 } else { -1.0 }) * 10f64.powf(60.0 * u - 30.0),
            }
        })
        .collect();
    let shape = IxDyn(&[n]);
    match dtype {
        DType::Bool => Array::Bool(
            ArrayD::from_shape_vec(
                shape,
                (0..n)
                    .map(|k| (k as u64 + seed).is_multiple_of(3))
                    .collect(),
            )
            .unwrap(),
        ),
        DType::Int32 => Array::Int32(
            ArrayD::from_shape_vec(
                shape,
                (0..n)
                    .map(|k| match k {
                        0 => i32::MIN,
                        1 => i32::MAX,
                        _ => (next() % 201) as i32 - 100,
                    })
                    .collect(),
            )
            .unwrap(),
        ),
        DType::Int64 => Array::Int64(
            ArrayD::from_shape_vec(
                shape,
                (0..n)
                    .map(|k| match k {
                        0 => i64::MIN,
                        1 => i64::MAX,
                        _ => (next() % 201) as i64 - 100,
                    })
                    .collect(),
            )
            .unwrap(),
        ),
        DType::Float32 => Array::Float32(
            ArrayD::from_shape_vec(shape, floats.iter().map(|&v| v as f32).collect()).unwrap(),
        ),
        DType::Float64 => Array::Float64(ArrayD::from_shape_vec(shape, floats).unwrap()),
        // Narrow integers: the same small values and the extremes; float16
        // the floats rounded.
        other => {
            let (lo, hi) = match other {
                DType::Int8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
                DType::Int16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
                DType::UInt8 => (0, i64::from(u8::MAX)),
                DType::UInt16 => (0, i64::from(u16::MAX)),
                DType::UInt32 => (0, i64::from(u32::MAX)),
                _ => (0, i64::MAX),
            };
            let values: Vec<Scalar> = (0..n)
                .map(|k| match (k, other) {
                    (_, DType::Float16) => Scalar::Float64(floats[k]),
                    (0, _) => Scalar::Int64(lo),
                    (1, _) => Scalar::Int64(hi),
                    _ => Scalar::Int64(((next() % 201) as i64 - 100).clamp(lo, hi)),
                })
                .collect();
            Array::from_scalars(other, &[n], &values).unwrap()
        }
    }
}

/// Whether `got` is within `ulps` of `want` elementwise (0: the same bits;
/// NaN matches NaN).
fn within(got: &Array, want: &Array, ulps: u64) -> Result<(), String> {
    if got.dtype() != want.dtype() || got.shape() != want.shape() {
        return Err(format!(
            "{} {:?} != interpreter's {} {:?}",
            got.dtype(),
            got.shape(),
            want.dtype(),
            want.shape()
        ));
    }
    let f32_format = got.dtype() == DType::Float32;
    for (i, (g, w)) in got.to_scalars().iter().zip(want.to_scalars()).enumerate() {
        let ok = if got.dtype().is_float() {
            let (g, w) = (g.to_f64(), w.to_f64());
            (g.is_nan() && w.is_nan())
                || g.to_bits() == w.to_bits()
                || (ulps > 0 && ulp_distance(g, w, f32_format) <= ulps)
        } else {
            g == &w
        };
        if !ok {
            return Err(format!(
                "element {i}: {g:?}, interpreter {w:?} (bound {ulps} ULP)"
            ));
        }
    }
    Ok(())
}

/// Every operation of the op tables (`UnaryOp::ALL`, `BinaryOp::ALL`) ×
/// every dtype its typing rule accepts × every backend: the JIT at each tier
/// (interpreted, baseline, optimized) with reference math (bit for bit the
/// interpreter) and fast math (within [`FAST_ULPS`] for math functions), and
/// the GPU (within [`GPU_ULPS`]; `Unsupported` only for a dtype the adapter
/// lacks). Fails on a missing lowering: an error where the interpreter has
/// none, or a result beyond the bound.
#[test]
fn every_operation_on_every_backend() {
    use jitexpr::Tiering;
    use jitexpr::internals::ir::{BinaryOp, UnaryOp};
    const DTYPES: [DType; 5] = [
        DType::Bool,
        DType::Int32,
        DType::Int64,
        DType::Float32,
        DType::Float64,
    ];
    const N: usize = 600;
    // (expression, is a float math function) for each operation and dtype.
    let mut cases: Vec<(String, DType, bool)> = Vec::new();
    for &op in UnaryOp::ALL {
        let e = match (op.call_doc(), op) {
            (Some(_), _) => format!("{}(a)", op.name()),
            (None, UnaryOp::Neg) => "-a".to_string(),
            (None, UnaryOp::Not) => "~a".to_string(),
            (None, other) => panic!("no spelling for {}", other.name()),
        };
        for d in DTYPES {
            if op.signature(d).is_ok() {
                cases.push((e.clone(), d, op.implementation().is_math()));
            }
        }
    }
    // (The complex split's internal operations cannot be written: the
    // complex golden file and the differential tests run them.)
    for &op in BinaryOp::ALL.iter().filter(|op| !op.is_internal()) {
        let e = match op.call_doc() {
            Some(_) => format!("{}(a, b)", op.name()),
            None => format!("a {} b", op.spelling()),
        };
        for d in DTYPES {
            if op.signature(d).is_ok() {
                cases.push((e.clone(), d, op.implementation().is_math()));
            }
        }
    }
    let mut configs: Vec<(Backend, Math, Tiering)> = Vec::new();
    for tiering in [Tiering::Interpreted, Tiering::Baseline, Tiering::Optimized] {
        for math in [Math::Reference, Math::Fast] {
            configs.push((Backend::Jit, math, tiering));
        }
    }
    if gpu_available() {
        configs.push((Backend::Gpu, Math::Reference, Tiering::Optimized));
    }
    let mut failures = Vec::new();
    let mut runs = 0;
    for (e, d, math_fn) in &cases {
        let (a, b) = (walk_input(*d, N, 0), walk_input(*d, N, 5));
        let vars: Vars<'_> = [("a", a.view()), ("b", b.view())].into_iter().collect();
        let reference = Options::with_backend(Backend::Interpreter);
        let want = jitexpr::evaluate_with(e, &vars, reference);
        for &(backend, math, tiering) in &configs {
            let options = Options::with_backend(backend)
                .with_math(math)
                .with_tiering(tiering);
            let ulps = match (backend, math_fn) {
                (_, false) => 0,
                (Backend::Gpu, true) => GPU_ULPS,
                (_, true) if math == Math::Fast => FAST_ULPS,
                _ => 0,
            };
            let got = jitexpr::evaluate_with(e, &vars, options);
            runs += 1;
            let outcome = match (&got, &want) {
                (Err(g), _) if backend == Backend::Gpu && adapter_lacks_dtype(g) => Ok(()),
                (Ok(g), Ok(w)) => within(g, w, ulps),
                (Err(g), Err(w)) if g.kind() == w.kind() => Ok(()),
                (Err(g), _) => Err(format!("error: {}", g.render())),
                (Ok(_), Err(w)) => Err(format!("no error, the interpreter's: {}", w.render())),
            };
            if let Err(msg) = outcome {
                failures.push(format!(
                    "`{e}` on {d} [{backend:?}, {math:?}, {tiering:?}]: {msg}"
                ));
            }
        }
    }
    assert!(runs >= cases.len() * 6, "{runs} runs");
    eprintln!("{runs} runs of {} operation/dtype cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {runs} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every reduction (`ReduceOp::ALL`) × every dtype × every backend, over
/// all elements and along each axis of a 2-D input (and inside an
/// expression), against the interpreter: the JIT bit for bit (blocked
/// reductions are part of the semantics), the GPU exactly for integers, bool,
/// `min` and `max`, and within a sum-order tolerance for float `sum`,
/// `prod` and `mean` (a different summation tree).
#[test]
fn every_reduction_on_every_backend() {
    use jitexpr::Tiering;
    use jitexpr::internals::ir::ReduceOp;
    const DTYPES: [DType; 5] = [
        DType::Bool,
        DType::Int32,
        DType::Int64,
        DType::Float32,
        DType::Float64,
    ];
    let (rows, cols) = (4, 6);
    // Values in [-2, 2] with two decimals (products stay finite).
    let value = |k: usize| ((k * 7919 + 13) % 401) as f64 / 100.0 - 2.0;
    let shape = IxDyn(&[rows, cols]);
    let n = rows * cols;
    let input = |d: DType| -> Array {
        match d {
            DType::Bool => Array::Bool(
                ArrayD::from_shape_vec(shape.clone(), (0..n).map(|k| value(k) > -1.0).collect())
                    .unwrap(),
            ),
            DType::Int32 => Array::Int32(
                ArrayD::from_shape_vec(
                    shape.clone(),
                    (0..n).map(|k| (value(k) * 3.0) as i32).collect(),
                )
                .unwrap(),
            ),
            DType::Int64 => Array::Int64(
                ArrayD::from_shape_vec(
                    shape.clone(),
                    (0..n).map(|k| (value(k) * 3.0) as i64).collect(),
                )
                .unwrap(),
            ),
            DType::Float32 => Array::Float32(
                ArrayD::from_shape_vec(shape.clone(), (0..n).map(|k| value(k) as f32).collect())
                    .unwrap(),
            ),
            DType::Float64 => Array::Float64(
                ArrayD::from_shape_vec(shape.clone(), (0..n).map(value).collect()).unwrap(),
            ),
            other => {
                let values: Vec<Scalar> = (0..n)
                    .map(|k| match other {
                        DType::Float16 => Scalar::Float64(value(k)),
                        d if d.is_unsigned() => Scalar::Int64((value(k).abs() * 3.0) as i64),
                        _ => Scalar::Int64((value(k) * 3.0) as i64),
                    })
                    .collect();
                Array::from_scalars(other, &[rows, cols], &values).unwrap()
            }
        }
    };
    let mut configs: Vec<(Backend, Math, Tiering)> = Vec::new();
    for tiering in [Tiering::Interpreted, Tiering::Baseline, Tiering::Optimized] {
        configs.push((Backend::Jit, Math::Reference, tiering));
    }
    if gpu_available() {
        configs.push((Backend::Gpu, Math::Reference, Tiering::Optimized));
    }
    let mut failures = Vec::new();
    let mut runs = 0;
    for &op in ReduceOp::ALL {
        for d in DTYPES {
            let a = input(d);
            let vars: Vars<'_> = [("a", a.view())].into_iter().collect();
            let name = op.name();
            for e in [
                format!("{name}(a)"),
                format!("{name}(a, axis=0)"),
                format!("{name}(a, axis=1)"),
                format!("a - {name}(a, axis=1)"),
            ] {
                let want =
                    jitexpr::evaluate_with(&e, &vars, Options::with_backend(Backend::Interpreter));
                for &(backend, math, tiering) in &configs {
                    let options = Options::with_backend(backend)
                        .with_math(math)
                        .with_tiering(tiering);
                    let got = jitexpr::evaluate_with(&e, &vars, options);
                    runs += 1;
                    let reordered = backend == Backend::Gpu
                        && matches!(op, ReduceOp::Sum | ReduceOp::Prod | ReduceOp::Mean);
                    let outcome = match (&got, &want) {
                        (Err(g), _) if backend == Backend::Gpu && adapter_lacks_dtype(g) => Ok(()),
                        (Ok(g), Ok(w)) if reordered && g.dtype().is_float() => {
                            // Reordering n terms of |x| <= 2 moves a sum by at
                            // most n·ε·Σ|x| <= 2n²ε <= 64·(nε)·(1 + |w|) here.
                            let eps = if g.dtype() == DType::Float32 {
                                f64::from(f32::EPSILON)
                            } else {
                                f64::EPSILON
                            };
                            compare(g, w, 64, eps * n as f64)
                        }
                        (Ok(g), Ok(w)) => within(g, w, 0),
                        (Err(g), Err(w)) if g.kind() == w.kind() => Ok(()),
                        (Err(g), _) => Err(format!("error: {}", g.render())),
                        (Ok(_), Err(w)) => {
                            Err(format!("no error, the interpreter's: {}", w.render()))
                        }
                    };
                    if let Err(msg) = outcome {
                        failures.push(format!("`{e}` on {d} [{backend:?}, {tiering:?}]: {msg}"));
                    }
                }
            }
        }
    }
    assert!(runs >= ReduceOp::ALL.len() * 5 * 4 * 3, "{runs} runs");
    assert!(
        failures.is_empty(),
        "{} of {runs} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
