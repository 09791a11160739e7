//! Reductions of a materialized stage result, with the semantics of
//! `ir::scalar::reduce` (so results equal the interpreter's bit for bit).

use ndarray::{ArrayD, Axis, IxDyn};

use crate::array::{Array, Element, each};
use crate::ir::op::ReduceOp;
use crate::ir::scalar::{self, ReduceError};
use crate::types::Scalar;

/// Reduces all of `values` (0-d result) or along `axis` (kept with length 1).
pub fn reduce(values: &Array, op: ReduceOp, axis: Option<usize>) -> Result<Array, ReduceError> {
    let dtype = values.dtype();
    match (values, op) {
        (Array::Float64(a), ReduceOp::Sum | ReduceOp::Mean) => {
            Ok(Array::Float64(lanes(a, axis, |v| {
                let s = scalar::sum_f64(v);
                if op == ReduceOp::Mean {
                    s / v.len() as f64
                } else {
                    s
                }
            })))
        }
        (Array::Float32(a), ReduceOp::Sum | ReduceOp::Mean) => {
            Ok(Array::Float32(lanes(a, axis, |v| {
                let s = scalar::sum_f32(v);
                if op == ReduceOp::Mean {
                    s / v.len() as f32
                } else {
                    s
                }
            })))
        }
        _ => {
            let mut error = None;
            let result = each!(Array, values, a => {
                let r = lanes(a, axis, |v| {
                    let s: Vec<Scalar> = v.iter().map(|x| x.to_scalar()).collect();
                    match scalar::reduce(op, dtype, &s) {
                        Ok(x) => x,
                        Err(e) => {
                            error = Some(e);
                            Scalar::zero(dtype)
                        }
                    }
                });
                let flat: Vec<Scalar> = r.iter().copied().collect();
                Array::from_scalars(op.signature(dtype).result, r.shape(), &flat)
            });
            match (error, result) {
                (Some(e), _) => Err(e),
                (None, Some(a)) => Ok(a),
                (None, None) => Err(ReduceError::Empty),
            }
        }
    }
}

/// Applies `f` to all elements (C order) or to every lane along `axis`.
fn lanes<T: Copy, R: Clone>(
    a: &ArrayD<T>,
    axis: Option<usize>,
    mut f: impl FnMut(&[T]) -> R,
) -> ArrayD<R> {
    match axis {
        None => {
            let all: Vec<T> = a.iter().copied().collect();
            ndarray::arr0(f(&all)).into_dyn()
        }
        Some(k) => {
            let mut shape = a.shape().to_vec();
            shape[k] = 1;
            let mut buf = Vec::with_capacity(a.len_of(Axis(k)));
            let out: Vec<R> = a
                .lanes(Axis(k))
                .into_iter()
                .map(|lane| {
                    buf.clear();
                    buf.extend(lane.iter().copied());
                    f(&buf)
                })
                .collect();
            ArrayD::from_shape_vec(IxDyn(&shape), out).expect("one value per lane")
        }
    }
}
