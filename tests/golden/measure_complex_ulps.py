#!/usr/bin/env python3
"""Measure the accuracy of jitexpr's complex functions against mpmath (50
digits): the largest error of each part in ULP of the part's dtype, over
random arguments (parts log-uniform in [1e-3, 1e3] with random signs, near
the unit circle, a small real part with a large imaginary part and the
other way round (|small| in [1e-3, 20], |large| in [1, 1e3]: tanh's and
tan's hard regions), and near the curve exp(x) cos(y) = 1 where expm1's
real part cancels), away from the branch cuts by construction (no part
within 1e-3 of a cut). Needs the `jitexpr` binary (debug or release) and
NumPy + mpmath:

    cargo build --bin jitexpr
    PYTHONPATH=<mpmath> python tests/golden/measure_complex_ulps.py [target/debug/jitexpr] [--only f,g]

The README's table of bounds ("Complex numbers") is this script's output.
"""

import os
import subprocess
import sys
import tempfile

import mpmath
import numpy as np

mpmath.mp.dps = 50
ARGV = sys.argv[1:]
ONLY = None
if "--only" in ARGV:
    i = ARGV.index("--only")
    ONLY = ARGV[i + 1].split(",")
    del ARGV[i:i + 2]
BIN = ARGV[0] if ARGV else "target/debug/jitexpr"
FUNCS = {
    "sqrt": mpmath.sqrt, "exp": mpmath.exp, "expm1": mpmath.expm1,
    "log": mpmath.log, "log1p": mpmath.log1p,
    "log2": lambda z: mpmath.log(z) / mpmath.log(2),
    "log10": lambda z: mpmath.log(z) / mpmath.log(10),
    "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan,
    "sinh": mpmath.sinh, "cosh": mpmath.cosh, "tanh": mpmath.tanh,
    "arcsin": mpmath.asin, "arccos": mpmath.acos, "arctan": mpmath.atan,
    "arcsinh": mpmath.asinh, "arccosh": mpmath.acosh, "arctanh": mpmath.atanh,
    "abs": abs, "sign": lambda z: z / abs(z) if z != 0 else z,
    "angle": mpmath.arg,
}


def args(n, seed=0):
    rng = np.random.default_rng(seed)
    mag = lambda k: 10 ** rng.uniform(-3, 3, k) * rng.choice([-1, 1], k)
    z = mag(n) + 1j * mag(n)
    t = rng.uniform(0, 2 * np.pi, n // 4)
    z[: n // 4] = np.exp(1j * t) * (1 + rng.uniform(-1e-3, 1e-3, n // 4))
    sign = lambda k: rng.choice([-1, 1], k)
    small = lambda k: 10 ** rng.uniform(-3, np.log10(20), k) * sign(k)
    large = lambda k: 10 ** rng.uniform(0, 3, k) * sign(k)
    m = n // 8
    z = np.concatenate([z, small(m) + 1j * large(m), large(m) + 1j * small(m)])
    # Near exp(x) cos(y) = 1: y = ±arccos(exp(-x)) + 2πk, nudged by up to 1e-6.
    x = 10 ** rng.uniform(-3, 1, m)
    y = (np.arccos(np.exp(-x)) * sign(m) + 2 * np.pi * rng.integers(-3, 4, m)) * (1 + rng.uniform(-1e-6, 1e-6, m))
    z = np.concatenate([z, x + 1j * y])
    # Keep away from the cuts (parts near zero on the axes beyond ±1 / ±i).
    keep = (np.abs(z.real) > 1e-3) & (np.abs(z.imag) > 1e-3)
    return z[keep]


def ulps(got, ref, dtype):
    ref = float(ref)
    if abs(ref) > float(np.finfo(dtype).max):
        ref = float("inf") if ref > 0 else float("-inf")  # overflows the dtype
    if not np.isfinite(ref) or not np.isfinite(got):
        return 0.0 if got == ref or (np.isnan(got) and np.isnan(ref)) else float("inf")
    spacing = float(np.spacing(dtype(abs(ref)))) if ref != 0 else float(np.finfo(dtype).smallest_subnormal)
    return abs(got - ref) / spacing


def main():
    z = args(2000)
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for cdt, fdt in [("complex128", np.float64), ("complex64", np.float32)]:
            x = z.astype(cdt)
            if cdt == "complex64":
                x = x[np.abs(x) < 1e18]
            src = os.path.join(d, "x.npy")
            np.save(src, x)
            for name, f in FUNCS.items():
                if ONLY and name not in ONLY:
                    continue
                dst = os.path.join(d, "y.npy")
                r = subprocess.run([BIN, "eval", f"{name}(x)", f"x={src}", "--out", dst],
                                   capture_output=True, text=True)
                if r.returncode:
                    print(name, cdt, r.stderr)
                    continue
                y = np.load(dst)
                worst = 0.0
                for xi, yi in zip(x, y):
                    ref = f(mpmath.mpc(complex(xi)))
                    if np.iscomplexobj(y):
                        ref = mpmath.mpc(ref)
                        e = max(ulps(float(yi.real), ref.real, fdt), ulps(float(yi.imag), ref.imag, fdt))
                    else:
                        e = ulps(float(yi), mpmath.re(ref), fdt)
                    worst = max(worst, e)
                out[(name, cdt)] = worst
    print("| function | complex128 | complex64 |")
    print("|---|---|---|")
    for name in FUNCS:
        if ONLY and name not in ONLY:
            continue
        print(f"| `{name}` | {out.get((name, 'complex128'), float('nan')):.1f} | {out.get((name, 'complex64'), float('nan')):.1f} |")


if __name__ == "__main__":
    main()
