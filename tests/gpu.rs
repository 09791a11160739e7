//! The GPU backend (WGSL through wgpu) against the reference interpreter.
//!
//! Without an adapter these tests print a notice and pass, unless
//! `JITEXPR_REQUIRE_GPU=1` (set in CI, which installs Mesa's lavapipe), in
//! which case a missing adapter is a failure: GPU tests never skip silently.
#![cfg(feature = "gpu")]

use jitexpr::{Array, Backend, DType, ErrorKind, Options, Signature, Vars};
use ndarray::{Array1, Array2, ArrayD, IxDyn, arr0, s};
use proptest::prelude::*;

fn gpu_available() -> bool {
    let ok = jitexpr::backend::wgsl::device::gpu().is_ok();
    if !ok {
        assert!(
            std::env::var("JITEXPR_REQUIRE_GPU").as_deref() != Ok("1"),
            "JITEXPR_REQUIRE_GPU=1 but no GPU adapter: {:?}",
            jitexpr::backend::wgsl::device::gpu().err()
        );
        eprintln!("notice: no GPU adapter; GPU tests skipped");
    }
    ok
}

fn gpu() -> Options {
    Options::with_backend(Backend::Gpu)
}

fn interp() -> Options {
    Options::with_backend(Backend::Interpreter)
}

fn same_bits(x: &Array, y: &Array) -> bool {
    x.dtype() == y.dtype()
        && x.shape() == y.shape()
        && x.to_scalars().iter().zip(y.to_scalars()).all(|(p, q)| {
            p == &q || (x.dtype().is_float() && p.to_f64().is_nan() && q.to_f64().is_nan())
        })
}

const F32_SPECIAL: &[f32] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.5,
    -3.0,
    1e-40,
    -1e-45,
    3e38,
    -3e38,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    7.25,
    1e30,
];
const I32_SPECIAL: &[i32] = &[
    0,
    1,
    -1,
    2,
    -7,
    31,
    32,
    33,
    -32,
    i32::MIN,
    i32::MAX,
    1000,
    -1000,
];

#[test]
fn elementwise_basics_and_broadcasting() {
    if !gpu_available() {
        return;
    }
    let x = Array1::from_vec(F32_SPECIAL.to_vec());
    let col = Array2::from_shape_fn((3, 1), |(i, _)| i as f32 - 1.0);
    let k = arr0(2.5f32);
    let i = Array1::from_shape_fn(16, |j| I32_SPECIAL[j % I32_SPECIAL.len()]);
    let m = Array1::from_shape_fn(16, |j| j % 3 == 0);
    let vars = Vars::new()
        .with("x", &x)
        .with("col", &col)
        .with("k", &k)
        .with("i", &i)
        .with("m", &m);
    for e in [
        "x * k + 1",
        "x / col",
        "col - x",
        "where(m, x, -x)",
        "maximum(x, col)",
        "minimum(x, 0)",
        "x > col",
        "(x >= 0) & m | isnan(x)",
        "abs(x) + floor(x) - ceil(x) * trunc(x)",
        "rint(x)",
        "copysign(k, x)",
        "sign(x)",
        "isinf(x) ^ signbit(x) ^ isfinite(x)",
        "int32(x)",
        "float32(i) * x",
        "i // 3 + i % 7",
        "i << 3 | i >> 2",
        "(i & 0xff) ^ ~i",
        "i * i - i",
        "maximum(i, -5)",
        "fmod(i, -3)",
        "i // 0 + i % 0",
        "reciprocal(i)",
        "bool(x) & bool(i)",
        "float32(m) + float32(int32(m))",
        "sqrt(abs(x))",
        "x == x",
        "x != col",
    ] {
        let want = jitexpr::evaluate_with(e, &vars, interp()).unwrap();
        let got = jitexpr::evaluate_with(e, &vars, gpu())
            .unwrap_or_else(|err| panic!("{e}: {}", err.render()));
        assert!(
            same_bits(&got, &want),
            "{e}\ngpu:    {got:?}\ninterp: {want:?}"
        );
    }
}

#[test]
fn strided_empty_and_zero_d_inputs() {
    if !gpu_available() {
        return;
    }
    let wide = Array1::from_shape_fn(40, |j| j as f32 * 0.25 - 3.0);
    let strided = wide.slice(s![..;2]);
    let reversed = wide.slice(s![..20;-1]);
    let vars = Vars::new().with("a", &strided).with("b", &reversed);
    let want = jitexpr::evaluate_with("a * b - a", &vars, interp()).unwrap();
    let got = jitexpr::evaluate_with("a * b - a", &vars, gpu()).unwrap();
    assert!(same_bits(&got, &want));
    let empty = ArrayD::<f32>::zeros(IxDyn(&[0, 3]));
    let got = jitexpr::evaluate_with("e + 1", &Vars::new().with("e", &empty), gpu()).unwrap();
    assert_eq!(got.shape(), &[0, 3]);
    let z = arr0(-0.0f32);
    let got = jitexpr::evaluate_with("z * 2", &Vars::new().with("z", &z), gpu()).unwrap();
    assert_eq!(got.to_scalars()[0].to_f64().to_bits(), (-0.0f64).to_bits());
}

