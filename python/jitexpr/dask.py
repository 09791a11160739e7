"""jitexpr over Dask arrays: one compiled kernel run on every block.

>>> import dask.array as da, jitexpr.dask as jd
>>> rng = da.random.default_rng(0)
>>> x = rng.random((20000, 20000), chunks=(2000, 2000))
>>> y = rng.random((20000, 20000), chunks=(4000, 1000))
>>> r = jd.evaluate("sin(x)**2 + cos(y)**2", x=x, y=y)     # lazy
>>> s = jd.evaluate("sum(sin(x)**2 + cos(y)**2)", x=x, y=y)   # lazy 0-d
>>> s.compute()

How the graph is built:

* **Elementwise expressions** become one ``dask.array.blockwise`` layer whose task
  for each output block calls the compiled kernel on the matching input blocks.
  Blockwise aligns chunks (inputs chunked differently are rechunked to common
  chunks first) and broadcasts like NumPy: inputs of lower rank align with the
  trailing axes, and axes of length 1 broadcast. NumPy arrays join as Dask arrays
  of one chunk; Python scalars and 0-d arrays are passed to every task as they are.
* **One reduction of an elementwise expression** (``sum(a*b)``, ``max(x, axis=0)``,
  ``mean(...)``, ``prod``, ``min``, ``any``, ``all``) becomes a blockwise layer of
  per-block partial results, each computed by one fused jitexpr kernel
  (``sum(a*b)`` over the block, never materializing ``a*b``), combined by Dask's
  reduction machinery (``dask.array.reduction``: a tree of ``combine`` steps, then
  ``aggregate``). ``mean`` is a sum divided by the count.
* Anything else (a reduction inside a larger expression, such as ``a - mean(a)``,
  or several reductions) raises ``JitexprUnsupportedError``: it needs the result
  of one reduction before the elementwise pass, which is two graphs.

Expressions are compiled on the client first, so a typo or a dtype error raises
at once rather than when the graph runs; workers compile their own copy (once per
process: kernels pickle as their source and signature, and the compile cache makes
repeats a lookup). The kernels run with the jitexpr thread pool of each worker
process; with several Dask threads per worker, consider ``jitexpr.set_num_threads``.
"""

from __future__ import annotations

import math as _math

try:
    import dask.array as da
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "jitexpr.dask needs Dask: pip install 'dask[array]' (and 'distributed' for a cluster)"
    ) from e
import numpy as np

from . import Kernel, _analysis, _backend_name, _lookup
from ._coerce import coerce, target_dtype
from ._errors import error

__all__ = ["evaluate"]

_COMBINE = {
    "sum": np.sum,
    "mean": np.sum,
    "prod": np.prod,
    "min": np.min,
    "max": np.max,
    "any": np.any,
    "all": np.all,
}


def evaluate(
    ex,
    local_dict=None,
    global_dict=None,
    *,
    backend=None,
    math="fast",
    _frame_depth=1,
    **arrays,
):
    """Evaluates ``ex`` over Dask arrays (and NumPy arrays and scalars), lazily.

    Variables come from ``arrays`` (keyword arguments), then ``local_dict``, then
    ``global_dict``; when neither dict nor any keyword array is given, from the
    caller's frame, as ``jitexpr.evaluate`` does. Returns a ``dask.array.Array``.
    """
    if arrays:
        local_dict = {**(local_dict or {}), **arrays}
    values = _lookup(ex, local_dict, global_dict, _frame_depth)
    names, _, reductions, top = _analysis(ex)
    backend = _backend_name(backend)

    order = [n for n in values]
    signature, args, shapes = [], [], []
    for name in order:
        value = values[name]
        if isinstance(value, da.Array):
            dtype = target_dtype(value.dtype)
            if value.dtype != dtype:
                value = value.astype(dtype)
        else:
            value = coerce(name, value, None)
            dtype = value.dtype
        signature.append((name, dtype.name))
        args.append(value)
        shapes.append(value.shape)
    out_ndim = max((len(s) for s in shapes), default=0)
    _check_broadcast(shapes)

    if reductions == 0:
        kernel = Kernel(ex, signature, backend, math)
        if not any(isinstance(a, da.Array) for a in args):
            return da.from_array(kernel(*args))
        return da.blockwise(
            _block,
            _out_index(out_ndim),
            *_blockwise_args(args),
            dtype=np.dtype(kernel.dtype),
            token="jitexpr",
            kernel=kernel,
            align_arrays=True,
            concatenate=True,
        )
    if top is None or reductions > 1:
        raise error(
            "Unsupported",
            f"jitexpr.dask cannot evaluate `{ex}`: it evaluates elementwise expressions "
            "and one reduction of an elementwise expression",
            "compute the inner reduction first (a separate evaluate), then pass its "
            "result as a variable",
        )
    return _reduction(top, signature, args, out_ndim, backend, math)


