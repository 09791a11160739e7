//! Shapes at run time: NumPy broadcasting over the IR, with errors that point
//! at the operation whose operands do not fit.

use crate::error::{Error, ErrorKind, Result};
use crate::ir::graph::{Node, NodeId, Program};
use crate::ir::stage::stage_leaves;

/// The NumPy broadcast of two shapes, or `None` if they are incompatible.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let mut out = a.to_vec();
    broadcast_into(&mut out, b).then_some(out)
}

/// Broadcasts `acc` with `b` in place; `false` (and `acc` unspecified) if
/// they are incompatible.
pub fn broadcast_into(acc: &mut Vec<usize>, b: &[usize]) -> bool {
    if acc.len() < b.len() {
        acc.splice(0..0, std::iter::repeat_n(1, b.len() - acc.len()));
    }
    let skip = acc.len() - b.len();
    for (da, &db) in acc[skip..].iter_mut().zip(b) {
        *da = match (*da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return false,
        };
    }
    true
}

/// The dimensions of a matrix product `a @ b` (NumPy's `matmul`): operand
/// shapes `(..., n, k)` and `(..., k, m)` give `(..., n, m)`, the leading
/// (batch) axes broadcast; a 1-d `a` is read as `(1, k)` and a 1-d `b` as
/// `(k, 1)`, and the added axis is removed from the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatMulShape {
    /// The broadcast batch axes.
    pub batch: Vec<usize>,
    /// Rows of the product (1 for a 1-d `a`).
    pub n: usize,
    /// The inner (summed) dimension.
    pub k: usize,
    /// Columns of the product (1 for a 1-d `b`).
    pub m: usize,
    /// `a` is 1-d: the result has no row axis.
    pub a_vector: bool,
    /// `b` is 1-d: the result has no column axis.
    pub b_vector: bool,
}

/// Why two shapes cannot be multiplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatMulMismatch {
    /// Operand `0` or `1` is 0-d.
    Scalar(usize),
    /// `a`'s last axis differs from `b`'s second-to-last (first, if 1-d).
    Inner,
    /// The batch axes do not broadcast.
    Batch,
}

impl MatMulShape {
    /// The product's dimensions, or why there is none.
    pub fn of(a: &[usize], b: &[usize]) -> std::result::Result<MatMulShape, MatMulMismatch> {
        let (a_vector, b_vector) = (a.len() == 1, b.len() == 1);
        let (&k, rest_a) = a.split_last().ok_or(MatMulMismatch::Scalar(0))?;
        let (n, batch_a) = match rest_a.split_last() {
            Some((&n, batch)) => (n, batch),
            None => (1, rest_a),
        };
        let (&m, rest_b) = b.split_last().ok_or(MatMulMismatch::Scalar(1))?;
        let (kb, m, batch_b) = match rest_b.split_last() {
            Some((&kb, batch)) => (kb, m, batch),
            None => (m, 1, rest_b),
        };
        if k != kb {
            return Err(MatMulMismatch::Inner);
        }
        let batch = broadcast(batch_a, batch_b).ok_or(MatMulMismatch::Batch)?;
        Ok(MatMulShape {
            batch,
            n,
            k,
            m,
            a_vector,
            b_vector,
        })
    }

    /// The number of matrices multiplied (the product of the batch axes).
    pub fn batches(&self) -> usize {
        self.batch.iter().product()
    }

    /// The result's shape: `batch + (n, m)` without the axes of 1-d operands.
    pub fn output(&self) -> Vec<usize> {
        let mut s = self.batch.clone();
        if !self.a_vector {
            s.push(self.n);
        }
        if !self.b_vector {
            s.push(self.m);
        }
        s
    }

    /// `batch + (n, m)`: the result with every axis.
    pub fn full(&self) -> Vec<usize> {
        let mut s = self.batch.clone();
        s.extend([self.n, self.m]);
        s
    }

    /// `a`'s shape as `batch + (n, k)`, the 1-d operand with its axis added.
    pub fn full_a(&self) -> Vec<usize> {
        let mut s = self.batch.clone();
        s.extend([self.n, self.k]);
        s
    }

    /// `b`'s shape as `batch + (k, m)`.
    pub fn full_b(&self) -> Vec<usize> {
        let mut s = self.batch.clone();
        s.extend([self.k, self.m]);
        s
    }
}

