"""jitexpr over Dask arrays: compiled kernels run on every block.

>>> import dask.array as da, jitexpr.dask as jd
>>> rng = da.random.default_rng(0)
>>> x = rng.random((20000, 20000), chunks=(2000, 2000))
>>> y = rng.random((20000, 20000), chunks=(4000, 1000))
>>> r = jd.evaluate("sin(x)**2 + cos(y)**2", x=x, y=y)     # lazy
>>> s = jd.evaluate("sum(sin(x)**2 + cos(y)**2)", x=x, y=y)   # lazy 0-d
>>> c = jd.evaluate("x / sum(x, axis=1) - mean(x)", x=x)     # lazy, three passes
>>> s.compute()

How the graph is built (everything below is lazy; nothing runs on the client but
compiling the kernels):

* **Elementwise expressions** become one ``dask.array.blockwise`` layer whose task
  for each output block calls the compiled kernel on the matching input blocks.
  Blockwise aligns chunks (inputs chunked differently are rechunked to common
  chunks first) and broadcasts like NumPy: inputs of lower rank align with the
  trailing axes, and axes of length 1 broadcast. NumPy arrays join as Dask arrays
  of one chunk; Python scalars and 0-d NumPy arrays are passed to every task as
  they are, 0-d Dask arrays as one-block inputs of every task.
* **One reduction of an elementwise expression** (``sum(a*b)``, ``max(x, axis=0)``,
  ``mean(...)``, ``prod``, ``min``, ``any``, ``all``) becomes a blockwise layer of
  per-block partial results, each computed by one fused jitexpr kernel
  (``sum(a*b)`` over the block, never materializing ``a*b``), combined by Dask's
  reduction machinery (``dask.array.reduction``: a tree of ``combine`` steps, then
  ``aggregate``, on the workers). Each partial carries the number of elements its
  block reduced, counted when the block is computed, so unknown chunk sizes
  (``x[x > 0]``) work: ``mean`` is the sum of the partial sums divided by the sum
  of the counts. An empty block gives the operation's identity (``-inf`` for a
  float ``max``) with a count of 0, so it never changes the result; ``min``/``max``
  with nothing at all to reduce raise ``JitexprValueError`` ("zero-size array to
  reduction operation max which has no identity") when the graph runs, and the
  ``mean`` of nothing is NaN, as in NumPy.
* **Reductions inside a larger expression**, any number at any depth
  (``a - mean(a)``, ``x / sum(x, axis=1)``, ``max(a) - min(a)``,
  ``mean(a - mean(a))``), are staged. The expression is parsed with Python's
  ``ast`` (numexpr syntax is Python expression syntax) to find the reduction
  calls; innermost first, each one becomes a reduction pass as above, producing a
  small Dask array (0-d for a full reduction; with the reduced axis kept at length
  1 for ``axis=k``, so it broadcasts back like ``keepdims=True``), and its call in
  the text is replaced by a fresh variable (``__jx_r0``) that reads that array.
  The outer operands are then evaluated with the reduced values as extra inputs,
  and the last stage is one blockwise layer (or a reduction pass, when the whole
  expression is a reduction). So an expression with ``k`` distinct reduction calls
  is ``k`` reduction passes over their operands plus one final pass; identical
  calls (same function, operand and axis) are computed once, and Dask runs
  independent passes (``max(a) - min(a)``) side by side. The result has the
  eager ``jitexpr.evaluate``'s shape: an axis kept only by reductions along it is
  removed at the end (``sum(x, axis=1) / 2`` is 1-d, ``x / sum(x, axis=1)`` 2-d).

Expressions are compiled on the client first (the whole expression, then each
stage), so a typo or a dtype error raises at once rather than when the graph runs;
so does an ``axis`` out of range for known ranks (``JitexprShapeError``), and shapes
that do not broadcast where the sizes are known. Workers compile their own copy
(once per process: kernels pickle as their source and signature, and the compile
cache makes repeats a lookup). The kernels run with the jitexpr thread pool of
each worker process; with several Dask threads per worker, consider
``jitexpr.set_num_threads``.
"""

from __future__ import annotations

import ast as _ast
import math as _math
from functools import partial as _partial

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

_REDUCTIONS = ("sum", "prod", "min", "max", "mean", "any", "all")

