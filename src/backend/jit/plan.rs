//! The plan of one stage: how each of its nodes is computed, decided in one
//! place ([`StagePlan::new`]) and read by both the interpreted tier
//! (`blocks`) and the code generator (`codegen`), which must agree bit for
//! bit: which math nodes of the vector loop run as ahead-of-time routines
//! (`aot`) on blocks, in which order (levels), and which sin/cos pairs fuse
//! into one routine call.
//!
//! A `JitProgram` makes each stage's plan once, when it is compiled, and
//! keeps it with the stage (`CompiledStage`): the interpreted tier, the
//! baseline and the optimized tier compiled later all read that one plan.

use std::collections::{HashMap, HashSet};

use crate::backend::jit::aot::{self, AotFn};
use crate::backend::jit::vector::{self, Lanes};
use crate::backend::jit::vmath;
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::op::{BinaryOp, Impl, UnaryOp};
use crate::ir::stage::{stage_leaves, stage_nodes};

/// One call of an ahead-of-time routine over a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AotStep {
    /// Node `node` computed by the routine of `f`.
    One {
        /// The node.
        node: NodeId,
        /// Its function.
        f: AotFn,
    },
    /// `sin(x)` and `cos(x)` of one `x` by one routine (one range
    /// reduction, both polynomials): bit for bit what each alone computes.
    SinCos {
        /// The `sin(x)` node.
        sin: NodeId,
        /// The `cos(x)` node.
        cos: NodeId,
        /// Their operand.
        x: NodeId,
    },
}

impl AotStep {
    /// The nodes the step computes.
    pub fn nodes(self) -> impl Iterator<Item = NodeId> {
        let (a, b) = match self {
            AotStep::One { node, .. } => (node, None),
            AotStep::SinCos { sin, cos, .. } => (sin, Some(cos)),
        };
        std::iter::once(a).chain(b)
    }
}

/// How one stage is computed.
#[derive(Debug, Clone)]
pub struct StagePlan {
    /// The stage's root.
    pub root: NodeId,
    /// Its nodes, operands first (`stage_nodes`).
    pub nodes: Vec<NodeId>,
    /// Its leaves, in kernel operand order (`stage_leaves`).
    pub leaves: Vec<NodeId>,
    /// The vector loop's lanes; `None`: the stage runs in the scalar loop only.
    pub lanes: Option<Lanes>,
    /// Fast math: math functions may use their vector and AOT versions.
    pub fast_math: bool,
    /// The vector loop computes math functions with vector math (fast math,
    /// and some node has a vector version).
    pub vector_math: bool,
    /// The stage's one vector-math call is emitted inline
    /// (`vector::inline_vmath`) rather than called from the library.
    pub inline_math: bool,
    /// The AOT routine calls of the vector loop, grouped by level: the
    /// operands of a level-k step depend on routine results of levels below
    /// k only. Empty when there are none (no vector math, or the CPU lacks
    /// the routines): the vector loop is then not blocked.
    pub levels: Vec<Vec<AotStep>>,
    /// Which step of `levels` computes each node computed by one.
    steps: HashMap<NodeId, AotStep>,
    /// The math nodes the vector loop computes with `vmath` vectors rather
    /// than an AOT routine (only under vector math).
    pub vector_only: Vec<NodeId>,
    /// A full float `sum` or `mean` reduces the stage and its vector loop
    /// is plain (see [`StagePlan::can_sum_leaves`]): its kernel comes with
    /// a leaf-sum kernel (`codegen::define_leaf_sums`). Set by the owner,
    /// which knows the reduction (`with_leaf_sums`).
    pub leaf_sums: bool,
    /// A rough cost of one element, in units of about one vector operation
    /// on one element: what decides whether a call is worth the threads
    /// (see `call::PARALLEL_WORK`).
    pub cost: usize,
    /// No node is a math function: the stage moves more bytes than it
    /// computes on, so a large output is worth streaming stores
    /// (`call::STREAM_BYTES`; they measured 1.5x slower for `exp(a)` and
    /// `log(a+1)` at 1e7 elements, faster for `a*b+c`).
    pub memory_bound: bool,
}

