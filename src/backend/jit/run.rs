//! Running a JIT-compiled program: stage by stage, each stage's kernel over
//! its broadcast shape (in parallel for large arrays), reductions between
//! stages on the materialized operand.

use std::collections::HashMap;

use crate::alloc::Order;
use crate::array::{Array, ArrayView, ArrayViewMut, Element, Flat, each};
use crate::backend::jit::JitProgram;
use crate::backend::jit::call::{self, Operand, Output, Written};
use crate::backend::jit::reduce::reduce;
use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::op::ReduceOp;
use crate::ir::scalar::{self, ReduceError};
use crate::ir::shape::{Shapes, format_shape, normalize_axis};
use crate::ir::stage::empty_reduction;
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
    let program = jit.program();
    let g = &program.graph;
    let cancel = token.flag();
    let mut reduced: HashMap<NodeId, Array> = HashMap::new();
    let (elements, work) = jit
        .stages()
        .iter()
        .map(|s| {
            let n = shapes.of(s.stage.root).iter().product::<usize>();
            (n, n.saturating_mul(s.cost()))
        })
        .fold((0usize, 0usize), |(n, w), (m, v)| {
            (n + m, w.saturating_add(v))
        });
    // Small problems run on the calling thread: they need no threads (nor
    // the lock that guards the team, nor creating it on a first call).
    let pool = if work >= call::PARALLEL_WORK {
        threads::parallel_team()
    } else {
        None
    };
    jit.note_run(elements);
    let mut out = Some(out);
    let mut written = None;
    for (compiled, kernel) in jit.stages().iter().zip(jit.kernels()) {
        let stage = compiled.stage;
        let shape = shapes.of(stage.root);
        let operands = operands(program, compiled.leaves(), inputs, &reduced, shape)?;
        match stage.reduce {
            Some(r) => {
                let Node::Reduce(op, operand, axis) = g.node(r) else {
                    return Err(Error::internal(format!("{r} is not a reduction")));
                };
                let empty = |op: ReduceOp| empty_reduction(program, r, op);
                let result = match axis {
                    // A full reduction never materializes its operand: blocks
                    // are computed into small buffers and reduced at once.
                    None => full_reduction(
                        kernel,
                        &operands,
                        shape,
                        g.dtype(operand),
                        op,
                        pool.as_deref(),
                        cancel,
                    )
                    .map_err(|ReduceError::Empty| empty(op))?,
                    Some(axis) => {
                        let values = call::new_array(g.dtype(operand), shape, Order::C, |o| {
                            let w =
                                call::run(kernel, &operands, &o, shape, pool.as_deref(), cancel);
                            token.check()?;
                            w.ok_or_else(|| Error::internal("stage not written"))
                        })?;
                        let axis = normalize_axis(axis, shape.len());
                        reduce(&values, op, axis).map_err(|ReduceError::Empty| empty(op))?
                    }
                };
                token.check()?;
                reduced.insert(r, result);
            }
            None => {
                // The final result may have dropped reduced axes: see the
                // output with them (length 1) to match the root's shape.
                let output = out
                    .take()
                    .ok_or_else(|| Error::internal("two final stages"))?
                    .unsqueezed(shape, &shapes.output)
                    .ok_or_else(|| {
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
                written = call::run(kernel, &operands, &output, shape, pool.as_deref(), cancel);
                token.check()?;
            }
        }
    }
    written.ok_or_else(|| Error::internal("no stage wrote the result"))
}

/// A small call without the general machinery (binding every input, shape
/// inference, per-stage bookkeeping): a program of one stage without a
/// reduction, each input of which has exactly the result's shape, with less
/// than `call::PARALLEL_WORK` work (so on this thread, without streaming
/// stores). See [`SmallCall::of`].
pub(crate) struct SmallCall<'j> {
    kernel: &'j call::KernelFn,
    operands: smallvec::SmallVec<[Operand; 4]>,
    n: usize,
}

impl<'j> SmallCall<'j> {
    /// The call of `program` on `vars` with result shape `shape`, or `None`
    /// when it is not of that kind or anything does not fit (a missing
    /// input, another dtype or shape): the general path then runs it, and
    /// reports the error if there is one.
    pub(crate) fn of(
        jit: &'j JitProgram,
        vars: crate::vars::Bind<'_, '_>,
        shape: &[usize],
    ) -> Result<Option<SmallCall<'j>>> {
        let ([compiled], [kernel]) = (jit.stages(), jit.kernels()) else {
            return Ok(None);
        };
        let n: usize = shape.iter().product();
        if compiled.stage.reduce.is_some()
            || compiled.leaves().is_empty()
            || n == 0
            || n.saturating_mul(compiled.cost()) >= call::PARALLEL_WORK
        {
            return Ok(None);
        }
        let g = &jit.program().graph;
        let mut operands = smallvec::SmallVec::new();
        for &leaf in compiled.leaves() {
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
        Ok(Some(SmallCall {
            kernel,
            operands,
            n,
        }))
    }

    /// The call of `program` on contiguous runs of `n` elements, one per
    /// input by position (`inputs[k]` is input k), as a 1-d stage of `n`;
    /// `None` when it is not of that kind (as [`SmallCall::of`]).
    pub(crate) fn of_flat(
        jit: &'j JitProgram,
        inputs: &[Flat<'_>],
        n: usize,
    ) -> Option<SmallCall<'j>> {
        let ([compiled], [kernel]) = (jit.stages(), jit.kernels()) else {
            return None;
        };
        if compiled.stage.reduce.is_some()
            || compiled.leaves().is_empty()
            || n == 0
            || n.saturating_mul(compiled.cost()) >= call::PARALLEL_WORK
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
        Some(SmallCall {
            kernel,
            operands,
            n,
        })
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
        jit.note_run(self.n);
        let written = call::run(self.kernel, &self.operands, &out, shape, None, token.flag());
        token.check()?;
        written.ok_or_else(|| Error::internal("small call not written"))
    }
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
            Node::Reduce(..) => {
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
