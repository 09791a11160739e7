//! Fuzzes the front end (expressions and programs) and the interpreter: any UTF-8 input must give `Ok`
//! or an `Error` (whose span lies inside the input and which renders); a panic
//! is a bug.
#![no_main]

use jitexpr::{DType, Error, Signature, Vars};
use libfuzzer_sys::fuzz_target;
use ndarray::{arr0, array};

fn check(err: &Error, source: &str) {
    if let Some(span) = err.span() {
        assert!(
            span.start <= span.end && span.end <= source.len(),
            "span {span:?} outside the input of {} bytes: {err:?}",
            source.len()
        );
        assert!(
            source.is_char_boundary(span.start) && source.is_char_boundary(span.end),
            "span {span:?} splits a character: {err:?}"
        );
    }
    for label in err.labels() {
        let s = label.span;
        assert!(
            s.start <= s.end && s.end <= source.len(),
            "label span {s:?} outside the input: {err:?}"
        );
    }
    let _ = err.render();
    let _ = err.render_colored();
    let _ = err.to_string();
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = jitexpr::internals::syntax::lexer::tokenize(source) {
        check(&e, source);
    }
    if let Err(e) = jitexpr::internals::syntax::parse(source) {
        check(&e, source);
    }
    // The program grammar (the command line's): same guarantees, and the
    // REPL's question "is this incomplete?" never panics either.
    if let Err(e) = jitexpr::internals::syntax::parse_program(source) {
        check(&e, source);
    }
    let _ = jitexpr::internals::syntax::incomplete(source);
    if let Err(e) = jitexpr::free_names(source) {
        check(&e, source);
    }
    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float32)
        .with("i", DType::Int32)
        .with("j", DType::Int64)
        .with("m", DType::Bool);
    let kernel = match jitexpr::compile(source, &sig) {
        Ok(k) => k,
        Err(e) => {
            check(&e, source);
            return;
        }
    };
    let a = array![0.5f64, -1.0, 2.0];
    let b = array![[1.5f32], [0.0]];
    let i = array![3i32, -7, 0];
    let j = arr0(0i64);
    let m = array![true, false, true];
    let vars = Vars::new()
        .with("a", &a)
        .with("b", &b)
        .with("i", &i)
        .with("j", &j)
        .with("m", &m);
    match kernel.eval(&vars) {
        Ok(r) => {
            let _ = r.to_scalars();
        }
        Err(e) => check(&e, source),
    }
});