# How partial results combine: sums of partial sums (and counts), and so on.
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
    _, _, reductions, top = _analysis(ex)
    backend = _backend_name(backend)
    values = {name: _prepare(name, value) for name, value in values.items()}

    if "@" in ex:  # matrix products are stages too
        return _Stages(ex, values, backend, math).run()
    if reductions == 0:
        return _elementwise(ex, values, backend, math)
    if top is not None and reductions == 1:
        func, inner, axis = top
        return _reduce(func, inner, axis, values, backend, math, keepdims=False)
    return _Stages(ex, values, backend, math).run()


def _prepare(name, value):
    """A Dask array in one of jitexpr's dtypes, or a NumPy value (``coerce``)."""
    if isinstance(value, da.Array):
        dtype = target_dtype(value.dtype)
        return value if value.dtype == dtype else value.astype(dtype)
    return coerce(name, value, None)


def _inputs(ex, values):
    """The signature and the arguments of a kernel for ``ex``, from ``values``."""
    names, constants, _, _ = _analysis(ex)
    used = set(names) | set(constants)
    order = [n for n in values if n in used]
    return [(n, values[n].dtype.name) for n in order], [values[n] for n in order]


def _elementwise(ex, values, backend, math):
    signature, args = _inputs(ex, values)
    _check_broadcast([a.shape for a in args])
    kernel = Kernel(ex, signature, backend, math)
    if not any(isinstance(a, da.Array) for a in args):
        return da.from_array(kernel(*args))
    out_ndim = max((a.ndim for a in args), default=0)
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


def _reduce(func, inner, axis, values, backend, math, keepdims):
    """``func(inner, axis=axis)`` as a reduction pass.

    With ``keepdims`` (used for a reduction inside a larger expression) an axis
    reduction keeps the reduced axis with length 1; a full reduction is 0-d either way.
    """
    signature, args = _inputs(inner, values)
    _check_broadcast([a.shape for a in args])
    ndim = max((a.ndim for a in args), default=0)
    element = Kernel(inner, signature, backend, math)
    final = Kernel(f"{func}({inner})", signature, backend, math)
    if axis is None:
        axes = tuple(range(ndim))
    else:
        if not -ndim <= axis < max(ndim, 1):
            raise error(
                "Shape",
                f"axis {axis} is out of range for a {ndim}-d operand",
                f"use an axis from {-ndim} to {ndim - 1}"
                if ndim
                else "a 0-d value has no axes: drop `axis=`",
            )
        axes = (axis % ndim,)
    keep = keepdims and axis is not None
    if func == "mean":
        # Integers sum in float64, float16 in float32 (NumPy's mean); complex in itself.
        kind, size = np.dtype(element.dtype).kind, np.dtype(element.dtype).itemsize
        if kind == "c" or (kind == "f" and size >= 4):
            operand = inner
        elif kind == "f":
            operand = f"float32({inner})"
        else:
            operand = f"float64({inner})"
        partial_expr = f"sum({operand}"
    else:
        partial_expr = f"{func}({inner}"
    partial_expr += ")" if axis is None else f", axis={axes[0]})"
    partial = Kernel(partial_expr, signature, backend, math)
    partial_dtype = np.dtype(partial.dtype)
    result_dtype = np.dtype(final.dtype)

    if not any(isinstance(a, da.Array) for a in args):
        r = np.asarray(final(*args))
        return da.from_array(np.expand_dims(r, axes[0]) if keep else r)
    out_index = _out_index(ndim)
    partials = da.blockwise(
        _partial_block,
        out_index,
        *_blockwise_args(args),
        meta=np.empty((0,) * ndim, partial_dtype),
        token=f"jitexpr-{func}-partial",
        kernel=partial,
        axes=axes,
        rank=ndim,
        fill=_identity_of(func, partial_dtype),
        adjust_chunks={out_index[k]: 1 for k in axes},
        align_arrays=True,
        concatenate=True,
    )
    out_ndim = ndim if keep else ndim - len(axes)
    return da.reduction(
        partials,
        chunk=_identity,
        combine=_partial(_combine, op=func),
        aggregate=_partial(_aggregate, op=func, result=result_dtype.str),
        axis=axes,
        keepdims=keep,
        dtype=result_dtype,
        concatenate=False,
        meta=np.empty((0,) * out_ndim, result_dtype),
        name=f"jitexpr-{func}",
    )


