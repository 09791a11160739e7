//! The reference interpreter: evaluates a program element by element with the
//! scalar semantics of `ir::scalar`. It is the oracle every other backend is
//! tested against, so it favours obviousness over speed: values are
//! [`Scalar`]s, stages run one after the other, and each stage walks its
//! nodes over blocks of [`BLOCK`] output elements.

use std::collections::HashMap;

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};

use crate::array::{ArrayView, Element, each};
use crate::cancel::Cancel;
use crate::error::{Error, ErrorKind, Result};
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::op::{BinaryOp, ReduceOp};
use crate::ir::scalar::{self, ReduceError};
use crate::ir::shape::MatMulShape;
use crate::ir::shape::{Shapes, normalize_axis};
use crate::ir::stage::{Then, is_leaf, stage_nodes, stages};
use crate::types::{DType, Scalar};

/// Elements evaluated per node before moving to the next node.
pub const BLOCK: usize = 1024;

/// Evaluates `program` on `inputs` (indexed by input id; `None` for unused
/// inputs) whose shapes gave `shapes`. Returns the result in C order with
/// shape `shapes.output`.
pub fn run(
    program: &Program,
    inputs: &[Option<ArrayView<'_>>],
    shapes: &Shapes,
    cancel: Cancel<'_>,
) -> Result<ArrayD<Scalar>> {
    let g = &program.graph;
    let mut leaves: HashMap<NodeId, ArrayD<Scalar>> = HashMap::new();
    for id in g.ids() {
        if let Node::Input(i) = g.node(id)
            && let Some(Some(view)) = inputs.get(i.index())
        {
            leaves.insert(id, each!(ArrayView, view, a => a.map(|&x| x.to_scalar())));
        }
    }
    let mut result = None;
    for stage in stages(program) {
        if stage.then == Then::Product {
            let product = product(program, stage.root, &leaves, shapes)?;
            leaves.insert(stage.root, product);
            continue;
        }
        let values = elementwise(program, stage.root, shapes.of(stage.root), &leaves, cancel)?;
        match stage.reduce() {
            Some(r) => {
                let Node::Reduce(op, operand, axis) = g.node(r) else {
                    return Err(Error::internal(format!(
                        "stage reduce {r} is not a reduction"
                    )));
                };
                let reduced =
                    reduce(&values, op, axis, g.dtype(operand)).map_err(|ReduceError::Empty| {
                        crate::ir::stage::empty_reduction(program, r, op)
                    })?;
                leaves.insert(r, reduced);
            }
            None if stage.then == Then::Keep => {
                leaves.insert(stage.root, values);
            }
            None => result = Some(values),
        }
    }
    let result = result.ok_or_else(|| Error::internal("program has no final stage"))?;
    let output: Vec<Scalar> = result.iter().copied().collect();
    ArrayD::from_shape_vec(IxDyn(&shapes.output), output)
        .map_err(|e| Error::internal(format!("result shape: {e}")))
}

/// Computes `root` at every index of `shape`, reading leaves (inputs and
/// earlier reductions) through broadcasting.
fn elementwise(
    program: &Program,
    root: NodeId,
    shape: &[usize],
    leaves: &HashMap<NodeId, ArrayD<Scalar>>,
    cancel: Cancel<'_>,
) -> Result<ArrayD<Scalar>> {
    let g = &program.graph;
    let nodes = stage_nodes(program, root);
    let local: HashMap<NodeId, usize> = nodes.iter().enumerate().map(|(k, &id)| (id, k)).collect();
    let mut readers: Vec<Option<ndarray::iter::Iter<'_, Scalar, IxDyn>>> = Vec::new();
    for &id in &nodes {
        let reader = match leaves.get(&id) {
            Some(array) => {
                let view: ArrayViewD<'_, Scalar> =
                    array.broadcast(IxDyn(shape)).ok_or_else(|| {
                        Error::internal(format!("leaf {id} does not broadcast to the stage shape"))
                    })?;
                Some(view.into_iter())
            }
            None if is_leaf(g.node(id)) => {
                return Err(Error::internal(format!("leaf {id} has no value")));
            }
            None => None,
        };
        readers.push(reader);
    }
    let n = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize / std::mem::size_of::<Scalar>())
        .ok_or_else(|| too_large(program, root, shape))?;
    let mut out = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|_| too_large(program, root, shape))?;
    let mut bufs: Vec<Vec<Scalar>> = vec![Vec::new(); nodes.len()];
    let mut done = 0;
    while done < n {
        cancel.check()?;
        let len = BLOCK.min(n - done);
        for (k, &id) in nodes.iter().enumerate() {
            let at = |n: NodeId| &bufs[local[&n]];
            let values: Vec<Scalar> = if let Some(reader) = readers[k].as_mut() {
                reader.by_ref().take(len).copied().collect()
            } else {
                match g.node(id) {
                    Node::Const(c) => vec![c; len],
                    Node::Cast(a) => {
                        let d = g.dtype(id);
                        at(a).iter().map(|x| x.cast(d)).collect()
                    }
                    Node::Unary(op, a) => at(a).iter().map(|&x| scalar::unary(op, x)).collect(),
                    Node::Binary(op, a, b) => at(a)
                        .iter()
                        .zip(at(b))
                        .map(|(&x, &y)| scalar::binary(op, x, y))
                        .collect(),
                    Node::Select(c, a, b) => at(c)
                        .iter()
                        .zip(at(a).iter().zip(at(b)))
                        .map(|(&c, (&x, &y))| scalar::select(c, x, y))
                        .collect(),
                    Node::Fma(a, b, c) => at(a)
                        .iter()
                        .zip(at(b).iter().zip(at(c)))
                        .map(|(&x, (&y, &z))| scalar::fma(x, y, z))
                        .collect(),
                    Node::Input(_) | Node::Reduce(..) | Node::MatMul(..) => {
                        return Err(Error::internal(format!("leaf {id} has no reader")));
                    }
                }
            };
            bufs[k] = values;
        }
        out.extend_from_slice(&bufs[local[&root]]);
        done += len;
    }
    ArrayD::from_shape_vec(IxDyn(shape), out)
        .map_err(|e| Error::internal(format!("stage shape: {e}")))
}

