#!/usr/bin/env python3
"""Side-by-side benchmark: jitexpr against numexpr (1 and 2 threads) and NumPy.

One command, same data, same run:

    python -m venv .venv && .venv/bin/pip install -r benches/requirements.txt \
        && .venv/bin/python benches/compare.py

It builds `jitexpr` (release), generates seeded inputs in [0, 1), writes them
as `.npy`, times NumPy and numexpr in-process (median of several repeats after
a warm-up) and jitexpr through `jitexpr bench --json` (evaluation only, the
compile is reported separately), and prints a markdown table in ns/element
(at n = 1e3 that number is also the µs per call). It measures a STREAM-style
triad (`x = b + 3*c`) in the same run (C with OpenMP when a C compiler is
found, numexpr and jitexpr), and reports for the memory-bound rows the
percentage of triad bandwidth that jitexpr reaches: against a C triad timed
right before and after the row (this VM's bandwidth drifts between minutes)
and against the best triad of the run.

Ratios are jitexpr ÷ numexpr with 2 threads (below 1.0: jitexpr is faster):
`evaluate` against `numexpr.evaluate` (both allocate the result) and
`eval_into` against `numexpr.evaluate(out=)` (both write a preallocated
array). Rows of 1e6 elements or more, which take few repeats, time the two in
three alternating rounds and report the median of each engine's round medians,
so that a slow minute on this shared machine does not fall on one engine only. The machine load (load average, and CPU time other processes used
during the run) is printed with the table: quote medians and ratios from one
run, and rerun when the machine was busy.

When the Python bindings are installed in the same venv (`pip install ./python`),
a "jitexpr Python evaluate" column times `jitexpr.evaluate` in this process on
the same arrays as numexpr and NumPy (otherwise it shows a dash).

`--quick` (under a minute: fewer repeats, no NumPy and 1-thread columns) exits
with status 1 if any jitexpr ÷ numexpr ratio is above 1.0.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# Nothing here calls BLAS; OpenBLAS's worker threads would still spin-wait on
# this 2-core machine after NumPy starts them (seen in `perf` as
# blas_thread_server, 6% of a Python timing loop), taking time from both engines.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numexpr as ne  # noqa: E402
import numpy as np  # noqa: E402

try:  # the Python bindings (`pip install ./python`): an in-process jitexpr column
    import jitexpr as jx
except ImportError:
    jx = None

ROOT = Path(__file__).resolve().parent.parent
THREADS = 2
SEED = 20261125

# (expression, dtype, memory-bound?)
STANDARD = [
    ("a*b+c", "float64", True),
    ("2*a+3*b", "float64", True),
    ("sin(a)+cos(a)", "float64", False),
    ("sin(a)**2+cos(b)**2", "float64", False),
    ("exp(a)", "float64", False),
    ("log(a+1)", "float64", False),
    ("sqrt(a**2+b**2)", "float64", False),
    ("where(a>0.5, a, b)", "float64", True),
    ("(a>0.3)&(b<0.7)", "float64", True),
    ("arctan2(a,b)", "float64", False),
    ("a**2+b**2+2*a*b", "float64", False),
    ("tanh(a)", "float64", False),
    ("sum(a*b)", "float64", True),
    ("a*b+c", "float32", True),
    ("sin(a)+cos(a)", "float32", False),
]

NUMPY_NS = {
    "sin": np.sin,
    "cos": np.cos,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "tanh": np.tanh,
    "arctan2": np.arctan2,
    "where": np.where,
    "sum": np.sum,
}

TRIAD_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
static int cmp(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}
int main(int argc, char **argv) {
    long n = atol(argv[1]);
    int reps = atoi(argv[2]);
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    double t[64];
    #pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) { a[i] = 0; b[i] = 1.0 / (i + 1); c[i] = 0.5; }
    for (int r = 0; r < reps + 1; r++) {
        double s = omp_get_wtime();
        #pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) a[i] = b[i] + 3.0 * c[i];
        if (r > 0) t[r - 1] = omp_get_wtime() - s;
    }
    qsort(t, reps, sizeof t[0], cmp);
    printf("%.9f %g\n", t[reps / 2], a[n / 2]);
    return 0;
}
"""


# ---------------------------------------------------------------------------
# Machine load


