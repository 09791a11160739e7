//! Reductions of a materialized stage result, with the semantics of
//! `ir::scalar::reduce` (so results equal the interpreter's bit for bit).

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};

use crate::array::{Array, ArrayView, Element, each};
use crate::ir::op::ReduceOp;
use crate::ir::scalar::{self, ReduceError};
use crate::types::Scalar;

/// Reduces all of `values` (0-d result) or along `axis` (kept with length 1).
pub fn reduce(
    values: &ArrayView<'_>,
    op: ReduceOp,
    axis: Option<usize>,
) -> Result<Array, ReduceError> {
    let dtype = values.dtype();
    match (values, op) {
        (ArrayView::Float64(a), ReduceOp::Sum | ReduceOp::Mean) => {
            Ok(Array::Float64(lanes(a, axis, |v| {
                let s = scalar::sum_f64(v);
                if op == ReduceOp::Mean {
                    s / v.len() as f64
                } else {
                    s
                }
            })))
        }
        (ArrayView::Float32(a), ReduceOp::Sum | ReduceOp::Mean) => {
            Ok(Array::Float32(lanes(a, axis, |v| {
                let s = scalar::sum_f32(v);
                if op == ReduceOp::Mean {
                    s / v.len() as f32
                } else {
                    s
                }
            })))
        }
        (ArrayView::Float64(a), ReduceOp::Min | ReduceOp::Max) if !a.is_empty() => {
            Ok(Array::Float64(lanes(a, axis, |v| {
                min_max(v, op == ReduceOp::Max)
            })))
        }
        (ArrayView::Float32(a), ReduceOp::Min | ReduceOp::Max) if !a.is_empty() => {
            Ok(Array::Float32(lanes(a, axis, |v| {
                min_max(v, op == ReduceOp::Max)
            })))
        }
        _ => {
            let result = each!(ArrayView, values, a => {
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

/// `min`/`max` of a non-empty lane as `scalar::reduce` computes it: each
/// block of `REDUCE_BLOCK` values, then the blocks' results in order, with
/// `binary`'s semantics (NaN propagates, on equality the later wins),
/// without a `Scalar` per value.
fn min_max<T: scalar::BlockMinMax + Default>(v: &[T], max: bool) -> T {
    let blocks: Vec<T> = v
        .chunks(scalar::REDUCE_BLOCK)
        .filter_map(|c| T::min_max(c, max))
        .collect();
    T::min_max(&blocks, max).unwrap_or_default()
}

/// Applies `f` to all elements (C order) or to every lane along `axis`.
fn lanes<T: Copy + Send + Sync, R: Clone + Send>(
    a: &ArrayViewD<'_, T>,
    axis: Option<usize>,
    f: impl Fn(&[T]) -> R + Sync,
) -> ArrayD<R> {
    match axis {
        None => {
            let all: Vec<T> = a.iter().copied().collect();
            ndarray::arr0(f(&all)).into_dyn()
        }
        Some(k)
            if k + 1 == a.ndim()
                && a.shape()[k] > 0
                && let Some(all) = a.as_slice() =>
        {
            // Lanes along the last axis of a C-contiguous array: runs of
            // its slice, reduced in place in groups of about 4096 elements
            // a task. Collecting a view per lane and copying each into a
            // buffer cost more than the sums of short lanes: `sum(x,
            // axis=1)` on 10⁵×10 took 9.4 ms (1.2 ms in place; NumPy's 1.9).
            let len = a.shape()[k];
            let mut shape = a.shape().to_vec();
            shape[k] = 1;
            let count = all.len() / len;
            let per = (4096 / len).max(1);
            let team = crate::threads::parallel_team()
                .filter(|_| a.len() >= crate::backend::jit::call::PARALLEL_THRESHOLD);
            let groups = crate::threads::map(
                team.as_deref(),
                count.div_ceil(per),
                || (),
                |_, g| {
                    let lanes = g * per..((g + 1) * per).min(count);
                    lanes
                        .map(|i| f(&all[i * len..(i + 1) * len]))
                        .collect::<Vec<R>>()
                },
            );
            let out: Vec<R> = groups.into_iter().flatten().collect();
            ArrayD::from_shape_vec(IxDyn(&shape), out).expect("one value per lane")
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
