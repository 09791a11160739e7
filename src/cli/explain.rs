//! `jitexpr explain`: every stage of the pipeline for one expression —
//! tokens, AST, typed IR before and after optimization, the Cranelift IR of
//! each kernel — with the time each stage took.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::jit::{JitProgram, Tiering};
use crate::cli::io;
use crate::error::{Error, ErrorKind, Result};
use crate::ir::{Input, lower, optimize, verify};
use crate::syntax::ast::{Ast, Sexpr};
use crate::syntax::{lexer, parse};
use crate::{DType, Signature};

/// Which backends' code an explanation shows (the IR is always shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The JIT's Cranelift IR, and its compile times.
    pub cranelift: bool,
    /// The GPU's WGSL shaders.
    pub wgsl: bool,
}

impl Code {
    /// Every backend's code.
    pub const ALL: Code = Code {
        cranelift: true,
        wgsl: true,
    };

    /// The code of `backend` only (none for the interpreter, which runs the IR).
    pub fn of(backend: crate::Backend) -> Code {
        Code {
            cranelift: backend == crate::Backend::Jit,
            wgsl: backend == crate::Backend::Gpu,
        }
    }
}

/// The text of the explanation of `expr`, whose variables have the dtypes
/// of `inputs` (`NAME=dtype` or `NAME=file`) or else float64.
pub fn explain(expr: &str, inputs: &[String]) -> Result<String> {
    let source: Arc<str> = Arc::from(expr);
    let explained = || -> Result<String> {
        let t = Instant::now();
        let ast = parse(expr)?;
        let parse_time = t.elapsed();
        // Signature: declared inputs, every other variable float64.
        let mut signature = Signature::new();
        for spec in inputs {
            let (name, dtype) = input_dtype(spec)?;
            signature = signature.with(&name, dtype);
        }
        for name in ast.free_names(crate::ir::builtins::is_builtin_name) {
            if signature.dtype(&name).is_none() {
                signature = signature.with(&name, DType::Float64);
            }
        }
        explain_parsed(expr, (&ast, parse_time), &ast, &signature, Code::ALL)
    };
    explained().map_err(|e| e.with_source(&source))
}

/// The explanation of an expression parsed already: `shown` (parsed from
/// `text` in `parse_time`) is the AST printed, `ast` the one compiled (the
/// REPL's has hidden variables in place of array constructors), with the
/// backends' code that `code` selects.
pub fn explain_parsed(
    text: &str,
    (shown, parse_time): (&Ast, Duration),
    ast: &Ast,
    signature: &Signature,
    code: Code,
) -> Result<String> {
    let mut out = String::new();
    let mut timings = Vec::new();
    let t = Instant::now();
    let tokens = lexer::tokenize(text)?;
    timings.push(("lex", t.elapsed()));
    out.push_str("== tokens\n");
    for tok in &tokens {
        out.push_str(&format!(
            "{:>4}..{:<4} {:?} `{}`\n",
            tok.span.start,
            tok.span.end,
            tok.token,
            &text[tok.span.range()]
        ));
    }
    timings.push(("parse", parse_time));
    out.push_str(&format!("\n== AST\n{}\n", Sexpr(shown, shown.root)));

    let decls: Vec<Input> = signature
        .iter()
        .map(|(n, d)| Input {
            name: n.to_string(),
            dtype: d,
        })
        .collect();
    let t = Instant::now();
    let lowered = lower::lower(ast, &decls)?;
    verify::verify(&lowered)?;
    timings.push(("type check and lower", t.elapsed()));
    out.push_str(&format!("\n== typed IR\n{lowered}\n"));
    let t = Instant::now();
    let optimized = optimize::optimize(&lowered)?;
    timings.push(("optimize", t.elapsed()));
    out.push_str(&format!(
        "\n== optimized IR ({} -> {} nodes)\n{optimized}\n",
        lowered.live_nodes(),
        optimized.live_nodes()
    ));
    out.push_str(&format!(
        "\n== stages\n{}",
        crate::ir::stage::describe(&optimized)
    ));
    // A complex program: the real programs of its split (`ir::split`),
    // which the JIT and the GPU compile; none when the split declines it.
    let (programs, part): (Vec<crate::ir::Program>, bool) = if optimized.first_complex().is_some() {
        let t = Instant::now();
        match crate::ir::split::split(&optimized) {
            Some(split) => {
                let split = crate::ir::split::optimize(split)?;
                timings.push(("complex split", t.elapsed()));
                out.push_str(&format!("\n== complex split: real part\n{}\n", split.re));
                let mut programs = vec![split.re.clone()];
                if let Some(im) = split.im {
                    out.push_str(&format!("\n== complex split: imaginary part\n{im}\n"));
                    out.push_str(
                        "(the JIT runs both parts in one joint kernel, each complex function \
                         called once for both, when every math function is a complex one \
                         other than `exp`)\n",
                    );
                    programs.push(im);
                }
                (programs, true)
            }
            None => {
                out.push_str(
                    "\n== complex split\n(declined: complex `**`, a reduction of complex values or \
                     a complex `@`; the JIT runs it on the interpreter, but a full `sum`/`mean` \
                     of an operand that splits, also inside a larger expression, and `A @ B` \
                     of two inputs)\n",
                );
                (Vec::new(), true)
            }
        }
    } else {
        (vec![optimized.clone()], false)
    };
    if code.cranelift {
        for (k, program) in programs.iter().enumerate() {
            let title = if part {
                format!(", complex part {k}")
            } else {
                String::new()
            };
            cranelift(program, part, &title, &mut out, &mut timings)?;
        }
    }
    #[cfg(feature = "gpu")]
    if code.wgsl {
        for program in &programs {
            wgsl(program, &mut out, &mut timings);
        }
        if programs.is_empty() {
            out.push_str("\n== WGSL\n(not for the GPU: a complex operation it does not support)\n");
        }
    }
    #[cfg(not(feature = "gpu"))]
    if code.wgsl {
        out.push_str("\n== WGSL\n(this build has no GPU backend: feature `gpu`)\n");
    }
    out.push_str("\n== times\n");
    for (stage, d) in timings {
        out.push_str(&format!("{stage:<33} {:>9.1} µs\n", d.as_secs_f64() * 1e6));
    }
    Ok(out)
}

