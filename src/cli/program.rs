//! Programs of the command line and the REPL: statements `name = expr`
//! separated by `;` or newlines, ending in an expression, with array
//! constructors (`arange`, `linspace`, `zeros`, `ones`, `full`, `random`,
//! `normal`) usable anywhere an array is.
//!
//! A program is parsed once by [`crate::syntax::parse_program`]; a
//! constructor call is an ordinary call node. Evaluating a statement builds
//! each outermost constructor's array (its arguments must be literals), puts
//! a hidden variable in place of the call node ([`Program::extract`]) and
//! compiles the resulting expression; spans stay those of the program text.

use std::collections::BTreeMap;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

use crate::error::{Error, ErrorKind, Result, Span};
use crate::ir::builtins;
use crate::syntax::ast::{Ast, BinaryOp, ExprId, ExprKind, Program, Target, UnaryOp};
use crate::{Array, DType, Element, Options, Scalar, Signature, Vars};

/// The names of the array constructors.
pub const CONSTRUCTORS: &[(&str, &str)] = &[
    (
        "arange",
        "arange(stop) or arange(start, stop[, step]): evenly spaced values",
    ),
    (
        "linspace",
        "linspace(start, stop, num=50): num values from start to stop inclusive",
    ),
    ("zeros", "zeros(d0, d1, ..., dtype=float64)"),
    ("ones", "ones(d0, d1, ..., dtype=float64)"),
    (
        "full",
        "full(d0, d1, ..., value=v, dtype=...): v a number or complex (1.5-2j)",
    ),
    (
        "random",
        "random(d0, d1, ..., seed=k, dtype=float64): uniform in [0, 1) (complex: both parts)",
    ),
    (
        "normal",
        "normal(d0, d1, ..., loc=0, scale=1, seed=k, dtype=float64)",
    ),
];

/// Variables that live across statements, and the options to evaluate with.
#[derive(Debug, Default)]
pub struct Session {
    /// The session's arrays by name.
    pub vars: BTreeMap<String, Array>,
    /// Backend and math options.
    pub options: Options,
    /// Constructors called so far (the default seed of the next random one).
    draws: u64,
}

/// A program's text and its parse: the spans of every error point into `text`.
#[derive(Debug, Clone)]
pub struct Source {
    /// The program text.
    pub text: Arc<str>,
    /// The statements.
    pub program: Program,
}

impl Source {
    /// Parses `text` as a program; a syntax error carries the text.
    pub fn parse(text: &str) -> Result<Source> {
        let text: Arc<str> = Arc::from(text);
        let program = crate::syntax::parse_program(&text).map_err(|e| e.with_source(&text))?;
        Ok(Source { text, program })
    }
}

/// An expression ready to compile: constructor calls replaced by hidden
/// variables (`random@4`: no user variable can have such a name) and their arrays.
#[derive(Debug)]
pub struct Prepared {
    /// The expression, spans into the program text.
    pub ast: Ast,
    /// The hidden variables.
    pub temps: Vec<(String, Array)>,
    /// The statement's cancel token (Ctrl-C): its constructors checked it,
    /// its evaluation runs with it.
    pub token: crate::CancelToken,
}

/// The expression rooted at `id` with its outermost constructor calls
/// replaced by hidden variables named after the call and where it starts
/// (`random@4`), and those calls (node and name) left to right. Nothing is
/// built: [`Session::prepare`] builds the arrays; `bench` times this with
/// the compile.
pub fn extract(program: &Program, id: ExprId) -> (Ast, Vec<(ExprId, String)>) {
    let mut calls = Vec::new();
    let ast = program.extract(id, |node| {
        let expr = program.get(node);
        match &expr.kind {
            ExprKind::Call { func, .. } if is_constructor_call(&expr.kind) => {
                let name = format!("{func}@{}", expr.span.start);
                calls.push((node, name.clone()));
                Some(name)
            }
            _ => None,
        }
    });
    // Built left to right, so unseeded draws follow the text.
    calls.sort_by_key(|(node, _)| program.get(*node).span.start);
    (ast, calls)
}

/// Reads an input written `dtype[shape]` (`float64[1000000]`,
/// `int32[100, 3]`, `float32[]` or just `bool` for one value): `None` when
/// `spec` does not start with a dtype name (a file or a number then), the
/// dtype and shape otherwise, or an error for a malformed shape.
pub fn parse_placeholder(spec: &str) -> Option<Result<(DType, Vec<usize>)>> {
    let (head, rest) = match spec.find('[') {
        Some(at) => (&spec[..at], Some(&spec[at..])),
        None => (spec, None),
    };
    let dtype = DType::from_name(head.trim())?;
    let bad = || {
        Error::new(
            ErrorKind::Value,
            format!("`{spec}` is not a dtype and a shape"),
        )
        .with_help("e.g. float64[1000000], int32[100, 3], or float32 for one value")
    };
    let Some(rest) = rest else {
        return Some(Ok((dtype, Vec::new())));
    };
    let Some(inner) = rest
        .strip_prefix('[')
        .and_then(|r| r.trim_end().strip_suffix(']'))
    else {
        return Some(Err(bad()));
    };
    if inner.trim().is_empty() {
        return Some(Ok((dtype, Vec::new())));
    }
    let shape = inner
        .split(',')
        .map(|d| {
            let d = d.trim().replace('_', "");
            match d.parse::<usize>() {
                Ok(n) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
                _ => Err(bad()),
            }
        })
        .collect::<Result<Vec<usize>>>();
    Some(shape.map(|shape| (dtype, shape)))
}

