//! `where` with a decided condition or equal branches.
//!
//! - `where(True, a, b) => a` and `where(False, a, b) => b`
//! - `where(c, a, a) => a`
//!
//! Each only when the dropped operands cannot widen the broadcast shape
//! (their leaves are among the kept operand's leaves).

use crate::error::Span;
use crate::ir::graph::{Graph, Node, NodeId};
use crate::ir::optimize::leaves_subset;
use crate::types::{DType, Scalar};

pub(super) fn select(g: &mut Graph, node: Node, _dtype: DType, _span: Span) -> Option<NodeId> {
    let Node::Select(c, a, b) = node else {
        return None;
    };
    match g.as_const(c) {
        Some(Scalar::Bool(true)) if leaves_subset(g, b, &[a]) => Some(a),
        Some(Scalar::Bool(false)) if leaves_subset(g, a, &[b]) => Some(b),
        _ if a == b && leaves_subset(g, c, &[a]) => Some(a),
        _ => None,
    }
}
