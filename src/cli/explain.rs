//! `jitexpr explain`: every stage of the pipeline for one expression —
//! tokens, AST, typed IR before and after optimization, the Cranelift IR of
//! each kernel — with the time each stage took.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::backend::jit::{JitProgram, Tiering};
use crate::cli::io;
use crate::error::{Error, ErrorKind, Result};
use crate::ir::{Input, builtins, lower, optimize, verify};
use crate::syntax::ast::{ExprKind, Sexpr};
use crate::syntax::{lexer, parse};
use crate::{DType, Signature};

/// The text of the explanation.
pub fn explain(expr: &str, inputs: &[String]) -> Result<String> {
    let source: std::sync::Arc<str> = std::sync::Arc::from(expr);
    explain_inner(expr, inputs).map_err(|e| e.with_source(&source))
}

fn explain_inner(expr: &str, inputs: &[String]) -> Result<String> {
    let mut out = String::new();
    let mut timings = Vec::new();
    let t = Instant::now();
    let tokens = lexer::tokenize(expr)?;
    timings.push(("lex", t.elapsed()));
    out.push_str("== tokens\n");
    for tok in &tokens {
        out.push_str(&format!(
            "{:>4}..{:<4} {:?} `{}`\n",
            tok.span.start,
            tok.span.end,
            tok.token,
            &expr[tok.span.range()]
        ));
    }
    let t = Instant::now();
    let ast = parse(expr)?;
    timings.push(("parse", t.elapsed()));
    out.push_str(&format!("\n== AST\n{}\n", Sexpr(&ast, ast.root)));

    // Signature: declared inputs, every other variable float64.
    let mut signature = Signature::new();
    for spec in inputs {
        let (name, dtype) = input_dtype(spec)?;
        signature = signature.with(&name, dtype);
    }
    let free: BTreeSet<String> = ast
        .exprs
        .iter()
        .filter_map(|e| match &e.kind {
            ExprKind::Name(n) if !builtins::CONSTANTS.iter().any(|(c, _)| c == n) => {
                Some(n.clone())
            }
            _ => None,
        })
        .collect();
    for name in free {
        if signature.dtype(&name).is_none() {
            signature = signature.with(&name, DType::Float64);
        }
    }
    let decls: Vec<Input> = signature
        .iter()
        .map(|(n, d)| Input {
            name: n.to_string(),
            dtype: d,
        })
        .collect();
    let t = Instant::now();
    let lowered = lower::lower(&ast, &decls)?;
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
    let t = Instant::now();
    let interpreted = JitProgram::compile(&optimized, true, Tiering::Interpreted)?;
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
    JitProgram::compile_listing(&optimized, true, Tiering::Baseline, Some(&mut listing))?;
    timings.push(("Cranelift compile, baseline tier", t.elapsed()));
    let t = Instant::now();
    JitProgram::compile(&optimized, true, Tiering::Optimized)?;
    timings.push(("Cranelift compile, optimized tier", t.elapsed()));
    for (k, clif) in listing.iter().enumerate() {
        out.push_str(&format!("\n== Cranelift IR, stage {k}\n{clif}"));
    }
    #[cfg(feature = "gpu")]
    {
        use crate::backend::wgsl::{GpuProgram, codegen::Caps};
        // The shaders for an adapter with SHADER_F64 and SHADER_INT64 (no device needed).
        let caps = Caps {
            f64: true,
            i64: true,
            adapter: "any".into(),
        };
        let t = Instant::now();
        match GpuProgram::compile_for(&optimized, &caps) {
            Ok(gpu) => {
                timings.push(("WGSL generation", t.elapsed()));
                for (k, wgsl) in gpu.shaders().iter().enumerate() {
                    out.push_str(&format!("\n== WGSL, shader {k}\n{wgsl}"));
                }
            }
            Err(e) => out.push_str(&format!("\n== WGSL\n(not for the GPU: {})\n", e.message())),
        }
    }
    out.push_str("\n== times\n");
    for (stage, d) in timings {
        out.push_str(&format!("{stage:<33} {:>9.1} µs\n", d.as_secs_f64() * 1e6));
    }
    Ok(out)
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
    let head = value.split('[').next().unwrap_or(value);
    if let Some(d) = DType::from_name(head) {
        return Ok((name.to_string(), d));
    }
    Ok((name.to_string(), io::load_value(value)?.dtype()))
}

/// Prints the explanation.
pub fn run(expr: &str, inputs: &[String]) -> Result<()> {
    outln!("{}", explain(expr, inputs)?.trim_end());
    Ok(())
}