/// A made-up input of `dtype` and `shape` (see [`parse_placeholder`]):
/// floats uniform in [0, 1) (complex: both parts), integers uniform in
/// 0..100, booleans true or false with equal odds; the same values for the
/// same `seed`.
pub fn placeholder(dtype: DType, shape: &[usize], seed: u64) -> Result<Array> {
    let span = Span::new(0, 0);
    let n = count(shape, span)?;
    let token = crate::CancelToken::new();
    if dtype.is_complex() {
        return complex_uniform(dtype, shape, n, seed, span, &token);
    }
    let values = match dtype {
        d if d.is_float() => generate(n, seed, span, &token, |rng| rng.random::<f64>())?,
        d if d.is_int() => generate(n, seed, span, &token, |rng| {
            (rng.random::<f64>() * 100.0).floor()
        })?,
        _ => generate(n, seed, span, &token, |rng| {
            f64::from(u8::from(rng.random::<f64>() < 0.5))
        })?,
    };
    // The errors' span points nowhere: without a source text they render
    // as a plain message.
    from_f64(shape, values, dtype, span)
}

/// `true` for a call of an array constructor.
fn is_constructor_call(kind: &ExprKind) -> bool {
    matches!(kind, ExprKind::Call { func, .. } if CONSTRUCTORS.iter().any(|(c, _)| c == func))
}

impl Session {
    /// An empty session evaluating with `options`.
    pub fn new(options: Options) -> Session {
        Session {
            vars: BTreeMap::new(),
            options,
            draws: 0,
        }
    }

    /// Runs every statement; returns the value of the last one if it is an expression.
    pub fn run(&mut self, text: &str) -> Result<Option<Array>> {
        let source = Source::parse(text)?;
        let mut last = None;
        for k in 0..source.program.statements.len() {
            last = self.execute(&source, k)?;
        }
        Ok(last)
    }

    /// Runs statement `k`: an assignment returns `None`, an expression its value.
    pub fn execute(&mut self, source: &Source, k: usize) -> Result<Option<Array>> {
        let stmt = &source.program.statements[k];
        if let Some(target) = &stmt.target {
            check_target(target).map_err(|e| e.with_source(&source.text))?;
        }
        let value = self.evaluate(source, stmt.value)?;
        match &stmt.target {
            Some(target) => {
                self.vars.insert(target.name.clone(), value);
                Ok(None)
            }
            None => Ok(Some(value)),
        }
    }

    /// Evaluates the expression rooted at `id` over the session's variables.
    pub fn evaluate(&mut self, source: &Source, id: ExprId) -> Result<Array> {
        let prepared = self.prepare(source, id)?;
        let vars = self.bind(&prepared);
        crate::kernel::compile_ast(
            &source.text,
            &prepared.ast,
            &Signature::of(&vars),
            self.options,
        )?
        .eval_with_cancel(&vars, &prepared.token)
    }

    /// The variables `prepared` reads (session variables and its
    /// constructors' arrays), to evaluate with: only those, so a statement
    /// costs the same after thousands of assignments as after one. When it
    /// reads a name the session lacks (and no constant has), every session
    /// variable, so that the unknown-name error can suggest the closest one.
    pub fn bind<'a>(&'a self, prepared: &'a Prepared) -> Vars<'a> {
        let temps = prepared.temps.iter().map(|(n, a)| (n.as_str(), a));
        let all = || {
            self.vars
                .iter()
                .map(|(n, a)| (n.as_str(), a))
                .chain(temps.clone())
                .collect()
        };
        // Names of functions are not read; a constant's name (`e`) is the
        // session's variable when it has one (variables shadow constants).
        let reads = prepared.ast.free_names(|n| builtins::lookup(n).is_some());
        let mut read: Vec<(&str, &Array)> = Vec::new();
        for n in &reads {
            if prepared.temps.iter().any(|(t, _)| t == n) {
                continue;
            }
            match self.vars.get_key_value(n) {
                Some((k, a)) => read.push((k.as_str(), a)),
                None if builtins::CONSTANTS.iter().any(|(c, _)| c == n) => {}
                None => return all(),
            }
        }
        read.into_iter().chain(temps).collect()
    }

