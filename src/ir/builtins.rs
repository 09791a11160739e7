//! The table of functions an expression can call: each declared once, with
//! its arity, keywords, what it lowers to and a one-line description.

use crate::ir::op::{BinaryOp, ReduceOp, UnaryOp};
use crate::types::DType;

/// What a function call lowers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lowering {
    /// One elementwise operation of one operand.
    Unary(UnaryOp),
    /// One elementwise operation of two operands, promoted together.
    Binary(BinaryOp),
    /// `x * x`.
    Square,
    /// `x * (180/π)` in the float dtype of `x`, as NumPy computes it.
    Degrees,
    /// `x * (π/180)`.
    Radians,
    /// `rint` for floats, the identity for integers (NumPy's `round`, `decimals=0`).
    Round,
    /// `where(cond, a, b)`.
    Where,
    /// `minimum(maximum(x, lo), hi)`.
    Clip,
    /// Conversion to a dtype.
    Cast(DType),
    /// The operand itself (numexpr's `copy`: a new array of its values).
    Copy,
    /// Ones of the operand's shape and dtype (`True` for bool, as NumPy's
    /// `ones_like`).
    OnesLike,
    /// A reduction with an optional `axis=` keyword.
    Reduce(ReduceOp),
}

/// One callable function.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    /// The name in expressions.
    pub name: &'static str,
    /// Names of the positional parameters (their count is the arity).
    pub params: &'static [&'static str],
    /// Accepted keyword arguments.
    pub keywords: &'static [&'static str],
    /// What it lowers to.
    pub lowering: Lowering,
    /// One line for `:help`.
    pub doc: &'static str,
}

const fn unary(name: &'static str, op: UnaryOp, doc: &'static str) -> Function {
    Function {
        name,
        params: &["x"],
        keywords: &[],
        lowering: Lowering::Unary(op),
        doc,
    }
}

const fn binary(name: &'static str, op: BinaryOp, doc: &'static str) -> Function {
    Function {
        name,
        params: &["x1", "x2"],
        keywords: &[],
        lowering: Lowering::Binary(op),
        doc,
    }
}

const fn special(
    name: &'static str,
    params: &'static [&'static str],
    lowering: Lowering,
    doc: &'static str,
) -> Function {
    Function {
        name,
        params,
        keywords: &[],
        lowering,
        doc,
    }
}

const fn reduction(name: &'static str, op: ReduceOp, doc: &'static str) -> Function {
    Function {
        name,
        params: &["x"],
        keywords: &["axis"],
        lowering: Lowering::Reduce(op),
        doc,
    }
}

/// The functions that are not one operation of the op tables (`ir::op`), in
/// the order `:help` lists them after those.
const OTHERS: &[Function] = &[
    special("square", &["x"], Lowering::Square, "x * x"),
    special(
        "round",
        &["x"],
        Lowering::Round,
        "x rounded to the nearest integer, halves to even",
    ),
    unary("absolute", UnaryOp::Abs, "absolute value (alias of abs)"),
    special(
        "clip",
        &["x", "lo", "hi"],
        Lowering::Clip,
        "x limited to [lo, hi]: minimum(hi, maximum(lo, x)); NaN propagates",
    ),
    special("degrees", &["x"], Lowering::Degrees, "radians to degrees"),
    special(
        "copy",
        &["x"],
        Lowering::Copy,
        "x itself, as a new array (numexpr's copy)",
    ),
    special(
        "ones_like",
        &["x"],
        Lowering::OnesLike,
        "ones of x's shape and dtype (True for bool)",
    ),
    special("radians", &["x"], Lowering::Radians, "degrees to radians"),
    special(
        "bool",
        &["x"],
        Lowering::Cast(DType::Bool),
        "convert to bool (nonzero is true)",
    ),
    special(
        "int8",
        &["x"],
        Lowering::Cast(DType::Int8),
        "convert to int8 (integers wrap; floats truncate toward zero, saturating)",
    ),
    special(
        "int16",
        &["x"],
        Lowering::Cast(DType::Int16),
        "convert to int16 (integers wrap; floats truncate toward zero, saturating)",
    ),
    special(
        "int32",
        &["x"],
        Lowering::Cast(DType::Int32),
        "convert to int32 (floats truncate toward zero)",
    ),
    special(
        "int64",
        &["x"],
        Lowering::Cast(DType::Int64),
        "convert to int64 (floats truncate toward zero)",
    ),
    special(
        "uint8",
        &["x"],
        Lowering::Cast(DType::UInt8),
        "convert to uint8 (integers wrap; floats truncate toward zero, saturating at 0 and the maximum)",
    ),
    special(
        "uint16",
        &["x"],
        Lowering::Cast(DType::UInt16),
        "convert to uint16 (integers wrap; floats truncate toward zero, saturating at 0 and the maximum)",
    ),
    special(
        "uint32",
        &["x"],
        Lowering::Cast(DType::UInt32),
        "convert to uint32 (integers wrap; floats truncate toward zero, saturating at 0 and the maximum)",
    ),
    special(
        "uint64",
        &["x"],
        Lowering::Cast(DType::UInt64),
        "convert to uint64 (integers wrap; floats truncate toward zero, saturating at 0 and the maximum)",
    ),
    special(
        "float16",
        &["x"],
        Lowering::Cast(DType::Float16),
        "convert to float16 (rounds to nearest, once; computed in float32 after)",
    ),
    special(
        "float32",
        &["x"],
        Lowering::Cast(DType::Float32),
        "convert to float32 (rounds to nearest)",
    ),
    special(
        "float64",
        &["x"],
        Lowering::Cast(DType::Float64),
        "convert to float64",
    ),
    special(
        "complex64",
        &["x"],
        Lowering::Cast(DType::Complex64),
        "convert to complex64 (two float32 parts)",
    ),
    special(
        "complex128",
        &["x"],
        Lowering::Cast(DType::Complex128),
        "convert to complex128 (two float64 parts)",
    ),
    reduction("sum", ReduceOp::Sum, "sum of all elements, or along axis=k"),
    reduction(
        "prod",
        ReduceOp::Prod,
        "product of all elements, or along axis=k",
    ),
    reduction(
        "min",
        ReduceOp::Min,
        "smallest element (NaN propagates), or along axis=k",
    ),
    reduction(
        "max",
        ReduceOp::Max,
        "largest element (NaN propagates), or along axis=k",
    ),
    reduction("mean", ReduceOp::Mean, "arithmetic mean, or along axis=k"),
    reduction(
        "any",
        ReduceOp::Any,
        "true if any element is nonzero, or along axis=k",
    ),
    reduction(
        "all",
        ReduceOp::All,
        "true if all elements are nonzero, or along axis=k",
    ),
];

