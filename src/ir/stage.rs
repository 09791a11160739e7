//! Splitting a program into stages at its reductions and matrix products.
//!
//! A reduction needs all of its operand before its users can run, so an
//! expression with reductions runs as a sequence of stages: each stage is one
//! fused elementwise computation (inputs, constants and the results of earlier
//! stages are its leaves), optionally followed by a reduction. The last stage
//! computes the program's root.
//!
//! A matrix product (`Node::MatMul`) is a boundary too: each operand that is
//! not already a leaf (an input, a reduction, another product) is computed by
//! a [`Then::Keep`] stage and kept whole (materialized once), then a
//! [`Then::Product`] stage multiplies; later stages read the product as a
//! leaf. A backend may fuse a product into the one stage that reads it (the
//! JIT computes it tile by tile and runs that stage on each tile while it is
//! in cache, see [`fusible_product`]); the values are the same.

use crate::error::{Error, ErrorKind};
use crate::ir::graph::{Graph, Node, NodeId, Program};
use crate::ir::op::ReduceOp;
use crate::types::DType;

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

/// One fused elementwise loop, and what is done with its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// The node whose value this stage computes elementwise (for
    /// [`Then::Product`], the product node itself: nothing elementwise).
    pub root: NodeId,
    /// What the stage's values are for.
    pub then: Then,
}

/// What a [`Stage`] does with the values of its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// They are the program's result: the final stage.
    Result,
    /// They are reduced by reduction node `r`; later stages read `r` as a leaf.
    Reduce(NodeId),
    /// They are kept whole: an operand of a matrix product.
    Keep,
    /// No elementwise work: the root is a `MatMul` node whose operands were
    /// computed before; its product is kept, a leaf of later stages.
    Product,
}

impl Stage {
    /// The reduction node that reduces this stage, if it is one.
    pub fn reduce(&self) -> Option<NodeId> {
        match self.then {
            Then::Reduce(r) => Some(r),
            _ => None,
        }
    }
}

/// `true` for nodes that are leaves of a stage: computed before it (inputs,
/// reductions, products).
pub fn is_leaf(node: Node) -> bool {
    matches!(node, Node::Input(_) | Node::Reduce(..) | Node::MatMul(..))
}

/// The stages of `program` in execution order: every reduction and product
/// the result depends on (inner ones first; a product after the stages that
/// keep its operands), then the final elementwise stage.
pub fn stages(program: &Program) -> Vec<Stage> {
    let g = &program.graph;
    let live = g.reachable(program.root);
    let mut out: Vec<Stage> = Vec::new();
    let mut kept: Vec<NodeId> = Vec::new();
    for id in g.ids().filter(|id| live[id.index()]) {
        match g.node(id) {
            Node::Reduce(_, operand, _) => out.push(Stage {
                root: operand,
                then: Then::Reduce(id),
            }),
            Node::MatMul(a, b) => {
                for x in [a, b] {
                    let node = g.node(x);
                    if is_leaf(node) || matches!(node, Node::Const(_)) || kept.contains(&x) {
                        continue;
                    }
                    kept.push(x);
                    out.push(Stage {
                        root: x,
                        then: Then::Keep,
                    });
                }
                out.push(Stage {
                    root: id,
                    then: Then::Product,
                });
            }
            _ => {}
        }
    }
    out.push(Stage {
        root: program.root,
        then: Then::Result,
    });
    out
}

/// The product the final stage of `program` may compute tile by tile: the
/// only product it reads, read by no other stage (the final stage may be the
/// product itself, `A @ B`). The caller checks at run time that the product
/// has the stage's shape (`(A @ B) + x` may broadcast it). `None` if the
/// program has no such product.
pub fn fusible_product(program: &Program) -> Option<NodeId> {
    let g = &program.graph;
    let all = stages(program);
    let (last, earlier) = all.split_last()?;
    let leaves = stage_leaves(g, last.root);
    let mut products = leaves
        .iter()
        .filter(|&&l| matches!(g.node(l), Node::MatMul(..)));
    let m = *products.next()?;
    if products.next().is_some() {
        return None;
    }
    // Read by an earlier stage (a reduction of it, or a product of it)?
    let elsewhere = earlier.iter().any(|s| match s.then {
        Then::Product => g.node(s.root).operands().contains(&m),
        _ => stage_leaves(g, s.root).contains(&m),
    });
    (!elsewhere).then_some(m)
}

