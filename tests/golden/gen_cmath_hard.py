#!/usr/bin/env python3
"""Print the hard points of `src/ir/cmath.rs`'s accuracy test
(`hard_points_within_one_ulp`): arguments where jitexpr's earlier complex128
formulas were 3 ULP or more (expm1, NumPy's formula: millions) from the exact value,
and extremes the double-double paths must round once, with mpmath's values (60 digits) rounded to float64, as Rust source.

    python tests/golden/gen_cmath_hard.py   # needs mpmath
"""

import mpmath

mpmath.mp.dps = 60

POINTS = [
    # tanh: Kahan's formula's 4-5 ULP (large, moderate and small |x|).
    ("tanh", -13.259469165468307, 0.001142029341256246),
    ("tanh", 2.8509726227925434, 0.03083428489188091),
    ("tanh", -0.005021561321188599, -7.644047115243575),
    # A subnormal imaginary part (must be rounded once, 2^k applied last).
    ("tanh", -354.720304080043, -126.74960395094014),
    # tan(z) = -i tanh(iz).
    ("tan", 73.6039936517382, 0.0013910817603783438),
    ("tan", -1.9605640424978783, 1.000466477744132),
    # arcsinh, arcsin: Kahan's formula in double precision, 3-4 ULP.
    ("arcsinh", 0.14453338362547927, 0.9897997922156179),
    ("arcsinh", 0.4824597070516169, 0.06211541769679005),
    ("arcsin", 0.001987225847726198, -0.4678024197461118),
    # expm1 near e^x cos y = 1 (NumPy's formula: 2e7 to 5e12 ULP), and past
    # e^x's overflow (NumPy's: inf).
    ("expm1", 0.024120788853091053, -0.21875774286266597),
    ("expm1", 0.12501074649294952, 0.4896714981536526),
    ("expm1", 0.0028156563010231137, -0.0750068617286275),
    ("expm1", 709.806644619949, -323.7835084544932),
]

# The fast paths' limits (`fast_paths_fall_back_where_they_would_lose`): a
# short double-double series or reduction where it would be 18-64 ULP off
# (tanh, tan: y within 2^-53 |y| of a multiple of pi/2, the reduction by
# pi/2 must be the three-part one) or ~2e7 ULP (expm1 on the curve
# e^x cos y = 1, the real part cancels by ~2^-55: the full series must run).
FALLBACK = [
    ("tanh", 0.007181686745953691, 501829099.35687166),
    ("tanh", 0.6772594008466207, 263394222.54573205),
    ("tan", 732945380.0416726, 0.786828648940111),
    ("expm1", 0.0493679390623828, 0.3116437301227516),
    ("expm1", 0.3898900117773119, 0.8269390759634093),
]

FUNCS = {"tanh": mpmath.tanh, "tan": mpmath.tan, "arcsinh": mpmath.asinh,
         "arcsin": mpmath.asin, "expm1": mpmath.expm1}

def lit(v):
    v = float(v)  # rounds to nearest (inf past DBL_MAX)
    if v in (float("inf"), float("-inf")):
        return "f64::INFINITY" if v > 0 else "f64::NEG_INFINITY"
    return f"{v:.17e}"


for const, points in [("HARD", POINTS), ("FALLBACK", FALLBACK)]:
    print("#[allow(clippy::excessive_precision)]")
    print("const %s: [Case; %d] = [" % (const, len(points)))
    for name, x, y in points:
        w = FUNCS[name](mpmath.mpc(x, y))
        print(f"    ({name}, ({x!r}, {y!r}), ({lit(w.real)}, {lit(w.imag)})),")
    print("];")
