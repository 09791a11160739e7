//! Constant folding: an operation whose operands are all constants becomes a
//! constant, computed by `ir::scalar` (the interpreter's own semantics).
//!
//! `op(c1, c2, …) => c` — exact by construction. Reductions are not folded:
//! their result depends on the shape they reduce.

use crate::error::Span;
use crate::ir::graph::{Graph, Node, NodeId};
use crate::ir::scalar;
use crate::types::DType;

pub(super) fn fold(g: &mut Graph, node: Node, dtype: DType, span: Span) -> Option<NodeId> {
    let c = |id: NodeId| g.as_const(id);
    let value = match node {
        // cast(c) => c.astype(dtype)
        Node::Cast(a) => c(a)?.cast(dtype),
        // op(c) => op applied to c
        Node::Unary(op, a) => scalar::unary(op, c(a)?),
        // c1 op c2 => the result
        Node::Binary(op, a, b) => scalar::binary(op, c(a)?, c(b)?),
        // where(c, x, y) with all three constant
        Node::Select(k, a, b) => scalar::select(c(k)?, c(a)?, c(b)?),
        // fma(c1, c2, c3) => c1 * c2 + c3 rounded once
        Node::Fma(a, b, k) => scalar::fma(c(a)?, c(b)?, c(k)?),
        Node::Input(_) | Node::Const(_) | Node::Reduce(..) | Node::MatMul(..) => return None,
    };
    Some(g.constant(value, span))
}