/// `(3, 4)`, `(5,)`, `()`: NumPy's way of writing a shape.
pub fn format_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        dims => {
            let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// A possibly negative axis as an index into `ndim` dimensions.
pub fn normalize_axis(axis: i64, ndim: usize) -> Option<usize> {
    let n = ndim as i64;
    let a = if axis < 0 { axis + n } else { axis };
    (0..n).contains(&a).then_some(a as usize)
}

/// The shape of every node the root depends on (`None` for nodes it does not).
#[derive(Debug, Clone)]
pub struct Shapes {
    /// By node id; empty when only the stage roots are known (`roots`).
    shapes: Vec<Option<Vec<usize>>>,
    /// The shapes of the stage roots, when inferred stage by stage (see
    /// [`Shapes::of_stage_roots`]).
    roots: Vec<(NodeId, Vec<usize>)>,
    /// The shape of the final result.
    pub output: Vec<usize>,
}

impl Shapes {
    /// The shapes of a program's stage roots, each the broadcast of the
    /// inputs its stage reads: what the per-node inference gives when every
    /// reduction is a full one (0-d, so it does not change a broadcast), and
    /// the result is the last root's shape.
    pub fn of_stage_roots(roots: Vec<(NodeId, Vec<usize>)>) -> Shapes {
        let output = roots.last().map(|(_, s)| s.clone()).unwrap_or_default();
        Shapes {
            shapes: Vec::new(),
            roots,
            output,
        }
    }

    /// The shape of `id`; `[]` for a node the root does not use (or, in
    /// shapes of stage roots, for a node that is not a stage root).
    pub fn of(&self, id: NodeId) -> &[usize] {
        if !self.roots.is_empty() {
            return self
                .roots
                .iter()
                .find(|(r, _)| *r == id)
                .map_or(&[], |(_, s)| s.as_slice());
        }
        self.shapes
            .get(id.index())
            .and_then(|s| s.as_deref())
            .unwrap_or(&[])
    }
}

/// Infers every node's shape from the input shapes (indexed by input id).
pub fn infer(program: &Program, input_shapes: &[Vec<usize>]) -> Result<Shapes> {
    let g = &program.graph;
    let live = g.reachable(program.root);
    let mut shapes: Vec<Option<Vec<usize>>> = vec![None; g.len()];
    for id in g.ids() {
        if !live[id.index()] {
            continue;
        }
        fn get(n: NodeId, shapes: &[Option<Vec<usize>>]) -> &[usize] {
            shapes[n.index()].as_deref().unwrap_or(&[])
        }
        let shape = match g.node(id) {
            Node::Input(i) => input_shapes.get(i.index()).cloned().unwrap_or_default(),
            Node::Const(_) => vec![],
            Node::Cast(a) | Node::Unary(_, a) => get(a, &shapes).to_vec(),
            Node::Binary(op, a, b) => {
                let (sa, sb) = (get(a, &shapes), get(b, &shapes));
                broadcast(sa, sb).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Shape,
                        format!(
                            "operands could not be broadcast together with shapes {} {}",
                            format_shape(sa),
                            format_shape(sb)
                        ),
                    )
                    .at(g.span(id))
                    .with_label(format!(
                        "`{}` of {} and {}",
                        op.spelling(),
                        format_shape(sa),
                        format_shape(sb)
                    ))
                    .with_secondary(g.span(a), format!("shape {}", format_shape(sa)))
                    .with_secondary(g.span(b), format!("shape {}", format_shape(sb)))
                    .with_help("dimensions must be equal or 1, compared from the last one")
                })?
            }
            Node::Select(c, a, b) | Node::Fma(c, a, b) => {
                let (sc, sa, sb) = (get(c, &shapes), get(a, &shapes), get(b, &shapes));
                broadcast(sc, sa)
                    .and_then(|s| broadcast(&s, sb))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::Shape,
                            format!(
                                "where: operands could not be broadcast together with shapes {} {} {}",
                                format_shape(sc),
                                format_shape(sa),
                                format_shape(sb)
                            ),
                        )
                        .at(g.span(id))
                        .with_label("shapes do not broadcast")
                        .with_help("dimensions must be equal or 1, compared from the last one")
                    })?
            }
            Node::MatMul(a, b) => {
                let (sa, sb) = (get(a, &shapes), get(b, &shapes));
                let dims = MatMulShape::of(sa, sb)
                    .map_err(|why| matmul_error(program, id, (a, sa), (b, sb), why))?;
                dims.output()
            }
            Node::Reduce(op, a, axis) => {
                let sa = get(a, &shapes);
                match axis {
                    None => vec![],
                    Some(axis) => {
                        let k = normalize_axis(axis, sa.len()).ok_or_else(|| {
                            Error::new(
                                ErrorKind::Shape,
                                format!(
                                    "axis {axis} is out of bounds for array of dimension {}",
                                    sa.len()
                                ),
                            )
                            .at(g.span(id))
                            .with_label(format!("`{}` of shape {}", op.name(), format_shape(sa)))
                            .with_help(if sa.is_empty() {
                                "a 0-d value has no axes: drop `axis=`".to_string()
                            } else {
                                format!(
                                    "use an axis from {} to {}",
                                    -(sa.len() as i64),
                                    sa.len() - 1
                                )
                            })
                        })?;
                        let mut s = sa.to_vec();
                        s[k] = 1;
                        s
                    }
                }
            }
        };
        shapes[id.index()] = Some(shape);
    }
    let output = squeeze_reduced_axes(program, &shapes);
    Ok(Shapes {
        shapes,
        roots: Vec::new(),
        output,
    })
}

