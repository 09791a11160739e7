//! `jitexpr bench`: the program `eval` takes (statements, constructors,
//! `NAME=dtype[shape]` inputs, `--file`); the statements before the last
//! run once, as setup, and the last one's expression is benchmarked, its
//! constructor calls made once, as inputs: compile once, warm up, evaluate R
//! times into a preallocated output; report compile time, median and min seconds,
//! ns/element and GB/s (input + output bytes). The allocating calls are
//! timed too (R times each, after the preallocated ones): `Kernel::eval` and
//! the one-call `evaluate` (a kernel-cache hit), which is what NumPy and
//! numexpr's `evaluate` do on every call.
//!
//! Compilation is timed, the kernel cache cleared each time: the first
//! compile in the process (`first_compile_s`) also pays one-time setup (the
//! JIT's target detection, compiling the vector-math library functions the
//! expression uses); the JIT's baseline and optimized tiers
//! (`baseline_compile_s`, `optimized_compile_s`: what adaptive tiering pays
//! once the kernel is hot); then the compile with the chosen tiering
//! (`compile_s`, for adaptive JIT tiering the interpreted tier's
//! preparation), what a first call pays, and that first call's total with its
//! evaluation (`first_call_s`). The warm-up runs the kernel until it is hot
//! (`HOT_ELEMENTS` elements), so the timed runs are the steady state.

use std::time::Instant;

use crate::cli::program::{Source, check_target, extract};
use crate::cli::{BackendArg, TieringArg, options, session, with_progress};
use crate::error::{Error, ErrorKind, Result};
use crate::ir::shape::broadcast;
use crate::{Signature, Vars};

/// The measurements of one benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Elements per evaluation (the broadcast size of the inputs, at least the output size).
    pub n: usize,
    /// Compile of the expression once the process has compiled it before
    /// (kernel cache cleared): the per-expression cost, seconds.
    pub compile_s: f64,
    /// The first compile in the process, one-time setup included, seconds.
    pub first_compile_s: f64,
    /// JIT: the compile of the expression at the baseline tier, seconds.
    pub baseline_compile_s: Option<f64>,
    /// JIT: the optimizing compile of the expression (the optimized tier), seconds.
    pub optimized_compile_s: Option<f64>,
    /// The compile and the first evaluation together (allocating), seconds.
    pub first_call_s: f64,
    /// Median evaluation, seconds.
    pub median_s: f64,
    /// Fastest evaluation, seconds.
    pub min_s: f64,
    /// Median `Kernel::eval` (allocates its output), seconds.
    pub eval_median_s: f64,
    /// Median `evaluate` (cache lookup, allocation, evaluation), seconds.
    pub evaluate_median_s: f64,
    /// Input plus output bytes moved per evaluation.
    pub bytes: usize,
    /// Worker threads.
    pub threads: usize,
    /// Backend name.
    pub backend: &'static str,
    /// GPU only: median seconds uploading, computing and downloading.
    pub gpu_phases: Option<[f64; 3]>,
    /// Statements in the program (the last one is timed).
    pub statements: usize,
}

impl Report {
    /// Nanoseconds per element at the median.
    pub fn ns_per_element(&self) -> f64 {
        self.median_s * 1e9 / self.n.max(1) as f64
    }

    /// Gigabytes per second at the median.
    pub fn gb_per_s(&self) -> f64 {
        self.bytes as f64 / self.median_s.max(1e-12) / 1e9
    }

    /// The report as one line of JSON.
    pub fn json(&self) -> String {
        let mut v = serde_json::json!({
            "ns_per_element": self.ns_per_element(),
            "median_s": self.median_s,
            "min_s": self.min_s,
            "eval_median_s": self.eval_median_s,
            "evaluate_median_s": self.evaluate_median_s,
            "compile_s": self.compile_s,
            "first_compile_s": self.first_compile_s,
            "baseline_compile_s": self.baseline_compile_s,
            "optimized_compile_s": self.optimized_compile_s,
            "first_call_s": self.first_call_s,
            "threads": self.threads,
            "backend": self.backend,
            "n": self.n,
            "gb_per_s": self.gb_per_s(),
            "statements": self.statements,
        });
        if let Some([up, compute, down]) = self.gpu_phases {
            v["upload_s"] = up.into();
            v["compute_s"] = compute.into();
            v["download_s"] = down.into();
        }
        v.to_string()
    }
}

