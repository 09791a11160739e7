//! Cancelling a running evaluation (what Ctrl-C does in the REPL). Its own
//! test binary: the cancellation flag is process-wide.

use jitexpr::{Backend, ErrorKind, Options, Vars};
use ndarray::Array1;

#[test]
fn a_long_evaluation_stops_with_a_cancelled_error() {
    let a = Array1::from_shape_fn(20_000_000, |i| i as f64 * 1e-7);
    let vars = Vars::new().with("a", &a);
    for backend in [Backend::Jit, Backend::Interpreter] {
        let options = Options::with_backend(backend);
        // Compile first so the cancel lands during evaluation.
        let expr = "sum(sin(a) * cos(a) + tanh(a))";
        let kernel = jitexpr::compile_with(expr, &jitexpr::Signature::of(&vars), options).unwrap();
        let result = std::thread::scope(|s| {
            let h = s.spawn(|| kernel.eval(&vars));
            std::thread::sleep(std::time::Duration::from_millis(30));
            jitexpr::exec::threads::cancel();
            h.join().unwrap()
        });
        let err = result.expect_err("cancelled");
        assert_eq!(err.kind(), ErrorKind::Cancelled, "{backend:?}: {err}");
        // The next evaluation runs normally.
        let small = Array1::from_elem(10, 1.0);
        let ok = jitexpr::evaluate_with("sum(a)", &Vars::new().with("a", &small), options).unwrap();
        assert_eq!(ok.to_scalars()[0].to_f64(), 10.0);
    }
}