def _busy_jiffies() -> tuple[int, int]:
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]  # idle + iowait
    return sum(parts[:8]) - idle, os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class Load:
    """CPU used by other processes while a section of the benchmark ran."""

    start_busy: int = 0
    start_own: float = 0.0
    start_wall: float = 0.0
    loadavg_start: str = ""
    other_cpu_s: float = 0.0
    wall_s: float = 0.0
    loadavg_end: str = ""

    @staticmethod
    def begin() -> "Load":
        busy, _ = _busy_jiffies()
        return Load(busy, _own_cpu_s(), time.monotonic(), _loadavg())

    def end(self) -> "Load":
        busy, hz = _busy_jiffies()
        self.wall_s = time.monotonic() - self.start_wall
        total = (busy - self.start_busy) / hz
        self.other_cpu_s = max(0.0, total - (_own_cpu_s() - self.start_own))
        self.loadavg_end = _loadavg()
        return self

    def other_share(self) -> float:
        """Other processes' CPU as a fraction of the machine's capacity."""
        cores = os.cpu_count() or 1
        return self.other_cpu_s / max(self.wall_s * cores, 1e-9)


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# ---------------------------------------------------------------------------
# Timing


def median_time(fn, repeat: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    gc.disable()
    try:
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    finally:
        gc.enable()
    return statistics.median(times)


#: Alternating numexpr/jitexpr rounds for rows of at least 1e6 elements (2 with --quick).
ROUNDS_LARGE = 3


def repeats_for(n: int, quick: bool) -> int:
    if n <= 10:
        return 2000 if quick else 20000
    if n <= 1_000:
        return 300 if quick else 2000
    if n <= 100_000:
        return 20 if quick else 100
    return 3 if quick else 9


@dataclass
class Row:
    expr: str
    dtype: str
    n: int
    memory_bound: bool
    numpy: float | None = None
    ne1: float | None = None
    ne2: float | None = None
    ne2_out: float | None = None
    jit_evaluate: float | None = None
    py_evaluate: float | None = None
    jit_into: float | None = None
    compile_s: float | None = None
    first_compile_s: float | None = None
    baseline_compile_s: float | None = None
    optimized_compile_s: float | None = None
    first_call_s: float | None = None
    adjacent_triad: float | None = None
    bytes_per_element: int = 0
    load: str = ""
    extra: dict = field(default_factory=dict)

    def ratio_alloc(self) -> float | None:
        if self.jit_evaluate is None or not self.ne2:
            return None
        return self.jit_evaluate / self.ne2

    def ratio_out(self) -> float | None:
        ref = self.ne2_out if self.ne2_out is not None else self.ne2
        if self.jit_into is None or not ref:
            return None
        return self.jit_into / ref


def stream_bytes(expr: str, dtype: str) -> int:
    """Bytes per element read and written (STREAM convention: no write-allocate)."""
    size = np.dtype(dtype).itemsize
    used = sum(1 for v in "abc" if _uses(expr, v))
    if expr.startswith("sum("):
        out = 0
    elif ">" in expr and "where" not in expr:
        out = 1
    else:
        out = size
    return used * size + out


def _uses(expr: str, name: str) -> bool:
    import re

    return re.search(rf"\b{name}\b", expr) is not None


def jitexpr_bench(binary: Path, expr: str, files: dict[str, Path], repeat: int) -> dict:
    args = [str(binary), "bench", expr]
    args += [f"{k}={v}" for k, v in files.items() if _uses(expr, k)]
    args += ["--repeat", str(repeat), "--threads", str(THREADS), "--json"]
    out = subprocess.run(args, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"jitexpr bench {expr!r} failed:\n{out.stderr}")
    return json.loads(out.stdout)


def build(args) -> Path:
    if args.bin:
        return Path(args.bin)
    print("building jitexpr (cargo build --release) ...", file=sys.stderr)
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--bin", "jitexpr"],
        cwd=ROOT,
        check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    return target / "release" / "jitexpr"


def make_inputs(tmp: Path, n: int, dtype: str) -> tuple[dict, dict[str, Path]]:
    rng = np.random.default_rng(SEED + n)
    arrays = {k: rng.random(n).astype(dtype) for k in "abc"}
    files = {}
    for k, v in arrays.items():
        p = tmp / f"{k}_{n}_{dtype}.npy"
        np.save(p, v)
        files[k] = p
    return arrays, files


def run_row(expr, dtype, n, mem, arrays, files, binary, quick) -> Row:
    row = Row(expr, dtype, n, mem, bytes_per_element=stream_bytes(expr, dtype))
    load = Load.begin()
    rep = repeats_for(n, quick)
    local = {k: v for k, v in arrays.items() if _uses(expr, k)}
    if not quick:
        code = compile(expr, "<expr>", "eval")
        ns = dict(NUMPY_NS, **local)
        row.numpy = median_time(lambda: eval(code, ns), rep)
        ne.set_num_threads(1)
        row.ne1 = median_time(lambda: ne.evaluate(expr, local_dict=local), rep)
    if jx is not None:
        jx.set_num_threads(THREADS)
        row.py_evaluate = median_time(lambda: jx.evaluate(expr, local_dict=local), rep)
    rep_jit = rep * 3 if n <= 1000 else rep
    # Memory-bound rows at the large size: the C triad right before and after
    # the timings (this VM's bandwidth drifts by tens of percent between
    # minutes); the row is compared with the faster of the two.
    exe = c_triad_exe(files["a"].parent) if mem and n >= 10_000_000 else None
    before = c_triad(exe, n, 5) if exe else None
    # Large rows take few repeats per engine, so a slow minute would decide a
    # ratio: numexpr-2T and jitexpr are timed in alternating rounds, and each
    # engine's figure is the median of its rounds' medians.
    rounds = (2 if quick else ROUNDS_LARGE) if n >= 1_000_000 else 1
    ne2, ne2_out, runs = [], [], []
    out = None if expr.startswith("sum(") else ne.evaluate(expr, local_dict=local)
    for _ in range(rounds):
        ne.set_num_threads(THREADS)
        ne2.append(median_time(lambda: ne.evaluate(expr, local_dict=local), rep))
        if out is not None:
            ne2_out.append(
                median_time(lambda: ne.evaluate(expr, local_dict=local, out=out), rep)
            )
        runs.append(jitexpr_bench(binary, expr, files, rep_jit))
    del out
    row.ne2 = statistics.median(ne2)
    row.ne2_out = statistics.median(ne2_out) if ne2_out else None
    if exe:
        row.adjacent_triad = max(before, c_triad(exe, n, 5))
    # jitexpr's medians per field over the rounds; the compile times of the first.
    r = dict(runs[0])
    for key in ("median_s", "evaluate_median_s", "eval_median_s"):
        r[key] = statistics.median(x[key] for x in runs)
    row.jit_into = r["median_s"]
    row.jit_evaluate = r["evaluate_median_s"]
    row.compile_s = r["compile_s"]
    row.first_compile_s = r.get("first_compile_s")
    row.baseline_compile_s = r.get("baseline_compile_s")
    row.optimized_compile_s = r.get("optimized_compile_s")
    # The first call's total only where it stays in the first tier: at
    # larger n it also pays the optimizing compile (and evaluates n elements).
    row.first_call_s = r.get("first_call_s") if n <= 1000 else None
    row.extra["jit_eval"] = r["eval_median_s"]
    load.end()
    if load.other_share() > 0.05:
        row.load = f"{100 * load.other_share():.0f}%"
    return row


def c_triad_exe(tmp: Path) -> Path | None:
    """The C triad (TRIAD_C) compiled in `tmp`, or None without a C compiler."""
    exe = tmp / "triad"
    if exe.exists():
        return exe
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    src = tmp / "triad.c"
    src.write_text(TRIAD_C)
    res = subprocess.run(
        [cc, "-O3", "-march=native", "-fopenmp", str(src), "-o", str(exe)],
        capture_output=True,
        check=False,
    )
    return exe if res.returncode == 0 else None


def c_triad(exe: Path, n: int, reps: int) -> float:
    """GB/s (24 bytes per element) of the C triad at n elements, median of reps."""
    out = subprocess.run(
        [str(exe), str(n), str(reps)],
        capture_output=True,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS=str(THREADS), OMP_PROC_BIND="true"),
        check=True,
    )
    return 24 * n / float(out.stdout.split()[0]) / 1e9