const WHERE: Function = special(
    "where",
    &["condition", "x", "y"],
    Lowering::Where,
    "elements of x where condition is true, else of y",
);

/// `where`, every callable operation of the op tables (those with a
/// `call_doc`, unary then binary, in table order), then [`OTHERS`]; `fill`:
/// write them into `out` (else only count them).
const fn collect(out: &mut [Function], fill: bool) -> usize {
    let mut n = 0;
    if fill {
        out[n] = WHERE;
    }
    n += 1;
    let mut i = 0;
    while i < UnaryOp::ALL.len() {
        let op = UnaryOp::ALL[i];
        if let Some(doc) = op.call_doc() {
            if fill {
                out[n] = unary(op.name(), op, doc);
            }
            n += 1;
        }
        i += 1;
    }
    i = 0;
    while i < BinaryOp::ALL.len() {
        let op = BinaryOp::ALL[i];
        if let Some(doc) = op.call_doc() {
            if fill {
                out[n] = binary(op.name(), op, doc);
            }
            n += 1;
        }
        i += 1;
    }
    i = 0;
    while i < OTHERS.len() {
        if fill {
            out[n] = OTHERS[i];
        }
        n += 1;
        i += 1;
    }
    n
}

const COUNT: usize = collect(&mut [], false);

const TABLE: [Function; COUNT] = {
    let mut out = [WHERE; COUNT];
    collect(&mut out, true);
    out
};

/// Every function, in the order `:help` lists them.
pub static FUNCTIONS: &[Function] = &TABLE;

/// Names that are constants, with their values (weak Python floats).
pub static CONSTANTS: &[(&str, f64)] = &[
    ("pi", std::f64::consts::PI),
    ("e", std::f64::consts::E),
    ("inf", f64::INFINITY),
    ("nan", f64::NAN),
];

/// The function called `name`.
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Whether `name` is a built-in constant or function (not a variable).
pub fn is_builtin_name(name: &str) -> bool {
    CONSTANTS.iter().any(|(c, _)| *c == name) || lookup(name).is_some()
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.len() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, _)| d <= limit && d < name.len())
        .min_by_key(|&(d, c)| {
            let common = name
                .bytes()
                .zip(c.bytes())
                .take_while(|(x, y)| x == y)
                .count();
            (d, std::cmp::Reverse(common), c.len(), c)
        })
        .map(|(_, c)| c)
}

/// Levenshtein distance over bytes (names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, f) in FUNCTIONS.iter().enumerate() {
            assert!(
                FUNCTIONS[i + 1..].iter().all(|g| g.name != f.name),
                "{}",
                f.name
            );
        }
    }

    #[test]
    fn suggestions() {
        let names = FUNCTIONS.iter().map(|f| f.name);
        assert_eq!(suggest("sinn", names.clone()), Some("sin"));
        assert_eq!(suggest("arctam2", names.clone()), Some("arctan2"));
        assert_eq!(suggest("exp_m1", names.clone()), Some("expm1"));
        assert_eq!(suggest("zzzzzz", names), None);
    }
}
