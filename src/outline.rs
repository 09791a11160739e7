//! What an expression reads and how it is built at the top, from its syntax
//! alone (no dtypes, no inputs needed): for front ends that must find the
//! variables to pass (Python's `local_dict` lookup) or split a reduction
//! across chunks (Dask).

use crate::error::Result;
use crate::ir::builtins::{self, Lowering};
use crate::syntax::ast::{Ast, ExprId, ExprKind, UnaryOp};

/// The names and reductions of an expression: see [`outline`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Outline {
    /// The variables it reads, in order of first appearance (built-in
    /// constants and function names excluded): [`free_names`].
    pub names: Vec<String>,
    /// The built-in constants it names (`pi`, `e`, `inf`, `nan`), in order of
    /// first appearance.
    pub constants: Vec<String>,
    /// How many reduction calls (`sum`, `prod`, `min`, `max`, `mean`, `any`,
    /// `all`) it makes.
    pub reductions: usize,
    /// The reduction the whole expression is, if it is one of one operand.
    pub top_reduction: Option<TopReduction>,
}

/// An expression that is one reduction call: `sum(x * 2, axis=1)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TopReduction {
    /// The reduction's name (`sum`).
    pub function: String,
    /// The operand's text (`x * 2`).
    pub operand: String,
    /// `axis=` when given, as a (possibly negative) integer literal.
    pub axis: Option<i64>,
}

/// Parses `expr` and lists what it reads and reduces, without typing it.
///
/// ```
/// let o = jitexpr::outline("sum(a * pi + b, axis=-1)")?;
/// assert_eq!(o.names, ["a", "b"]);
/// assert_eq!(o.constants, ["pi"]);
/// assert_eq!(o.reductions, 1);
/// let top = o.top_reduction.unwrap();
/// assert_eq!((top.function.as_str(), top.operand.as_str(), top.axis), ("sum", "a * pi + b", Some(-1)));
/// // numexpr's positional axis.
/// let top = jitexpr::outline("max(x, 1)")?.top_reduction.unwrap();
/// assert_eq!((top.operand.as_str(), top.axis), ("x", Some(1)));
/// # Ok::<(), jitexpr::Error>(())
/// ```
///
/// Errors: a syntax error (with its span and the text attached), or an
/// `axis=` of a top-level reduction that is not an integer literal.
pub fn outline(expr: &str) -> Result<Outline> {
    let source: std::sync::Arc<str> = std::sync::Arc::from(expr);
    let ast = crate::syntax::parse(expr).map_err(|e| e.with_source(&source))?;
    let mut o = Outline {
        names: ast.free_names(builtins::is_builtin_name),
        ..Outline::default()
    };
    for e in &ast.exprs {
        match &e.kind {
            ExprKind::Name(n)
                if builtins::CONSTANTS.iter().any(|(c, _)| c == n) && !o.constants.contains(n) =>
            {
                o.constants.push(n.clone());
            }
            ExprKind::Call { func, .. } if is_reduction(func) => o.reductions += 1,
            _ => {}
        }
    }
    if let ExprKind::Call {
        func,
        args,
        keywords,
        ..
    } = &ast.get(ast.root).kind
        && let [arg, positional @ ..] = args.as_slice()
        && positional.len() <= 1
        && is_reduction(func)
    {
        let mut axis = None;
        // `axis=k`, or numexpr's positional `sum(x, k)`.
        let axis_values = keywords
            .iter()
            .filter(|k| k.name == "axis")
            .map(|k| k.value)
            .chain(positional.iter().copied());
        for value in axis_values {
            let at = ast.get(value).span;
            let value = literal_int(&ast, value).ok_or_else(|| {
                crate::Error::new(crate::ErrorKind::Type, "axis= must be an integer literal")
                    .at(at)
                    .with_help("write the axis as a number, like axis=1")
                    .with_source(&source)
            })?;
            axis = Some(value);
        }
        o.top_reduction = Some(TopReduction {
            function: func.clone(),
            operand: expr[ast.get(*arg).span.range()].to_string(),
            axis,
        });
    }
    Ok(o)
}

fn is_reduction(func: &str) -> bool {
    matches!(
        builtins::lookup(func).map(|f| f.lowering),
        Some(Lowering::Reduce(_))
    )
}

/// The value of an integer literal, possibly negated (`1`, `-1`, `--1`): a
/// loop over the minus signs, however many there are.
fn literal_int(ast: &Ast, mut id: ExprId) -> Option<i64> {
    let mut negate = false;
    loop {
        match &ast.get(id).kind {
            ExprKind::Int(v) => {
                let v = i64::try_from(*v).ok()?;
                return Some(if negate { -v } else { v });
            }
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
                ..
            } => {
                negate = !negate;
                id = *operand;
            }
            _ => return None,
        }
    }
}

/// The variables an expression or a program reads and does not assign
/// itself, in order of first appearance: what its caller must bind.
///
/// `source` is parsed as a program (a plain expression is a program of one
/// statement). Built-in constants (`pi`, `e`, `inf`, `nan`) and the names of
/// built-in functions are not variables; a name read before the statement
/// that assigns it is.
///
/// ```
/// assert_eq!(jitexpr::free_names("sin(b) * a + pi*b")?, ["b", "a"]);
/// assert_eq!(jitexpr::free_names("x = a + 1; y = x * x\nsum(y + c, axis=0)")?, ["a", "c"]);
/// # Ok::<(), jitexpr::Error>(())
/// ```
///
/// # Errors
///
/// A syntax error, with its span and the text attached.
pub fn free_names(source: &str) -> Result<Vec<String>> {
    crate::syntax::parse_program(source)
        .map(|p| p.free_names(builtins::is_builtin_name))
        .map_err(|e| e.with_source(&std::sync::Arc::from(source)))
}