def triad(tmp: Path, binary: Path, n: int, quick: bool) -> dict[str, float]:
    """Triad x = b + 3*c at n elements: GB/s (24 bytes per element) per engine."""
    reps = 5 if quick else 15
    gbs = {}
    exe = c_triad_exe(tmp)
    if exe:
        gbs["C (gcc -O3 -march=native, OpenMP)"] = c_triad(exe, n, reps)
    rng = np.random.default_rng(SEED)
    b, c = rng.random(n), rng.random(n)
    x = np.empty_like(b)
    ne.set_num_threads(THREADS)
    t = median_time(lambda: ne.evaluate("b+3.0*c", local_dict={"b": b, "c": c}, out=x), reps)
    gbs["numexpr"] = 24 * n / t / 1e9
    files = {}
    for k, v in (("b", b), ("c", c)):
        files[k] = tmp / f"triad_{k}.npy"
        np.save(files[k], v)
    r = jitexpr_bench(binary, "b+3.0*c", files, reps)
    gbs["jitexpr"] = 24 * n / r["median_s"] / 1e9
    return gbs


def overhead(tmp: Path, binary: Path, quick: bool) -> list[tuple[str, float]]:
    """Per-call time at n = 1 for `a*b+c`, seconds."""
    arrays, files = make_inputs(tmp, 1, "float64")
    rep = repeats_for(1, quick)
    ne.set_num_threads(THREADS)
    res = []
    code = compile("a*b+c", "<expr>", "eval")
    ns = dict(NUMPY_NS, **arrays)
    res.append(("NumPy `a*b+c`", median_time(lambda: eval(code, ns), rep)))
    res.append(
        ("numexpr.evaluate", median_time(lambda: ne.evaluate("a*b+c", local_dict=arrays), rep))
    )
    out = np.empty(1)
    res.append(
        (
            "numexpr.evaluate(out=)",
            median_time(lambda: ne.evaluate("a*b+c", local_dict=arrays, out=out), rep),
        )
    )
    r = jitexpr_bench(binary, "a*b+c", files, rep)
    res.append(("jitexpr evaluate (cache hit)", r["evaluate_median_s"]))
    res.append(("jitexpr Kernel::eval", r["eval_median_s"]))
    res.append(("jitexpr Kernel::eval_into", r["median_s"]))
    return res


