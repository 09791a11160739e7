//! Deeply nested expressions: nesting is bounded only by the 256 KiB length
//! limit, and nothing on the way from text to values recurses with the depth
//! (parser, checker, optimizer, printing, shapes, the interpreter, the JIT's
//! plan, code generator and kernels). Every test runs on a thread of 2 MiB,
//! the default stack of a spawned thread; the values are checked on every
//! backend. (A stack overflow aborts the process; `in_child_process` keeps
//! that from taking the other tests with it.)

use std::time::Instant;

use jitexpr::internals::syntax::parser::MAX_SOURCE_LEN;
use jitexpr::{Array, Backend, Math, Options, Signature, Tiering, Vars};
use ndarray::Array1;

/// Runs `body` on a small stack in a child process of this test binary
/// (see the module docs).
fn in_child_process(name: &str, body: impl FnOnce() + Send + 'static) {
    crate::common::in_child_process(module_path!(), name, || on_small_stack(body));
}

/// The stack of a spawned thread by default (and of a test's thread).
const SMALL_STACK: usize = 2 << 20;

fn on_small_stack(body: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(body)
        .expect("spawn")
        .join()
        .expect("the test thread");
}

/// `open` repeated `n` times, then `inner`, then `close` `n` times.
fn nest(open: &str, inner: &str, close: &str, n: usize) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

/// The most repetitions of `open`…`close` around `inner` that fit the length limit.
fn deepest(open: &str, inner: &str, close: &str) -> usize {
    (MAX_SOURCE_LEN - inner.len()) / (open.len() + close.len())
}

/// The values `a` takes: exact in f64 and f32 when multiplied by small integers.
const A: [f64; 6] = [0.5, -1.25, 2.0, 0.0, 3.0, -7.75];

/// The backends and JIT tiers a deep expression is evaluated on.
fn backends() -> Vec<(&'static str, Options)> {
    let jit = |t| Options::default().with_tiering(t);
    vec![
        ("interpreter", Options::with_backend(Backend::Interpreter)),
        ("jit interpreted tier", jit(Tiering::Interpreted)),
        ("jit baseline", jit(Tiering::Baseline)),
        ("jit optimized", jit(Tiering::Optimized)),
        (
            "jit optimized, reference math",
            jit(Tiering::Optimized).with_math(Math::Reference),
        ),
    ]
}

/// Compiles and evaluates `src` over `a` on every backend, checks each
/// result with `check`, and prints the times.
fn on_every_backend(what: &str, src: &str, check: impl Fn(&str, &[f64])) -> Vec<Vec<f64>> {
    let a = Array1::from(A.to_vec());
    let vars = Vars::new().with("a", &a);
    let sig = Signature::of(&vars);
    let mut results = Vec::new();
    for (backend, options) in backends() {
        let t = Instant::now();
        let kernel = jitexpr::compile_with(src, &sig, options)
            .unwrap_or_else(|e| panic!("{what} on {backend}: {}", e.render()));
        let compiled = t.elapsed();
        let t = Instant::now();
        let got = kernel.eval(&vars).unwrap();
        eprintln!(
            "{what} ({} bytes) on {backend}: compiled in {compiled:.2?}, evaluated in {:.2?}",
            src.len(),
            t.elapsed()
        );
        let got = values(&got);
        check(backend, &got);
        results.push(got);
    }
    results
}

fn values(a: &Array) -> Vec<f64> {
    a.to_scalars().iter().map(|s| s.to_f64()).collect()
}

fn assert_values(what: &str, backend: &str, got: &[f64], want: impl Fn(f64) -> f64) {
    let want: Vec<f64> = A.iter().map(|&x| want(x)).collect();
    assert_eq!(got, want, "{what} on {backend}");
}

#[test]
fn parentheses_ten_thousand_and_as_deep_as_the_length_limit_allows() {
    in_child_process(
        "parentheses_ten_thousand_and_as_deep_as_the_length_limit_allows",
        || {
            for n in [10_000, deepest("(", "a", ")")] {
                let src = nest("(", "a", ")", n);
                on_every_backend(&format!("{n} parentheses"), &src, |b, got| {
                    assert_values("parentheses", b, got, |x| x)
                });
            }
        },
    );
}

#[test]
fn minus_chains_ten_thousand_and_as_deep_as_the_length_limit_allows() {
    in_child_process(
        "minus_chains_ten_thousand_and_as_deep_as_the_length_limit_allows",
        || {
            // An odd count of `-(`, and bare prefix minus signs.
            let n = deepest("-(", "a", ")") | 1;
            for src in [
                nest("-(", "a", ")", 10_001),
                nest("-(", "a", ")", n),
                nest("-", "a", "", deepest("-", "a", "") | 1),
            ] {
                on_every_backend("a minus chain", &src, |b, got| {
                    assert_values("minus chain", b, got, |x| -x)
                });
            }
            let src = nest("-", "a", "", 10_000);
            on_every_backend("10000 minus signs", &src, |b, got| {
                assert_values("minus chain", b, got, |x| x)
            });
        },
    );
}

