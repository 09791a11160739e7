//! Running a JIT-compiled program: stage by stage, each stage's kernel over
//! its broadcast shape (in parallel for large arrays), reductions between
//! stages on the materialized operand.

use std::collections::HashMap;

use crate::alloc::{Order, zeros};
use crate::array::{Array, ArrayView, ArrayViewMut, Element, Flat, each};
use crate::backend::jit::JitProgram;
use crate::backend::jit::call::{self, Operand, Output, Written};
use crate::backend::jit::matmul;
use crate::backend::jit::reduce::reduce;
use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::op::ReduceOp;
use crate::ir::scalar::{self, ReduceError};
use crate::ir::shape::{MatMulShape, Shapes, format_shape, normalize_axis};
use crate::ir::stage::{Then, empty_reduction};
use crate::threads;
use crate::types::DType;
use crate::types::Scalar;

/// Evaluates `jit` on bound `inputs` with `shapes`, writing the result into
/// `out` (shape `shapes.output`; see [`output`]); says so with the proof
/// `call::new_array` takes.
pub(crate) fn run(
    jit: &JitProgram,
    inputs: &[Option<ArrayView<'_>>],
    shapes: &Shapes,
    out: Output,
    token: Cancel<'_>,
) -> Result<Written> {
    let pool = team(jit, shapes);
    let reduced = earlier_stages(jit, inputs, shapes, pool.as_deref(), token, None)?;
    final_stage(jit, inputs, shapes, &reduced, out, pool.as_deref(), token)
}

/// Evaluates `jit` into `out` (shape `shapes.output`, any strides, every
/// element written): with the product fused into the final stage where
/// `JitProgram::fusible_product` allows it and the product has the final
/// stage's shape, else as [`run`].
pub(crate) fn run_view(
    jit: &JitProgram,
    inputs: &[Option<ArrayView<'_>>],
    shapes: &Shapes,
    out: &mut ArrayViewMut<'_>,
    token: Cancel<'_>,
) -> Result<()> {
    let program = jit.program();
    let g = &program.graph;
    let (Some(compiled), Some(kernel)) = (jit.stages().last(), jit.kernels().last()) else {
        return Err(Error::internal("program has no final stage"));
    };
    let root = compiled.stage.root;
    let fusible = jit.fusible_product().filter(|&m| {
        shapes.of(m) == shapes.of(root) && shapes.of(root) == shapes.output.as_slice()
    });
    let dims = fusible.and_then(|m| match g.node(m) {
        Node::MatMul(a, b) => MatMulShape::of(shapes.of(a), shapes.of(b))
            .ok()
            .map(|d| (m, a, b, d)),
        _ => None,
    });
    let Some((m, a, b, dims)) = dims else {
        let shape = shapes.output.clone();
        return run(jit, inputs, shapes, output(out, &shape)?, token).map(drop);
    };
    let pool = team(jit, shapes);
    let reduced = earlier_stages(jit, inputs, shapes, pool.as_deref(), token, Some(m))?;
    let (va, vb) = (
        value(program, a, inputs, &reduced)?,
        value(program, b, inputs, &reduced)?,
    );
    if root == m {
        // `A @ B`: the product straight into the result.
        matmul::product(&va, &vb, out, &dims, pool.as_deref())?;
        return token.check();
    }
    let (leaves, at) = fused_leaves(program, compiled.leaves(), m, inputs, &reduced)?;
    matmul::fused(
        &va,
        &vb,
        kernel,
        &leaves,
        at,
        out,
        &dims,
        pool.as_deref(),
        token.flag(),
    )?;
    token.check()
}

/// The final stage of `jit` after [`earlier_stages`] gave `reduced`.
fn final_stage(
    jit: &JitProgram,
    inputs: &[Option<ArrayView<'_>>],
    shapes: &Shapes,
    reduced: &HashMap<NodeId, Array>,
    out: Output,
    pool: Option<&threads::Team>,
    token: Cancel<'_>,
) -> Result<Written> {
    let (Some(compiled), Some(kernel)) = (jit.stages().last(), jit.kernels().last()) else {
        return Err(Error::internal("program has no final stage"));
    };
    let shape = shapes.of(compiled.stage.root);
    let operands = operands(jit.program(), compiled.leaves(), inputs, reduced, shape)?;
    let output = out.unsqueezed(shape, &shapes.output).ok_or_else(|| {
        Error::internal(format!(
            "output {} vs stage {}",
            format_shape(&shapes.output),
            format_shape(shape)
        ))
    })?;
    let output = if compiled.memory_bound() {
        output
    } else {
        output.without_streaming()
    };
    let written = call::run(kernel, &operands, &output, shape, pool, token.flag());
    token.check()?;
    written.ok_or_else(|| Error::internal("no stage wrote the result"))
}

/// The team a run on `shapes` uses (none for small problems: they need no
/// threads, nor the lock that guards the team, nor creating it on a first
/// call); counts the run for adaptive tiering.
fn team(jit: &JitProgram, shapes: &Shapes) -> Option<std::sync::Arc<threads::Team>> {
    let g = &jit.program().graph;
    let (elements, work) = jit
        .stages()
        .iter()
        .map(|s| {
            let n = shapes.of(s.stage.root).iter().product::<usize>();
            let work = match g.node(s.stage.root) {
                // A product: n * m * k multiply-adds (k from an operand).
                Node::MatMul(a, _) => n.saturating_mul(shapes.of(a).last().copied().unwrap_or(1)),
                _ => n.saturating_mul(s.cost()),
            };
            (n, work)
        })
        .fold((0usize, 0usize), |(n, w), (m, v)| {
            (n + m, w.saturating_add(v))
        });
    team_for(jit, elements, work)
}

/// [`team`] for `elements` in all stages with `work` in all.
fn team_for(
    jit: &JitProgram,
    elements: usize,
    work: usize,
) -> Option<std::sync::Arc<threads::Team>> {
    jit.note_run(elements);
    if work >= call::PARALLEL_WORK {
        threads::parallel_team()
    } else {
        None
    }
}

/// Elements per chunk of [`last_axis_in_chunks`] (a float64 chunk is
/// 64 KiB: it stays in L2 between its computation and its reduction).
const AXIS_CHUNK: usize = 8 * 1024;

/// A float `sum`, `mean`, `min` or `max` along the last `axis` of the
/// stage `(program, kernel, leaves, shape)` with values of `dtype`,
/// computed in chunks of whole lanes (rows of the first axis) into small
/// arrays that are reduced at once, in parallel on `pool`: no array of the
/// stage's size, which cost a page fault per 4 KiB on every call (13% of
/// `exp(x - max(x, axis=1)) / sum(exp(x - max(x, axis=1)), axis=1)` at
/// 1000²). `None` where it does not apply (another axis or op, a non-float
/// stage, a single chunk): then the stage is computed whole. Each lane is
/// reduced as [`reduce`] reduces it in the whole array, so the result is
/// the same.
#[allow(clippy::too_many_arguments)]
fn last_axis_in_chunks(
    (program, kernel, leaves, shape): (&Program, &call::KernelFn, &[NodeId], &[usize]),
    dtype: DType,
    inputs: &[Option<ArrayView<'_>>],
    reduced: &HashMap<NodeId, Array>,
    op: ReduceOp,
    axis: Option<usize>,
    pool: Option<&threads::Team>,
    cancel: &std::sync::atomic::AtomicBool,
) -> Option<Result<Array>> {
    let last = shape.len().checked_sub(1)?;
    let float = matches!(dtype, DType::Float32 | DType::Float64);
    let ops = matches!(
        op,
        ReduceOp::Sum | ReduceOp::Mean | ReduceOp::Min | ReduceOp::Max
    );
    let row: usize = shape[1..].iter().product();
    // Short lanes (narrow rows) make many chunks whose fixed costs were more
    // than the page faults saved (softmax on 10⁵ × 10: 5.1 -> 7.4 ms, 2
    // threads; 3000 × 300: 1.85 -> 1.92); from 512 elements a lane it pays
    // (1000 × 1000: 2.42 -> 1.98 ms, `sum(x*x, axis=1)` 0.49 -> 0.30).
    let long = shape[last] >= 512;
    if !(float && ops && long && last >= 1 && axis == Some(last) && row > 0) {
        return None;
    }
    let rows = (AXIS_CHUNK / row).max(1);
    let chunks = shape[0].div_ceil(rows);
    if chunks < 2 {
        return None;
    }
    let g = &program.graph;
    // Leaf `leaf` broadcast to the stage's shape, rows `r` (`part`) of its
    // first axis.
    let operand_rows = |leaf: NodeId, r: &std::ops::Range<usize>, part: &[usize]| {
        let v = value(program, leaf, inputs, reduced).ok()?;
        if v.dtype() != g.dtype(leaf) {
            return None;
        }
        each!(ArrayView, &v, a => {
            let b = a.broadcast(ndarray::IxDyn(shape))?;
            let rows = b.slice_axis(ndarray::Axis(0), ndarray::Slice::from(r.clone()));
            Operand::new(&rows, part)
        })
    };
    let chunk = |_: &mut (), c: usize| -> Result<Array> {
        let r = c * rows..((c + 1) * rows).min(shape[0]);
        let mut part = shape.to_vec();
        part[0] = r.len();
        let operands = leaves
            .iter()
            .map(|&leaf| operand_rows(leaf, &r, &part))
            .collect::<Option<Vec<Operand>>>()
            .ok_or_else(|| Error::internal("a chunk's operands"))?;
        let values = call::new_array(dtype, &part, Order::C, |o| {
            call::run(kernel, &operands, &o, &part, None, cancel)
                .ok_or_else(|| Error::internal("stage not written"))
        })?;
        reduce(&values.view(), op, Some(last))
            .map_err(|ReduceError::Empty| Error::internal("an empty lane"))
    };
    let parts = threads::map(pool, chunks, || (), chunk);
    let result = (|| {
        let parts = parts.into_iter().collect::<Result<Vec<Array>>>()?;
        let mut out = shape.to_vec();
        out[last] = 1;
        match dtype {
            DType::Float64 => joined::<f64>(parts, &out),
            _ => joined::<f32>(parts, &out),
        }
        .ok_or_else(|| Error::internal("chunk results"))
    })();
    Some(result)
}

/// Arrays of `T` joined along their first axis into one of shape `out`
/// (their elements in order); `None` if one has another dtype or the
/// count does not fit.
fn joined<T: Element>(parts: Vec<Array>, out: &[usize]) -> Option<Array> {
    let mut data: Vec<T> = Vec::new();
    for part in parts {
        data.extend(T::from_array(part).ok()?.iter().copied());
    }
    let array = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(out), data).ok()?;
    Some(T::into_array(array))
}

/// The values of a fused stage's `leaves` (`None` for the product `m`,
/// which the product's tiles give) and the product's position among them.
fn fused_leaves<'v>(
    program: &Program,
    leaves: &[NodeId],
    m: NodeId,
    inputs: &'v [Option<ArrayView<'_>>],
    reduced: &'v HashMap<NodeId, Array>,
) -> Result<(Vec<Option<ArrayView<'v>>>, usize)> {
    let values = leaves
        .iter()
        .map(|&l| {
            if l == m {
                Ok(None)
            } else {
                value(program, l, inputs, reduced).map(Some)
            }
        })
        .collect::<Result<_>>()?;
    let at = leaves
        .iter()
        .position(|&l| l == m)
        .ok_or_else(|| Error::internal("fused product is not a leaf"))?;
    Ok((values, at))
}

/// The value of leaf or kept node `x`: a bound input or an earlier stage's.
fn value<'v>(
    program: &Program,
    x: NodeId,
    inputs: &'v [Option<ArrayView<'_>>],
    reduced: &'v HashMap<NodeId, Array>,
) -> Result<ArrayView<'v>> {
    let found = match program.graph.node(x) {
        Node::Input(i) => inputs
            .get(i.index())
            .and_then(Option::as_ref)
            .map(|v| each!(ArrayView, v, a => ArrayView::from(a))),
        _ => reduced.get(&x).map(Array::view),
    };
    found.ok_or_else(|| Error::internal(format!("{x} has no value")))
}

