//! Programs of the command line and the REPL: statements `name = expr`
//! separated by `;` or newlines, ending in an expression, with array
//! constructors (`arange`, `linspace`, `zeros`, `ones`, `full`, `random`,
//! `normal`) usable anywhere an array is.
//!
//! A constructor call is evaluated first (its arguments must be literals),
//! bound to a hidden variable, and the call replaced by that variable in the
//! expression text; the rest is an ordinary jitexpr expression.

use std::collections::BTreeMap;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

use crate::error::{Error, ErrorKind, Result, Span};
use crate::ir::builtins;
use crate::syntax::ast::{Ast, ExprId, ExprKind, UnaryOp};
use crate::{Array, DType, Options, Vars};

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
    ("full", "full(d0, d1, ..., value=v, dtype=...)"),
    (
        "random",
        "random(d0, d1, ..., seed=k, dtype=float64): uniform in [0, 1)",
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

/// One statement: an optional target and an expression (with its offset in the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `name` in `name = expr`.
    pub target: Option<String>,
    /// The expression text.
    pub expr: String,
}

/// Splits a program into statements at `;` and newlines outside parentheses.
pub fn split_statements(program: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in program.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ';' | '\n' if depth <= 0 => {
                out.push(&program[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&program[start..]);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// `name = expr` or `expr` (`==` is a comparison, not an assignment).
pub fn parse_statement(text: &str) -> Statement {
    let trimmed = text.trim();
    let name_len = trimmed
        .char_indices()
        .take_while(|&(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
        .count();
    if name_len > 0 {
        let rest = trimmed[name_len..].trim_start();
        if rest.starts_with('=') && !rest.starts_with("==") {
            return Statement {
                target: Some(trimmed[..name_len].to_string()),
                expr: rest[1..].trim().to_string(),
            };
        }
    }
    Statement {
        target: None,
        expr: trimmed.to_string(),
    }
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
    pub fn run(&mut self, program: &str) -> Result<Option<Array>> {
        let mut last = None;
        for stmt in split_statements(program) {
            last = self.run_statement(stmt)?;
        }
        Ok(last)
    }

    /// Runs one statement: an assignment returns `None`, an expression its value.
    pub fn run_statement(&mut self, text: &str) -> Result<Option<Array>> {
        let stmt = parse_statement(text);
        if let Some(name) = &stmt.target {
            check_target(name)?;
        }
        let value = self.evaluate(&stmt.expr)?;
        match stmt.target {
            Some(name) => {
                self.vars.insert(name, value);
                Ok(None)
            }
            None => Ok(Some(value)),
        }
    }

    /// Evaluates one expression over the session's variables.
    pub fn evaluate(&mut self, expr: &str) -> Result<Array> {
        let (text, temps) = self.expand_constructors(expr)?;
        let vars: Vars<'_> = self
            .vars
            .iter()
            .map(|(n, a)| (n.as_str(), a))
            .chain(temps.iter().map(|(n, a)| (n.as_str(), a)))
            .collect();
        let token = super::evaluation_token();
        let result = crate::compile_with(&text, &crate::Signature::of(&vars), self.options)
            .and_then(|k| k.eval_with_cancel(&vars, &token));
        if text.len() == expr.len() {
            // Spans are unchanged: show the user's text in diagnostics.
            let source: Arc<str> = Arc::from(expr);
            return result.map_err(|e| e.replace_source(&source));
        }
        result
    }

    /// Replaces constructor calls by hidden variables holding their arrays.
    pub fn expand_constructors(&mut self, expr: &str) -> Result<(String, Vec<(String, Array)>)> {
        let source: Arc<str> = Arc::from(expr);
        let Ok(ast) = crate::syntax::parse(expr) else {
            // Let the real evaluation report the syntax error.
            return Ok((expr.to_string(), Vec::new()));
        };
        let calls = outermost_constructor_calls(&ast);
        if calls.is_empty() {
            return Ok((expr.to_string(), Vec::new()));
        }
        let mut text = expr.to_string();
        let mut temps = Vec::new();
        // Right to left, so earlier spans stay valid.
        for (k, id) in calls.iter().enumerate().rev() {
            let span = ast.get(*id).span;
            let array = self
                .construct(&ast, *id)
                .map_err(|e| e.with_source(&source))?;
            // The same length as the call, so error spans in the expanded
            // text point at the same bytes of the original.
            let mut name = format!("__c{k}");
            while name.len() < span.end - span.start {
                name.push('_');
            }
            text.replace_range(span.range(), &name);
            temps.push((name, array));
        }
        Ok((text, temps))
    }

    fn construct(&mut self, ast: &Ast, id: ExprId) -> Result<Array> {
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
        let mut kw: BTreeMap<&str, Literal> = BTreeMap::new();
        for k in keywords {
            kw.insert(k.name.as_str(), literal(ast, k.value)?);
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
            Some(Literal::Name(n)) => Some(DType::from_name(n).ok_or_else(|| {
                Error::new(ErrorKind::Value, format!("unknown dtype `{n}`"))
                    .at(span)
                    .with_help("use bool, int32, int64, float32 or float64")
            })?),
            Some(_) => {
                return Err(Error::new(ErrorKind::Type, "dtype must be a dtype name")
                    .at(span)
                    .with_help("e.g. dtype=float32"));
            }
            None => None,
        };
        let shape = || -> Result<Vec<usize>> {
            positional
                .iter()
                .map(|l| match l {
                    Literal::Int(n) if *n >= 0 => Ok(*n as usize),
                    _ => Err(Error::new(
                        ErrorKind::Value,
                        "dimensions must be non-negative integers",
                    )
                    .at(span)
                    .with_help(format!("e.g. `{func}(1000, 3)`"))),
                })
                .collect()
        };
        let seed = match kw.get("seed") {
            Some(Literal::Int(s)) => *s as u64,
            Some(_) => {
                return Err(Error::new(ErrorKind::Type, "seed must be an integer").at(span));
            }
            None => {
                self.draws += 1;
                self.draws - 1
            }
        };
        let number = |name: &str, default: f64| -> Result<f64> {
            match kw.get(name) {
                None => Ok(default),
                Some(l) => l.as_f64().ok_or_else(|| {
                    Error::new(ErrorKind::Type, format!("`{name}` must be a number")).at(span)
                }),
            }
        };
        let array = match func.as_str() {
            "zeros" | "ones" => {
                let shape = shape()?;
                let v = if func == "ones" { 1.0 } else { 0.0 };
                filled(&shape, v, dtype.unwrap_or(DType::Float64), span)?
            }
            "full" => {
                let shape = shape()?;
                let value = kw.get("value").or(kw.get("fill_value")).ok_or_else(|| {
                    Error::new(ErrorKind::Type, "`full` needs `value=`")
                        .at(*func_span)
                        .with_help("e.g. full(3, 4, value=2.5)")
                })?;
                let default = match value {
                    Literal::Int(_) => DType::Int64,
                    Literal::Bool(_) => DType::Bool,
                    _ => DType::Float64,
                };
                let v = value.as_f64().ok_or_else(|| {
                    Error::new(ErrorKind::Type, "`value` must be a number").at(span)
                })?;
                filled(&shape, v, dtype.unwrap_or(default), span)?
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
                let values: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
                from_f64(&[n], values, dtype.unwrap_or(default))?
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
                let mut values: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
                if let Some(last) = values.last_mut()
                    && n > 1
                {
                    *last = stop;
                }
                from_f64(&[n], values, dtype.unwrap_or(DType::Float64))?
            }
            "random" => {
                let shape = shape()?;
                let n = count(&shape, span)?;
                let values = generate(n, seed, |rng| rng.random::<f64>());
                from_f64(&shape, values, dtype.unwrap_or(DType::Float64))?
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
                let values = generate(n, seed, |rng| dist.sample(rng));
                from_f64(&shape, values, dtype.unwrap_or(DType::Float64))?
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
fn generate(n: usize, seed: u64, draw: impl Fn(&mut rand::rngs::StdRng) -> f64 + Sync) -> Vec<f64> {
    const BLOCK: usize = 1 << 16;
    // Zeroed (untouched) memory with huge pages: the workers fault it in.
    let mut values: Vec<f64> = crate::alloc::zeroed_vec(n).unwrap_or_else(|| vec![0.0; n]);
    let fill = |(k, chunk): (usize, &mut [f64])| {
        let key = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (k as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let mut rng = rand::rngs::StdRng::seed_from_u64(key);
        for v in chunk {
            *v = draw(&mut rng);
        }
    };
    match crate::threads::parallel_pool() {
        Some(pool) if n > BLOCK => {
            use rayon::prelude::*;
            pool.install(|| values.par_chunks_mut(BLOCK).enumerate().for_each(fill));
        }
        _ => values.chunks_mut(BLOCK).enumerate().for_each(fill),
    }
    values
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

fn filled(shape: &[usize], v: f64, dtype: DType, span: Span) -> Result<Array> {
    let n = count(shape, span)?;
    from_f64(shape, vec![v; n], dtype)
}

/// `values` (C order) as an array of `dtype`, with NumPy's `astype` conversion.
fn from_f64(shape: &[usize], values: Vec<f64>, dtype: DType) -> Result<Array> {
    let bad_shape = || Error::internal("constructor values do not fill their shape");
    if dtype == DType::Float64 {
        return ArrayD::from_shape_vec(IxDyn(shape), values)
            .map(Array::Float64)
            .map_err(|_| bad_shape());
    }
    let scalars: Vec<crate::Scalar> = values.into_iter().map(crate::Scalar::Float64).collect();
    Array::from_scalars(dtype, shape, &scalars).ok_or_else(bad_shape)
}

/// A literal argument of a constructor.
#[derive(Debug, Clone)]
enum Literal {
    Int(i64),
    Float(f64),
    Bool(bool),
    Name(String),
}

impl Literal {
    fn as_f64(&self) -> Option<f64> {
        match self {
            Literal::Int(i) => Some(*i as f64),
            Literal::Float(f) => Some(*f),
            Literal::Bool(b) => Some(f64::from(u8::from(*b))),
            Literal::Name(_) => None,
        }
    }
}

fn literal(ast: &Ast, id: ExprId) -> Result<Literal> {
    let e = ast.get(id);
    match &e.kind {
        ExprKind::Int(v) => i64::try_from(*v)
            .map(Literal::Int)
            .map_err(|_| Error::new(ErrorKind::Value, "integer too large").at(e.span)),
        ExprKind::Float(v) => Ok(Literal::Float(*v)),
        ExprKind::Bool(b) => Ok(Literal::Bool(*b)),
        ExprKind::Name(n) => match builtins::CONSTANTS.iter().find(|(c, _)| c == n) {
            Some((_, v)) => Ok(Literal::Float(*v)),
            None => Ok(Literal::Name(n.clone())),
        },
        ExprKind::Unary {
            op: UnaryOp::Neg,
            operand,
            ..
        } => match literal(ast, *operand)? {
            Literal::Int(i) => Ok(Literal::Int(-i)),
            Literal::Float(f) => Ok(Literal::Float(-f)),
            _ => Err(not_literal(e.span)),
        },
        ExprKind::Call { func, .. } if DType::from_name(func).is_some() => {
            Ok(Literal::Name(func.clone()))
        }
        _ => Err(not_literal(e.span)),
    }
}

fn not_literal(span: Span) -> Error {
    Error::new(
        ErrorKind::Type,
        "constructor arguments must be literal numbers",
    )
    .at(span)
    .with_help("e.g. random(1000, seed=1), linspace(0, 1, 11)")
}

/// Calls of constructors that are not inside another constructor call.
fn outermost_constructor_calls(ast: &Ast) -> Vec<ExprId> {
    let is_ctor = |id: ExprId| matches!(&ast.get(id).kind, ExprKind::Call { func, .. } if CONSTRUCTORS.iter().any(|(c, _)| c == func));
    let mut found: Vec<ExprId> = (0..ast.exprs.len() as u32)
        .map(ExprId)
        .filter(|&id| is_ctor(id))
        .collect();
    // Drop calls whose span lies inside another constructor call.
    let spans: Vec<Span> = found.iter().map(|&id| ast.get(id).span).collect();
    found.retain(|&id| {
        let s = ast.get(id).span;
        !spans
            .iter()
            .any(|o| *o != s && o.start <= s.start && s.end <= o.end)
    });
    found.sort_by_key(|&id| ast.get(id).span.start);
    found
}

/// Assignment targets must be plain names that are not functions or constructors.
fn check_target(name: &str) -> Result<()> {
    if builtins::lookup(name).is_some() || CONSTRUCTORS.iter().any(|(c, _)| *c == name) {
        return Err(Error::new(
            ErrorKind::Name,
            format!("cannot assign to `{name}`: it is a function"),
        )
        .with_help("choose another name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_outside_parentheses() {
        assert_eq!(
            split_statements("a = 1; b = (2;\n3)\nsum(a)"),
            vec!["a = 1", " b = (2;\n3)", "sum(a)"]
        );
        assert_eq!(
            parse_statement(" x = a == b"),
            Statement {
                target: Some("x".into()),
                expr: "a == b".into()
            }
        );
        assert_eq!(parse_statement("a == b").target, None);
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
    }
}
