#!/usr/bin/env python3
"""Generate tests/golden/matmul.json: NumPy's ``matmul`` (``@``) for every
shape rule and the dtype pairs, in the format of gen_golden.py.

    /work/main/python/.venv/bin/python tests/golden/gen_matmul.py

(made with NumPy 2 on x86-64 Linux). The golden runner evaluates every case
in four layouts (C, Fortran, negative strides, every other element), which
covers non-contiguous, Fortran-ordered and reversed operands.

Shape rules: 1-d @ 2-d, 2-d @ 1-d, 1-d @ 1-d (0-d result), 2-d, N-d batched
with broadcast batch axes (also against a 2-d or 1-d operand), empty
dimensions (k = 0 gives zeros), 1x1. Float cases whose values are small
integers are bit exact in any summation order (``ulps`` 0); cases of
random floats allow the rounding of another order (``ulps`` 64: compared
with an absolute bound scaled by the result, see golden.rs `compare`).
Integers wrap in their own type like NumPy; bool is the or of the ands.
"""

import json
import os

import numpy as np

from golden_json import enc

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(19)


def ints(shape, dtype, lo=-4, hi=5):
    return rng.integers(lo, hi, size=shape).astype(dtype)


def floats(shape, dtype):
    return rng.uniform(0.25, 2.0, size=shape).astype(dtype)


cases = []


def case(name, expr, ns, ulps=0):
    env = dict(ns)
    env.update({"maximum": np.maximum, "where": np.where, "sum": np.sum,
                "exp": np.exp})
    want = np.asarray(eval(expr, {}, env))
    cases.append({
        "name": name,
        "expr": expr,
        "inputs": {k: enc(v) for k, v in ns.items()},
        "expected": enc(want),
        "ulps": ulps,
    })


SHAPES = [
    ("2d", (3, 4), (4, 5)),
    ("1x1", (1, 1), (1, 1)),
    ("vec_mat", (4,), (4, 3)),
    ("mat_vec", (3, 4), (4,)),
    ("vec_vec", (5,), (5,)),
    ("batched", (2, 3, 4), (2, 4, 2)),
    ("batch_bcast", (2, 1, 3, 4), (3, 4, 2)),
    ("batch_vs_2d", (3, 2, 4), (4, 3)),
    ("2d_vs_batch", (2, 4), (3, 4, 2)),
    ("batch_vs_vec", (2, 3, 4), (4,)),
    ("vec_vs_batch", (4,), (2, 4, 3)),
    ("empty_k", (3, 0), (0, 2)),
    ("empty_n", (0, 4), (4, 2)),
    ("empty_batch", (0, 2, 3), (3, 2)),
    ("k1", (3, 1), (1, 4)),
    ("tall", (37, 9), (9, 33)),
]

# Exact (integer-valued) floats, every shape rule.
for name, sa, sb in SHAPES:
    for dt in ["float64", "float32"]:
        case(f"{name}_{dt}", "A @ B", {"A": ints(sa, dt), "B": ints(sb, dt)})

# Random floats: summation order may differ.
for dt in ["float64", "float32"]:
    case(f"random_{dt}", "A @ B", {"A": floats((7, 300), dt), "B": floats((300, 6), dt)}, 64)

# Integers and bool, exact; wrapping in the operand's own type.
for dt in ["int8", "int16", "int32", "int64", "uint8", "uint32", "uint64"]:
    case(f"ints_{dt}", "A @ B", {"A": ints((3, 5), dt, 0, 5), "B": ints((5, 2), dt, 0, 5)})
case("wrap_int8", "A @ B", {"A": np.full((2, 3), 100, np.int8), "B": np.full((3, 2), 3, np.int8)})
case("wrap_int32", "A @ B",
     {"A": np.full((1, 2), 2**30, np.int32), "B": np.full((2, 1), 3, np.int32)})
case("bool", "A @ B", {"A": rng.random((4, 3)) < 0.4, "B": rng.random((3, 5)) < 0.4})
case("bool_vec", "A @ B", {"A": np.array([True, False, False]), "B": np.array([False, False, True])})
case("bool_empty_k", "A @ B", {"A": np.zeros((2, 0), bool), "B": np.zeros((0, 3), bool)})

# Dtype pairs: promotion.
PAIRS = [("float32", "float64"), ("int32", "float32"), ("int64", "float64"),
         ("int8", "int32"), ("uint8", "int8"), ("bool", "int32"), ("bool", "float64"),
         ("float16", "float16"), ("float16", "float32")]
for da, db in PAIRS:
    a = ints((3, 4), da, 0, 3) if da != "bool" else rng.random((3, 4)) < 0.5
    b = ints((4, 2), db, 0, 3) if db != "bool" else rng.random((4, 2)) < 0.5
    case(f"pair_{da}_{db}", "A @ B", {"A": a, "B": b})

# Composition: epilogues, chains, operands that are expressions, reductions.
A, B = ints((5, 4), "float64"), ints((4, 6), "float64")
b, C = ints((6,), "float64"), ints((6, 3), "float64")
M = rng.random((5, 6)) < 0.5
case("bias_relu", "maximum(A @ B + b, 0)", {"A": A, "B": B, "b": b})
case("chain", "(A @ B) @ C", {"A": A, "B": B, "C": C})
case("chain_left_assoc", "A @ B @ C", {"A": A, "B": B, "C": C})
case("precedence", "A @ B * 2 + 1", {"A": A, "B": B})
case("operand_expr", "(A * 2 - 1) @ (B + 1)", {"A": A, "B": B})
case("sum_of_product", "sum(A @ B)", {"A": A, "B": B})
case("sum_axis_of_product", "sum(A @ B, axis=0)", {"A": A, "B": B})
case("where_product", "where(M, A @ B, 0)", {"A": A, "B": B, "M": M})
case("product_minus_mean", "A @ B - sum(A @ B) / 30", {"A": A, "B": B})
case("exp_epilogue", "exp(-(X @ Y) / 4)",
     {"X": floats((6, 5), "float64"), "Y": floats((5, 7), "float64")}, 64)
case("same_operand", "A @ A", {"A": ints((4, 4), "float64")})

with open(os.path.join(HERE, "matmul.json"), "w") as f:
    json.dump({"generator": "gen_matmul.py", "numpy": np.__version__, "cases": cases}, f, indent=None)
    f.write("\n")
print(len(cases), "cases")