/// The products a full `sum` or `mean` may consume tile by tile, as
/// `(product, reduction)` pairs: the reduction's stage reads that product
/// and no other, no other stage reads it, and the stage's values are
/// float32 or float64 (the sum adds tile sums in a fixed tile order, so only
/// floats, whose sum order is ours to define, qualify). The caller checks at
/// run time that the product has the stage's shape.
pub fn fusible_reductions(program: &Program) -> Vec<(NodeId, NodeId)> {
    let g = &program.graph;
    let all = stages(program);
    let reads = |s: &Stage, m: NodeId| match s.then {
        Then::Product => g.node(s.root).operands().contains(&m),
        _ => stage_leaves(g, s.root).contains(&m),
    };
    let mut out = Vec::new();
    for s in &all {
        let Then::Reduce(r) = s.then else { continue };
        let Node::Reduce(op, _, None) = g.node(r) else {
            continue;
        };
        if !matches!(op, ReduceOp::Sum | ReduceOp::Mean)
            || !matches!(g.dtype(s.root), DType::Float32 | DType::Float64)
        {
            continue;
        }
        let leaves = stage_leaves(g, s.root);
        let mut products = leaves
            .iter()
            .filter(|&&l| matches!(g.node(l), Node::MatMul(..)));
        let (Some(&m), None) = (products.next(), products.next()) else {
            continue;
        };
        if all.iter().filter(|t| reads(t, m)).count() == 1 {
            out.push((m, r));
        }
    }
    out
}

/// The stages of `program`, one line each, and what is fused where (for
/// `jitexpr explain`):
///
/// ```text
/// stage 0: %2 = %0 @ %1, fused into stage 1 (tile by tile, in cache)
/// stage 1: elementwise %5, the result
/// ```
// Only `jitexpr explain` (the `cli` feature) prints it.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub fn describe(program: &Program) -> String {
    let g = &program.graph;
    let all = stages(program);
    let fused = fusible_product(program);
    let reductions = fusible_reductions(program);
    let last = all.len().saturating_sub(1);
    let mut out = String::new();
    for (k, s) in all.iter().enumerate() {
        let line = match s.then {
            Then::Result => format!("elementwise {}, the result", s.root),
            Then::Reduce(r) => format!("elementwise {}, reduced by {r}", s.root),
            Then::Keep => format!(
                "elementwise {}, kept whole: an operand of a product",
                s.root
            ),
            Then::Product => {
                let ops = g.node(s.root).operands();
                let (a, b) = (ops.first().copied(), ops.get(1).copied());
                let (a, b) = (a.unwrap_or(s.root), b.unwrap_or(s.root));
                if fused == Some(s.root) {
                    format!(
                        "{} = {a} @ {b}, fused into stage {last}: each tile of the product \
                         computed and the stage run on it while in cache (when the product has \
                         the stage's shape)",
                        s.root
                    )
                } else if let Some(&(_, r)) = reductions.iter().find(|(m, _)| *m == s.root) {
                    let k = all
                        .iter()
                        .position(|t| t.then == Then::Reduce(r))
                        .unwrap_or(last);
                    format!(
                        "{} = {a} @ {b}, fused into stage {k}: each tile of the product \
                         computed, the stage run on it and its values summed while in cache \
                         (when the product has the stage's shape)",
                        s.root
                    )
                } else {
                    format!("{} = {a} @ {b}, kept whole", s.root)
                }
            }
        };
        out.push_str(&format!("stage {k}: {line}\n"));
    }
    out
}

/// The nodes one stage evaluates elementwise, in order: everything `root`
/// depends on without looking inside reductions (a reduction is a leaf).
pub fn stage_nodes(program: &Program, root: NodeId) -> Vec<NodeId> {
    nodes_in(&program.graph, root)
}

/// The leaves of the stage rooted at `root`: the inputs, reductions and
/// products it reads (the things that decide its broadcast shape), in id order.
pub fn stage_leaves(g: &Graph, root: NodeId) -> Vec<NodeId> {
    nodes_in(g, root)
        .into_iter()
        .filter(|&n| is_leaf(g.node(n)))
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
        // A reduction or product (also at the root) is a leaf: an earlier
        // stage computed it.
        if is_leaf(node) {
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