class _Stages:
    """An expression with reductions inside it, evaluated reduction by reduction.

    Reduction calls are found with Python's ``ast`` and cut out of the text by
    their byte spans (the rest of the text is kept exactly as written).
    """

    def __init__(self, ex, values, backend, math):
        self.ex = ex
        self.source = ex.encode()
        self.values = dict(values)
        self.backend, self.math = backend, math
        self.computed = {}  # (func, operand text, axis) -> variable name
        self.reduced = {}  # variable name -> the reduced axis (None: a 0-d value)

    def run(self):
        # The whole expression first: names and dtypes are checked before any stage.
        signature, _ = _inputs(self.ex, self.values)
        Kernel(self.ex, signature, self.backend, self.math)
        wrapped = b"(" + self.source + b"\n)"
        try:
            tree = _ast.parse(wrapped, mode="eval")
        except (SyntaxError, RecursionError, MemoryError) as e:
            # jitexpr accepted it; Python's parser limits nesting (about 200
            # parentheses) where jitexpr does not.
            raise error(
                "Unsupported",
                f"jitexpr.dask cannot split `{_short(self.ex)}` at its reductions: "
                f"Python's parser rejects it ({type(e).__name__}: {e})",
                "nest less deeply, or compute the inner reductions first (separate "
                "evaluates) and pass their results as variables",
            ) from None
        try:
            return self._split(tree, wrapped)
        except RecursionError:
            raise error(
                "Unsupported",
                f"jitexpr.dask cannot split `{_short(self.ex)}` at its reductions: "
                "its reductions are nested too deeply for Python's recursion limit",
                "compute the inner reductions first (separate evaluates), then pass "
                "their results as variables",
            ) from None

    def _split(self, tree, wrapped):
        starts = [0]
        for line in wrapped.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        self.starts = starts
        root = tree.body
        if _is_reduction(root):
            func, operand, axis = self._call(root)
            return _reduce(
                func, operand, axis, self.values, self.backend, self.math, keepdims=False
            )
        text = self._product(root) if _is_product(root) else self._text(root)
        result = _elementwise(text, self.values, self.backend, self.math)
        squeeze = self._squeezed_axes(text)
        return da.squeeze(result, axis=squeeze) if squeeze else result

    def _span(self, node):
        # Byte offsets into `ex` (the wrapped text has one more byte in front).
        start = self.starts[node.lineno - 1] + node.col_offset - 1
        end = self.starts[node.end_lineno - 1] + node.end_col_offset - 1
        return start, end

    def _text(self, node):
        """The text of ``node`` with each reduction call in it replaced by its variable."""
        start, end = self._span(node)
        pieces, at = [], start
        for call in _outer_reductions(node):
            s, e = self._span(call)
            name = self._product(call) if _is_product(call) else self._reduction(call)
            pieces += [self.source[at:s].decode(), name]
            at = e
        pieces.append(self.source[at:end].decode())
        return "".join(pieces)

    def _call(self, call):
        """``(function, operand text with inner reductions replaced, axis)``."""
        func = call.func.id
        if not call.args:  # pragma: no cover - the whole-expression compile rejects it
            raise error("Type", f"{func}() needs an operand")
        axis = None
        for value in call.args[1:] + [k.value for k in call.keywords if k.arg == "axis"]:
            axis = _literal_int(value)
        return func, self._text(call.args[0]), axis

    def _reduction(self, call):
        """The name of a fresh variable holding ``call``'s value (computed lazily)."""
        func, operand, axis = self._call(call)
        key = (func, operand, axis)
        if key not in self.computed:
            r = _reduce(func, operand, axis, self.values, self.backend, self.math, keepdims=True)
            k = len(self.computed)
            while f"__jx_r{k}" in self.values:
                k += 1
            name = f"__jx_r{k}"
            self.values[name] = r
            self.reduced[name] = None if axis is None else axis % r.ndim
            self.computed[key] = name
        return self.computed[key]

    def _product(self, node):
        """The name of a fresh variable holding ``node``'s matrix product: its
        operands evaluated (as stages of their own), then multiplied block by
        block (``_matmul``)."""
        left, right = self._text(node.left), self._text(node.right)
        key = ("@", left, right)
        if key not in self.computed:
            a = _elementwise(left, self.values, self.backend, self.math)
            b = _elementwise(right, self.values, self.backend, self.math)
            k = len(self.computed)
            while f"__jx_r{k}" in self.values:
                k += 1
            name = f"__jx_r{k}"
            self.values[name] = _matmul(a, b, self.backend, self.math)
            self.computed[key] = name
        return self.computed[key]

    def _squeezed_axes(self, text):
        """The axes the eager evaluation drops: of length 1 only because reductions
        along them kept them (every leaf of the final stage either does not reach
        the axis or is a reduction along exactly it)."""
        signature, args = _inputs(text, self.values)
        ranks = [(name, a.ndim) for (name, _), a in zip(signature, args)]
        ndim = max((r for _, r in ranks), default=0)
        if not any(self.reduced.get(n) is not None for n, _ in ranks):
            return ()
        out = []
        for p in range(ndim):
            if all(p + r - ndim < 0 or self.reduced.get(n, -1) == p + r - ndim for n, r in ranks):
                out.append(p)
        return tuple(out)


