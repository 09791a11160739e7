"""jitexpr: numexpr-compatible array expressions, compiled to native code.

``import jitexpr as ne`` runs typical numexpr code unchanged::

    import numpy as np
    import jitexpr as ne

    a = np.random.rand(1_000_000)
    b = np.random.rand(1_000_000)
    ne.evaluate("sin(a)**2 + cos(b)**2")      # a and b are found in the caller's frame
    ne.evaluate("2*a + 3*b", out=a)           # into an existing array (even an input)
    k = ne.compile("a*b + c", {"a": "float64", "b": "float64", "c": "float64"})
    k(a, b, c=1.5)                            # compile once, run many

Expressions use numexpr's syntax and NumPy 2's typing rules; see the jitexpr README
for the language, the semantics and where jitexpr departs from numexpr. Evaluation
releases the GIL (a call predicted to take under 5 µs keeps it, as NumPy's ufuncs do
for small arrays) and runs on jitexpr's own thread pool (``set_num_threads``).
``jitexpr.dask.evaluate`` runs the same expressions over Dask arrays.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from . import _jitexpr
from ._coerce import target_dtype
from ._errors import (
    JitexprError,
    JitexprLimitError,
    JitexprNameError,
    JitexprShapeError,
    JitexprSyntaxError,
    JitexprTypeError,
    JitexprUnsupportedError,
    JitexprValueError,
)
from ._jitexpr import Kernel, evaluate, get_num_threads, has_gpu, re_evaluate, validate

__version__ = "0.1.0"

__all__ = [
    "evaluate",
    "re_evaluate",
    "validate",
    "compile",
    "NumExpr",
    "Kernel",
    "set_num_threads",
    "get_num_threads",
    "detect_number_of_cores",
    "ncores",
    "has_gpu",
    "JitexprError",
    "JitexprSyntaxError",
    "JitexprNameError",
    "JitexprTypeError",
    "JitexprShapeError",
    "JitexprValueError",
    "JitexprUnsupportedError",
    "JitexprLimitError",
]

BACKENDS = ("jit", "interpreter", "gpu")

#: The number of cores of this machine (numexpr's ``ncores``).
ncores = os.cpu_count() or 1

#: numexpr compatibility: jitexpr has no VML; its own vector math is always used.
use_vml = False

# evaluate(), validate() and re_evaluate() are the extension's (python/src/lib.rs): it
# keeps its own cache of each expression's names and kernels, and each thread's last
# call (the last evaluate() or successful validate(), which re_evaluate() runs).
_ANALYSIS_CACHE: dict = {}
_ANALYSIS_CACHE_SIZE = 256


def detect_number_of_cores() -> int:
    """The number of cores of this machine."""
    return ncores


def set_num_threads(n: int) -> int:
    """Use ``n`` threads (at least 1) from now on; returns the previous number."""
    n = int(n)
    if n < 1:
        raise ValueError(f"the number of threads must be at least 1, not {n}")
    return _jitexpr.set_num_threads(n)


def _analysis(ex: str):
    """``(names, constants, reductions, top)`` of ``ex`` (see ``_jitexpr.analyze``), cached."""
    found = _ANALYSIS_CACHE.get(ex)
    if found is None:
        found = _jitexpr.analyze(ex)
        if len(_ANALYSIS_CACHE) >= _ANALYSIS_CACHE_SIZE:
            _ANALYSIS_CACHE.clear()
        _ANALYSIS_CACHE[ex] = found
    return found


def _is_value(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic, bool, int, float))


def _lookup(ex, local_dict, global_dict, frame_depth):
    """The arrays ``ex`` reads, from the dicts or (like numexpr) the caller's frame.

    Names missing from both are left out: evaluation then raises a
    ``JitexprNameError`` (a ``KeyError``) that points at the name in the expression.
    A built-in constant (``pi``, ``e``, ``inf``, ``nan``) is taken from the dicts
    only when a number or array of that name is there.
    """
    if not isinstance(ex, str):
        raise TypeError(f"the expression must be a str, not {type(ex).__name__}")
    names, constants, _, _ = _analysis(ex)
    if local_dict is None or global_dict is None:
        frame = sys._getframe(frame_depth + 1)
        try:
            if local_dict is None:
                local_dict = frame.f_locals
            if global_dict is None:
                global_dict = frame.f_globals
        finally:
            del frame
    arrays = {}
    for name in names:
        if name in local_dict:
            arrays[name] = local_dict[name]
        elif name in global_dict:
            arrays[name] = global_dict[name]
    for name in constants:
        for d in (local_dict, global_dict):
            if name in d:
                if _is_value(d[name]):
                    arrays[name] = d[name]
                break
    return arrays


def _backend_name(backend):
    backend = "jit" if backend is None else backend
    if backend == "interp":
        backend = "interpreter"
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    return backend


_IGNORED = {"optimization", "truediv"}


def _check_kwargs(kwargs):
    unknown = sorted(set(kwargs) - _IGNORED)
    if unknown:
        raise TypeError(f"evaluate() got unexpected keyword arguments: {', '.join(unknown)}")


def _signature(ex, signature):
    if signature is None:
        names, _, _, _ = _analysis(ex)
        return [(n, "float64") for n in names]
    items = signature.items() if isinstance(signature, dict) else signature
    return [(str(name), target_dtype(dtype).name) for name, dtype in items]


def compile(ex, signature=None, *, backend=None, math="fast") -> Kernel:
    """Compiles ``ex`` once for inputs of the given dtypes; call the result many times.

    ``signature`` maps names to dtypes (``{"a": "float32", "n": np.int64}``) or is
    numexpr's list of ``(name, type)`` pairs, in the order positional arguments are
    taken; without it every variable is float64. The kernel converts inputs of
    other dtypes when that is safe (``int16`` into an ``int32`` slot) and raises a
    ``JitexprTypeError`` otherwise.

    >>> k = compile("a*b + c", {"a": "float64", "b": "float64", "c": "float64"})
    >>> k(a, b, c)              # or k.run(a=a, b=b, c=c), k(a, b, c, out=result)
    """
    return Kernel(ex, _signature(ex, signature), _backend_name(backend), math)


def NumExpr(ex, signature=(), sanitize=None, **kwargs) -> Kernel:
    """numexpr's ``NumExpr(ex, signature)``: ``compile`` with numexpr's defaults
    (an empty signature means every variable is float64)."""
    _check_kwargs(kwargs)
    return compile(ex, list(signature) or None)
