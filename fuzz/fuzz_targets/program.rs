//! Fuzzes whole CLI programs (statements, assignments, constructors,
//! reductions, every backend path the default options take): any UTF-8
//! text run by a `Session` must give values or an `Error` whose span lies
//! inside the text, never a panic, an abort or a hang.
//!
//! Sizes are bounded before running, so the fuzzer explores the language
//! rather than the allocator: the product over every numeric literal `v`
//! inside a constructor call of `2·max(|v|, 1/|v|, 1)` (50 for a `linspace`
//! without `num=`) must stay under 10⁶. Every constructor's element count is
//! at most that product, and so is any broadcast result (each of its axes
//! is as long as some constructor's), so no value exceeds 10⁶ elements.
//! Programs of more than 16 statements are skipped too.
#![no_main]

use jitexpr::cli::program::Session;
use jitexpr::internals::syntax::ast::{ExprKind, Program};
use jitexpr::internals::syntax::parse_program;
use jitexpr::{Error, Options};
use libfuzzer_sys::fuzz_target;

const CONSTRUCTORS: &[&str] = &[
    "arange", "linspace", "zeros", "ones", "full", "random", "normal",
];
const MAX_ELEMENTS: f64 = 1e6;

/// The size bound of the module docs, or `None` when it is too large.
fn bounded(program: &Program) -> bool {
    let mut bound = 1.0f64;
    for e in &program.exprs {
        if let ExprKind::Call { func, args, keywords, .. } = &e.kind {
            if !CONSTRUCTORS.contains(&func.as_str()) {
                continue;
            }
            let mut literals = Vec::new();
            for &a in args.iter().chain(keywords.iter().map(|k| &k.value)) {
                collect(program, a, &mut literals);
            }
            if func == "linspace" && !keywords.iter().any(|k| k.name == "num") {
                bound *= 50.0;
            }
            for v in literals {
                let v = v.abs();
                bound *= 2.0 * if v == 0.0 { 1.0 } else { v.max(1.0 / v).max(1.0) };
            }
            if !(bound <= MAX_ELEMENTS) {
                return false;
            }
        }
    }
    true
}

/// Every numeric literal under `id`: a walk with a stack, since nesting is
/// bounded only by the input's length (a recursive walk overflowed on deep
/// inputs once the parser no longer capped nesting at 200).
fn collect(program: &Program, id: jitexpr::internals::syntax::ast::ExprId, out: &mut Vec<f64>) {
    let mut stack = vec![id];
    while let Some(id) = stack.pop() {
        match &program.get(id).kind {
            ExprKind::Int(v) => out.push(*v as f64),
            ExprKind::Float(v) => out.push(if v.is_finite() { *v } else { f64::MAX }),
            kind => stack.extend(kind.children()),
        }
    }
}

fn check(err: &Error, source: &str) {
    if let Some(span) = err.span() {
        assert!(
            span.start <= span.end && span.end <= source.len(),
            "span {span:?} outside the program of {} bytes: {err:?}",
            source.len()
        );
        assert!(
            source.is_char_boundary(span.start) && source.is_char_boundary(span.end),
            "span {span:?} splits a character: {err:?}"
        );
    }
    let _ = err.render();
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(program) = parse_program(source) else {
        return;
    };
    if program.statements.len() > 16 || !bounded(&program) {
        return;
    }
    let mut session = Session::new(Options::default());
    match session.run(source) {
        Ok(Some(value)) => {
            let n: usize = value.shape().iter().product();
            assert_eq!(value.len(), n);
            assert!(n as f64 <= MAX_ELEMENTS, "a value of {n} elements");
            let _ = jitexpr::cli::print::format_array(&value);
        }
        Ok(None) => {}
        Err(e) => check(&e, source),
    }
});
