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
            let result = each!(Array, values, a => {
                let r = lanes(a, axis, |v| {
                    let s: Vec<Scalar> = v.iter().map(|x| x.to_scalar()).collect();
                    scalar::reduce(op, dtype, &s)
                });
                let flat: Vec<Scalar> = r.iter().copied().collect::<Result<_, _>>()?;
                Array::from_scalars(op.signature(dtype).result, r.shape(), &flat)
            });
            result.ok_or(ReduceError::Empty)
        }
    }
}

/// Applies `f` to all elements (C order) or to every lane along `axis`.
fn lanes<T: Copy + Send + Sync, R: Clone + Send>(
    a: &ArrayD<T>,
    axis: Option<usize>,
    f: impl Fn(&[T]) -> R + Sync,
) -> ArrayD<R> {
    match axis {
        None => {
            let all: Vec<T> = a.iter().copied().collect();
            ndarray::arr0(f(&all)).into_dyn()
        }
        Some(k) => {
            let mut shape = a.shape().to_vec();
            shape[k] = 1;
            // Lanes are independent: reduce them in parallel, each exactly as
            // the interpreter does, so the result does not depend on threads.
            let lanes: Vec<_> = a.lanes(Axis(k)).into_iter().collect();
            let reduce_lane = |buf: &mut Vec<T>, lane: &ndarray::ArrayView1<'_, T>| {
                buf.clear();
                buf.extend(lane.iter().copied());
                f(buf)
            };
            let team = crate::threads::parallel_team()
                .filter(|_| a.len() >= crate::backend::jit::call::PARALLEL_THRESHOLD);
            let out: Vec<R> =
                crate::threads::map(team.as_deref(), lanes.len(), Vec::new, |buf, i| {
                    reduce_lane(buf, &lanes[i])
                });
            ArrayD::from_shape_vec(IxDyn(&shape), out).expect("one value per lane")
        }
    }
}
