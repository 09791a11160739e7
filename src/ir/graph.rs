//! The typed expression DAG: nodes in an arena, addressed by [`NodeId`],
//! with the dtype and source span of each node in side tables.
//!
//! Invariants (checked by `ir::verify`):
//! - operands precede their users: every operand id is smaller than its user's id;
//! - nodes are hash-consed: adding a node equal to an existing one (same
//!   operation, operands and dtype) returns the existing id, so common
//!   subexpressions are shared;
//! - operand dtypes are exactly what the operation's signature asks for: all
//!   conversions are explicit `cast` nodes.

use std::collections::HashMap;
use std::fmt;

use crate::error::Span;
use crate::ir::op::{BinaryOp, ReduceOp, UnaryOp};
use crate::types::{DType, Scalar};

/// A node of a [`Graph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The arena index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// An input of a [`Graph`]: an index into its declared inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InputId(pub u32);

impl InputId {
    /// The index into [`Graph::inputs`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A declared input: a name and a dtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The variable name in the expression.
    pub name: String,
    /// Its dtype.
    pub dtype: DType,
}

/// One operation. Its result dtype lives in the graph's side table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Node {
    /// An input array.
    Input(InputId),
    /// A constant (a 0-d value that broadcasts).
    Const(Scalar),
    /// Conversion of the operand to the node's dtype (NumPy `astype`).
    Cast(NodeId),
    /// `op(x)`.
    Unary(UnaryOp, NodeId),
    /// `op(a, b)` after broadcasting.
    Binary(BinaryOp, NodeId, NodeId),
    /// `where(cond, a, b)` after broadcasting.
    Select(NodeId, NodeId, NodeId),
    /// A reduction over all elements (`axis: None`, giving a 0-d value) or
    /// along one axis (kept with length 1, so the result broadcasts against
    /// its operand). Negative axes count from the end.
    Reduce(ReduceOp, NodeId, Option<i64>),
    /// `a @ b`: NumPy's `matmul` (1-d operands promoted and the added axis
    /// removed, leading axes broadcast). Not elementwise: like a reduction it
    /// ends a stage, its operands are computed first and its value is a leaf
    /// of the stages that read it (`ir::stage`).
    MatMul(NodeId, NodeId),
    /// `a * b + c` rounded once (float operands of the node's dtype).
    /// Internal: made only by the complex split (`ir::split`, the complex
    /// product), never by the checker.
    Fma(NodeId, NodeId, NodeId),
}

impl Node {
    /// The operands, in order.
    pub fn operands(&self) -> Vec<NodeId> {
        match *self {
            Node::Input(_) | Node::Const(_) => vec![],
            Node::Cast(a) | Node::Unary(_, a) | Node::Reduce(_, a, _) => vec![a],
            Node::Binary(_, a, b) | Node::MatMul(a, b) => vec![a, b],
            Node::Select(c, a, b) | Node::Fma(c, a, b) => vec![c, a, b],
        }
    }

    /// The same operation with operands replaced through `f`.
    pub fn map_operands(&self, mut f: impl FnMut(NodeId) -> NodeId) -> Node {
        match *self {
            Node::Input(i) => Node::Input(i),
            Node::Const(c) => Node::Const(c),
            Node::Cast(a) => Node::Cast(f(a)),
            Node::Unary(op, a) => Node::Unary(op, f(a)),
            Node::Binary(op, a, b) => Node::Binary(op, f(a), f(b)),
            Node::Select(c, a, b) => Node::Select(f(c), f(a), f(b)),
            Node::Reduce(op, a, axis) => Node::Reduce(op, f(a), axis),
            Node::MatMul(a, b) => Node::MatMul(f(a), f(b)),
            Node::Fma(a, b, c) => Node::Fma(f(a), f(b), f(c)),
        }
    }
}

/// The arena of nodes with their dtypes and spans.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    inputs: Vec<Input>,
    nodes: Vec<Node>,
    dtypes: Vec<DType>,
    spans: Vec<Span>,
    interned: HashMap<(Node, DType), NodeId>,
}