def _is_product(node):
    return isinstance(node, _ast.BinOp) and isinstance(node.op, _ast.MatMult)


def _matmul(a, b, backend, math):
    """``a @ b`` of two Dask arrays (NumPy's ``matmul`` rules, jitexpr's dtypes).

    Two 2-d operands (1-d ones as a row or a column, the added axis removed after)
    are a blockwise contraction: each pair of blocks along the inner axis is
    multiplied by a jitexpr kernel, and the partial products of an output block are
    added in block order by another (``|`` for bool). Operands of more than two
    axes (batches) go through ``dask.array.matmul`` (NumPy's product per block).
    """
    signature = [("a", a.dtype.name), ("b", b.dtype.name)]
    product = Kernel("a @ b", signature, backend, math)  # shapes and dtypes checked on the workers
    dtype = np.dtype(product.dtype)
    if a.ndim == 0 or b.ndim == 0:
        raise error(
            "Shape",
            "matmul: a 0-d operand has no matrix axes",
            "multiply by a scalar with `*`; `@` needs operands of at least one axis",
        )
    if a.ndim > 2 or b.ndim > 2:
        return da.matmul(a, b).astype(dtype)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    if not _math.isnan(a2.shape[1]) and not _math.isnan(b2.shape[0]) and a2.shape[1] != b2.shape[0]:
        raise error(
            "Shape",
            f"matmul: inner dimensions do not match: {tuple(a.shape)} @ {tuple(b.shape)} "
            f"({a2.shape[1]} is not {b2.shape[0]})",
            "the last axis of the left operand must equal the second-to-last of the right "
            "(the only one, if it is 1-d)",
        )
    # The inner axis chunked alike on both sides.
    b2 = b2.rechunk({0: a2.chunks[1]})
    add = Kernel("p | q" if dtype == np.bool_ else "p + q", [("p", dtype.name), ("q", dtype.name)], backend, math)
    r = da.blockwise(
        _contract,
        "ik",
        a2,
        "ij",
        b2,
        "jk",
        dtype=dtype,
        token="jitexpr-matmul",
        concatenate=False,
        product=product,
        add=add,
        dtype_str=dtype.str,
    )
    if a.ndim == 1:
        r = r[0]
    if b.ndim == 1:
        r = r[..., 0]
    return r


def _contract(a_blocks, b_blocks, *, product, add, dtype_str):
    """One output block: the sum, in block order, of the products of the blocks
    along the inner axis (lists, as ``blockwise(concatenate=False)`` passes them)."""
    # An axis always has a block (of length 0 when the axis is empty).
    total = np.asarray(product(a_blocks[0], b_blocks[0]))
    for x, y in zip(a_blocks[1:], b_blocks[1:]):
        total = np.asarray(add(total, np.asarray(product(x, y))))
    return total.astype(np.dtype(dtype_str), copy=False)


def _is_reduction(node):
    return (
        isinstance(node, _ast.Call)
        and isinstance(node.func, _ast.Name)
        and node.func.id in _REDUCTIONS
    )


