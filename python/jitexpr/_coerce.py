"""Which inputs jitexpr takes, and how other ones are converted.

jitexpr computes in fourteen dtypes: bool, int8, int16, int32, int64, uint8,
uint16, uint32, uint64, float16, float32, float64, complex64 and complex128. A NumPy array of one of them
(native byte order, aligned, any strides) is read in place by the extension
module. Everything else comes here:

* Python scalars and sequences go through ``np.asarray`` (``True`` → bool,
  ``3`` → int64, ``2.5`` → float64, 0-d arrays);
* arrays in non-native byte order or misaligned are copied;
* anything that cannot be converted without losing values (longdouble,
  clongdouble, strings, objects, datetimes) is a ``TypeError`` that says what to do.
"""

from __future__ import annotations

import numpy as np

from ._errors import error

SUPPORTED = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
)

_HINTS = {
    "u": "convert it with .astype(np.int64) if its values fit, or .astype(np.float64)",
    "f": "convert it with .astype(np.float64) (this rounds)",
    "c": "convert it with .astype(np.complex128) (this rounds)",
}


def target_dtype(dtype) -> np.dtype:
    """The jitexpr dtype an array of ``dtype`` is converted to; ``TypeError`` if none is safe."""
    dt = np.dtype(dtype)
    if dt.name in SUPPORTED:
        return np.dtype(dt.name)
    if dt.kind in "iu":
        for candidate in ("int32", "int64"):
            if np.can_cast(dt, candidate, "safe"):
                return np.dtype(candidate)
    if dt.kind == "f" and np.can_cast(dt, "float32", "safe"):
        return np.dtype("float32")
    hint = _HINTS.get(dt.kind, "convert it to one of those dtypes first")
    raise TypeError(
        f"arrays of dtype {dt} are not supported: jitexpr computes in "
        f"{', '.join(SUPPORTED)}, and {dt} does not convert to one of them without "
        f"losing values; {hint}"
    )


def _scalar_to(value, want: np.dtype, name: str) -> np.ndarray:
    """A Python number as a 0-d array of ``want`` when it converts exactly."""
    kind_rank = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
    have = np.asarray(value)
    if have.dtype.kind in kind_rank and kind_rank[have.dtype.kind] <= kind_rank[want.kind]:
        converted = np.asarray(value, dtype=want) if want.kind not in "iu" else None
        if want.kind in "iu":
            info = np.iinfo(want)
            if info.min <= int(value) <= info.max:
                converted = np.asarray(int(value), dtype=want)
        if converted is not None and converted == value:
            return converted
    raise TypeError(
        f"input {name!r}: {value!r} does not convert exactly to {want}, the dtype the kernel "
        f"was compiled for"
    )


def coerce(name: str, value, target: str | None) -> np.ndarray:
    """``value`` as an array jitexpr reads directly (called by the extension module).

    ``target`` is the dtype a compiled kernel expects, or ``None`` (choose by the
    rules above).
    """
    if isinstance(value, np.ndarray):
        array = value
    elif target is not None and isinstance(value, (bool, int, float, complex)):
        return _scalar_to(value, np.dtype(target), name)
    else:
        try:
            array = np.asarray(value)
        except (OverflowError, ValueError) as e:
            raise TypeError(f"input {name!r} cannot be converted to an array: {e}") from None
    if array.dtype.kind in "OSUVMmT":
        raise TypeError(
            f"input {name!r} is a {type(value).__name__} of dtype {array.dtype}, which jitexpr "
            f"cannot read: pass a NumPy array or a number of dtype {', '.join(SUPPORTED)}"
        )
    try:
        natural = target_dtype(array.dtype)
    except TypeError as e:
        raise TypeError(f"input {name!r}: {e}") from None
    want = natural if target is None else np.dtype(target)
    if target is not None and not np.can_cast(array.dtype, want, "safe"):
        raise error(
            "Type",
            f"input `{name}` is {array.dtype} but the kernel was compiled for {want}",
            "compile again for these dtypes, or convert the array",
        )
    # A copy in native byte order, aligned, in the array's own memory order.
    return array.astype(want.newbyteorder("="), order="K", copy=True)


def write_out(out, result: np.ndarray, casting: str = "safe") -> None:
    """Copies ``result`` into ``out`` after the checks the fast path makes (called by
    the extension module when ``out`` overlaps an input, has another dtype, or is
    read-only)."""
    check_out(out, result.shape, result.dtype, casting)
    np.copyto(out, result, casting=casting)


def check_out(out, shape, dtype, casting: str = "safe") -> None:
    """Raises what ``evaluate`` raises for an ``out`` that cannot take a result of
    ``shape`` and ``dtype`` (``write_out`` and ``validate`` check with it)."""
    dtype = np.dtype(dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a NumPy array, not {type(out).__name__}")
    if out.shape != tuple(shape):
        raise error(
            "Shape",
            f"output array has shape {_fmt(out.shape)} but the result has shape {_fmt(shape)}",
            "allocate the output with the broadcast shape of the inputs",
        )
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if not np.can_cast(dtype, out.dtype, casting):
        raise error(
            "Type",
            f"output array is {out.dtype} but the expression gives {dtype}",
            f"pass a {dtype} array (or one it converts to under casting={casting!r})",
        )


def _fmt(shape) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"