impl Graph {
    /// An empty graph with these declared inputs.
    pub fn new(inputs: Vec<Input>) -> Graph {
        Graph {
            inputs,
            ..Graph::default()
        }
    }

    /// Adds a node (or finds the equal one already present). Commutative
    /// operations put the smaller operand id first so `a+b` and `b+a` share a node.
    pub fn add(&mut self, node: Node, dtype: DType, span: Span) -> NodeId {
        let node = match node {
            Node::Binary(op, a, b) if op.is_commutative() && b < a => Node::Binary(op, b, a),
            other => other,
        };
        if let Some(&id) = self.interned.get(&(node, dtype)) {
            return id;
        }
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(node);
        self.dtypes.push(dtype);
        self.spans.push(span);
        self.interned.insert((node, dtype), id);
        id
    }

    /// Adds a constant.
    pub fn constant(&mut self, value: Scalar, span: Span) -> NodeId {
        self.add(Node::Const(value), value.dtype(), span)
    }

    /// `node` converted to `dtype`; no node if it already has that dtype.
    pub fn cast(&mut self, node: NodeId, dtype: DType, span: Span) -> NodeId {
        if self.dtype(node) == dtype {
            return node;
        }
        if let Node::Const(c) = self.node(node) {
            return self.constant(c.cast(dtype), span);
        }
        self.add(Node::Cast(node), dtype, span)
    }

    /// The declared inputs.
    pub fn inputs(&self) -> &[Input] {
        &self.inputs
    }

    /// The node with id `id`.
    pub fn node(&self, id: NodeId) -> Node {
        self.nodes[id.index()]
    }

    /// The result dtype of `id`.
    pub fn dtype(&self, id: NodeId) -> DType {
        self.dtypes[id.index()]
    }

    /// The source text `id` came from.
    pub fn span(&self, id: NodeId) -> Span {
        self.spans[id.index()]
    }

