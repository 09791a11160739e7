//! The standard expression set at n = 1e3, 1e5, 1e7 (float64; float32 for
//! `a*b+c` and `sin(a)+cos(a)`), preallocated (`eval_into`) and allocating
//! (`eval`), plus compile time per expression and per-call overhead at n = 1.
//!
//! `cargo bench --bench standard` (add `-- --quick` for a fast pass; filter by
//! name, e.g. `-- 'eval_into/sin'`).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jitexpr::{Array, DType, Signature, Vars};
use ndarray::Array1;

const STANDARD: &[&str] = &[
    "a*b+c",
    "2*a+3*b",
    "sin(a)+cos(a)",
    "sin(a)**2+cos(b)**2",
    "exp(a)",
    "log(a+1)",
    "sqrt(a**2+b**2)",
    "where(a>0.5, a, b)",
    "(a>0.3)&(b<0.7)",
    "arctan2(a,b)",
    "a**2+b**2+2*a*b",
    "tanh(a)",
    "sum(a*b)",
];

fn inputs(n: usize) -> (Array1<f64>, Array1<f64>, Array1<f64>) {
    // Deterministic values in [0, 1): a Weyl sequence.
    let seq = |k: f64| Array1::from_shape_fn(n, move |i| ((i as f64 + 1.0) * k).fract());
    (
        seq(0.618_033_988_749_895),
        seq(0.414_213_562_373_095),
        seq(0.732_050_807_568_877),
    )
}

fn sig(dtype: DType) -> Signature {
    Signature::new()
        .with("a", dtype)
        .with("b", dtype)
        .with("c", dtype)
}

fn bench_eval(c: &mut Criterion) {
    for &n in &[1_000usize, 100_000, 10_000_000] {
        let (a, b, cc) = inputs(n);
        let (a32, b32, c32) = (
            a.mapv(|v| v as f32),
            b.mapv(|v| v as f32),
            cc.mapv(|v| v as f32),
        );
        let v64 = Vars::new().with("a", &a).with("b", &b).with("c", &cc);
        let v32 = Vars::new().with("a", &a32).with("b", &b32).with("c", &c32);
        let mut group = c.benchmark_group(format!("eval_into/n={n}"));
        group.throughput(Throughput::Elements(n as u64));
        if n >= 10_000_000 {
            group.sample_size(10);
        }
        let mut cases: Vec<(String, &str, DType)> = STANDARD
            .iter()
            .map(|e| (format!("{e} f64"), *e, DType::Float64))
            .collect();
        cases.push(("a*b+c f32".into(), "a*b+c", DType::Float32));
        cases.push(("sin(a)+cos(a) f32".into(), "sin(a)+cos(a)", DType::Float32));
        for (name, expr, dtype) in &cases {
            let vars = if *dtype == DType::Float32 { &v32 } else { &v64 };
            let k = jitexpr::compile(expr, &sig(*dtype)).expect("compiles");
            let mut out: Array = k.eval(vars).expect("runs");
            group.bench_function(BenchmarkId::from_parameter(name), |bench| {
                bench.iter(|| k.eval_into(vars, &mut out).expect("runs"))
            });
        }
        group.finish();

        let mut group = c.benchmark_group(format!("eval/n={n}"));
        group.throughput(Throughput::Elements(n as u64));
        if n >= 10_000_000 {
            group.sample_size(10);
        }
        for expr in ["a*b+c", "sin(a)+cos(a)", "sum(a*b)"] {
            let k = jitexpr::compile(expr, &sig(DType::Float64)).expect("compiles");
            group.bench_function(BenchmarkId::from_parameter(expr), |bench| {
                bench.iter(|| black_box(k.eval(&v64).expect("runs")))
            });
        }
        group.finish();
    }
}

fn bench_compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    for (k, expr) in STANDARD.iter().enumerate() {
        group.bench_function(BenchmarkId::from_parameter(expr), |bench| {
            // A fresh variable name each time defeats the kernel cache.
            let mut round = 0u64;
            bench.iter(|| {
                round += 1;
                let e = rename_a(expr);
                let s = Signature::new()
                    .with("q", DType::Float64)
                    .with("b", DType::Float64)
                    .with("c", DType::Float64)
                    .with(&format!("unused{k}_{round}"), DType::Bool);
                black_box(jitexpr::compile(&e, &s).expect("compiles"))
            })
        });
    }
    group.finish();
}

/// `expr` with the variable `a` (not the letter inside names) renamed to `q`.
fn rename_a(expr: &str) -> String {
    let b = expr.as_bytes();
    let word = |i: usize| {
        b.get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    };
    (0..b.len())
        .map(|i| {
            if b[i] == b'a' && !word(i.wrapping_sub(1)) && !word(i + 1) {
                'q'
            } else {
                b[i] as char
            }
        })
        .collect()
}

fn bench_overhead(c: &mut Criterion) {
    let (a, b, cc) = inputs(1);
    let vars = Vars::new().with("a", &a).with("b", &b).with("c", &cc);
    let mut group = c.benchmark_group("overhead");
    group.bench_function("evaluate a*b+c n=1 (cache hit)", |bench| {
        bench.iter(|| black_box(jitexpr::evaluate("a*b+c", &vars).expect("runs")))
    });
    let k = jitexpr::compile("a*b+c", &sig(DType::Float64)).expect("compiles");
    group.bench_function("Kernel::eval a*b+c n=1", |bench| {
        bench.iter(|| black_box(k.eval(&vars).expect("runs")))
    });
    group.finish();
}

criterion_group!(benches, bench_eval, bench_compile, bench_overhead);
criterion_main!(benches);