/// [`StagePlan::cost`] of a stage of `nodes` reading `leaves` operands:
/// a load per leaf and the store, one unit an operation, more for division
/// and square roots, and the math functions' own ([`math_cost`]).
fn cost(program: &Program, nodes: &[NodeId], leaves: usize, fast_math: bool) -> usize {
    let g = &program.graph;
    let op_cost = |n: NodeId| match g.node(n) {
        Node::Input(_) | Node::Const(_) | Node::Reduce(..) | Node::MatMul(..) => 0,
        _ if is_math(program, n) => math_cost(program, n, fast_math),
        Node::Unary(UnaryOp::Sqrt, _) | Node::Binary(BinaryOp::Div, ..) => 3,
        _ => 1,
    };
    leaves + 1 + nodes.iter().map(|&n| op_cost(n)).sum::<usize>()
}

/// The cost of math node `n`, in [`cost`]'s units, from float64 nanoseconds
/// per element on one thread (Intel Xeon, AVX-512; 4,000 elements through
/// `Kernel::eval_into`): `exp`'s 0.55 ns is 8 units (about one vector
/// operation an element at this width), `arctan2`'s 2.0 ns 30. Functions
/// that only have a 128-bit `vmath` version (`tan`, `log2`, `log10`,
/// `exp2`, `hypot`: 3-5 ns) count 60, the reference routines (8-22 ns, and
/// `**`'s 14 ns) 150. Alike for every function, at 8 units for vector math
/// and 30 for a reference routine, `arcsinh` (22 ns) went to the threads
/// only from 2,700 elements, after 60 µs of one thread's work.
fn math_cost(program: &Program, n: NodeId, fast_math: bool) -> usize {
    if !fast_math || math_fn(program, n).is_none() {
        return 150;
    }
    match program.graph.node(n) {
        Node::Unary(op, _) => match op {
            UnaryOp::Exp => 8,
            UnaryOp::Sin | UnaryOp::Cos => 11,
            UnaryOp::Log => 12,
            UnaryOp::Expm1 | UnaryOp::Arctan | UnaryOp::Cosh => 15,
            UnaryOp::Tanh => 19,
            UnaryOp::Log1p => 23,
            UnaryOp::Sinh => 27,
            UnaryOp::Arcsin | UnaryOp::Arccos => 35,
            _ => 60,
        },
        Node::Binary(BinaryOp::Arctan2, ..) => 30,
        Node::Binary(BinaryOp::Pow, ..) => 150,
        _ => 60,
    }
}

/// Whether node `n` is a math function (a reference routine in the JIT).
fn is_math(program: &Program, n: NodeId) -> bool {
    match program.graph.node(n) {
        Node::Unary(op, _) => op.implementation().is_math(),
        Node::Binary(op, ..) => op.implementation().is_math(),
        _ => false,
    }
}

/// The vector-math function node `n` computes, if it has one.
fn math_fn(program: &Program, n: NodeId) -> Option<AotFn> {
    let g = &program.graph;
    match g.node(n) {
        Node::Unary(op, a) if g.dtype(a).is_float() && vmath::has_unary(op) => {
            Some(AotFn::Unary(op))
        }
        Node::Binary(op, a, _) if g.dtype(a).is_float() && vmath::has_binary(op) => {
            Some(AotFn::Binary(op))
        }
        _ => None,
    }
}

/// The exact operation node `n` computes that an AOT routine can run at
/// the CPU's full vector width (`Impl::Wide`: float `sqrt` and `/`), if any.
fn wide_fn(program: &Program, n: NodeId) -> Option<AotFn> {
    let g = &program.graph;
    let wide = |i: Impl| i == Impl::Wide;
    match g.node(n) {
        Node::Unary(op, a) if g.dtype(a).is_float() && wide(op.implementation()) => {
            Some(AotFn::Unary(op))
        }
        Node::Binary(op, a, _) if g.dtype(a).is_float() && wide(op.implementation()) => {
            Some(AotFn::Binary(op))
        }
        _ => None,
    }
}

/// The operation node `n` computes with vector versions equal to its
/// reference bit for bit (`Fast::exact`: complex exp's parts), if any: an
/// AOT routine under either `Math`.
fn exact_fn(program: &Program, n: NodeId) -> Option<AotFn> {
    let g = &program.graph;
    match g.node(n) {
        Node::Binary(op, a, _) if g.dtype(a).is_float() && op.implementation().fast().exact => {
            Some(AotFn::Binary(op))
        }
        _ => None,
    }
}