def _reduction(top, signature, args, out_ndim, backend, math):
    func, inner, axis = top
    element = Kernel(inner, signature, backend, math)
    final = Kernel(f"{func}({inner})", signature, backend, math)
    if axis is None:
        axes = tuple(range(out_ndim))
    else:
        if not -out_ndim <= axis < max(out_ndim, 1):
            raise error(
                "Shape",
                f"axis {axis} is out of range for a {out_ndim}-d operand",
                f"use an axis from {-out_ndim} to {out_ndim - 1}",
            )
        axes = (axis % out_ndim,)
    if func == "mean":
        operand = inner if np.dtype(element.dtype).kind == "f" else f"float64({inner})"
        partial_expr = f"sum({operand}"
    else:
        partial_expr = f"{func}({inner}"
    partial_expr += ")" if axis is None else f", axis={axes[0]})"
    partial = Kernel(partial_expr, signature, backend, math)
    partial_dtype = np.dtype(partial.dtype)

    if not any(isinstance(a, da.Array) for a in args):
        return da.from_array(final(*args))
    out_index = _out_index(out_ndim)
    partials = da.blockwise(
        _partial_block,
        out_index,
        *_blockwise_args(args),
        dtype=partial_dtype,
        token=f"jitexpr-{func}-partial",
        kernel=partial,
        axes=axes,
        ndim=out_ndim,
        adjust_chunks={out_index[k]: 1 for k in axes},
        align_arrays=True,
        concatenate=True,
    )
    combine = _COMBINE[func]
    total = da.reduction(
        partials,
        chunk=_identity,
        aggregate=combine,
        combine=combine,
        axis=axes,
        keepdims=False,
        dtype=partial_dtype,
        concatenate=True,
        name=f"jitexpr-{func}",
    )
    if func != "mean":
        return total
    shape = np.broadcast_shapes(*[a.shape for a in args])
    count = _math.prod(shape[k] for k in axes)
    return (total / count).astype(np.dtype(final.dtype))


def _out_index(ndim):
    # Like dask's elemwise: reversed indices, so lower-rank inputs align with the trailing axes.
    return tuple(range(ndim))[::-1]


def _blockwise_args(args):
    pairs = []
    for a in args:
        if a.ndim == 0:
            pairs += [a.compute() if isinstance(a, da.Array) else a, None]
        else:
            if not isinstance(a, da.Array):
                a = da.from_array(a, chunks=a.shape)
            pairs += [a, tuple(range(a.ndim))[::-1]]
    return pairs


def _check_broadcast(shapes):
    if any(isinstance(n, float) and _math.isnan(n) for s in shapes for n in s):
        return  # unknown chunk sizes: blockwise checks what it can
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " ".join("(" + ", ".join(str(n) for n in s) + ")" for s in shapes)
        raise error(
            "Shape",
            f"operands could not be broadcast together with shapes {listed}",
            "dimensions must be equal or 1, compared from the last one",
        ) from None


def _block(*blocks, kernel):
    """One output block: the kernel over the matching input blocks."""
    return kernel(*blocks)


def _partial_block(*blocks, kernel, axes, ndim):
    """One block's partial reduction, with the reduced axes kept at length 1."""
    r = np.asarray(kernel(*blocks))
    if len(axes) == ndim:
        return r.reshape((1,) * ndim)
    return np.expand_dims(r, axes[0])


def _identity(x, axis=None, keepdims=True):
    return x