#[test]
fn right_nested_sums_ten_thousand_and_as_deep_as_the_length_limit_allows() {
    in_child_process(
        "right_nested_sums_ten_thousand_and_as_deep_as_the_length_limit_allows",
        || {
            for n in [10_000, deepest("a+(", "a", ")")] {
                let src = nest("a+(", "a", ")", n);
                on_every_backend(&format!("a+(…) nested {n} deep"), &src, |b, got| {
                    assert_values("sum", b, got, |x| (n + 1) as f64 * x)
                });
            }
            // Distinct terms, all live at once in the kernel (its frame grows
            // with them): `a*1+(a*2+(…))` is a*(1+2+…+n).
            let n = deepest("a*99999+(", "a", ")") + 1;
            let src = (1..n).fold("a".to_string(), |inner, k| {
                format!("a*{}+({inner})", 100_000 - k)
            });
            assert!(src.len() <= MAX_SOURCE_LEN);
            let terms: f64 = (1..n).map(|k| (100_000 - k) as f64).sum::<f64>() + 1.0;
            on_every_backend("a*k+(…) with distinct terms", &src, |b, got| {
                for (g, x) in got.iter().zip(A) {
                    let want = x * terms;
                    assert!((g - want).abs() <= 1e-12 * want.abs(), "{b}: {g} != {want}");
                }
            });
            // Too large to optimize (quadratic register allocation): baseline.
            let sig = Signature::new().with("a", jitexpr::DType::Float64);
            let optimized = Options::default().with_tiering(Tiering::Optimized);
            let k = jitexpr::compile_with(&src, &sig, optimized).unwrap();
            assert_eq!(k.jit_tier(), Some(jitexpr::Tier::Baseline));
            let k = jitexpr::compile_with(&nest("a+(", "a", ")", 1000), &sig, optimized).unwrap();
            assert_eq!(k.jit_tier(), Some(jitexpr::Tier::Optimized));
        },
    );
}

#[test]
fn sin_chains_ten_thousand_and_as_deep_as_the_length_limit_allows() {
    in_child_process(
        "sin_chains_ten_thousand_and_as_deep_as_the_length_limit_allows",
        || {
            for n in [10_000, deepest("sin(", "a", ")")] {
                let src = nest("sin(", "a", ")", n);
                let reference = |x: f64| (0..n).fold(x, |v, _| v.sin());
                let results = on_every_backend(&format!("sin nested {n} deep"), &src, |b, got| {
                    for (g, x) in got.iter().zip(A) {
                        // Fast math is within a few ULP per call; sin shrinks
                        // errors as it goes.
                        let want = reference(x);
                        assert!(
                            (g - want).abs() <= 1e-9 * want.abs(),
                            "{b}: sin^{n}({x}) = {g}, want {want}"
                        );
                    }
                });
                // Reference math is the interpreter's, bit for bit.
                assert_eq!(results[0], results[4], "reference math vs the interpreter");
            }
        },
    );
}

#[test]
fn deep_expressions_fail_cleanly_and_explain_prints() {
    in_child_process("deep_expressions_fail_cleanly_and_explain_prints", || {
        let sig = Signature::new().with("a", jitexpr::DType::Float64);
        // An error deep inside: the span and the caret are where it is.
        let n = 60_000;
        let src = format!("{}a + nope{}", "-(".repeat(n), ")".repeat(n));
        let e = jitexpr::compile(&src, &sig).unwrap_err();
        assert_eq!(e.kind(), jitexpr::ErrorKind::Name);
        let at = src.find("nope").unwrap();
        assert_eq!(e.span(), Some((at..at + 4).into()));
        assert!(e.render().contains("nope"));
        // Unclosed at the bottom: the error is at the end of the input.
        let src = format!("{}a", "(".repeat(200_000));
        let e = jitexpr::internals::syntax::parse(&src).unwrap_err();
        assert_eq!(e.message(), "unclosed `(`");
        assert_eq!(e.span(), Some((src.len()..src.len()).into()));
        // free_names and outline walk the whole expression.
        let src = nest("sum(", "b", ", axis=-1)", 10_000);
        assert_eq!(jitexpr::free_names(&src).unwrap(), ["b"]);
        let outline = jitexpr::outline(&nest("-", "sum(b, axis=1)", "", 1)).unwrap();
        assert!(outline.top_reduction.is_none());
        let src = format!("sum(b, axis={})", nest("-", "1", "", 100_001));
        let outline = jitexpr::outline(&src).unwrap();
        assert_eq!(outline.top_reduction.unwrap().axis, Some(-1));
        // `jitexpr explain`: tokens, AST, IR and Cranelift IR of a deep expression.
        let n = 20_000;
        let text = jitexpr::cli::explain::explain(&nest("a+(", "a", ")", n), &[]).unwrap();
        assert!(text.contains(&format!("{}a{}", "(a + ".repeat(100), ")".repeat(100))));
        assert!(
            text.contains(&format!("%{n} = add.f64 %0, %{}\nreturn %{n}", n - 1)),
            "the IR's last sum"
        );
    });
}