    /// The expression rooted at `id` with its outermost constructor calls
    /// evaluated (left to right) and replaced by hidden variables named after
    /// the call and where it starts (`random@4`).
    pub fn prepare(&mut self, source: &Source, id: ExprId) -> Result<Prepared> {
        self.prepare_with(source, id, super::evaluation_token())
    }

    /// [`Session::prepare`] with the statement's cancel `token`: a
    /// constructor stops at its next block of 2^16 values once it is
    /// cancelled (Ctrl-C was lost while `random(30000, 30000)` ran).
    pub fn prepare_with(
        &mut self,
        source: &Source,
        id: ExprId,
        token: crate::CancelToken,
    ) -> Result<Prepared> {
        let program = &source.program;
        let (ast, calls) = extract(program, id);
        let mut temps = Vec::with_capacity(calls.len());
        for (node, name) in calls {
            let array = self
                .construct(program, node, &token)
                .map_err(|e| e.with_source(&source.text))?;
            temps.push((name, array));
        }
        Ok(Prepared { ast, temps, token })
    }

    fn construct(
        &mut self,
        ast: &Program,
        id: ExprId,
        token: &crate::CancelToken,
    ) -> Result<Array> {
        let ExprKind::Call {
            func,
            func_span,
            args,
            keywords,
        } = &ast.get(id).kind
        else {
            return Err(Error::internal("not a call"));
        };
        let span = ast.get(id).span;
        // Each keyword's value and where it is written.
        let mut kw: BTreeMap<&str, (Literal, Span)> = BTreeMap::new();
        for k in keywords {
            let value = (literal(ast, k.value)?, ast.get(k.value).span);
            kw.insert(k.name.as_str(), value);
        }
        let allowed: &[&str] = match func.as_str() {
            "arange" | "zeros" | "ones" => &["dtype"],
            "linspace" => &["num", "dtype"],
            "full" => &["value", "fill_value", "dtype"],
            "random" => &["seed", "dtype"],
            "normal" => &["loc", "scale", "seed", "dtype"],
            _ => &[],
        };
        for k in keywords {
            if !allowed.contains(&k.name.as_str()) {
                return Err(Error::new(
                    ErrorKind::Type,
                    format!("`{func}` got an unexpected keyword argument `{}`", k.name),
                )
                .at(k.name_span)
                .with_help(format!("accepted: {}", allowed.join(", "))));
            }
        }
        let positional: Vec<Literal> = args
            .iter()
            .map(|&a| literal(ast, a))
            .collect::<Result<_>>()?;
        let dtype = match kw.get("dtype") {
            Some((Literal::Name(n), at)) => Some(DType::from_name(n).ok_or_else(|| {
                Error::new(ErrorKind::Value, format!("unknown dtype `{n}`"))
                    .at(*at)
                    .with_help(
                        "use bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, \
                         float16, float32 or float64",
                    )
            })?),
            Some((_, at)) => {
                return Err(Error::new(ErrorKind::Type, "dtype must be a dtype name")
                    .at(*at)
                    .with_help("e.g. dtype=float32"));
            }
            None => None,
        };
        let shape = || -> Result<Vec<usize>> {
            positional
                .iter()
                .zip(args)
                .map(|(l, &arg)| match l {
                    Literal::Int(n) if *n >= 0 => Ok(*n as usize),
                    _ => Err(Error::new(
                        ErrorKind::Value,
                        "dimensions must be non-negative integers",
                    )
                    .at(ast.get(arg).span)
                    .with_help(format!("e.g. `{func}(1000, 3)`"))),
                })
                .collect()
        };
        let seed = match kw.get("seed") {
            Some((Literal::Int(s), _)) => *s as u64,
            Some((_, at)) => {
                return Err(Error::new(ErrorKind::Type, "seed must be an integer")
                    .at(*at)
                    .with_help("e.g. seed=1"));
            }
            None => {
                self.draws += 1;
                self.draws - 1
            }
        };
        let number = |name: &str, default: f64| -> Result<f64> {
            match kw.get(name) {
                None => Ok(default),
                Some((l, at)) => l.as_f64().ok_or_else(|| {
                    Error::new(ErrorKind::Type, format!("`{name}` must be a number")).at(*at)
                }),
            }
        };
        let array = match func.as_str() {
            "zeros" | "ones" => {
                let shape = shape()?;
                let v = if func == "ones" { 1.0 } else { 0.0 };
                filled(
                    &shape,
                    Scalar::Float64(v),
                    dtype.unwrap_or(DType::Float64),
                    span,
                )?
            }
            "full" => {
                let shape = shape()?;
                let value = kw.get("value").or(kw.get("fill_value")).ok_or_else(|| {
                    Error::new(ErrorKind::Type, "`full` needs `value=`")
                        .at(*func_span)
                        .with_help("e.g. full(3, 4, value=2.5)")
                })?;
                let (value, at) = value;
                let default = match value {
                    Literal::Int(_) => DType::Int64,
                    Literal::Bool(_) => DType::Bool,
                    Literal::Complex(..) => DType::Complex128,
                    _ => DType::Float64,
                };
                let dtype = dtype.unwrap_or(default);
                let v = match *value {
                    Literal::Complex(re, im) if dtype.is_complex() => {
                        Scalar::Complex128(crate::types::c64::new(re, im))
                    }
                    Literal::Complex(..) => {
                        return Err(Error::new(
                            ErrorKind::Type,
                            format!("a complex `value` does not fit dtype={dtype}"),
                        )
                        .at(*at)
                        .with_help("use dtype=complex128 or complex64, or a real value"));
                    }
                    _ => Scalar::Float64(value.as_f64().ok_or_else(|| {
                        Error::new(ErrorKind::Type, "`value` must be a number").at(*at)
                    })?),
                };
                filled(&shape, v, dtype, span)?
            }
            "arange" => {
                let nums: Vec<f64> = positional
                    .iter()
                    .map(|l| {
                        l.as_f64().ok_or_else(|| {
                            Error::new(ErrorKind::Type, "arange takes numbers").at(span)
                        })
                    })
                    .collect::<Result<_>>()?;
                let (start, stop, step) = match nums.as_slice() {
                    [stop] => (0.0, *stop, 1.0),
                    [start, stop] => (*start, *stop, 1.0),
                    [start, stop, step] => (*start, *stop, *step),
                    _ => {
                        return Err(Error::new(ErrorKind::Type, "arange takes 1 to 3 arguments")
                            .at(span)
                            .with_help(
                                "arange(stop), arange(start, stop) or arange(start, stop, step)",
                            ));
                    }
                };
                if step == 0.0 || !step.is_finite() {
                    return Err(Error::new(
                        ErrorKind::Value,
                        "arange step must be a finite nonzero number",
                    )
                    .at(span));
                }
                let n = ((stop - start) / step).ceil().max(0.0);
                let n = checked_len(n, span)?;
                let all_int = positional.iter().all(|l| matches!(l, Literal::Int(_)));
                let default = if all_int {
                    DType::Int64
                } else {
                    DType::Float64
                };
                let mut values = try_vec(n, span)?;
                values.extend((0..n).map(|i| start + i as f64 * step));
                from_f64(&[n], values, dtype.unwrap_or(default), span)?
            }
            "linspace" => {
                let nums: Vec<f64> = positional
                    .iter()
                    .map(|l| {
                        l.as_f64().ok_or_else(|| {
                            Error::new(ErrorKind::Type, "linspace takes numbers").at(span)
                        })
                    })
                    .collect::<Result<_>>()?;
                let (start, stop, num) = match nums.as_slice() {
                    [start, stop] => (*start, *stop, number("num", 50.0)?),
                    [start, stop, num] => (*start, *stop, *num),
                    _ => {
                        return Err(Error::new(
                            ErrorKind::Type,
                            "linspace takes start, stop and num",
                        )
                        .at(span));
                    }
                };
                let n = checked_len(num, span)?;
                let step = if n > 1 {
                    (stop - start) / (n - 1) as f64
                } else {
                    0.0
                };
                let mut values = try_vec(n, span)?;
                values.extend((0..n).map(|i| start + i as f64 * step));
                if let Some(last) = values.last_mut()
                    && n > 1
                {
                    *last = stop;
                }
                from_f64(&[n], values, dtype.unwrap_or(DType::Float64), span)?
            }
            "random" => {
                let shape = shape()?;
                let n = count(&shape, span)?;
                if let Some(d) = dtype.filter(|d| d.is_complex()) {
                    return complex_uniform(d, &shape, n, seed, span, token);
                }
                let dtype = float_dtype(func, dtype, span)?;
                let values = generate(n, seed, span, token, |rng| rng.random::<f64>())?;
                from_f64(&shape, values, dtype, span)?
            }
            "normal" => {
                let shape = shape()?;
                let n = count(&shape, span)?;
                let (loc, scale) = (number("loc", 0.0)?, number("scale", 1.0)?);
                let dist = Normal::new(loc, scale).map_err(|e| {
                    Error::new(
                        ErrorKind::Value,
                        format!("invalid normal distribution: {e}"),
                    )
                    .at(span)
                })?;
                let dtype = float_dtype(func, dtype, span)?;
                let values = generate(n, seed, span, token, |rng| dist.sample(rng))?;
                from_f64(&shape, values, dtype, span)?
            }
            other => {
                return Err(Error::internal(format!("{other} is not a constructor")));
            }
        };
        Ok(array)
    }
}