/// Runs every stage of `jit` but the final one (and the product `skip`,
/// which the final stage computes): the values of its reductions, kept
/// operands and products, by node.
fn earlier_stages(
    jit: &JitProgram,
    inputs: &[Option<ArrayView<'_>>],
    shapes: &Shapes,
    pool: Option<&threads::Team>,
    token: Cancel<'_>,
    skip: Option<NodeId>,
) -> Result<HashMap<NodeId, Array>> {
    let program = jit.program();
    let g = &program.graph;
    let cancel = token.flag();
    let mut reduced: HashMap<NodeId, Array> = HashMap::new();
    // Products a full sum consumes tile by tile (`matmul::fused_sum`): by
    // the reduction, the product and its shape.
    let fused: HashMap<NodeId, (NodeId, MatMulShape)> = jit
        .fusible_reductions()
        .iter()
        .filter_map(|&(m, r)| {
            let Node::Reduce(_, operand, _) = g.node(r) else {
                return None;
            };
            let Node::MatMul(a, b) = g.node(m) else {
                return None;
            };
            let dims = MatMulShape::of(shapes.of(a), shapes.of(b)).ok()?;
            (shapes.of(m) == shapes.of(operand)).then_some((r, (m, dims)))
        })
        .collect();
    let count = jit.stages().len().saturating_sub(1);
    for (compiled, kernel) in jit.stages().iter().zip(jit.kernels()).take(count) {
        let stage = compiled.stage;
        let shape = shapes.of(stage.root);
        match stage.then {
            Then::Result => return Err(Error::internal("two final stages")),
            Then::Product
                if Some(stage.root) == skip || fused.values().any(|(m, _)| *m == stage.root) => {}
            Then::Product => {
                let Node::MatMul(a, b) = g.node(stage.root) else {
                    return Err(Error::internal(format!("{} is not a product", stage.root)));
                };
                let (va, vb) = (
                    value(program, a, inputs, &reduced)?,
                    value(program, b, inputs, &reduced)?,
                );
                let dims = MatMulShape::of(va.shape(), vb.shape()).map_err(|_| {
                    Error::internal(format!("operands of {} do not multiply", stage.root))
                })?;
                let mut result = zeros(g.dtype(stage.root), &dims.output(), Order::C)?;
                matmul::product(&va, &vb, &mut result.view_mut(), &dims, pool)?;
                token.check()?;
                reduced.insert(stage.root, result);
            }
            Then::Keep => {
                let operands = operands(program, compiled.leaves(), inputs, &reduced, shape)?;
                let values = call::new_array(g.dtype(stage.root), shape, Order::C, |o| {
                    let w = call::run(kernel, &operands, &o, shape, pool, cancel);
                    token.check()?;
                    w.ok_or_else(|| Error::internal("stage not written"))
                })?;
                reduced.insert(stage.root, values);
            }
            Then::Reduce(r) => {
                let Node::Reduce(op, operand, axis) = g.node(r) else {
                    return Err(Error::internal(format!("{r} is not a reduction")));
                };
                let empty = |op: ReduceOp| empty_reduction(program, r, op);
                let result = match (axis, fused.get(&r)) {
                    (None, Some((m, dims))) => {
                        let Node::MatMul(a, b) = g.node(*m) else {
                            return Err(Error::internal(format!("{m} is not a product")));
                        };
                        let (va, vb) = (
                            value(program, a, inputs, &reduced)?,
                            value(program, b, inputs, &reduced)?,
                        );
                        let (leaves, at) =
                            fused_leaves(program, compiled.leaves(), *m, inputs, &reduced)?;
                        let sum = matmul::fused_sum(
                            &va,
                            &vb,
                            kernel,
                            &leaves,
                            at,
                            g.dtype(operand),
                            op == ReduceOp::Mean,
                            dims,
                            pool,
                            cancel,
                        );
                        token.check()?;
                        sum?
                    }
                    // A full reduction never materializes its operand: blocks
                    // are computed into small buffers and reduced at once.
                    (None, None) => {
                        let operands =
                            operands(program, compiled.leaves(), inputs, &reduced, shape)?;
                        full_reduction(kernel, &operands, shape, g.dtype(operand), op, pool, cancel)
                            .map_err(|ReduceError::Empty| empty(op))?
                    }
                    (Some(axis), _) => {
                        let axis = normalize_axis(axis, shape.len());
                        // An input (or an earlier stage's value) of the
                        // stage's shape is reduced where it is: computing the
                        // stage would only copy it.
                        let own = value(program, operand, inputs, &reduced)
                            .ok()
                            .filter(|v| v.shape() == shape && v.dtype() == g.dtype(operand));
                        let chunked = || {
                            let stage = (program, kernel, compiled.leaves(), shape);
                            let dtype = g.dtype(operand);
                            last_axis_in_chunks(
                                stage, dtype, inputs, &reduced, op, axis, pool, cancel,
                            )
                        };
                        match own {
                            Some(v) => reduce(&v, op, axis),
                            None if let Some(r) = chunked() => {
                                token.check()?;
                                Ok(r?)
                            }
                            None => {
                                let operands =
                                    operands(program, compiled.leaves(), inputs, &reduced, shape)?;
                                let values =
                                    call::new_array(g.dtype(operand), shape, Order::C, |o| {
                                        let w =
                                            call::run(kernel, &operands, &o, shape, pool, cancel);
                                        token.check()?;
                                        w.ok_or_else(|| Error::internal("stage not written"))
                                    })?;
                                reduce(&values.view(), op, axis)
                            }
                        }
                        .map_err(|ReduceError::Empty| empty(op))?
                    }
                };
                token.check()?;
                reduced.insert(r, result);
            }
        }
    }
    Ok(reduced)
}

/// A small call without the general machinery (binding every input, shape
/// inference, per-stage bookkeeping): a program of one stage without a
/// reduction, each input of which has exactly the result's shape, with a
/// result smaller than `call::STREAM_BYTES` (so without streaming stores),
/// on the team from `call::PARALLEL_WORK` work up. The general path cost
/// about 0.4 µs more per call, a tenth of a two-thread `exp(a)` at 10⁴
/// elements. See [`SmallCall::of`]. The kernel is taken when the call runs,
/// after it is counted: the call that makes the program hot runs the
/// optimized tier it compiles, as the general path does (a one-off call
/// of 10⁶ elements ran the interpreted tier after compiling the optimized
/// one: `(a>0.31)&(b<0.71)` from Python 1.3 -> 2.9 ms).
pub(crate) struct SmallCall {
    operands: smallvec::SmallVec<[Operand; 4]>,
    n: usize,
}

impl SmallCall {
    /// The call of `program` on `vars` with result shape `shape`, or `None`
    /// when it is not of that kind or anything does not fit (a missing
    /// input, another dtype or shape): the general path then runs it, and
    /// reports the error if there is one.
    pub(crate) fn of(
        jit: &JitProgram,
        vars: crate::vars::Bind<'_, '_>,
        shape: &[usize],
    ) -> Result<Option<SmallCall>> {
        let [compiled] = jit.stages() else {
            return Ok(None);
        };
        let n: usize = shape.iter().product();
        if compiled.stage.then != crate::ir::stage::Then::Result
            || compiled.leaves().is_empty()
            || n == 0
            || !small(jit, n)
        {
            return Ok(None);
        }
        let g = &jit.program().graph;
        Ok(bound_inputs(g, compiled.leaves(), vars, shape)?
            .map(|operands| SmallCall { operands, n }))
    }

    /// The call of `program` on contiguous runs of `n` elements, one per
    /// input by position (`inputs[k]` is input k), as a 1-d stage of `n`;
    /// `None` when it is not of that kind (as [`SmallCall::of`]).
    pub(crate) fn of_flat(jit: &JitProgram, inputs: &[Flat<'_>], n: usize) -> Option<SmallCall> {
        let [compiled] = jit.stages() else {
            return None;
        };
        if compiled.stage.then != crate::ir::stage::Then::Result
            || compiled.leaves().is_empty()
            || n == 0
            || !small(jit, n)
        {
            return None;
        }
        let g = &jit.program().graph;
        let mut operands = smallvec::SmallVec::new();
        for &leaf in compiled.leaves() {
            let Node::Input(i) = g.node(leaf) else {
                return None;
            };
            let flat = inputs.get(i.index())?;
            if flat.dtype() != g.inputs()[i.index()].dtype || flat.len() != n {
                return None;
            }
            operands.push(each!(Flat, flat, s => Operand::of_slice(s)));
        }
        Some(SmallCall { operands, n })
    }

    /// Runs the call into `out`, of the program's dtype and `shape`, the
    /// call's shape.
    pub(crate) fn run(
        &self,
        jit: &JitProgram,
        out: Output,
        shape: &[usize],
        token: Cancel<'_>,
    ) -> Result<Written> {
        let cost = jit.stages().first().map_or(0, |s| s.cost());
        let pool = team_for(jit, self.n, self.n.saturating_mul(cost));
        let [kernel] = jit.kernels() else {
            return Err(Error::internal("a small call of several stages"));
        };
        let written = call::run(
            kernel,
            &self.operands,
            &out,
            shape,
            pool.as_deref(),
            token.flag(),
        );
        token.check()?;
        written.ok_or_else(|| Error::internal("small call not written"))
    }
}

/// Whether a one-stage call of `n` elements has a small result (less than
/// `call::STREAM_BYTES`, where the output is never streamed).
fn small(jit: &JitProgram, n: usize) -> bool {
    n.saturating_mul(jit.program().dtype().size()) < call::STREAM_BYTES
}

/// A small full reduction of one elementwise stage (`sum(a*b)`, `max(x)`,
/// `mean(x - y)`) computed without the general machinery (binding, shape
/// inference, a second stage writing the reduced value into the result):
/// the program has two stages, the first reduced whole by the node the
/// second only returns, every leaf of the first an input of one shape and
/// its dtype, and the work is below `call::PARALLEL_WORK` (so this thread
/// does it; a reduction's value never depends on the team). `None` when it
/// is not of that kind, or anything does not fit: the general path then
/// runs it, and reports the error if there is one. That path cost about
/// 430 ns more per call (`sum(a)` of 10 elements: 580 ns, `a*2` 150 ns).
pub(crate) fn small_reduction(
    jit: &JitProgram,
    vars: crate::vars::Bind<'_, '_>,
    token: Cancel<'_>,
) -> Result<Option<Array>> {
    let ([first, last], [kernel, _]) = (jit.stages(), jit.kernels()) else {
        return Ok(None);
    };
    let g = &jit.program().graph;
    let Then::Reduce(r) = first.stage.then else {
        return Ok(None);
    };
    let Node::Reduce(op, reduced, None) = g.node(r) else {
        return Ok(None);
    };
    if last.stage.root != r
        || last.stage.then != Then::Result
        || jit.has_products()
        || first.leaves().is_empty()
    {
        return Ok(None);
    }
    // The stage's shape: its first input's (every other must have it).
    let Some(Node::Input(i)) = first.leaves().first().map(|&l| g.node(l)) else {
        return Ok(None);
    };
    let Some(view) = vars.get(i.index(), &g.inputs()[i.index()].name) else {
        return Ok(None);
    };
    let shape = view.shape().to_vec();
    let n: usize = shape.iter().product();
    if n == 0 || n.saturating_mul(first.cost()) >= call::PARALLEL_WORK {
        return Ok(None);
    }
    let Some(operands) = bound_inputs(g, first.leaves(), vars, &shape)? else {
        return Ok(None);
    };
    token.check()?;
    jit.note_run(n);
    let result = full_reduction(
        kernel,
        &operands,
        &shape,
        g.dtype(reduced),
        op,
        None,
        token.flag(),
    )
    .map_err(|ReduceError::Empty| Error::internal("a reduction of a non-empty stage"))?;
    token.check()?;
    Ok((result.dtype() == g.dtype(r)).then_some(result))
}

/// The kernel operands of `leaves` when each is an input bound in `vars`
/// with its declared dtype and exactly `shape` (the small calls' inputs);
/// `None` when one is not.
fn bound_inputs(
    g: &crate::ir::graph::Graph,
    leaves: &[NodeId],
    vars: crate::vars::Bind<'_, '_>,
    shape: &[usize],
) -> Result<Option<smallvec::SmallVec<[Operand; 4]>>> {
    let mut operands = smallvec::SmallVec::new();
    for &leaf in leaves {
        let Node::Input(i) = g.node(leaf) else {
            return Ok(None);
        };
        let decl = &g.inputs()[i.index()];
        match vars.get(i.index(), &decl.name) {
            Some(view) if view.dtype() == decl.dtype && view.shape() == shape => {
                operands.push(operand(view, decl.dtype, shape)?);
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(operands))
}

fn operands(
    program: &Program,
    leaves: &[NodeId],
    inputs: &[Option<ArrayView<'_>>],
    reduced: &HashMap<NodeId, Array>,
    shape: &[usize],
) -> Result<Vec<Operand>> {
    let g = &program.graph;
    let missing = |leaf: NodeId| Error::internal(format!("leaf {leaf} has no value"));
    leaves
        .iter()
        .map(|&leaf| match g.node(leaf) {
            Node::Input(i) => {
                let view = inputs
                    .get(i.index())
                    .and_then(|v| v.as_ref())
                    .ok_or_else(|| missing(leaf))?;
                operand(view, g.dtype(leaf), shape)
            }
            Node::Reduce(..) | Node::MatMul(..) => {
                let array = reduced.get(&leaf).ok_or_else(|| missing(leaf))?;
                operand(&array.view(), g.dtype(leaf), shape)
            }
            _ => Err(missing(leaf)),
        })
        .collect()
}

fn operand(view: &ArrayView<'_>, dtype: DType, shape: &[usize]) -> Result<Operand> {
    if view.dtype() != dtype {
        return Err(Error::internal(format!(
            "leaf of dtype {} read as {dtype}",
            view.dtype()
        )));
    }
    each!(ArrayView, view, a => Operand::new(a, shape)).ok_or_else(|| {
        Error::internal(format!(
            "leaf does not broadcast to {}",
            format_shape(shape)
        ))
    })
}

/// The output `view`, which must have `shape` (any strides): for
/// evaluating into a caller's array.
pub(crate) fn output(view: &mut ArrayViewMut<'_>, shape: &[usize]) -> Result<Output> {
    each!(ArrayViewMut, view, a => Output::new(a, shape)).ok_or_else(|| {
        Error::internal(format!(
            "output does not have shape {}",
            format_shape(shape)
        ))
    })
}

/// The `sum` reduction of a float stage: each block summed as it is
/// computed, then the partials (exactly `scalar::sum_f64`/`sum_f32`).
fn blocked_sum<T: Element + Default>(
    kernel: &call::KernelFn,
    operands: &[Operand],
    shape: &[usize],
    pool: Option<&crate::threads::Team>,
    cancel: &std::sync::atomic::AtomicBool,
    sum_block: fn(&[T]) -> T,
    sum_block_by: fn(usize, scalar::Fill<'_, T>, Option<scalar::Leaves<'_, T>>) -> T,
) -> T {
    // Each block is computed pairwise leaf by leaf, in the order of
    // `sum_block` (by the leaf-sum kernel where the stage has one).
    let p = call::run_blocks_by(
        kernel,
        operands,
        shape,
        scalar::REDUCE_BLOCK,
        pool,
        cancel,
        sum_block_by,
    );
    if p.len() == 1 { p[0] } else { sum_block(&p) }
}

/// `op` over every element of the stage, block by block (see
/// `ir::scalar::REDUCE_BLOCK`), with the interpreter's exact semantics.
fn full_reduction(
    kernel: &call::KernelFn,
    operands: &[Operand],
    shape: &[usize],
    dtype: DType,
    op: ReduceOp,
    pool: Option<&crate::threads::Team>,
    cancel: &std::sync::atomic::AtomicBool,
) -> std::result::Result<Array, ReduceError> {
    let n: usize = shape.iter().product();
    let zero_d = |s: Scalar| Array::from_scalars(s.dtype(), &[], &[s]).ok_or(ReduceError::Empty);
    if n == 0 {
        return zero_d(scalar::reduce(op, dtype, &[])?);
    }
    let sum_like = matches!(op, ReduceOp::Sum | ReduceOp::Mean);
    let total = match dtype {
        DType::Float64 if sum_like => {
            let t = blocked_sum(
                kernel,
                operands,
                shape,
                pool,
                cancel,
                scalar::sum_block_f64,
                scalar::sum_block_by_f64,
            );
            Scalar::Float64(if op == ReduceOp::Mean {
                t / n as f64
            } else {
                t
            })
        }
        DType::Float32 if sum_like => {
            let t = blocked_sum(
                kernel,
                operands,
                shape,
                pool,
                cancel,
                scalar::sum_block_f32,
                scalar::sum_block_by_f32,
            );
            Scalar::Float32(if op == ReduceOp::Mean {
                t / n as f32
            } else {
                t
            })
        }
        _ => {
            let partial_op = if op == ReduceOp::Mean {
                ReduceOp::Sum
            } else {
                op
            };
            fn blocks<T: Element + Default + scalar::BlockMinMax>(
                kernel: &call::KernelFn,
                operands: &[Operand],
                shape: &[usize],
                pool: Option<&crate::threads::Team>,
                cancel: &std::sync::atomic::AtomicBool,
                op: ReduceOp,
            ) -> std::result::Result<Vec<Scalar>, ReduceError> {
                call::run_blocks(
                    kernel,
                    operands,
                    shape,
                    scalar::REDUCE_BLOCK,
                    pool,
                    cancel,
                    |blk: &[T]| match op {
                        ReduceOp::Min | ReduceOp::Max => T::min_max(blk, op == ReduceOp::Max)
                            .map(|x| x.to_scalar())
                            .ok_or(ReduceError::Empty),
                        _ => {
                            let v: Vec<Scalar> = blk.iter().map(|x| x.to_scalar()).collect();
                            scalar::reduce_block(op, T::DTYPE, &v)
                        }
                    },
                )
                .into_iter()
                .collect()
            }
            let partials = crate::types::dtype_dispatch!(
                dtype,
                blocks(kernel, operands, shape, pool, cancel, partial_op)
            )?;
            let t = scalar::combine(partial_op, dtype, &partials);
            if op == ReduceOp::Mean {
                let count = Scalar::Int64(n as i64).cast(dtype);
                scalar::binary(crate::ir::op::BinaryOp::Div, t, count)
            } else {
                t
            }
        }
    };
    zero_d(total)
}
