//! Algebraic identities that hold bit for bit under IEEE 754 (and wrapping
//! integers). Not here, because they are false for floats: `x + 0.0 => x`
//! (`-0.0 + 0.0` is `+0.0`), `x * 0 => 0` (NaN, inf, -0.0), `x - x => 0`;
//! nor, for complex numbers, `x * 1` and `x / 1`: NumPy's formulas multiply
//! the other part by the one's zero imaginary part (`(1+0j)*(inf+1j)` is
//! `inf+nanj`).

use crate::error::Span;
use crate::ir::graph::{Graph, Node, NodeId};
use crate::ir::op::{BinaryOp, UnaryOp};
use crate::types::{DType, Scalar};

pub(super) fn identities(g: &mut Graph, node: Node, dtype: DType, _span: Span) -> Option<NodeId> {
    let is = |g: &Graph, id: NodeId, v: Scalar| g.as_const(id) == Some(v);
    let one = Scalar::one(dtype);
    let real = !dtype.is_complex();
    match node {
        // x * 1 => x, 1 * x => x
        Node::Binary(BinaryOp::Mul, a, b) if real && is(g, b, one) && g.as_const(a).is_none() => {
            Some(a)
        }
        Node::Binary(BinaryOp::Mul, a, b) if real && is(g, a, one) && g.as_const(b).is_none() => {
            Some(b)
        }
        // x / 1 => x
        Node::Binary(BinaryOp::Div, a, b) if real && is(g, b, one) => Some(a),
        // x + (-0.0) => x (floats: -0.0 is the additive identity), x + 0 => x (integers, bool)
        Node::Binary(BinaryOp::Add, a, b) if is(g, b, additive_identity(dtype)) => Some(a),
        Node::Binary(BinaryOp::Add, a, b) if is(g, a, additive_identity(dtype)) => Some(b),
        // x - 0 => x (for floats, +0.0: x - 0.0 == x + -0.0)
        Node::Binary(BinaryOp::Sub, a, b) if is(g, b, Scalar::zero(dtype)) => Some(a),
        // --x => x
        Node::Unary(UnaryOp::Neg, a) => match g.node(a) {
            Node::Unary(UnaryOp::Neg, x) => Some(x),
            _ => None,
        },
        // ~~x => x
        Node::Unary(UnaryOp::Not, a) => match g.node(a) {
            Node::Unary(UnaryOp::Not, x) => Some(x),
            _ => None,
        },
        _ => None,
    }
}

fn additive_identity(dtype: DType) -> Scalar {
    match dtype {
        DType::Float32 => Scalar::Float32(-0.0),
        DType::Float64 => Scalar::Float64(-0.0),
        DType::Complex64 => Scalar::Complex64(crate::types::c32::new(-0.0, -0.0)),
        DType::Complex128 => Scalar::Complex128(crate::types::c64::new(-0.0, -0.0)),
        d => Scalar::zero(d),
    }
}