/// Random values in blocks of 2^16, block `k` drawn from its own generator
/// seeded with `(seed, k)`: the same numbers whatever the number of threads,
/// generated in parallel.
fn generate(
    n: usize,
    seed: u64,
    span: Span,
    token: &crate::CancelToken,
    draw: impl Fn(&mut rand::rngs::StdRng) -> f64 + Sync,
) -> Result<Vec<f64>> {
    const BLOCK: usize = 1 << 16;
    // Zeroed (untouched) memory with huge pages: the workers fault it in.
    let mut values: Vec<f64> =
        crate::alloc::zeroed_vec(n).ok_or_else(|| too_large(n, DType::Float64, span))?;
    let fill = |(k, chunk): (usize, &mut [f64])| {
        if token.is_cancelled() {
            return;
        }
        let key = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (k as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let mut rng = rand::rngs::StdRng::seed_from_u64(key);
        for v in chunk {
            *v = draw(&mut rng);
        }
    };
    // Each block behind its own (uncontended) lock: a thread takes the
    // blocks of its part.
    let blocks: Vec<std::sync::Mutex<&mut [f64]>> = values
        .chunks_mut(BLOCK)
        .map(std::sync::Mutex::new)
        .collect();
    let team = crate::threads::parallel_team().filter(|_| n > BLOCK);
    crate::threads::map(
        team.as_deref(),
        blocks.len(),
        || (),
        |_, k| {
            let mut chunk = blocks[k].lock().unwrap_or_else(|e| e.into_inner());
            fill((k, &mut chunk))
        },
    );
    drop(blocks);
    if token.is_cancelled() {
        return Err(Error::new(ErrorKind::Cancelled, "evaluation cancelled").at(span));
    }
    Ok(values)
}

/// The dtype of a `random`/`normal` result: a float (NumPy's generators of
/// floats have no integer dtype; `random(3, dtype=int32)` would be zeros).
/// `n` complex values of `dtype` and `shape`, both parts uniform in
/// [0, 1) (drawn real, imaginary, real, ...), the same for the same `seed`.
fn complex_uniform(
    dtype: DType,
    shape: &[usize],
    n: usize,
    seed: u64,
    span: Span,
    token: &crate::CancelToken,
) -> Result<Array> {
    let twice = n.checked_mul(2).ok_or_else(|| too_large(n, dtype, span))?;
    let parts = generate(twice, seed, span, token, |rng| rng.random::<f64>())?;
    let values: Vec<Scalar> = parts
        .chunks_exact(2)
        .map(|p| Scalar::Complex128(crate::types::c64::new(p[0], p[1])))
        .collect();
    Array::from_scalars(dtype, shape, &values)
        .ok_or_else(|| Error::internal("complex values do not fill their shape"))
}

fn float_dtype(func: &str, dtype: Option<DType>, span: Span) -> Result<DType> {
    match dtype {
        None => Ok(DType::Float64),
        Some(d) if d.is_float() => Ok(d),
        Some(d) => Err(Error::new(
            ErrorKind::Type,
            format!("`{func}` draws floats; dtype={d} is not a float dtype"),
        )
        .at(span)
        .with_help(
            "use dtype=float64 or float32, and convert with int64(...) if you need integers",
        )),
    }
}

/// The error for a constructor result of `n` elements of `dtype` that
/// cannot be allocated, with the size asked for.
fn too_large(n: usize, dtype: DType, span: Span) -> Error {
    let bytes = n as f64 * dtype.size() as f64;
    Error::new(
        ErrorKind::Limit,
        format!(
            "cannot allocate {n} {dtype} elements ({:.3} GB)",
            bytes / 1e9
        ),
    )
    .at(span)
    .with_help("make the array smaller")
}

/// An empty vector with room for `n` values, or a `Limit` error (never an abort).
fn try_vec<T: Element>(n: usize, span: Span) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| too_large(n, T::DTYPE, span))?;
    Ok(v)
}

