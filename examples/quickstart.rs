//! The main job on built-in data: evaluate typical numexpr expressions over
//! one million generated elements and check the answers against identities.
//!
//! Run with `cargo run --release --example quickstart`.

use std::time::Instant;

use jitexpr::{DType, Signature, Vars};
use ndarray::{Array1, Array2};

fn main() -> Result<(), jitexpr::Error> {
    let n = 1_000_000;
    // Deterministic inputs: a ramp and a sine-scrambled ramp.
    let a = Array1::from_shape_fn(n, |i| (i as f64 / n as f64) * 6.0 - 3.0);
    let b = Array1::from_shape_fn(n, |i| ((i as f64) * 0.7).sin() * 2.0);
    let x32 = a.mapv(|v| v as f32);
    let m = Array2::from_shape_fn((1000, 1000), |(i, j)| ((i * 31 + j * 17) % 100) as f64);
    let vars = Vars::new()
        .with("a", &a)
        .with("b", &b)
        .with("x", &x32)
        .with("m", &m);

    let jobs = [
        "sin(a)**2 + cos(a)**2",
        "where(a > 0, log1p(a), 0)",
        "sum(a * b)",
        "x * 2.0 + 1",
        "a - mean(a)",
        "m / sum(m, axis=1)",
        "max(m, axis=0) - min(m, axis=0)",
        "(a > 0.5) & (b < 0.7)",
    ];
    println!(
        "jitexpr {} — reference interpreter, n = {n}",
        env!("CARGO_PKG_VERSION")
    );
    for expr in jobs {
        let start = Instant::now();
        let r = jitexpr::evaluate(expr, &vars)?;
        let secs = start.elapsed().as_secs_f64();
        let head: Vec<String> = r
            .to_scalars()
            .iter()
            .take(3)
            .map(|v| v.to_string())
            .collect();
        println!(
            "{expr:<34} -> {:<7} shape {:<12} [{}{}]  {:.1} ms",
            r.dtype().name(),
            format!("{:?}", r.shape()),
            head.join(", "),
            if r.len() > 3 { ", ..." } else { "" },
            secs * 1e3
        );
    }

    // Checks: results that have a known answer.
    let ones = jitexpr::evaluate("sin(a)**2 + cos(a)**2", &vars)?;
    let worst = ones
        .as_f64()
        .map(|o| o.iter().fold(0.0f64, |w, v| w.max((v - 1.0).abs())))
        .unwrap_or(f64::NAN);
    println!("check: max |sin²+cos²−1| = {worst:.2e}");
    assert!(worst < 1e-15);

    let rows = jitexpr::evaluate("sum(m / sum(m, axis=1), axis=1)", &vars)?;
    let rows_ok = rows
        .as_f64()
        .is_some_and(|r| r.iter().all(|v| (v - 1.0).abs() < 1e-12));
    println!("check: every row of m / sum(m, axis=1) sums to 1: {rows_ok}");
    assert!(rows_ok);

    // Compile once, run many: a float32 kernel stays float32 (NEP 50 weak literals).
    let kernel = jitexpr::compile("x * 2.0 + 1", &Signature::new().with("x", DType::Float32))?;
    let mut out = Array1::<f32>::zeros(n);
    kernel.eval_into(&vars, &mut out)?;
    println!(
        "check: float32 kernel dtype {}, out[0] = {}",
        kernel.dtype(),
        out[0]
    );
    assert_eq!(out[0], -5.0);

    // Errors point at the problem.
    let err = jitexpr::evaluate("sin(a) + coss(b)", &vars).unwrap_err();
    println!("\n{}", err.render());
    Ok(())
}
