#!/usr/bin/env python3
"""Generate tests/golden/erfc_f64.txt: float64 erfc(x), correctly rounded.

Regenerate (from the repository root) with:

    python3 tests/golden/gen_erfc.py            # writes tests/golden/erfc_f64.txt

(any Python >= 3.8 with mpmath works; made with mpmath 1.4).  The output is
deterministic (``random.Random`` with a fixed seed).  Each line is

    XXXXXXXXXXXXXXXX YYYYYYYYYYYYYYYY

the bits of x and of erfc(x) rounded to nearest float64 (subnormal results
included: rounded once, to a multiple of 2^-1074), 16 hex digits each; lines
starting with ``#`` are comments.  The unit test ``erfc_f64_within_one_ulp``
in ``src/ir/scalar.rs`` reads the file and asserts that ``erf::erfc`` is
within 1 ULP of every value.

``--dense N --out PATH`` writes a larger sample of about N points instead
(for measuring, not committed).
"""

import argparse
import math
import random
import struct

import mpmath

TINY = mpmath.mpf(2) ** -1074
MIN_NORMAL = mpmath.mpf(2) ** -1022


def bits(v):
    return struct.unpack("<Q", struct.pack("<d", v))[0]


def f64(v):
    """The mpf ``v`` (>= 0, computed with ample precision) rounded to the
    nearest float64, ties to even, subnormals included."""
    if v == 0:
        return 0.0
    if v < MIN_NORMAL:
        n = int(mpmath.nint(v / TINY))  # nint rounds ties to even
        return math.ldexp(n, -1074)
    with mpmath.workprec(53):
        r = +v  # rounds to 53 bits, nearest even
    return float(r)  # exact


def erfc(x):
    # clamped to |x| <= 40 (erfc(40) rounds to 0, erfc(-40) to 2), where
    # mpmath fails for huge arguments
    with mpmath.workprec(320):
        return f64(mpmath.erfc(mpmath.mpf(max(-40.0, min(40.0, x)))))


def sample(n, seed):
    rng = random.Random(seed)
    xs = []
    # uniform over the range where erfc is neither 2 nor 0
    xs += [rng.uniform(-6.0, 27.3) for _ in range(n * 4 // 10)]
    # the exp(...)/x branches, densely
    xs += [rng.uniform(1.25, 6.0) for _ in range(n * 3 // 10)]
    xs += [rng.uniform(0.84375, 1.25) for _ in range(n // 20)]
    xs += [rng.uniform(-1.25, 0.84375) for _ in range(n // 20)]
    # 0.8134 < x < 0.84375, where erfc < 1/4 (fdlibm's f64 was 3 ULP off)
    xs += [rng.uniform(0.78, 0.84375) for _ in range(n // 20)]
    # log-uniform magnitudes, both signs: tiny x up to the underflow edge
    for _ in range(n // 10):
        m = 10.0 ** rng.uniform(-310.0, math.log10(27.3))
        xs.append(m if rng.random() < 0.5 else -m)
    # subnormal results and the underflow to zero
    xs += [rng.uniform(26.0, 27.5) for _ in range(n // 20)]
    # around the branch points (0.84375, 1.25, 1/0.35, 6, 28, 1/4, 2^-56)
    edges = [0.84375, 1.25, 1.0 / 0.35, 6.0, 28.0, 0.25, 2.0**-56, 2.0**-28]
    for e in edges:
        for s in (1.0, -1.0):
            b = bits(e)
            for d in range(-3, 4):
                xs.append(s * struct.unpack("<d", struct.pack("<Q", b + d))[0])
    xs += [0.0, -0.0, 5e-324, -5e-324, 30.0, -30.0, 1e300, -1e300]
    return xs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dense", type=int, default=0)
    ap.add_argument("--out", default="tests/golden/erfc_f64.txt")
    ap.add_argument("--seed", type=int, default=20261206)
    args = ap.parse_args()
    n = args.dense or 3000
    with open(args.out, "w") as f:
        f.write("# erfc(x) for float64, correctly rounded (mpmath); see gen_erfc.py\n")
        for x in sample(n, args.seed):
            f.write(f"{bits(x):016x} {bits(erfc(x)):016x}\n")


if __name__ == "__main__":
    main()