fn checked_len(n: f64, span: Span) -> Result<usize> {
    if !(0.0..=1e12).contains(&n) || n.is_nan() {
        return Err(Error::new(ErrorKind::Value, "invalid number of elements").at(span));
    }
    Ok(n as usize)
}

fn count(shape: &[usize], span: Span) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= (1usize << 40))
        .ok_or_else(|| Error::new(ErrorKind::Limit, "array too large").at(span))
}

/// An array of `dtype` and `shape` whose every element is `v` (NumPy's
/// `astype` conversion of it), allocated directly in `dtype`.
fn filled(shape: &[usize], v: Scalar, dtype: DType, span: Span) -> Result<Array> {
    let n = count(shape, span)?;
    fn make<T: Element>(shape: &[usize], n: usize, v: Scalar, span: Span) -> Result<Array> {
        // Zeros (+0, all bits clear) come from the zeroing allocator: no
        // page is touched until read.
        if v.bits() == 0 {
            let values: Vec<T> =
                crate::alloc::zeroed_vec(n).ok_or_else(|| too_large(n, T::DTYPE, span))?;
            return shaped(shape, values);
        }
        let mut values: Vec<T> = try_vec(n, span)?;
        values.resize(n, T::from_scalar(v));
        shaped(shape, values)
    }
    crate::types::dtype_dispatch!(dtype, make(shape, n, v, span))
}