def fmt(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fast pass; exit 1 if any ratio > 1.0")
    p.add_argument("--bin", help="a built jitexpr binary (default: cargo build --release)")
    p.add_argument(
        "--sizes", default="1000,100000,10000000", help="comma-separated n (default 1e3,1e5,1e7)"
    )
    p.add_argument("--filter", default="", help="only expressions containing this text")
    args = p.parse_args()
    binary = build(args)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    overall = Load.begin()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="jitexpr-compare-") as tmpdir:
        tmp = Path(tmpdir)
        gbs = triad(tmp, binary, max(sizes + [10_000_000]), args.quick)
        best_triad = max(gbs.values())
        for n in sizes:
            cache: dict[str, tuple] = {}
            for expr, dtype, mem in STANDARD:
                if args.filter and args.filter not in expr:
                    continue
                if dtype not in cache:
                    cache[dtype] = make_inputs(tmp, n, dtype)
                arrays, files = cache[dtype]
                row = run_row(expr, dtype, n, mem, arrays, files, binary, args.quick)
                rows.append(row)
                print(
                    f"  {expr} {dtype} n={n}: jitexpr {row.jit_into * 1e9 / n:.2f} "
                    f"numexpr-2 {row.ne2 * 1e9 / n:.2f} ns/el",
                    file=sys.stderr,
                )
            del cache
        calls = overhead(tmp, binary, args.quick)
    overall.end()

    cores = os.cpu_count()
    print(f"## jitexpr vs numexpr {ne.__version__} vs NumPy {np.__version__}\n")
    print(
        f"{time.strftime('%Y-%m-%d')}, {cpu_model()}, {cores} cores, Python "
        f"{platform.python_version()}; {THREADS} threads for jitexpr and numexpr-2T. "
        f"ns per element, median of repeats after a warm-up (at n = 1e3 that is also µs per call). "
        f"Ratios are jitexpr ÷ numexpr-2T: `evaluate` vs `evaluate` (both allocate), "
        f"`eval_into` vs `evaluate(out=)`.\n"
    )
    print(
        "| expression | dtype | n | NumPy | numexpr 1T | numexpr 2T | numexpr 2T out= "
        "| jitexpr evaluate | jitexpr eval_into | jitexpr Python evaluate "
        "| ratio evaluate | ratio eval_into | % of triad (adjacent / best) | other load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    bad = []
    for r in rows:
        ns = lambda t: None if t is None else t * 1e9 / r.n  # noqa: E731
        pct = ""
        if r.memory_bound and r.n >= 10_000_000 and r.jit_into:
            gbs_row = r.bytes_per_element * r.n / r.jit_into / 1e9
            pct = f"{100 * gbs_row / best_triad:.0f}%"
            if r.adjacent_triad:
                pct = f"{100 * gbs_row / r.adjacent_triad:.0f}% / {pct}"
        ra, ro = r.ratio_alloc(), r.ratio_out()
        for x in (ra, ro):
            if x is not None and x > 1.0:
                bad.append(f"{r.expr} {r.dtype} n={r.n}: {x:.2f}")
        print(
            f"| `{r.expr}` | {r.dtype} | {r.n:.0e} | {fmt(ns(r.numpy))} "
            f"| {fmt(ns(r.ne1))} | {fmt(ns(r.ne2))} | {fmt(ns(r.ne2_out))} "
            f"| {fmt(ns(r.jit_evaluate))} | {fmt(ns(r.jit_into))} | {fmt(ns(r.py_evaluate))} "
            f"| {fmt(ra)} | {fmt(ro)} "
            f"| {pct} | {r.load} |"
        )
    print()
    triads = ", ".join(f"{k} {v:.1f} GB/s" for k, v in gbs.items())
    print(
        f"Triad `x = b + 3*c` at n = {max(sizes + [10_000_000]):.0e} "
        f"(24 B/element, {THREADS} threads): {triads}. % of triad: jitexpr's `eval_into` "
        f"bandwidth with STREAM byte counts (inputs + output, no write-allocate) against the "
        f"faster of two C triads timed right before and after the row (adjacent), and "
        f"against the best triad above, {best_triad:.1f} GB/s."
    )
    print()
    def compile_range(attr: str) -> str:
        # One value per expression and dtype: the median over the sizes.
        per: dict = {}
        for r in rows:
            if getattr(r, attr) is not None:
                per.setdefault((r.expr, r.dtype), []).append(getattr(r, attr))
        med = {k: statistics.median(v) for k, v in per.items()}
        worst = max(med.items(), key=lambda kv: kv[1])
        return (
            f"{1e6 * min(med.values()):.0f}–{1e6 * worst[1]:.0f} µs "
            f"(slowest: `{worst[0][0]}` {worst[0][1]})"
        )

    if any(r.compile_s is not None for r in rows):
        parts = [
            "jitexpr first call, kernel cache cleared, median over the sizes, per expression "
            "(each a second compile in the process): preparing the interpreted tier (what a "
            f"first call pays before evaluating; parse, checks, optimizer included) "
            f"{compile_range('compile_s')}"
        ]
        for attr, what in [
            ("first_call_s", "the whole first call at n = 1e3 (preparation and the first "
             "evaluation, allocating)"),
            ("baseline_compile_s", "compiling the Cranelift baseline tier instead (what the "
             "first call paid before the interpreted tier)"),
            ("optimized_compile_s", "the optimized tier (compiled once a kernel has run on "
             "2^18 elements)"),
            ("first_compile_s", "the first preparation in a fresh process (adds one-time setup)"),
        ]:
            if any(getattr(r, attr) is not None for r in rows):
                parts.append(f"{what} {compile_range(attr)}")
        print("; ".join(parts) + ".")
        print()
    print(
        "Per-call time at n = 1 (`a*b+c`): "
        + ", ".join(f"{name} {t * 1e6:.2f} µs" for name, t in calls)
        + "."
    )
    print()
    print(
        f"Load: load average {overall.loadavg_start} at the start, {overall.loadavg_end} at the "
        f"end; other processes used {overall.other_cpu_s:.1f} CPU-s over {overall.wall_s:.0f} s "
        f"({100 * overall.other_share():.0f}% of the machine)."
        + (
            " The machine was busy: rerun for quotable numbers."
            if overall.other_share() > 0.05
            else ""
        )
    )
    if bad:
        print("\njitexpr slower than numexpr-2T: " + "; ".join(bad), file=sys.stderr)
        if args.quick:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