/// The shape error of matrix product `id` of `a` and `b`, at its `@`.
fn matmul_error(
    program: &Program,
    id: NodeId,
    (a, sa): (NodeId, &[usize]),
    (b, sb): (NodeId, &[usize]),
    why: MatMulMismatch,
) -> Error {
    let g = &program.graph;
    let (fa, fb) = (format_shape(sa), format_shape(sb));
    let (message, help) = match why {
        MatMulMismatch::Scalar(k) => (
            format!("matmul: operand {k} is 0-d, it does not have enough dimensions"),
            "`@` multiplies arrays of at least 1 dimension; to scale write `*`".to_string(),
        ),
        MatMulMismatch::Inner => (
            format!(
                "matmul: inner dimensions do not match: {fa} @ {fb} ({} is not {})",
                sa.last().copied().unwrap_or(0),
                if sb.len() == 1 {
                    sb[0]
                } else {
                    sb[sb.len() - 2]
                }
            ),
            "the last axis of the left operand must equal the second-to-last of the right \
             (the only one, if it is 1-d)"
                .to_string(),
        ),
        MatMulMismatch::Batch => (
            format!("matmul: batch axes of {fa} and {fb} could not be broadcast together"),
            "axes before the last two must be equal or 1, compared from the last one".to_string(),
        ),
    };
    let e = Error::new(ErrorKind::Shape, message)
        .at(g.span(id))
        .with_label(format!("`@` of {fa} and {fb}"));
    // The same operand twice (`x @ x`) is one node, with the span of its
    // first occurrence: one label, not two on the same place.
    let e = if a == b {
        e.with_secondary(g.span(a), format!("shape {fa} (both operands)"))
    } else {
        e.with_secondary(g.span(a), format!("shape {fa}"))
            .with_secondary(g.span(b), format!("shape {fb}"))
    };
    e.with_help(help)
}

/// The final shape: the root's shape without the axes that exist only because
/// reductions kept them. An axis of length 1 is removed when every leaf of the
/// final stage (inputs and reductions it reads) either does not reach that far
/// (lower rank, constants) or is a reduction along exactly that axis; so
/// `sum(x, axis=1)` and `max(m, axis=0) - min(m, axis=0)` have NumPy's shapes,
/// while `x / sum(x, axis=1)` keeps `x`'s shape.
fn squeeze_reduced_axes(program: &Program, shapes: &[Option<Vec<usize>>]) -> Vec<usize> {
    let g = &program.graph;
    let shape_of = |n: NodeId| shapes[n.index()].as_deref().unwrap_or(&[]);
    let root_shape = shape_of(program.root).to_vec();
    let ndim = root_shape.len();
    let leaves = stage_leaves(g, program.root);
    let only_reduced = |p: usize| {
        leaves.iter().all(|&leaf| {
            let rank = shape_of(leaf).len();
            let Some(index) = (p + rank).checked_sub(ndim) else {
                return true; // the leaf does not reach axis p
            };
            match g.node(leaf) {
                Node::Reduce(_, operand, Some(axis)) => {
                    normalize_axis(axis, shape_of(operand).len()) == Some(index)
                }
                _ => false,
            }
        })
    };
    let has_reduction = leaves
        .iter()
        .any(|&l| matches!(g.node(l), Node::Reduce(_, _, Some(_))));
    if !has_reduction {
        return root_shape;
    }
    root_shape
        .iter()
        .enumerate()
        .filter(|&(p, &d)| !(d == 1 && only_reduced(p)))
        .map(|(_, &d)| d)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_broadcasting() {
        assert_eq!(broadcast(&[3, 1, 4], &[5, 1]), Some(vec![3, 5, 4]));
        assert_eq!(broadcast(&[], &[2, 3]), Some(vec![2, 3]));
        assert_eq!(broadcast(&[0], &[1]), Some(vec![0]));
        assert_eq!(broadcast(&[3], &[4]), None);
        let mut acc = vec![4];
        assert!(broadcast_into(&mut acc, &[2, 3, 1]));
        assert_eq!(acc, vec![2, 3, 4]);
        assert!(broadcast_into(&mut acc, &[]));
        assert_eq!(acc, vec![2, 3, 4]);
        assert!(!broadcast_into(&mut acc, &[5, 4]));
        assert_eq!(format_shape(&[3]), "(3,)");
        assert_eq!(normalize_axis(-1, 2), Some(1));
        assert_eq!(normalize_axis(2, 2), None);
    }
}