/// The Cranelift IR of `optimized`'s kernels (`part`: a part of a complex
/// program, compiled as a `Kernel` compiles those) and its compile times.
fn cranelift(
    optimized: &crate::ir::Program,
    part: bool,
    title: &str,
    out: &mut String,
    timings: &mut Vec<(&'static str, Duration)>,
) -> Result<()> {
    let compile =
        |tiering, listing| JitProgram::compile_with(optimized, true, tiering, listing, !part);
    let t = Instant::now();
    let interpreted = compile(Tiering::Interpreted, None)?;
    timings.push((
        if interpreted.tier() == crate::Tier::Interpreted {
            "interpreted tier"
        } else {
            "interpreted (compiled)"
        },
        t.elapsed(),
    ));
    let mut listing = Vec::new();
    let t = Instant::now();
    compile(Tiering::Baseline, Some(&mut listing))?;
    timings.push(("Cranelift compile, baseline tier", t.elapsed()));
    let t = Instant::now();
    compile(Tiering::Optimized, None)?;
    timings.push(("Cranelift compile, optimized tier", t.elapsed()));
    for (k, clif) in listing.iter().enumerate() {
        out.push_str(&format!("\n== Cranelift IR{title}, stage {k}\n{clif}"));
    }
    Ok(())
}

/// The WGSL shaders of `optimized` (for an adapter with SHADER_F64 and
/// SHADER_INT64: no device needed) and the time they took.
#[cfg(feature = "gpu")]
fn wgsl(
    optimized: &crate::ir::Program,
    out: &mut String,
    timings: &mut Vec<(&'static str, Duration)>,
) {
    use crate::backend::wgsl::{GpuProgram, codegen::Caps};
    let caps = Caps {
        f64: true,
        i64: true,
        adapter: "any".into(),
    };
    let t = Instant::now();
    match GpuProgram::compile_for(optimized, &caps) {
        Ok(gpu) => {
            timings.push(("WGSL generation", t.elapsed()));
            for (k, wgsl) in gpu.shaders().iter().enumerate() {
                out.push_str(&format!("\n== WGSL, shader {k}\n{wgsl}"));
            }
        }
        Err(e) => out.push_str(&format!("\n== WGSL\n(not for the GPU: {})\n", e.message())),
    }
}

/// `NAME=dtype`, `NAME=dtype[shape]` or `NAME=file`.
fn input_dtype(spec: &str) -> Result<(String, DType)> {
    let (name, value) = spec.split_once('=').ok_or_else(|| {
        Error::new(
            ErrorKind::Value,
            format!("input `{spec}` is not NAME=VALUE"),
        )
        .with_help("e.g. a=float32[1000] or a=data.npy")
    })?;
    // The shape of `dtype[shape]` is checked as `eval` and `bench` check
    // it, but nothing is made: only the dtype matters here.
    let dtype = match crate::cli::program::parse_placeholder(value) {
        Some(spec) => spec?.0,
        None => io::load_value(value)?.dtype(),
    };
    Ok((name.to_string(), dtype))
}

/// Prints the explanation.
pub fn run(expr: &str, inputs: &[String]) -> Result<()> {
    outln!("{}", explain(expr, inputs)?.trim_end());
    Ok(())
}