/// Runs the benchmark of `text`, a program as `eval` takes it, and prints
/// it (as JSON with `json`). The statements before the last run once, as
/// setup; the last statement's expression is what is compiled and timed,
/// with its constructor calls (`random(1000000, seed=1)`) made once, as
/// inputs.
pub fn run(
    text: &str,
    inputs: &[String],
    repeat: usize,
    threads: Option<usize>,
    (backend, tiering): (BackendArg, TieringArg),
    json: bool,
) -> Result<()> {
    let opts = options(backend)?.with_tiering(tiering.into());
    if let Some(n) = threads {
        crate::set_num_threads(n);
    }
    if repeat == 0 {
        return Err(Error::new(ErrorKind::Value, "--repeat must be at least 1"));
    }
    let mut session = session(opts, inputs)?;
    let source = Source::parse(text)?;
    let statements = source.program.statements.len();
    let Some(last) = statements.checked_sub(1) else {
        return Err(Error::new(ErrorKind::Value, "the program is empty")
            .with_help("give an expression to time, e.g. `sin(a) + 1`"));
    };
    for k in 0..last {
        with_progress(|| session.execute(&source, k))?;
    }
    let stmt = &source.program.statements[last];
    if let Some(target) = &stmt.target {
        check_target(target).map_err(|e| e.with_source(&source.text))?;
    }
    let prepared = session.prepare(&source, stmt.value)?;
    let vars = session.bind(&prepared);
    let signature = Signature::of(&vars);
    // Time real compilations (parse included), not cache hits: clear the
    // cache before each.
    let compile = |opts: crate::Options| -> Result<(crate::Kernel, f64)> {
        crate::kernel::with_cache(|c| c.clear());
        let start = Instant::now();
        let source = Source::parse(text)?;
        let (ast, _) = extract(&source.program, source.program.statements[last].value);
        let kernel = crate::kernel::compile_ast(&source.text, &ast, &signature, opts)?;
        Ok((kernel, start.elapsed().as_secs_f64()))
    };
    let (_, first_compile_s) = compile(opts)?;
    let (baseline_compile_s, optimized_compile_s) = match backend {
        BackendArg::Jit => {
            // Cranelift's own one-time setup is not an expression's cost: a
            // first compile pays it (the interpreted tier compiled nothing).
            compile(opts.with_tiering(crate::Tiering::Baseline))?;
            (
                Some(compile(opts.with_tiering(crate::Tiering::Baseline))?.1),
                Some(compile(opts.with_tiering(crate::Tiering::Optimized))?.1),
            )
        }
        BackendArg::Interp | BackendArg::Gpu => (None, None),
    };
    let start = Instant::now();
    let (kernel, compile_s) = compile(opts)?;
    let mut out = kernel.eval(&vars)?; // warm-up, and the preallocated output
    let first_call_s = start.elapsed().as_secs_f64();
    let shape = vars
        .iter()
        .try_fold(Vec::new(), |acc, (_, a)| broadcast(&acc, a.shape()))
        .unwrap_or_default();
    let n = shape.iter().product::<usize>().max(out.len());
    // Until an adaptive JIT kernel is hot (other backends have no tiers).
    if matches!(
        kernel.jit_tier(),
        Some(crate::Tier::Interpreted | crate::Tier::Baseline)
    ) && tiering == TieringArg::Adaptive
    {
        for _ in 0..crate::backend::jit::HOT_ELEMENTS.div_ceil(n.max(1)) {
            kernel.eval_into(&vars, &mut out)?;
        }
    }
    let times = sorted_times(repeat, || kernel.eval_into(&vars, &mut out))?;
    let eval_times = sorted_times(repeat, || kernel.eval(&vars).map(drop))?;
    // What `evaluate` does on every call: find the kernel in the cache by
    // the expression's text and the inputs' dtypes, allocate, evaluate.
    let expr = &source.text[source.program.get(stmt.value).span.range()];
    crate::kernel::with_cache(|c| c.put(expr, &signature, opts, &kernel));
    let evaluate_times = sorted_times(repeat, || {
        crate::kernel::with_cache(|c| c.get_for(expr, &vars, opts))
            .ok_or_else(|| Error::internal("the benchmarked kernel left the cache"))?
            .eval(&vars)
            .map(drop)
    })?;
    let gpu_phases = gpu_phases(&kernel, &vars, repeat)?;
    let bytes = vars
        .iter()
        .map(|(_, a)| a.len() * a.dtype().size())
        .sum::<usize>()
        + out.len() * out.dtype().size();
    let report = Report {
        n,
        compile_s,
        first_compile_s,
        baseline_compile_s,
        optimized_compile_s,
        first_call_s,
        median_s: times[times.len() / 2],
        min_s: times[0],
        eval_median_s: eval_times[eval_times.len() / 2],
        evaluate_median_s: evaluate_times[evaluate_times.len() / 2],
        bytes,
        threads: crate::num_threads(),
        backend: match backend {
            BackendArg::Jit => "jit",
            BackendArg::Interp => "interp",
            BackendArg::Gpu => "gpu",
        },
        gpu_phases,
        statements,
    };
    if json {
        outln!("{}", report.json());
        return Ok(());
    }
    let timed = &source.text[stmt.span.range()];
    if statements == 1 {
        outln!("expression  {timed}");
    } else {
        outln!(
            "program     {statements} statements; timed: the last, `{timed}` (the {} before it ran once)",
            statements - 1
        );
    }
    outln!(
        "elements    {} ({} threads, {} backend)",
        report.n,
        report.threads,
        report.backend
    );
    outln!(
        "compile     {:.3} ms (first in this process, with one-time setup: {:.3} ms)",
        report.compile_s * 1e3,
        report.first_compile_s * 1e3
    );
    if let Some(t) = report.baseline_compile_s {
        outln!("baseline    {:.3} ms (the JIT's baseline tier)", t * 1e3);
    }
    outln!(
        "first call  {:.3} ms (compile and the first evaluation)",
        report.first_call_s * 1e3
    );
    if let Some(t) = report.optimized_compile_s {
        outln!("optimizing  {:.3} ms (the JIT's optimized tier)", t * 1e3);
    }
    outln!(
        "evaluate    median {:.3} ms, min {:.3} ms over {repeat} runs",
        report.median_s * 1e3,
        report.min_s * 1e3
    );
    outln!(
        "allocating  Kernel::eval median {:.3} ms, evaluate median {:.3} ms",
        report.eval_median_s * 1e3,
        report.evaluate_median_s * 1e3
    );
    outln!(
        "throughput  {:.2} ns/element, {:.2} GB/s",
        report.ns_per_element(),
        report.gb_per_s()
    );
    if let Some([up, compute, down]) = report.gpu_phases {
        outln!(
            "gpu phases  upload {:.3} ms, compute {:.3} ms, download {:.3} ms (medians)",
            up * 1e3,
            compute * 1e3,
            down * 1e3
        );
    }
    Ok(())
}

/// Seconds of `repeat` runs of `f`, sorted.
fn sorted_times(repeat: usize, mut f: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

/// Median upload, compute and download seconds over `repeat` more GPU runs.
#[cfg(feature = "gpu")]
fn gpu_phases(kernel: &crate::Kernel, vars: &Vars<'_>, repeat: usize) -> Result<Option<[f64; 3]>> {
    let mut phases: [Vec<f64>; 3] = Default::default();
    for _ in 0..repeat {
        let Some((_, t)) = kernel.eval_gpu_timed(vars)? else {
            return Ok(None);
        };
        for (list, d) in phases.iter_mut().zip([t.upload, t.compute, t.download]) {
            list.push(d.as_secs_f64());
        }
    }
    Ok(Some(phases.map(|mut v| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    })))
}

#[cfg(not(feature = "gpu"))]
fn gpu_phases(_: &crate::Kernel, _: &Vars<'_>, _: usize) -> Result<Option<[f64; 3]>> {
    Ok(None)
}