/// Whether `f` is exact (`Fast::exact`).
pub fn is_exact(f: AotFn) -> bool {
    match f {
        AotFn::Unary(op) => op.implementation().fast().exact,
        AotFn::Binary(op) => op.implementation().fast().exact,
    }
}

impl StagePlan {
    /// Whether every AOT step is exact ([`is_exact`]), so a loop may run
    /// them where it reads the parts of complex arrays (none: true).
    pub fn exact_steps_only(&self) -> bool {
        self.levels.iter().flatten().all(|s| match *s {
            AotStep::One { f, .. } => is_exact(f),
            AotStep::SinCos { .. } => false,
        })
    }

    /// Whether a leaf-sum kernel can compute the stage: its vector loop is
    /// not blocked around AOT routines, and the root is its lanes' float.
    pub fn can_sum_leaves(&self, program: &Program) -> bool {
        self.levels.is_empty()
            && self
                .lanes
                .is_some_and(|l| !l.is_int() && program.graph.dtype(self.root) == l.float)
    }

    /// The plan with a leaf-sum kernel if `summed` (a full float `sum` or
    /// `mean` reduces the stage) and [`StagePlan::can_sum_leaves`].
    pub fn with_leaf_sums(mut self, program: &Program, summed: bool) -> StagePlan {
        self.leaf_sums = summed && self.can_sum_leaves(program);
        self
    }

    /// The plan of the stage rooted at `root`.
    pub fn new(program: &Program, root: NodeId, fast_math: bool) -> StagePlan {
        StagePlan::new_with(program, root, fast_math, true)
    }

    /// [`StagePlan::new`]; `wide`: exact operations (`sqrt`, `/`) may run as
    /// AOT routines on blocks (not for the parts of a complex program,
    /// whose leaves are read two elements apart: the plain vector loop
    /// reads those in place, the blocked one does not).
    pub fn new_with(program: &Program, root: NodeId, fast_math: bool, wide: bool) -> StagePlan {
        let g = &program.graph;
        let nodes = stage_nodes(program, root);
        let leaves = stage_leaves(g, root);
        let lanes = vector::vectorizable(program, root);
        let vector_math = fast_math && lanes.is_some() && vector::uses_vmath(program, root);
        let inline_math = vector_math && vector::inline_vmath(program, root);
        let cost = cost(program, &nodes, leaves.len(), fast_math);
        let memory_bound = !nodes.iter().any(|&n| is_math(program, n));
        let mut plan = StagePlan {
            root,
            nodes,
            leaves,
            cost,
            memory_bound,
            lanes,
            fast_math,
            vector_math,
            inline_math,
            levels: Vec::new(),
            steps: HashMap::new(),
            vector_only: Vec::new(),
            leaf_sums: false,
        };
        // A joint complex kernel (`vector::complex_root`) computes its
        // parts in the plain loops only.
        if vector::complex_root(program, root).is_some() {
            plan.vector_math = false;
            plan.inline_math = false;
            return plan;
        }
        let routines = aot::available();
        // Exact operations run as routines too under fast math (a pass
        // computes the operands of routines with fast math), where the
        // stage has a vector loop.
        let wide = wide
            && fast_math
            && routines
            && lanes.is_some()
            && plan.nodes.iter().any(|&n| wide_fn(program, n).is_some());
        // Exact routines run under either `Math` (their bits are the
        // reference's), where the stage has a vector loop.
        let exact = routines
            && lanes.is_some()
            && plan.nodes.iter().any(|&n| exact_fn(program, n).is_some());
        if !vector_math && !wide && !exact {
            return plan;
        }
        // Levels: a routine node is one level above the highest routine
        // node among its operands' inputs.
        let mut level: HashMap<NodeId, usize> = HashMap::new();
        let mut by_level: Vec<Vec<(NodeId, AotFn)>> = Vec::new();
        for &n in &plan.nodes {
            let node = g.node(n);
            let below = match node {
                Node::Reduce(..) | Node::MatMul(..) => 0,
                _ => node
                    .operands()
                    .into_iter()
                    .map(|o| level.get(&o).copied().unwrap_or(0))
                    .max()
                    .unwrap_or(0),
            };
            let mut l = below;
            let f = vector_math.then(|| math_fn(program, n)).flatten();
            let f = f
                .or_else(|| wide_fn(program, n).filter(|_| wide))
                .or_else(|| exact_fn(program, n).filter(|_| exact));
            if let Some(f) = f {
                if routines && aot::has(f) {
                    l = below + 1;
                    if by_level.len() < l {
                        by_level.push(Vec::new());
                    }
                    by_level[l - 1].push((n, f));
                } else {
                    plan.vector_only.push(n);
                }
            }
            level.insert(n, l);
        }
        for nodes in by_level {
            let mut steps = Vec::new();
            let mut fused: HashSet<NodeId> = HashSet::new();
            // The level's first node of each operation (hash-consing makes
            // equal nodes one, so this finds a sin's cos of the same operand).
            let mut first: HashMap<Node, NodeId> = HashMap::new();
            for &(n, _) in &nodes {
                first.entry(g.node(n)).or_insert(n);
            }
            for &(n, f) in &nodes {
                if fused.contains(&n) {
                    continue;
                }
                // sin(x) and cos(x) of one x in one level: one routine call.
                let pair = match (f, g.node(n)) {
                    (AotFn::Unary(op @ (UnaryOp::Sin | UnaryOp::Cos)), Node::Unary(_, x)) => {
                        let other = if op == UnaryOp::Sin {
                            UnaryOp::Cos
                        } else {
                            UnaryOp::Sin
                        };
                        first.get(&Node::Unary(other, x)).map(|&m| {
                            if op == UnaryOp::Sin {
                                (n, m, x)
                            } else {
                                (m, n, x)
                            }
                        })
                    }
                    _ => None,
                };
                match pair {
                    Some((sin, cos, x)) => {
                        fused.extend([sin, cos]);
                        steps.push(AotStep::SinCos { sin, cos, x });
                    }
                    None => steps.push(AotStep::One { node: n, f }),
                }
            }
            plan.levels.push(steps);
        }
        for &step in plan.levels.iter().flatten() {
            for n in step.nodes() {
                plan.steps.insert(n, step);
            }
        }
        plan
    }