/// `values` (C order) as an array of `shape`.
fn shaped<T: Element>(shape: &[usize], values: Vec<T>) -> Result<Array> {
    ArrayD::from_shape_vec(IxDyn(shape), values)
        .map(T::into_array)
        .map_err(|_| Error::internal("constructor values do not fill their shape"))
}

/// `values` (C order) as an array of `dtype`, with NumPy's `astype`
/// conversion, element by element into the new dtype (no intermediate copy).
fn from_f64(shape: &[usize], values: Vec<f64>, dtype: DType, span: Span) -> Result<Array> {
    fn convert<T: Element>(shape: &[usize], values: &[f64], span: Span) -> Result<Array> {
        let mut out: Vec<T> = try_vec(values.len(), span)?;
        out.extend(values.iter().map(|&v| T::from_scalar(Scalar::Float64(v))));
        shaped(shape, out)
    }
    match dtype {
        DType::Float64 => shaped(shape, values),
        d => crate::types::dtype_dispatch!(d, convert(shape, &values, span)),
    }
}

/// A literal argument of a constructor.
#[derive(Debug, Clone)]
enum Literal {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// `2j`, `1.5-2j`: real and imaginary parts.
    Complex(f64, f64),
    Name(String),
}

impl Literal {
    fn as_f64(&self) -> Option<f64> {
        match self {
            Literal::Int(i) => Some(*i as f64),
            Literal::Float(f) => Some(*f),
            Literal::Bool(b) => Some(f64::from(u8::from(*b))),
            Literal::Complex(..) | Literal::Name(_) => None,
        }
    }
}

/// The literal at `id`, possibly negated: a loop over the minus signs, however
/// many there are.
fn literal(ast: &Program, id: ExprId) -> Result<Literal> {
    // `negated`: the span of the innermost minus sign's node.
    let (mut id, mut negate, mut negated) = (id, false, None);
    while let ExprKind::Unary {
        op: UnaryOp::Neg,
        operand,
        ..
    } = &ast.get(id).kind
    {
        negate = !negate;
        negated = Some(ast.get(id).span);
        id = *operand;
    }
    let e = ast.get(id);
    let value = match &e.kind {
        ExprKind::Int(v) => i64::try_from(*v)
            .map(Literal::Int)
            .map_err(|_| Error::new(ErrorKind::Value, "integer too large").at(e.span))?,
        ExprKind::Float(v) => Literal::Float(*v),
        ExprKind::Imag(v) => Literal::Complex(0.0, *v),
        // `re + imj`, `re - imj`: a complex value written as NumPy writes one.
        ExprKind::Binary {
            op: op @ (BinaryOp::Add | BinaryOp::Sub),
            lhs,
            rhs,
            ..
        } if matches!(ast.get(*rhs).kind, ExprKind::Imag(_)) => {
            let ExprKind::Imag(im) = ast.get(*rhs).kind else {
                return Err(not_literal(e.span));
            };
            let re = literal(ast, *lhs)?
                .as_f64()
                .ok_or_else(|| not_literal(ast.get(*lhs).span))?;
            Literal::Complex(re, if *op == BinaryOp::Sub { -im } else { im })
        }
        ExprKind::Bool(b) => Literal::Bool(*b),
        ExprKind::Name(n) => match builtins::CONSTANTS.iter().find(|(c, _)| c == n) {
            Some((_, v)) => Literal::Float(*v),
            None => Literal::Name(n.clone()),
        },
        ExprKind::Call { func, .. } if DType::from_name(func).is_some() => {
            Literal::Name(func.clone())
        }
        _ => return Err(not_literal(e.span)),
    };
    Ok(match (negate, value) {
        (false, v) => v,
        (true, Literal::Int(i)) => Literal::Int(-i),
        (true, Literal::Float(f)) => Literal::Float(-f),
        (true, Literal::Complex(re, im)) => Literal::Complex(-re, -im),
        (true, _) => return Err(not_literal(negated.unwrap_or(e.span))),
    })
}

fn not_literal(span: Span) -> Error {
    Error::new(
        ErrorKind::Type,
        "constructor arguments must be literal numbers",
    )
    .at(span)
    .with_help("e.g. random(1000, seed=1), linspace(0, 1, 11)")
}

