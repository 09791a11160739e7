#!/usr/bin/env python3
"""Generate tests/golden/complex.json: NumPy's values for complex64 and
complex128 (arithmetic, comparisons, maximum/minimum, the complex functions,
reductions, mixed dtypes, weak literals), in the format of gen_golden.py,
complex values as [re, im] pairs of float strings.

    /work/main/python/.venv/bin/python tests/golden/gen_complex.py

(made with NumPy 2.4 on x86-64 Linux, glibc's complex functions). ``ulps``
is 0 (bit exact, NaNs of any sign and payload equal) for arithmetic,
comparisons and special values (parts of ±0, ±inf, NaN); for the functions
at ordinary values it is the bound jitexpr is held to, per part, in ULP of
the part's dtype (see README "Complex numbers").
"""

import itertools
import json
import os
import warnings

import numpy as np

from golden_json import enc

warnings.simplefilter("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
INF, NAN = float("inf"), float("nan")


NS = {name: getattr(np, name) for name in [
    "sqrt", "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos",
    "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "arcsinh",
    "arccosh", "arctanh", "sign", "abs", "real", "imag", "conj", "angle",
    "isnan", "isinf", "isfinite", "maximum", "minimum", "where", "sum",
    "prod", "mean", "min", "max", "any", "all", "reciprocal", "square", "rint"]}


def make_complex(re, im, dtype):
    """re + im*1j built part by part (no NaN from inf * 1j)."""
    out = np.empty(np.broadcast(re, im).shape, dtype=dtype)
    out.real, out.imag = re, im
    return out


for d in ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
          "uint32", "uint64", "float16", "float32", "float64", "complex64",
          "complex128"]:
    NS[d] = (lambda t: lambda x: np.asarray(x).astype(t))(d)

cases = []


def case(name, expr, inputs, ulps=0, want=None):
    arrays = {k: np.asarray(v) for k, v in inputs.items()}
    if want is None:
        want = np.asarray(eval(expr, dict(NS), dict(arrays)))
    cases.append({"name": "complex/" + name, "expr": expr,
                  "inputs": {k: enc(v) for k, v in arrays.items()},
                  "expected": enc(want), "ulps": ulps})


PARTS = [0.0, -0.0, 1.0, -2.5, INF, -INF, NAN]
# Special values: every part ±0, ±inf or NaN (compared exactly).
SPECIAL = np.array([complex(r, i) for r, i in itertools.product(PARTS, PARTS)
                    if all(p == 0 or not np.isfinite(p) for p in (r, i))])
# One finite nonzero part next to a special one (compared within ULPs).
EDGE = np.array([complex(r, i) for r, i in itertools.product(PARTS, PARTS)
                 if any(p != 0 and np.isfinite(p) for p in (r, i))])
rng = np.random.default_rng(18)
# Ordinary values: moderate magnitudes, near the unit circle, near the cuts
# (parts of ±1e-3 next to the real and imaginary axes), huge and tiny.
ordinary = list(rng.normal(size=60) * 3 + 1j * rng.normal(size=60) * 3)
ordinary += [complex(r, s * 1e-3) for r in [-3.0, -1.5, -0.5, 0.5, 1.5, 3.0] for s in [1, -1]]
ordinary += [complex(s * 1e-3, r) for r in [-3.0, -1.5, -0.5, 0.5, 1.5, 3.0] for s in [1, -1]]
ordinary += [complex(np.cos(t), np.sin(t)) * (1 + 1e-9) for t in rng.uniform(0, 6.28, 10)]
ordinary += [1e300 + 1e300j, -1e300 + 2e299j, 1e-300 + 1e-300j, 3e-310 - 1e-310j,
             5e-324 + 1j, 1e200 - 1e-200j, 0.1 + 1e-20j]
ORDINARY = np.array(ordinary)

FUNCS = ["sqrt", "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos",
         "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan",
         "arcsinh", "arccosh", "arctanh", "sign"]
EXACT = ["abs", "real", "imag", "conj", "angle", "isnan", "isinf", "isfinite", "rint",
         "-x", "reciprocal", "square"]

