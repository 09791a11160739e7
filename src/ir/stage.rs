//! Splitting a program into stages at its reductions.
//!
//! A reduction needs all of its operand before its users can run, so an
//! expression with reductions runs as a sequence of stages: each stage is one
//! fused elementwise computation (inputs, constants and the results of earlier
//! stages are its leaves), optionally followed by a reduction. The last stage
//! computes the program's root.

use crate::error::{Error, ErrorKind};
use crate::ir::graph::{Graph, Node, NodeId, Program};
use crate::ir::op::ReduceOp;

/// NumPy's error for `min`/`max` of an empty operand, at reduction node `r`
/// (every backend reports it with these words).
pub(crate) fn empty_reduction(program: &Program, r: NodeId, op: ReduceOp) -> Error {
    Error::new(
        ErrorKind::Value,
        format!(
            "zero-size array to reduction operation {} which has no identity",
            op.name()
        ),
    )
    .at(program.graph.span(r))
    .with_label("reduces an empty array")
    .with_help("min and max need at least one element")
}

/// One fused elementwise loop, optionally reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// The node whose value this stage computes elementwise.
    pub root: NodeId,
    /// `Some(r)`: the stage computes the operand of reduction node `r` and
    /// reduces it; later stages read `r` as a leaf. `None`: the final stage.
    pub reduce: Option<NodeId>,
}

/// The stages of `program` in execution order: every reduction the result
/// depends on (inner ones first), then the final elementwise stage.
pub fn stages(program: &Program) -> Vec<Stage> {
    let g = &program.graph;
    let live = g.reachable(program.root);
    let mut out: Vec<Stage> = g
        .ids()
        .filter(|id| live[id.index()])
        .filter_map(|id| match g.node(id) {
            Node::Reduce(_, operand, _) => Some(Stage {
                root: operand,
                reduce: Some(id),
            }),
            _ => None,
        })
        .collect();
    out.push(Stage {
        root: program.root,
        reduce: None,
    });
    out
}

/// The nodes one stage evaluates elementwise, in order: everything `root`
/// depends on without looking inside reductions (a reduction is a leaf).
pub fn stage_nodes(program: &Program, root: NodeId) -> Vec<NodeId> {
    nodes_in(&program.graph, root)
}

/// The leaves of the stage rooted at `root`: the inputs and reductions it
/// reads (the things that decide its broadcast shape), in id order.
pub fn stage_leaves(g: &Graph, root: NodeId) -> Vec<NodeId> {
    nodes_in(g, root)
        .into_iter()
        .filter(|&n| matches!(g.node(n), Node::Input(_) | Node::Reduce(..)))
        .collect()
}

fn nodes_in(g: &Graph, root: NodeId) -> Vec<NodeId> {
    let mut seen = vec![false; g.len()];
    seen[root.index()] = true;
    for i in (0..=root.index()).rev() {
        if !seen[i] {
            continue;
        }
        let node = g.node(NodeId(i as u32));
        // A reduction (also at the root) is a leaf: an earlier stage computed it.
        if let Node::Reduce(..) = node {
            continue;
        }
        for op in node.operands() {
            seen[op.index()] = true;
        }
    }
    (0..=root.index())
        .filter(|&i| seen[i])
        .map(|i| NodeId(i as u32))
        .collect()
}
