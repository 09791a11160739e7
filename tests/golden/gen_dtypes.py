#!/usr/bin/env python3
"""Generate tests/golden/dtypes.json: NumPy's values for the narrow and
unsigned integers and float16 (int8, int16, uint8, uint16, uint32, uint64,
float16), in the format of gen_golden.py (see its docstring).

    /work/main/python/.venv/bin/python tests/golden/gen_dtypes.py

(made with NumPy 2.4 on x86-64 Linux). Expected values are NumPy's, with
NEP 50 weak literals; ``ulps`` is 0 (bit exact) except for the float16
transcendental cases (1 ULP of float16: jitexpr computes them in float32 with
its own libm calls and rounds, NumPy's float16 loops call npy_*f).
Integer division and remainder by zero give 0 in NumPy (with a warning),
which the cases include; negative integer powers (an error in NumPy) and
float -> integer casts of NaN/inf/out-of-range values (undefined) are left
out.
"""

import itertools
import json
import os
import warnings

import numpy as np

from golden_json import enc

warnings.simplefilter("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))

NEW = ["int8", "int16", "uint8", "uint16", "uint32", "uint64", "float16"]

EDGES = {
    "int8": [0, 1, -1, 2, -3, 7, 8, 100, -128, 127, -127],
    "int16": [0, 1, -1, 2, -3, 15, 16, 300, -32768, 32767, 255],
    "uint8": [0, 1, 2, 3, 7, 8, 100, 128, 200, 254, 255],
    "uint16": [0, 1, 2, 3, 15, 16, 300, 32768, 65535, 65534, 255],
    "uint32": [0, 1, 2, 3, 31, 32, 70000, 2**31, 2**32 - 1, 2**32 - 2, 255],
    "uint64": [0, 1, 2, 3, 63, 64, 2**40, 2**63, 2**64 - 1, 2**64 - 2, 255],
    "float16": [0.0, -0.0, 1.0, -1.5, 0.1, 3.0, 65504.0, -65504.0, 6e-8, 1e-5,
                float("inf"), float("-inf"), float("nan"), 2.5, -7.0, 1000.0],
}


def cast(dtype):
    return lambda x: np.asarray(x).astype(dtype)


NS = {
    "where": np.where, "maximum": np.maximum, "minimum": np.minimum,
    "abs": np.abs, "sign": np.sign, "sqrt": np.sqrt, "sin": np.sin,
    "exp": np.exp, "log": np.log, "floor": np.floor, "rint": np.rint,
    "reciprocal": np.reciprocal, "arctan2": np.arctan2, "isnan": np.isnan,
    "sum": np.sum, "prod": np.prod, "min": np.min, "max": np.max,
    "mean": np.mean, "any": np.any, "all": np.all,
}
for d in ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
          "uint32", "uint64", "float16", "float32", "float64"]:
    NS[d] = cast(d)

cases = []


def case(name, expr, inputs, ulps=0):
    arrays = {k: np.asarray(v) for k, v in inputs.items()}
    want = np.asarray(eval(expr, dict(NS), dict(arrays)))
    cases.append({"name": "dtypes/" + name, "expr": expr,
                  "inputs": {k: enc(v) for k, v in arrays.items()},
                  "expected": enc(want), "ulps": ulps})


def grid(da, db):
    """Every pair of the edge values of two dtypes (a, b)."""
    pairs = list(itertools.product(EDGES[da], EDGES[db]))
    a = np.array([p[0] for p in pairs], dtype=da)
    b = np.array([p[1] for p in pairs], dtype=db)
    return a, b


ARITH = ["+", "-", "*", "//", "%", "<", "==", ">=", "maximum", "minimum", "/"]
INT_ONLY = ["&", "|", "^", "<<", ">>", "**"]

for d in NEW:
    a, b = grid(d, d)
    ops = ARITH + (INT_ONLY if d != "float16" else ["**"])
    for op in ops:
        aa, bb = a, b
        if op == "**" and d != "float16":
            keep = (b >= 0) & (b < 16)
            aa, bb = a[keep], b[keep]
        expr = f"{op}(a, b)" if op.isalpha() else f"a {op} b"
        case(f"{d}_{op}", expr, {"a": aa, "b": bb})

