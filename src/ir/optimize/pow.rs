//! Powers with a constant exponent.
//!
//! - `x ** 1 => x`
//! - `x ** 2 => x * x` (exact: NumPy computes `x**2` as `square(x)` too)
//! - `x ** n => repeated squaring` for integer `n` in 3..=8 on floats (within a
//!   few ULP of `pow`) and any `n` in 2..=64 on integers (exact, wrapping)
//! - `x ** 0.5 => sqrt(x)` (NumPy's fast path; differs from `pow` only for
//!   `-0.0` and `-inf`, where NumPy also gives `sqrt`'s answer)
//! - `x ** -1 => 1 / x` for floats (exact)
//! - complex: `x ** 0.5 => sqrt(x)`, `x ** -1 => reciprocal(x)`, `x ** 2 =>
//!   x * x` (NumPy's fast paths for a scalar exponent, which `ir::cmath::pow`
//!   takes too, so exact); other integer powers stay `pow` (NumPy's products)

use crate::error::Span;
use crate::ir::graph::{Graph, Node, NodeId};
use crate::ir::op::{BinaryOp, UnaryOp};
use crate::types::{DType, Scalar};

pub(super) fn pow(g: &mut Graph, node: Node, dtype: DType, span: Span) -> Option<NodeId> {
    let Node::Binary(BinaryOp::Pow, x, k) = node else {
        return None;
    };
    if g.as_const(x).is_some() {
        return None; // left to constant folding
    }
    let k = g.as_const(k)?;
    let exponent = k.to_f64();
    let real_exponent = match k {
        Scalar::Complex64(c) => c.im == 0.0,
        Scalar::Complex128(c) => c.im == 0.0,
        _ => true,
    };
    if exponent == 1.0 && real_exponent {
        return Some(x);
    }
    if dtype.is_float() {
        if exponent == 0.5 {
            return Some(g.add(Node::Unary(UnaryOp::Sqrt, x), dtype, span));
        }
        if exponent == -1.0 {
            let one = g.constant(Scalar::one(dtype), span);
            return Some(g.add(Node::Binary(BinaryOp::Div, one, x), dtype, span));
        }
    }
    if dtype.is_complex() {
        let (re, im) = match k {
            Scalar::Complex64(c) => (f64::from(c.re), f64::from(c.im)),
            Scalar::Complex128(c) => (c.re, c.im),
            _ => return None,
        };
        return match (re, im) {
            (0.5, 0.0) => Some(g.add(Node::Unary(UnaryOp::Sqrt, x), dtype, span)),
            (-1.0, 0.0) => Some(g.add(Node::Unary(UnaryOp::Reciprocal, x), dtype, span)),
            (2.0, 0.0) => Some(g.add(Node::Binary(BinaryOp::Mul, x, x), dtype, span)),
            _ => None,
        };
    }
    let max = if dtype.is_float() { 8.0 } else { 64.0 };
    if exponent.fract() == 0.0 && (2.0..=max).contains(&exponent) {
        return Some(power_by_squaring(g, x, exponent as u32, dtype, span));
    }
    None
}

/// `x ** n` by binary exponentiation: `x**5 = (x*x)*(x*x)*x`.
fn power_by_squaring(g: &mut Graph, x: NodeId, n: u32, dtype: DType, span: Span) -> NodeId {
    let mut acc: Option<NodeId> = None;
    let mut base = x;
    let mut n = n;
    loop {
        if n & 1 == 1 {
            acc = Some(match acc {
                None => base,
                Some(a) => g.add(Node::Binary(BinaryOp::Mul, a, base), dtype, span),
            });
        }
        n >>= 1;
        if n == 0 {
            break;
        }
        base = g.add(Node::Binary(BinaryOp::Mul, base, base), dtype, span);
    }
    acc.unwrap_or(x)
}