    /// The AOT step that computes node `n`, if one does.
    pub fn aot_step(&self, n: NodeId) -> Option<AotStep> {
        self.steps.get(&n).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::stage::stages;
    use crate::types::DType;
    use crate::vars::Signature;

    fn plan_of(e: &str, fast_math: bool) -> (Program, StagePlan) {
        let sig = Signature::new().with("x", DType::Float64);
        let kernel = crate::compile(e, &sig).unwrap();
        let program = kernel.compiled().optimized.clone();
        let root = stages(&program).last().unwrap().root;
        let plan = StagePlan::new(&program, root, fast_math);
        (program, plan)
    }

    #[test]
    fn sin_and_cos_of_one_operand_fuse_in_one_level() {
        let (program, plan) = plan_of("cos(x * 2) + sin(x * 2) * exp(x)", true);
        assert!(plan.vector_math);
        if !aot::available() {
            assert!(plan.levels.is_empty());
            assert_eq!(plan.vector_only.len(), 3);
            return;
        }
        assert!(plan.vector_only.is_empty());
        assert_eq!(plan.levels.len(), 1, "{:?}", plan.levels);
        let level = &plan.levels[0];
        assert_eq!(level.len(), 2, "{level:?}");
        let pairs: Vec<_> = level
            .iter()
            .filter_map(|s| match *s {
                AotStep::SinCos { sin, cos, .. } => Some((sin, cos)),
                AotStep::One { .. } => None,
            })
            .collect();
        assert_eq!(pairs.len(), 1);
        let (sin, cos) = pairs[0];
        let g = &program.graph;
        assert!(matches!(g.node(sin), Node::Unary(UnaryOp::Sin, _)));
        assert!(matches!(g.node(cos), Node::Unary(UnaryOp::Cos, _)));
        assert_eq!(plan.aot_step(cos), plan.aot_step(sin));
    }

    #[test]
    fn nested_math_makes_levels_and_reference_math_none() {
        let (_, plan) = plan_of("exp(sin(x)) + log(x)", true);
        if aot::available() {
            assert_eq!(plan.levels.len(), 2, "{:?}", plan.levels);
        }
        let (_, plan) = plan_of("exp(sin(x))", false);
        assert!(!plan.vector_math && plan.levels.is_empty() && plan.vector_only.is_empty());
        // arcsinh has no vector version: no vector math at all.
        let (_, plan) = plan_of("arcsinh(x)", true);
        assert!(!plan.vector_math);
    }
}
