//! Cancelling a running evaluation (what Ctrl-C does in the REPL and
//! KeyboardInterrupt in Python): a token per evaluation, so cancelling one
//! never stops another.

use jitexpr::{Backend, CancelToken, ErrorKind, Options, Signature, Vars};
use ndarray::Array1;

#[test]
fn a_long_evaluation_stops_with_a_cancelled_error_and_another_completes() {
    let a = Array1::from_shape_fn(20_000_000, |i| i as f64 * 1e-7);
    let b = Array1::from_shape_fn(3_000_000, |i| (i % 1000) as f64);
    let vars = Vars::new().with("a", &a);
    let small_vars = Vars::new().with("a", &b);
    for backend in [Backend::Jit, Backend::Interpreter] {
        let options = Options::with_backend(backend);
        // Compile first so the cancel lands during evaluation.
        let expr = "sum(sin(a) * cos(a) + tanh(a))";
        let kernel = jitexpr::compile_with(expr, &Signature::of(&vars), options).unwrap();
        let other =
            jitexpr::compile_with("sum(a * 2)", &Signature::of(&small_vars), options).unwrap();
        let token = CancelToken::new();
        let (cancelled, completed) = std::thread::scope(|s| {
            let long = s.spawn(|| kernel.eval_with_cancel(&vars, &token));
            // The other evaluation runs while the first is cancelled, with
            // its own token: it must finish with the right value.
            let short = s.spawn(|| {
                let mine = CancelToken::new();
                let mut last = None;
                for _ in 0..5 {
                    last = Some(other.eval_with_cancel(&small_vars, &mine));
                }
                last.unwrap()
            });
            std::thread::sleep(std::time::Duration::from_millis(30));
            token.cancel();
            (long.join().unwrap(), short.join().unwrap())
        });
        let err = cancelled.expect_err("cancelled");
        assert_eq!(err.kind(), ErrorKind::Cancelled, "{backend:?}: {err}");
        assert!(token.is_cancelled());
        let want: f64 = b.iter().map(|x| x * 2.0).sum();
        let got = completed.expect("the other evaluation is not cancelled");
        assert_eq!(got.to_scalars()[0].to_f64(), want, "{backend:?}");
        // A fresh token: the same kernel runs normally again.
        let small = Array1::from_elem(10, 1.0);
        let ok = jitexpr::evaluate_with("sum(a)", &Vars::new().with("a", &small), options).unwrap();
        assert_eq!(ok.to_scalars()[0].to_f64(), 10.0);
    }
}

#[test]
fn a_token_cancelled_before_the_call_stops_it_on_every_path() {
    let x = Array1::from_elem(100, 2.0);
    let vars = Vars::new().with("x", &x);
    let token = CancelToken::new();
    token.cancel();
    for backend in [Backend::Jit, Backend::Interpreter] {
        let k = jitexpr::compile_with(
            "x * 3",
            &Signature::of(&vars),
            Options::with_backend(backend),
        )
        .unwrap();
        let err = k.eval_with_cancel(&vars, &token).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled);
        let mut out = Array1::from_elem(100, -1.0);
        let err = k
            .eval_into_with_cancel(&vars, &mut out, &token)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled);
        assert!(out.iter().all(|&v| v == -1.0), "nothing written");
        // Without the token, the same kernel gives the values.
        assert_eq!(k.eval(&vars).unwrap().as_f64().unwrap()[[7]], 6.0);
    }
}