for dt in ["complex128", "complex64"]:
    s = SPECIAL.astype(dt)
    o = ORDINARY.astype(dt)
    if dt == "complex64":
        o = o[np.isfinite(o.real.astype(np.float32)) & (np.abs(o) < 1e30) & (np.abs(o) > 1e-30)]
    for f in EXACT:
        expr = f if f == "-x" else f"{f}(x)"
        ulps = 2 if f == "angle" else 0
        case(f"{dt}_{f}_special", expr, {"x": s})
        case(f"{dt}_{f}_edge", expr, {"x": EDGE.astype(dt)}, ulps)
        case(f"{dt}_{f}_ordinary", expr, {"x": o}, ulps)
    for f in FUNCS:
        case(f"{dt}_{f}_special", f"{f}(x)", {"x": s}, ulps=0)
        # NumPy's complex64 expm1, log1p and tanh lose bits to cancellation
        # in float32; jitexpr computes them in float64 (more accurate).
        ulps = 24 if dt == "complex64" and f in ("expm1", "log1p", "tanh") else 4
        # NumPy's log1p, ln|1 + z|, loses the real part of small z, and its
        # complex128 expm1, expm1(x) cos y - 2 sin²(y/2), the real part where
        # e^x cos y ≈ 1; jitexpr's do not: within 64 eps of the magnitude of
        # NumPy's.
        if f == "log1p" or (f == "expm1" and dt == "complex128"):
            ulps = 64
        case(f"{dt}_{f}_edge", f"{f}(x)", {"x": EDGE.astype(dt)}, ulps=ulps)
        case(f"{dt}_{f}_ordinary", f"{f}(x)", {"x": o}, ulps=ulps)
    grid = np.array([complex(r, i) for r, i in itertools.product(PARTS[:5] + [NAN], repeat=2)])
    a, b = (np.array(p, dtype=dt) for p in zip(*itertools.product(grid, grid)))
    for op in ["+", "-", "*", "/", "<", "<=", "==", "!=", ">", ">=", "maximum", "minimum"]:
        expr = f"{op}(a, b)" if op.isalpha() else f"a {op} b"
        case(f"{dt}_{op}", expr, {"a": a, "b": b})
    oa, ob = (np.array(p, dtype=dt) for p in zip(*itertools.product(o[:20], o[:20])))
    for op in ["+", "-", "*", "/"]:
        case(f"{dt}_{op}_ordinary", f"a {op} b", {"a": oa, "b": ob})
    case(f"{dt}_pow_ordinary", "a ** b", {"a": oa / 4, "b": ob / 4},
         ulps=64)
    # Integer powers: NumPy's fast paths (2, -1, 0.5) and nc_pow's products.
    for e in ["x ** 2", "x ** 3", "x ** -1", "x ** 0", "x ** 5", "x ** 0.5", "x ** -3"]:
        # complex64 sqrt: NumPy's csqrtf in float32, jitexpr's in float64.
        close = 4 if dt == "complex64" and e == "x ** 0.5" else 0
        case(f"{dt}_{e}", e, {"x": o}, close)
        case(f"{dt}_{e}_special", e, {"x": s})
    for e in ["sum(x)", "prod(x)", "mean(x)", "min(x)", "max(x)", "any(x)", "all(x)"]:
        case(f"{dt}_{e}_ordinary", e, {"x": o[:40]})
        case(f"{dt}_{e}_special", e, {"x": s[:20]})
        case(f"{dt}_{e}_nan", e, {"x": s})
    long = (rng.normal(size=1000) + 1j * rng.normal(size=1000)).astype(dt)
    case(f"{dt}_sum_long", "sum(x)", {"x": long})
    case(f"{dt}_mean_long", "mean(x)", {"x": long})
    case(f"{dt}_where", "where(real(x) > 0, x, conj(x))", {"x": o})
    case(f"{dt}_attributes", "(x - 10).real + x.imag * 2 + abs(x.conj())", {"x": o}, 1)

# Mixed dtypes and weak literals (NEP 50).
f32 = np.array([0.0, -0.0, 1.5, -2.25, INF, NAN], dtype=np.float32)
f64 = f32.astype(np.float64)
c64 = np.array([1 + 2j, -0.5 - 0j, INF + 1j], dtype=np.complex64)
c128 = c64.astype(np.complex128)
for name, x in [("float32", f32), ("float64", f64), ("int8", np.array([1, -2, 127], np.int8)),
                ("int32", np.array([1, -2, 100000], np.int32)), ("uint64", np.array([1, 2**63], np.uint64)),
                ("float16", f32.astype(np.float16)), ("bool", np.array([True, False]))]:
    for e in ["x * 1j", "x + 2.5j", "x - (1.5+2j)", "x * c", "x + z"]:
        c = c64[:1]
        z = c128[:1]
        case(f"mixed_{name}_{e}", e, {"x": x, "c": c, "z": z})
for e in ["1j", "2.5e3j", "1.2e3+4.5e6j", "-1j * 2", "(1+2j) ** 2", "sqrt(-4+0j)", "sqrt(-4-0j)"]:
    case(f"literal_{e}", e, {})
for e in ["c + z", "c * 2", "c * 2.5", "c * 1j", "complex128(c)", "complex64(z)", "float32(c)",
          "complex64(f)", "c == z", "c < z"]:
    case(f"cast_{e}", e, {"c": c64, "z": c128, "f": f32[:3]})
case("complex_function", "complex(a, b)", {"a": f64, "b": f64[::-1].copy()},
     want=make_complex(f64, f64[::-1], np.complex128))
case("complex_function_f32", "complex(a, b)", {"a": f32, "b": f32[::-1].copy()},
     want=make_complex(f32, f32[::-1], np.complex64))

with open(os.path.join(HERE, "complex.json"), "w") as out:
    out.write('{"cases": [\n')
    out.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
    out.write("\n]}\n")
print(len(cases), "cases")