def _outer_reductions(node):
    """The reduction calls under ``node`` that no other reduction under it contains,
    in the order of the text."""
    found = []
    stack = [node]  # a loop, not recursion: deep expressions have deep trees
    while stack:
        for child in _ast.iter_child_nodes(stack.pop()):
            if _is_reduction(child) or _is_product(child):
                found.append(child)
            else:
                stack.append(child)
    return sorted(found, key=lambda c: (c.lineno, c.col_offset))


def _short(text, limit=80):
    """``text`` cut to ``limit`` characters for a message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _literal_int(node):
    sign = 1
    while isinstance(node, _ast.UnaryOp) and isinstance(node.op, (_ast.USub, _ast.UAdd)):
        if isinstance(node.op, _ast.USub):
            sign = -sign
        node = node.operand
    if isinstance(node, _ast.Constant) and type(node.value) is int:
        return sign * node.value
    raise error(  # pragma: no cover - the whole-expression compile rejects it
        "Type", "axis= must be an integer literal", "write the axis as a number, like axis=1"
    )


def _out_index(ndim):
    # Like dask's elemwise: reversed indices, so lower-rank inputs align with the trailing axes.
    return tuple(range(ndim))[::-1]


def _blockwise_args(args):
    pairs = []
    for a in args:
        if isinstance(a, da.Array):
            pairs += [a, tuple(range(a.ndim))[::-1]]  # () for a 0-d array: one block for all
        elif a.ndim == 0:
            pairs += [a, None]
        else:
            pairs += [da.from_array(a, chunks=a.shape), tuple(range(a.ndim))[::-1]]
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


def _identity_of(func, dtype):
    """The value an empty block contributes: one that never changes the result."""
    if func in ("sum", "mean"):
        return 0
    if func == "prod":
        return 1
    if func in ("any", "all"):
        return func == "all"
    if dtype.kind == "b":
        return func == "min"
    if dtype.kind == "f":
        return np.inf if func == "min" else -np.inf
    if dtype.kind == "c":  # NumPy orders complex numbers lexicographically
        return complex(np.inf, np.inf) if func == "min" else complex(-np.inf, -np.inf)
    info = np.iinfo(dtype)
    return info.max if func == "min" else info.min


def _block(*blocks, kernel):
    """One output block: the kernel over the matching input blocks."""
    return kernel(*blocks)


def _partial_block(*blocks, kernel, axes, rank, fill):
    """One block's partial reduction, with the reduced axes kept at length 1, and
    the number of elements it reduced: ``{"v": partial, "n": count}``."""
    shape = np.broadcast_shapes(*(np.shape(b) for b in blocks))
    shape = (1,) * (rank - len(shape)) + shape
    kept = tuple(1 if k in axes else d for k, d in enumerate(shape))
    count = _math.prod(shape[k] for k in axes)
    if 0 in shape:  # nothing to reduce (min/max would raise): the identity
        v = np.full(kept, fill, dtype=np.dtype(kernel.dtype))
    else:
        v = np.asarray(kernel(*blocks)).reshape(kept)
    return {"v": v, "n": np.full((1,) * rank, count, dtype=np.int64)}


def _identity(x, axis=None, keepdims=True, computing_meta=False):
    return x


def _gather(parts, key, axes):
    """``parts[...][key]`` of nested lists of partials, concatenated along ``axes``."""
    if isinstance(parts, dict):
        return parts[key]
    pieces = [_gather(p, key, axes[1:]) for p in parts]
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=axes[0])


def _combine(parts, axis=None, keepdims=True, computing_meta=False, *, op):
    axes = sorted(axis)
    v = _COMBINE[op](_gather(parts, "v", axes), axis=tuple(axes), keepdims=True)
    n = _gather(parts, "n", axes).sum(axis=tuple(axes), keepdims=True)
    return {"v": v, "n": n}


def _aggregate(parts, axis=None, keepdims=False, computing_meta=False, *, op, result):
    c = _combine(parts, axis, op=op)
    v, n = c["v"], c["n"]
    if op in ("min", "max") and v.size and not n.all():
        raise error(
            "Value",
            f"zero-size array to reduction operation {op} which has no identity",
            "min and max need at least one element",
        )
    if op == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            v = v / n  # as NumPy: in float64, then rounded to the result dtype
    if not keepdims:
        v = np.squeeze(v, axis=tuple(axis))
    return v.astype(np.dtype(result), copy=False)