fn too_large(program: &Program, node: NodeId, shape: &[usize]) -> Error {
    Error::new(
        ErrorKind::Limit,
        format!(
            "cannot allocate an intermediate result of shape {}",
            crate::ir::shape::format_shape(shape)
        ),
    )
    .at(program.graph.span(node))
    .with_label("this value is too large for memory")
    .with_help("check the shapes of the inputs: broadcasting may have multiplied them")
}

/// The value of product node `m` (`a @ b`, NumPy's `matmul`) from its
/// operands' values (leaves, or kept by `Then::Keep` stages): each element
/// the sum over the inner axis, in order from 0, of `ir::scalar`'s products,
/// starting from 0 (for bool, the or of the ands).
fn product(
    program: &Program,
    m: NodeId,
    leaves: &HashMap<NodeId, ArrayD<Scalar>>,
    shapes: &Shapes,
) -> Result<ArrayD<Scalar>> {
    let g = &program.graph;
    let Node::MatMul(a, b) = g.node(m) else {
        return Err(Error::internal(format!("{m} is not a product")));
    };
    let value = |x: NodeId| {
        leaves
            .get(&x)
            .ok_or_else(|| Error::internal(format!("operand {x} of {m} has no value")))
    };
    let (va, vb) = (value(a)?, value(b)?);
    let dims = MatMulShape::of(va.shape(), vb.shape())
        .map_err(|_| Error::internal(format!("operands of {m} do not multiply")))?;
    if dims.output() != shapes.of(m) {
        return Err(Error::internal(format!("{m}: product shape differs")));
    }
    let dtype = g.dtype(m);
    let (add, mul) = if dtype == DType::Bool {
        (BinaryOp::BitOr, BinaryOp::BitAnd)
    } else {
        (BinaryOp::Add, BinaryOp::Mul)
    };
    // 1-d operands: `a` as a row (1, k), `b` as a column (k, 1); then the
    // batch axes broadcast.
    let full = |v: ArrayViewD<'_, Scalar>, shape: Vec<usize>| {
        v.broadcast(IxDyn(&shape))
            .map(|x| x.iter().copied().collect::<Vec<_>>())
            .ok_or_else(|| Error::internal(format!("operand of {m} does not broadcast")))
    };
    let fa = match va.ndim() {
        1 => full(va.view().insert_axis(Axis(0)), dims.full_a())?,
        _ => full(va.view(), dims.full_a())?,
    };
    let fb = match vb.ndim() {
        1 => full(vb.view().insert_axis(Axis(1)), dims.full_b())?,
        _ => full(vb.view(), dims.full_b())?,
    };
    let (nb, n, k, mm) = (dims.batches(), dims.n, dims.k, dims.m);
    let fa = ndarray::Array3::from_shape_vec((nb, n, k), fa)
        .map_err(|e| Error::internal(e.to_string()))?;
    let fb = ndarray::Array3::from_shape_vec((nb, k, mm), fb)
        .map_err(|e| Error::internal(e.to_string()))?;
    let zero = Scalar::zero(dtype);
    let too_large = || too_large(program, m, &dims.output());
    let len = nb
        .checked_mul(n)
        .and_then(|x| x.checked_mul(mm))
        .ok_or_else(too_large)?;
    let mut out = Vec::new();
    out.try_reserve_exact(len).map_err(|_| too_large())?;
    for q in 0..nb {
        for i in 0..n {
            for j in 0..mm {
                let mut acc = zero;
                for p in 0..k {
                    acc =
                        scalar::binary(add, acc, scalar::binary(mul, fa[[q, i, p]], fb[[q, p, j]]));
                }
                out.push(acc);
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&dims.output()), out)
        .map_err(|e| Error::internal(format!("product shape: {e}")))
}

/// Reduces all of `values` (0-d result) or along `axis` (kept with length 1).
fn reduce(
    values: &ArrayD<Scalar>,
    op: ReduceOp,
    axis: Option<i64>,
    dtype: DType,
) -> std::result::Result<ArrayD<Scalar>, ReduceError> {
    let Some(axis) = axis else {
        let all: Vec<Scalar> = values.iter().copied().collect();
        return Ok(ndarray::arr0(scalar::reduce(op, dtype, &all)?).into_dyn());
    };
    let k = normalize_axis(axis, values.ndim()).unwrap_or(0);
    let mut shape = values.shape().to_vec();
    if let Some(d) = shape.get_mut(k) {
        *d = 1;
    }
    let lanes: Vec<Scalar> = values
        .lanes(Axis(k))
        .into_iter()
        .map(|lane| scalar::reduce(op, dtype, &lane.to_vec()))
        .collect::<std::result::Result<_, _>>()?;
    // `lanes` visits the other axes in C order, which is the order of `shape`.
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), lanes).expect("one value per lane"))
}