/// Assignment targets must be plain names that are not functions or constructors.
pub fn check_target(target: &Target) -> Result<()> {
    let name = target.name.as_str();
    if builtins::lookup(name).is_some() || CONSTRUCTORS.iter().any(|(c, _)| *c == name) {
        return Err(Error::new(
            ErrorKind::Name,
            format!("cannot assign to `{name}`: it is a function"),
        )
        .at(target.span)
        .with_label("a function name")
        .with_help("choose another name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &mut Session, text: &str) -> Result<Option<Array>> {
        s.run(text)
    }

    fn value(s: &mut Session, text: &str) -> f64 {
        let r = run(s, text).unwrap().expect("a result");
        r.to_scalars()[0].to_f64()
    }

    #[test]
    fn statements_comments_and_brackets_across_lines() {
        let mut s = Session::new(Options::default());
        let text = "a = 1; b = (2 +  # two\n  3)\n# a comment\nc = maximum(a,\n  b)\n\nc * 10";
        assert_eq!(value(&mut s, text), 50.0);
        assert_eq!(s.vars.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        // `==` is a comparison, not an assignment.
        assert_eq!(value(&mut s, "x = a == 1; x"), 1.0);
        // After an operator the statement goes on.
        assert_eq!(value(&mut s, "y = a +\n 41\ny"), 42.0);
        assert!(run(&mut s, "z = 3").unwrap().is_none());
        assert!(run(&mut s, ";;").unwrap().is_none());
    }

    #[test]
    fn errors_point_into_the_whole_program() {
        let mut s = Session::new(Options::default());
        let text = "a = 1\nb = a + 2\nc = b * nope";
        let e = run(&mut s, text).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Name);
        let at = text.find("nope").unwrap();
        assert_eq!(e.span(), Some(Span::new(at, at + 4)));
        assert_eq!(e.source_text(), Some(text));
        // The statements before the error ran.
        assert_eq!(s.vars.len(), 2);
        // A constructor's error, in a later statement.
        let text = "a = 1; b = zeros(2) + random(3, seed=x)";
        let e = run(&mut s, text).unwrap_err();
        let at = text.find("x)").unwrap();
        assert_eq!(e.span(), Some(Span::new(at, at + 1)), "{e:?}");
        // A shape error between two constructors points at the operator.
        let text = "q = 1\nzeros(2) + ones(3)";
        let e = run(&mut s, text).unwrap_err();
        let at = text.find('+').unwrap();
        assert_eq!(e.span(), Some(Span::new(at, at + 1)), "{e:?}");
        // Assigning to a function: at the name.
        let e = run(&mut s, "a = 1; sin = 2").unwrap_err();
        assert_eq!(e.span(), Some(Span::new(7, 10)));
        // A syntax error in a later line: nothing runs.
        s.vars.clear();
        let text = "a = 1\nb = (2 +\n 3))";
        let e = run(&mut s, text).unwrap_err();
        let at = text.rfind(')').unwrap();
        assert_eq!(e.span(), Some(Span::new(at, at + 1)));
        assert!(s.vars.is_empty());
    }

    #[test]
    fn constructors_are_deterministic_and_typed() {
        let mut s = Session::new(Options::default());
        let r = s
            .run("a = random(1000, seed=3); b = random(1000, seed=3); sum(a == b)")
            .unwrap()
            .unwrap();
        assert_eq!(r.to_scalars()[0].to_f64(), 1000.0);
        let r = s.run("arange(5)").unwrap().unwrap();
        assert_eq!(r.dtype(), DType::Int64);
        let r = s.run("linspace(0, 1, 5)").unwrap().unwrap();
        assert_eq!(r.to_scalars()[4].to_f64(), 1.0);
        let r = s
            .run("zeros(2, 3, dtype=float32) + ones(3)")
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.dtype(), r.shape().to_vec()),
            (DType::Float64, vec![2, 3])
        );
        let r = s.run("full(2, value=7)").unwrap().unwrap();
        assert_eq!(r.dtype(), DType::Int64);
        // Each dtype is made directly, with NumPy's astype conversion.
        let r = s.run("full(3, value=-2.7, dtype=int32)").unwrap().unwrap();
        assert_eq!(r.as_i32().unwrap().as_slice().unwrap(), &[-2, -2, -2]);
        let r = s.run("arange(0, 1, 0.25, dtype=float32)").unwrap().unwrap();
        assert_eq!(
            r.as_f32().unwrap().as_slice().unwrap(),
            &[0.0, 0.25, 0.5, 0.75]
        );
        let r = s.run("ones(2, dtype=bool)").unwrap().unwrap();
        assert_eq!(r.as_bool().unwrap().as_slice().unwrap(), &[true, true]);
        let r = s.run("random(4, seed=1, dtype=float32)").unwrap().unwrap();
        let r64 = s.run("random(4, seed=1)").unwrap().unwrap();
        let want: Vec<f32> = r64.as_f64().unwrap().iter().map(|&v| v as f32).collect();
        assert_eq!(r.as_f32().unwrap().as_slice().unwrap(), want.as_slice());
    }

    /// A statement binds the variables it reads, not every one of the
    /// session's (each statement of `x0 = x; x1 = -x0; ...` bound them all:
    /// 2,000 statements took 6 s, 5,000 did not finish in a minute); a name
    /// the session lacks still gets the suggestion from all of them.
    #[test]
    fn a_statement_binds_what_it_reads() {
        let mut s = Session::new(Options::default());
        let program: Vec<String> = std::iter::once("x0 = 1.0".to_string())
            .chain((1..1000).map(|i| format!("x{i} = -x{}", i - 1)))
            .collect();
        s.run(&program.join("\n")).unwrap();
        assert_eq!(s.vars.len(), 1000);
        let source = Source::parse("x998 * 2 + random(2, seed=1)").unwrap();
        let prepared = s
            .prepare(&source, source.program.statements[0].value)
            .unwrap();
        let vars = s.bind(&prepared);
        let bound: Vec<&str> = vars.iter().map(|(n, _)| n).collect();
        assert_eq!(bound.len(), 2, "{bound:?}");
        assert_eq!(bound[0], "x998");
        let r = s.run("x999 + x998").unwrap().unwrap();
        assert_eq!(r.to_scalars()[0].to_f64(), 0.0);
        let e = s.run("x9999 + 1").unwrap_err();
        assert!(format!("{e:?}").contains("x999"), "{e:?}");
        // A variable named like a constant shadows it; an unshadowed
        // constant is not a missing variable.
        let r = s.run("e = arange(3); sum(e) + 0 * pi").unwrap().unwrap();
        assert_eq!(r.to_scalars()[0].to_f64(), 3.0);
    }

    #[test]
    fn placeholders_parse_a_dtype_and_a_shape() {
        let ok = |s: &str| parse_placeholder(s).map(|r| r.unwrap());
        assert_eq!(
            ok("float64[1000000]"),
            Some((DType::Float64, vec![1000000]))
        );
        assert_eq!(ok("int32[100, 3]"), Some((DType::Int32, vec![100, 3])));
        assert_eq!(
            ok("float32[1_000,2]"),
            Some((DType::Float32, vec![1000, 2]))
        );
        assert_eq!(ok("bool"), Some((DType::Bool, vec![])));
        assert_eq!(ok("int64[]"), Some((DType::Int64, vec![])));
        // Files and numbers are not placeholders.
        for s in ["data.npy", "2.5", "float64.npy", "x.npz:float32"] {
            assert!(parse_placeholder(s).is_none(), "{s}");
        }
        for s in [
            "float64[",
            "float64[3",
            "float64[3]x",
            "float64[-1]",
            "float64[1e6]",
            "int32[,]",
        ] {
            assert!(matches!(parse_placeholder(s), Some(Err(_))), "{s}");
        }
        let a = placeholder(DType::Int32, &[2, 500], 7).unwrap();
        assert_eq!(a.shape(), &[2, 500]);
        assert!(
            a.to_scalars()
                .iter()
                .all(|v| (0.0..100.0).contains(&v.to_f64()))
        );
        assert_eq!(a, placeholder(DType::Int32, &[2, 500], 7).unwrap());
        assert_ne!(a, placeholder(DType::Int32, &[2, 500], 8).unwrap());
    }

    /// A cancelled statement's constructors stop (Ctrl-C could not stop
    /// `sum(sin(random(30000, 30000)))` while `random` ran).
    #[test]
    fn a_cancelled_statement_stops_in_its_constructors() {
        let mut s = Session::new(Options::default());
        let source = Source::parse("sum(random(300, 400) + normal(10))").unwrap();
        let token = crate::CancelToken::new();
        token.cancel();
        let id = source.program.statements[0].value;
        let e = s.prepare_with(&source, id, token).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cancelled, "{e:?}");
        assert_eq!(e.span().map(|s| s.start), Some(4), "at the constructor");
        // With a fresh token the same statement runs.
        let p = s
            .prepare_with(&source, id, crate::CancelToken::new())
            .unwrap();
        assert_eq!(p.temps.len(), 2);
    }

    /// Constructors whose result cannot be allocated are a `Limit` error
    /// naming the size (they aborted the process: `sum(zeros(100000,
    /// 100000))`); integer draws are an error, not silent zeros.
    #[test]
    fn constructor_sizes_and_dtypes_are_checked() {
        let mut s = Session::new(Options::default());
        for text in [
            "ones(1000000, 1000000)",
            "zeros(1000000, 1000000, dtype=int32)",
            "random(1000000, 1000000)",
            "arange(0, 1e12)",
        ] {
            let e = s.run(text).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Limit, "{text}: {e:?}");
            assert!(e.message().contains("cannot allocate"), "{text}: {e:?}");
        }
        let e = s.run("sum(random(3, dtype=int32))").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Type);
        assert!(e.message().contains("draws floats"), "{e:?}");
        let e = s.run("normal(3, dtype=bool)").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Type);
    }
}