# Mixed dtypes: the promotions of NumPy 2 (int8 + uint8 -> int16, uint64 with
# a signed integer -> float64, float16 with int16 -> float32, ...).
MIXED = [("int8", "uint8"), ("uint64", "int8"), ("uint64", "int16"),
         ("float16", "int8"), ("float16", "int16"), ("float16", "uint8"),
         ("uint16", "int16"), ("uint32", "int8"), ("float16", "uint64"),
         ("uint8", "uint16"), ("int8", "int16")]
for da, db in MIXED:
    a, b = grid(da, db)
    for op in ["+", "*", "<", "maximum"]:
        expr = f"{op}(a, b)" if op.isalpha() else f"a {op} b"
        case(f"{da}_{db}_{op}", expr, {"a": a, "b": b})

for d in NEW:
    x = np.array(EDGES[d], dtype=d)
    unary = ["-x", "abs(x)", "sign(x)", "floor(x)", "x == x"]
    if d != "float16":
        unary += ["~x", "reciprocal(x)"]
    else:
        unary += ["reciprocal(x)", "rint(x)", "sqrt(x)", "isnan(x)"]
    for e in unary:
        case(f"{d}_{e}", e, {"x": x})
    # float results of integer input: float16 for 8 bits, float32 for 16
    # (computed in float32, rounded); ULP of float16 where transcendental.
    for e in ["sqrt(x)", "sin(x)", "exp(x)"]:
        ulps = 0 if e == "sqrt(x)" else 1
        case(f"{d}_{e}_float", e, {"x": x}, ulps)
    for e in ["sum(x)", "prod(x)", "min(x)", "max(x)", "any(x)", "all(x)"]:
        case(f"{d}_{e}", e, {"x": x})
    if d != "float16":
        case(f"{d}_mean(x)", "mean(x)", {"x": x})
    # Weak Python literals keep the array's dtype (NEP 50).
    for e in ["x + 1", "x - 1", "x * 2", "x + 1.5", "x * 0.5", "where(x > 2, x, 0)"]:
        case(f"{d}_{e}", e, {"x": x})
    # Every cast function, from in-range values.
    for t in NEW + ["int32", "int64", "float32", "float64", "bool"]:
        src = x
        if d == "float16" and not t.startswith(("float", "bool")):
            lo = 0 if t.startswith("uint") else -100
            src = x[np.isfinite(x) & (x >= lo) & (x < 100)]
        case(f"{d}_to_{t}", f"{t}(x)", {"x": src})

# float16 means and sums: accumulated in float32, rounded once at the end.
h = (np.arange(1, 601, dtype=np.float64) * 0.37).astype(np.float16)
for e in ["sum(x)", "mean(x)", "x / 3", "x * x + x"]:
    case(f"float16_long_{e}", e, {"x": h})

# Comparisons with out-of-range literals are decided exactly (NumPy 2).
u8 = np.array(EDGES["uint8"], dtype=np.uint8)
u64 = np.array(EDGES["uint64"], dtype=np.uint64)
i8 = np.array(EDGES["int8"], dtype=np.int8)
for e, x in [("x < 300", u8), ("x == -1", u8), ("x > -1", u64), ("x >= -129", i8),
             ("x < 2**63", u64), ("x != 1000", i8)]:
    case(f"compare_literal_{e}", e, {"x": x})

# Float -> integer casts of in-range values (truncated toward zero).
f = np.array([0.0, 1.5, -1.5, 2.99, 100.7, -100.7, 127.0, -128.0, 254.9])
for t in ["int8", "int16", "int32", "uint8", "uint16"]:
    info = np.iinfo(t)
    case(f"float64_to_{t}", f"{t}(x)", {"x": f[(f > info.min - 1) & (f < info.max + 1)]})
# float64 -> float16 rounds once (0.5 + 2**-12 + 2**-40 rounds up, not to even).
case("float64_to_float16_once", "float16(x)",
     {"x": np.array([0.5 + 2**-12 + 2**-40, 0.5 + 2**-12, 65519.0, 65520.0, 1e-8, -3e-8, 5.960464477539063e-08])})

with open(os.path.join(HERE, "dtypes.json"), "w") as out:
    out.write('{"cases": [\n')
    out.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
    out.write("\n]}\n")
print(len(cases), "cases")
