//! The optimizer: small rewrite rules, each in its own file with its identity
//! written next to it, run over the graph until nothing changes.
//!
//! Each round rebuilds the graph from the root, operands first; for every node
//! the rules are asked in turn for a replacement (see [`Rule`]). Rebuilding
//! drops dead nodes and re-hash-conses, so CSE happens as a side effect.
//!
//! A rule may drop an operand only if that cannot change the result's shape:
//! the broadcast shape of an expression is determined by its leaves (inputs
//! and reductions), so dropping `b` is allowed when `b`'s leaves are a subset
//! of what remains (`leaves_subset`).

mod fold;
mod identities;
mod pow;
mod select;

use std::collections::BTreeSet;

use crate::error::{Result, Span};
use crate::ir::graph::{Graph, Node, NodeId, Program};
use crate::ir::stage::stage_leaves;
use crate::ir::verify::verify;
use crate::types::DType;

/// A rewrite rule: given a node whose operands are already in `graph`,
/// returns the id of an equivalent node (adding nodes as needed), or `None`.
pub type Rule = fn(&mut Graph, Node, DType, Span) -> Option<NodeId>;

/// The rules, in the order they are tried.
const RULES: &[(&str, Rule)] = &[
    ("fold", fold::fold),
    ("pow", pow::pow),
    ("identities", identities::identities),
    ("select", select::select),
];

/// At most this many rounds (each rule application only shrinks or
/// canonicalizes the graph, so the fixpoint comes much sooner).
const MAX_ROUNDS: usize = 32;

/// Runs the rules to a fixpoint. With debug assertions, verifies the IR after every round.
pub fn optimize(program: &Program) -> Result<Program> {
    let mut current = program.clone();
    for _ in 0..MAX_ROUNDS {
        let (next, changed) = round(&current);
        if cfg!(debug_assertions) {
            verify(&next)?;
        }
        current = next;
        if !changed {
            break;
        }
    }
    Ok(current)
}

/// One rebuild of the live graph with every rule tried on every node.
fn round(program: &Program) -> (Program, bool) {
    let old = &program.graph;
    let live = old.reachable(program.root);
    let mut graph = Graph::new(old.inputs().to_vec());
    let mut map: Vec<NodeId> = Vec::with_capacity(old.len());
    let mut changed = false;
    for id in old.ids() {
        if !live[id.index()] {
            map.push(NodeId(u32::MAX));
            continue;
        }
        let node = old.node(id).map_operands(|o| map[o.index()]);
        let (dtype, span) = (old.dtype(id), old.span(id));
        let replacement = RULES
            .iter()
            .find_map(|(_, rule)| rule(&mut graph, node, dtype, span));
        let new_id = match replacement {
            Some(r) => {
                changed = true;
                r
            }
            None => graph.add(node, dtype, span),
        };
        map.push(new_id);
    }
    let root = map[program.root.index()];
    (Program { graph, root }, changed)
}

/// `true` if dropping `dropped` while keeping `kept` leaves the broadcast shape unchanged.
pub(crate) fn leaves_subset(graph: &Graph, dropped: NodeId, kept: &[NodeId]) -> bool {
    let have: BTreeSet<NodeId> = kept.iter().flat_map(|&k| stage_leaves(graph, k)).collect();
    stage_leaves(graph, dropped)
        .iter()
        .all(|l| have.contains(l))
}