#[test]
fn more_workgroups_than_one_dimension_allows() {
    if !gpu_available() {
        return;
    }
    // 65,535 workgroups of 256 is 16,776,960 invocations: one more row needs the 2-D grid.
    let n = 65_535 * 256 + 1000;
    let a = Array1::from_shape_fn(n, |j| (j % 1024) as f32);
    let got = jitexpr::evaluate_with("a + 1", &Vars::new().with("a", &a), gpu()).unwrap();
    let got = got.as_f32().unwrap();
    assert_eq!(got[n - 1], ((n - 1) % 1024) as f32 + 1.0);
    assert_eq!(got[70_000], (70_000 % 1024) as f32 + 1.0);
}

#[test]
fn unsupported_expressions_are_clear_errors() {
    if !gpu_available() {
        return;
    }
    let x = Array1::from_elem(3, 1.0f32);
    let d = Array1::from_elem(3, 1.0f64);
    let vars = Vars::new().with("x", &x).with("d", &d);
    for (e, needle) in [
        ("sum(x)", "reductions"),
        ("d + 1", "float64"),
        ("sin(d)", "float64"),
    ] {
        let err = jitexpr::evaluate_with(e, &vars, gpu()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{e}");
        assert!(err.message().contains(needle), "{e}: {}", err.message());
        assert!(err.help().is_some_and(|h| h.contains("JIT")), "{e}");
    }
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "x", "y", "i", "j", "m", "1", "2.5", "-0.0", "3", "True",
    ])
    .prop_map(String::from);
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (
                prop::sample::select(vec![
                    "+", "-", "*", "/", "//", "%", "<<", ">>", "&", "|", "^", "<", "<=", "==",
                    "!=", ">", ">="
                ]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| format!("({a} {op} {b})")),
            (
                prop::sample::select(vec![
                    "-", "~", "abs", "floor", "rint", "sign", "isnan", "signbit", "int32",
                    "float32", "bool"
                ]),
                inner.clone()
            )
                .prop_map(|(f, a)| format!("{f}({a})")),
            (
                prop::sample::select(vec!["maximum", "minimum", "copysign", "fmod"]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("where({c}, {a}, {b})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Random float32/int32/bool expressions: the GPU equals the interpreter bit for bit.
    #[test]
    fn gpu_matches_the_interpreter(e in expr(), picks in prop::collection::vec(0usize..64, 8)) {
        if !gpu_available() {
            return Ok(());
        }
        let x = Array1::from_shape_fn(13, |k| F32_SPECIAL[(k + picks[0]) % F32_SPECIAL.len()]);
        let y = Array2::from_shape_fn((2, 1), |(k, _)| F32_SPECIAL[(k * 5 + picks[1]) % F32_SPECIAL.len()]);
        let i = Array1::from_shape_fn(13, |k| I32_SPECIAL[(k * 3 + picks[2]) % I32_SPECIAL.len()]);
        let j = arr0(I32_SPECIAL[picks[3] % I32_SPECIAL.len()]);
        let m = Array1::from_shape_fn(13, |k| (k + picks[4]) % 3 == 0);
        let vars = Vars::new().with("x", &x).with("y", &y).with("i", &i).with("j", &j).with("m", &m);
        let Ok(k) = jitexpr::compile_with(&e, &Signature::of(&vars), gpu()) else { return Ok(()) };
        let want = jitexpr::evaluate_with(&e, &vars, interp());
        let got = k.eval(&vars);
        match (got, want) {
            (Ok(g), Ok(w)) => prop_assert!(same_bits(&g, &w), "{e}\ngpu:    {g:?}\ninterp: {w:?}"),
            (Err(g), Err(w)) => prop_assert_eq!(g.kind(), w.kind()),
            (g, w) => prop_assert!(false, "{e}: gpu {:?} vs interp {:?}", g.map(|a| a.shape().to_vec()), w.map(|a| a.shape().to_vec())),
        }
    }
}

#[test]
fn eval_into_on_the_gpu() {
    if !gpu_available() {
        return;
    }
    let a = Array1::from_shape_fn(10, |j| j as f32);
    let vars = Vars::new().with("a", &a);
    let k =
        jitexpr::compile_with("a * 3", &Signature::new().with("a", DType::Float32), gpu()).unwrap();
    let mut out = Array1::<f32>::zeros(10);
    k.eval_into(&vars, &mut out).unwrap();
    assert_eq!(out[9], 27.0);
}