    /// The constant value of `id`, if it is a constant.
    pub fn as_const(&self, id: NodeId) -> Option<Scalar> {
        match self.node(id) {
            Node::Const(c) => Some(c),
            _ => None,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// All node ids in order (operands before users).
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + use<> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// Which nodes `root` depends on (itself included), indexed by node id.
    pub fn reachable(&self, root: NodeId) -> Vec<bool> {
        let mut seen = vec![false; self.nodes.len()];
        if root.index() < seen.len() {
            seen[root.index()] = true;
        }
        for id in (0..=root.index().min(self.nodes.len().saturating_sub(1))).rev() {
            if seen[id] {
                for op in self.nodes[id].operands() {
                    if op.index() < seen.len() {
                        seen[op.index()] = true;
                    }
                }
            }
        }
        seen
    }
}

/// A typed, optimized expression: the IR a kernel runs. Its text form
/// (`Display`) lists the nodes the result depends on, one per line.
#[derive(Debug, Clone)]
pub struct Program {
    /// All nodes.
    pub(crate) graph: Graph,
    /// The result.
    pub(crate) root: NodeId,
}

impl Program {
    /// The result dtype.
    pub fn dtype(&self) -> DType {
        self.graph.dtype(self.root)
    }

    /// The first node the result depends on that has a complex value, if
    /// any: such a program runs on the JIT and the GPU through the complex
    /// split (`ir::split`).
    pub fn first_complex(&self) -> Option<NodeId> {
        let live = self.graph.reachable(self.root);
        self.graph
            .ids()
            .find(|&id| live[id.index()] && self.graph.dtype(id).is_complex())
    }

    /// The number of nodes the result depends on (for `jitexpr explain`).
    #[cfg(feature = "cli")]
    pub(crate) fn live_nodes(&self) -> usize {
        self.graph
            .reachable(self.root)
            .iter()
            .filter(|&&b| b)
            .count()
    }

    /// What the result depends on, counted: the inputs it reads (by name, in
    /// the order they are declared), its math-function nodes, its other
    /// operations and its reductions. For callers that estimate a call's
    /// cost or want to know whether it is elementwise (no reduction).
    ///
    /// ```
    /// use jitexpr::{DType, Signature};
    /// let sig = Signature::new().with("a", DType::Float64).with("b", DType::Float64);
    /// let k = jitexpr::compile("sum(sin(a) * b) + a", &sig)?;
    /// let s = k.compiled().optimized.summary();
    /// assert_eq!(s.reads, ["a", "b"]);
    /// assert_eq!((s.math, s.reductions), (1, 1));
    /// assert!(s.operations >= 2); // the product and the sum
    /// # Ok::<(), jitexpr::Error>(())
    /// ```
    pub fn summary(&self) -> Summary<'_> {
        let g = &self.graph;
        let live = g.reachable(self.root);
        let mut s = Summary {
            reads: Vec::new(),
            math: 0,
            operations: 0,
            reductions: 0,
            matmuls: 0,
        };
        for id in g.ids().filter(|id| live[id.index()]) {
            match g.node(id) {
                Node::Input(i) => {
                    if let Some(input) = g.inputs().get(i.index()) {
                        s.reads.push(input.name.as_str());
                    }
                }
                Node::Const(_) => {}
                Node::Reduce(..) => s.reductions += 1,
                Node::MatMul(..) => s.matmuls += 1,
                Node::Unary(op, _) if op.implementation().is_math() => s.math += 1,
                Node::Binary(op, ..) if op.implementation().is_math() => s.math += 1,
                Node::Cast(_)
                | Node::Unary(..)
                | Node::Binary(..)
                | Node::Select(..)
                | Node::Fma(..) => s.operations += 1,
            }
        }
        s
    }

    /// The `Input` nodes the result depends on, in id order.
    pub(crate) fn read_inputs(&self) -> Vec<NodeId> {
        let g = &self.graph;
        let live = g.reachable(self.root);
        g.ids()
            .filter(|id| live[id.index()] && matches!(g.node(*id), Node::Input(_)))
            .collect()
    }
}

/// What a [`Program`]'s result depends on ([`Program::summary`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary<'a> {
    /// The inputs it reads, by name, in the order of the program's nodes.
    pub reads: Vec<&'a str>,
    /// Math-function nodes (`sin`, `exp`, `arctan2`, float `**`, …).
    pub math: usize,
    /// Other operations (arithmetic, comparisons, casts, `where`).
    pub operations: usize,
    /// Reductions (`sum`, `max`, … over all elements or an axis).
    pub reductions: usize,
    /// Matrix products (`@`): like reductions, not elementwise.
    pub matmuls: usize,
}

/// The text form, one node per line, only nodes the result depends on:
///
/// ```text
/// %0 = input.f64 a
/// %1 = sin.f64 %0
/// return %1
/// ```
impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = &self.graph;
        let live = g.reachable(self.root);
        for id in g.ids() {
            if !live[id.index()] {
                continue;
            }
            let ty = g.dtype(id).short_name();
            write!(f, "{id} = ")?;
            match g.node(id) {
                Node::Input(i) => {
                    let name = g
                        .inputs()
                        .get(i.index())
                        .map_or("?", |inp| inp.name.as_str());
                    writeln!(f, "input.{ty} {name}")?
                }
                Node::Const(c) => writeln!(f, "const.{ty} {c}")?,
                Node::Cast(a) => writeln!(f, "cast.{ty} {a}")?,
                Node::Unary(op, a) => writeln!(f, "{}.{ty} {a}", op.name())?,
                Node::Binary(op, a, b) => writeln!(f, "{}.{ty} {a}, {b}", op.name())?,
                Node::Select(c, a, b) => writeln!(f, "select.{ty} {c}, {a}, {b}")?,
                Node::MatMul(a, b) => writeln!(f, "matmul.{ty} {a}, {b}")?,
                Node::Fma(a, b, c) => writeln!(f, "fma.{ty} {a}, {b}, {c}")?,
                Node::Reduce(op, a, None) => writeln!(f, "{}.{ty} {a}", op.name())?,
                Node::Reduce(op, a, Some(axis)) => {
                    writeln!(f, "{}.{ty} {a}, axis={axis}", op.name())?
                }
            }
        }
        write!(f, "return {}", self.root)
    }
}
