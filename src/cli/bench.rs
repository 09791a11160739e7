//! `jitexpr bench`: compile once, warm up, evaluate R times into a
//! preallocated output; report compile time, median and min seconds,
//! ns/element and GB/s (input + output bytes). The allocating calls are
//! timed too (R times each, after the preallocated ones): `Kernel::eval` and
//! the one-call `evaluate` (a kernel-cache hit), which is what NumPy and
//! numexpr's `evaluate` do on every call.

use std::time::Instant;

use crate::cli::{BackendArg, load_inputs, options};
use crate::error::{Error, ErrorKind, Result};
use crate::exec::shape::broadcast;
use crate::{Signature, Vars};

/// The measurements of one benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Elements per evaluation (the broadcast size of the inputs, at least the output size).
    pub n: usize,
    /// First compile, seconds.
    pub compile_s: f64,
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
        serde_json::json!({
            "ns_per_element": self.ns_per_element(),
            "median_s": self.median_s,
            "min_s": self.min_s,
            "eval_median_s": self.eval_median_s,
            "evaluate_median_s": self.evaluate_median_s,
            "compile_s": self.compile_s,
            "threads": self.threads,
            "backend": self.backend,
            "n": self.n,
            "gb_per_s": self.gb_per_s(),
        })
        .to_string()
    }
}

/// Runs the benchmark and prints it (as JSON with `json`).
pub fn run(
    expr: &str,
    inputs: &[String],
    repeat: usize,
    threads: Option<usize>,
    backend: BackendArg,
    json: bool,
) -> Result<()> {
    let opts = options(backend)?;
    if let Some(n) = threads {
        crate::set_num_threads(n);
    }
    if repeat == 0 {
        return Err(Error::new(ErrorKind::Value, "--repeat must be at least 1"));
    }
    let loaded = load_inputs(inputs)?;
    let vars: Vars<'_> = loaded.iter().map(|(n, a)| (n.as_str(), a)).collect();
    let signature = Signature::of(&vars);
    // Time a real compilation, not a cache hit: clear the cache first.
    crate::exec::cache::clear();
    let start = Instant::now();
    let kernel = crate::compile_with(expr, &signature, opts)?;
    let compile_s = start.elapsed().as_secs_f64();
    let mut out = kernel.eval(&vars)?; // warm-up, and the preallocated output
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t = Instant::now();
        kernel.eval_into(&vars, &mut out)?;
        times.push(t.elapsed().as_secs_f64());
    }
    let median = |mut t: Vec<f64>| {
        t.sort_by(f64::total_cmp);
        t
    };
    let times = median(times);
    let mut eval_times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t = Instant::now();
        let r = kernel.eval(&vars)?;
        eval_times.push(t.elapsed().as_secs_f64());
        drop(r);
    }
    let eval_times = median(eval_times);
    let mut evaluate_times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t = Instant::now();
        let r = crate::evaluate_with(expr, &vars, opts)?;
        evaluate_times.push(t.elapsed().as_secs_f64());
        drop(r);
    }
    let evaluate_times = median(evaluate_times);
    let shape = loaded
        .iter()
        .try_fold(Vec::new(), |acc, (_, a)| broadcast(&acc, a.shape()))
        .unwrap_or_default();
    let n = shape.iter().product::<usize>().max(out.len());
    let bytes = loaded
        .iter()
        .map(|(_, a)| a.len() * a.dtype().size())
        .sum::<usize>()
        + out.len() * out.dtype().size();
    let report = Report {
        n,
        compile_s,
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
    };
    if json {
        println!("{}", report.json());
    } else {
        println!("expression  {expr}");
        println!(
            "elements    {} ({} threads, {} backend)",
            report.n, report.threads, report.backend
        );
        println!("compile     {:.3} ms", report.compile_s * 1e3);
        println!(
            "evaluate    median {:.3} ms, min {:.3} ms over {repeat} runs",
            report.median_s * 1e3,
            report.min_s * 1e3
        );
        println!(
            "allocating  Kernel::eval median {:.3} ms, evaluate median {:.3} ms",
            report.eval_median_s * 1e3,
            report.evaluate_median_s * 1e3
        );
        println!(
            "throughput  {:.2} ns/element, {:.2} GB/s",
            report.ns_per_element(),
            report.gb_per_s()
        );
    }
    Ok(())
}
