#!/usr/bin/env python3
"""Side-by-side benchmark: jitexpr against numexpr (1 and 2 threads) and NumPy.

One command, same data, same run (the second pip install builds the Python
bindings from ./python with maturin, their build backend; it needs cargo):

    python -m venv .venv && .venv/bin/pip install -r benches/requirements.txt \
        && .venv/bin/pip install ./python && .venv/bin/python benches/compare.py

Optionally `.venv/bin/pip install blosc2` adds a blosc2 column (reference only).

It builds `jitexpr` (release), generates seeded inputs in [0, 1) (integers in
[-1000, 1000) for integer dtypes), writes them as `.npy`, times NumPy and
numexpr in-process (median of several repeats after a warm-up) and jitexpr
through `jitexpr bench --json` (evaluation only, the compile is reported
separately), and prints a markdown table in ns/element
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

The default sizes are 1e3, 1e4, 1e5, 1e6 and 1e7 elements (`--sizes` overrides).
At n = 1e5 and 1e6 jitexpr is also timed with 1 thread (`jitexpr bench
--threads 1`): the "jitexpr 1T eval_into" and "2T speedup" (1T time ÷ 2T time)
columns, blank at other sizes.

The Python bindings are installed by the setup above (`pip install ./python`):
a "jitexpr Python evaluate" column times `jitexpr.evaluate` in this process on
the same arrays as numexpr and NumPy (and with 1 thread at n = 1e5 and 1e6).
Without them the script warns on stderr, says so above the table and shows
dashes. With blosc2 importable, a "blosc2 2T" column times
`blosc2.evaluate` (2 threads) as a reference, which no ratio checks.

`--extra` (on by default, off with `--quick`; `--extra-only` runs nothing else)
also times the expressions of benches/extra_exprs.txt, typical numexpr and
pandas expressions that are not in the standard set and must not be tuned for,
and prints them in a second table, "Extra expressions (not tuned for)".

`--quick` (fewer repeats, no NumPy, 1-thread or extra columns) exits with status
1 if any jitexpr ÷ numexpr ratio on the standard set is above 1.0.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
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

try:  # optional reference column (`pip install blosc2`), not checked by any ratio
    import blosc2
except ImportError:
    blosc2 = None

ROOT = Path(__file__).resolve().parent.parent
THREADS = 2
SEED = 20261125
DEFAULT_SIZES = "1000,10000,100000,1000000,10000000"
#: Sizes at which jitexpr is also timed with 1 thread (the 2T speedup column).
ONE_THREAD_SIZES = (100_000, 1_000_000)
EXTRA_FILE = Path(__file__).resolve().parent / "extra_exprs.txt"

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

# numexpr's function names, as NumPy functions, for the NumPy column's eval.
# numexpr's sum, prod, min and max are reductions over the whole array.
NUMPY_NS = {
    name: getattr(np, name)
    for name in """sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh arccosh
    arctanh exp expm1 log log1p log10 sqrt abs where sum prod min max""".split()
}


def load_extra(path: Path = EXTRA_FILE) -> list[tuple[str, str, bool]]:
    """benches/extra_exprs.txt: `expr<TAB>dtype<TAB>yes|no` lines, # comments."""
    out = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[2].strip() not in ("yes", "no"):
            raise SystemExit(f"{path}:{i}: expected expr<TAB>dtype<TAB>yes|no, got {line!r}")
        expr, dtype, mem = (x.strip() for x in parts)
        np.dtype(dtype)  # fails early on a typo
        out.append((expr, dtype, mem == "yes"))
    return out


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
    blosc2: float | None = None
    jit_evaluate: float | None = None
    py_evaluate: float | None = None
    py_evaluate_1t: float | None = None
    jit_into: float | None = None
    jit_into_1t: float | None = None
    compile_s: float | None = None
    first_compile_s: float | None = None
    baseline_compile_s: float | None = None
    optimized_compile_s: float | None = None
    first_call_s: float | None = None
    adjacent_triad: float | None = None
    bytes_per_element: int = 0
    load: str = ""
    extra_set: bool = False  # from benches/extra_exprs.txt (not tuned for, not checked)
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

    def speedup_2t(self) -> float | None:
        if self.jit_into_1t is None or not self.jit_into:
            return None
        return self.jit_into_1t / self.jit_into


def is_reduction(expr: str) -> bool:
    """numexpr's reductions (sum, prod, min, max) are only allowed outermost."""
    return re.match(r"\s*(sum|prod|min|max)\s*\(", expr) is not None


def stream_bytes(expr: str, dtype: str, out_itemsize: int) -> int:
    """Bytes per element read and written (STREAM convention: no write-allocate)."""
    size = np.dtype(dtype).itemsize
    used = sum(1 for v in "abc" if _uses(expr, v))
    return used * size + (0 if is_reduction(expr) else out_itemsize)


def _uses(expr: str, name: str) -> bool:
    return re.search(rf"\b{name}\b", expr) is not None


def jitexpr_bench(
    binary: Path, expr: str, files: dict[str, Path], repeat: int, threads: int = THREADS
) -> dict:
    args = [str(binary), "bench", expr]
    args += [f"{k}={v}" for k, v in files.items() if _uses(expr, k)]
    args += ["--repeat", str(repeat), "--threads", str(threads), "--json"]
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
    if np.issubdtype(dtype, np.integer):
        arrays = {k: rng.integers(-1000, 1000, n).astype(dtype) for k in "abc"}
    else:
        arrays = {k: rng.random(n).astype(dtype) for k in "abc"}
    files = {}
    for k, v in arrays.items():
        p = tmp / f"{k}_{n}_{dtype}.npy"
        np.save(p, v)
        files[k] = p
    return arrays, files


def run_row(expr, dtype, n, mem, arrays, files, binary, quick, extra_set=False) -> Row:
    local = {k: v for k, v in arrays.items() if _uses(expr, k)}
    ne.set_num_threads(THREADS)
    out = None if is_reduction(expr) else ne.evaluate(expr, local_dict=local)
    row = Row(
        expr,
        dtype,
        n,
        mem,
        bytes_per_element=stream_bytes(expr, dtype, 0 if out is None else out.dtype.itemsize),
        extra_set=extra_set,
    )
    load = Load.begin()
    rep = repeats_for(n, quick)
    one_thread = not quick and n in ONE_THREAD_SIZES
    if not quick:
        code = compile(expr, "<expr>", "eval")
        ns = dict(NUMPY_NS, **local)
        row.numpy = median_time(lambda: eval(code, ns), rep)
        ne.set_num_threads(1)
        row.ne1 = median_time(lambda: ne.evaluate(expr, local_dict=local), rep)
    if blosc2 is not None:
        ne.set_num_threads(THREADS)
        blosc2.set_nthreads(THREADS)
        try:
            row.blosc2 = median_time(lambda: blosc2.evaluate(expr, local_dict=local), rep)
        except Exception as e:  # noqa: BLE001  (a reference only: a dash where blosc2 fails)
            print(f"  blosc2.evaluate({expr!r}) failed: {e}", file=sys.stderr)
    if jx is not None:
        jx.set_num_threads(THREADS)
        row.py_evaluate = median_time(lambda: jx.evaluate(expr, local_dict=local), rep)
        if one_thread:
            jx.set_num_threads(1)
            try:
                row.py_evaluate_1t = median_time(
                    lambda: jx.evaluate(expr, local_dict=local), rep
                )
            finally:
                jx.set_num_threads(THREADS)
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
    ne2, ne2_out, runs, runs_1t = [], [], [], []
    for _ in range(rounds):
        ne.set_num_threads(THREADS)
        ne2.append(median_time(lambda: ne.evaluate(expr, local_dict=local), rep))
        if out is not None:
            ne2_out.append(
                median_time(lambda: ne.evaluate(expr, local_dict=local, out=out), rep)
            )
        runs.append(jitexpr_bench(binary, expr, files, rep_jit))
        if one_thread:
            runs_1t.append(jitexpr_bench(binary, expr, files, rep_jit, threads=1))
    out = None  # frees the output before the C triad below
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
    if runs_1t:
        assert all(x.get("threads", 1) == 1 for x in runs_1t), runs_1t[0]
        row.jit_into_1t = statistics.median(x["median_s"] for x in runs_1t)
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


BINDINGS_MISSING = (
    "the jitexpr Python bindings are not importable in this Python ({exe}), so the "
    "\"jitexpr Python evaluate\" columns are missing (dashes); install them into this "
    "venv with `{exe} -m pip install ./python` (builds them with maturin)"
)


def print_table(rows: list[Row], best_triad: float, bad: list[str] | None) -> None:
    """One markdown table; ratios above 1.0 are appended to `bad` when it is a list."""
    cols = [
        "expression", "dtype", "n", "NumPy", "numexpr 1T", "numexpr 2T", "numexpr 2T out=",
    ]
    if blosc2 is not None:
        cols.append("blosc2 2T")
    cols += [
        "jitexpr evaluate", "jitexpr eval_into", "jitexpr 1T eval_into", "2T speedup",
        "jitexpr Python evaluate", "jitexpr Python 1T evaluate",
        "ratio evaluate", "ratio eval_into", "% of triad (adjacent / best)", "other load",
    ]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        ns = lambda t, n=r.n: None if t is None else t * 1e9 / n  # noqa: E731
        blank = lambda x: "" if x is None else fmt(x)  # noqa: E731  (blank, not a dash)
        pct = ""
        if r.memory_bound and r.n >= 10_000_000 and r.jit_into:
            gbs_row = r.bytes_per_element * r.n / r.jit_into / 1e9
            pct = f"{100 * gbs_row / best_triad:.0f}%"
            if r.adjacent_triad:
                pct = f"{100 * gbs_row / r.adjacent_triad:.0f}% / {pct}"
        ra, ro = r.ratio_alloc(), r.ratio_out()
        if bad is not None:
            for x in (ra, ro):
                if x is not None and x > 1.0:
                    bad.append(f"{r.expr} {r.dtype} n={r.n}: {x:.2f}")
        cells = [
            f"`{r.expr}`", r.dtype, f"{r.n:.0e}", fmt(ns(r.numpy)), fmt(ns(r.ne1)),
            fmt(ns(r.ne2)), fmt(ns(r.ne2_out)),
        ]
        if blosc2 is not None:
            cells.append(fmt(ns(r.blosc2)))
        cells += [
            fmt(ns(r.jit_evaluate)), fmt(ns(r.jit_into)), blank(ns(r.jit_into_1t)),
            blank(r.speedup_2t()), fmt(ns(r.py_evaluate)), blank(ns(r.py_evaluate_1t)),
            fmt(ra), fmt(ro), pct, r.load,
        ]
        # `|` inside an expression would split the cell.
        print("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    print()


MATMUL_SIZES = (256, 1000, 2000)


def blas_threads() -> str:
    """OpenBLAS's (or the BLAS's) thread count as threadpoolctl reports it."""
    try:
        import threadpoolctl
    except ImportError:
        return "threadpoolctl not installed"
    info = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(f"{i.get('internal_api')} {i.get('num_threads')} threads" for i in info) or "no BLAS"


def matmul_section(tmp: Path, binary: Path, quick: bool, threads: int = THREADS) -> None:
    """`A @ B` and `maximum(A @ B + b, 0)` (n x n, f32/f64) against NumPy with
    its BLAS limited to `threads`, and jitexpr's own unfused two-step (the
    product, then the elementwise expression on it)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(limits=threads, user_api="blas"):
            blas = blas_threads()
    else:
        blas = blas_threads() + " (threadpoolctl missing: not limited)"
    print(f"\nMatrix multiplication, {threads} threads; NumPy's BLAS while timed: {blas}")
    print(f"{'n':>5} {'dtype':>7} {'expr':<24} {'numpy ms':>9} {'jitexpr ms':>10} "
          f"{'two-step ms':>11} {'np/jx':>6}")
    rng = np.random.default_rng(19)
    for n in MATMUL_SIZES:
        for dtype in ("float32", "float64"):
            a = rng.standard_normal((n, n)).astype(dtype)
            w = rng.standard_normal((n, n)).astype(dtype)
            b = rng.standard_normal(n).astype(dtype)
            files = {}
            for name, arr in (("A", a), ("W", w), ("b", b), ("P", a @ w)):
                files[name] = tmp / f"mm_{name}.npy"
                np.save(files[name], arr)
            reps = 3 if quick else max(3, int(2e9 / n**3))
            for expr, numpy_fn in (
                ("A @ W", lambda: a @ w),
                ("maximum(A @ W + b, 0)", lambda: np.maximum(a @ w + b, 0)),
            ):
                if threadpool_limits is not None:
                    with threadpool_limits(limits=threads, user_api="blas"):
                        t_np = median_time(numpy_fn, reps)
                else:
                    t_np = median_time(numpy_fn, reps)
                # OpenBLAS's threads spin-wait for a while after a call (about
                # 0.1 s), taking a core from whatever runs next: let them sleep.
                time.sleep(0.5)
                r = jitexpr_bench(binary, expr, files, reps, threads)
                two = None
                if expr != "A @ W":
                    prod = jitexpr_bench(binary, "A @ W", files, reps, threads)
                    epi = jitexpr_bench(binary, "maximum(P + b, 0)", files, reps, threads)
                    two = prod["median_s"] + epi["median_s"]
                print(f"{n:>5} {dtype:>7} {expr:<24} {t_np * 1e3:>9.2f} "
                      f"{r['median_s'] * 1e3:>10.2f} {fmt(two and two * 1e3):>11} "
                      f"{t_np / r['median_s']:>6.2f}")


# Issue 18's rows for NumPy's other dtypes: complex128 inputs have both
# parts uniform in [0, 1); uint8 inputs are 0..255 (an image).
DTYPE_ROWS = [
    ("a*b+c", "complex128"),
    ("abs(a)**2", "complex128"),
    ("exp(1j*a)", "float64"),
    ("where(a > 128, a - 128, 0)", "uint8"),
]
DTYPE_SIZES = (1_000_000, 10_000_000)


def dtype_inputs(tmp: Path, n: int, dtype: str) -> tuple[dict, dict[str, Path]]:
    rng = np.random.default_rng(SEED + n)
    if dtype == "uint8":
        arrays = {k: rng.integers(0, 256, n, dtype=np.uint8) for k in "abc"}
    elif np.issubdtype(dtype, np.complexfloating):
        arrays = {k: (rng.random(n) + 1j * rng.random(n)).astype(dtype) for k in "abc"}
    else:
        arrays = {k: rng.random(n).astype(dtype) for k in "abc"}
    files = {}
    for k, v in arrays.items():
        files[k] = tmp / f"d_{k}_{n}_{dtype}.npy"
        np.save(files[k], v)
    return arrays, files


def dtype_section(tmp: Path, binary: Path, quick: bool) -> None:
    """Complex and uint8 rows (issue 18): allocating calls from Python, ms per
    call, NumPy vs numexpr (2 threads) vs `jitexpr.evaluate` (2 threads), and
    the CLI's `jitexpr bench` into a preallocated output; alternating rounds."""
    print(f"\nOther dtypes, {THREADS} threads, ms per call (allocating; CLI: into a "
          "preallocated output)")
    print(f"{'n':>9} {'dtype':>10} {'expr':<28} {'numpy':>8} {'numexpr':>8} "
          f"{'jitexpr':>8} {'CLI':>8} {'np/jx':>6} {'ne/jx':>6}")
    ne.set_num_threads(THREADS)
    if jx is not None:
        jx.set_num_threads(THREADS)
    for n in DTYPE_SIZES:
        for expr, dtype in DTYPE_ROWS:
            arrays, files = dtype_inputs(tmp, n, dtype)
            local = {k: v for k, v in arrays.items() if _uses(expr, k)}
            code = compile(expr, "<expr>", "eval")
            ns = dict(NUMPY_NS, **local)
            rep = 3 if quick else (10 if n <= 1_000_000 else 4)
            t_np, t_ne, t_jx = [], [], []
            for _ in range(1 if quick else 3):
                t_np.append(median_time(lambda: eval(code, ns), rep))
                try:
                    t_ne.append(median_time(lambda: ne.evaluate(expr, local_dict=local), rep))
                except Exception:  # noqa: BLE001  (numexpr lacks the dtype: a dash)
                    pass
                if jx is not None:
                    t_jx.append(median_time(lambda: jx.evaluate(expr, local_dict=local), rep))
            cli = jitexpr_bench(binary, expr, files, rep)["median_s"]
            med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
            np_t, ne_t, jx_t = med(t_np), med(t_ne), med(t_jx)
            ms = lambda x: "—" if x is None else f"{x * 1e3:.2f}"  # noqa: E731
            ratio = lambda x: "—" if x is None or not jx_t else f"{x / jx_t:.2f}"  # noqa: E731
            print(f"{n:>9.0e} {dtype:>10} {expr:<28} {ms(np_t):>8} {ms(ne_t):>8} "
                  f"{ms(jx_t):>8} {ms(cli):>8} {ratio(np_t):>6} {ratio(ne_t):>6}")
            del arrays, local, ns


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--quick",
        action="store_true",
        help="fast pass; exit 1 if any ratio on the standard set > 1.0",
    )
    p.add_argument("--bin", help="a built jitexpr binary (default: cargo build --release)")
    p.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help="comma-separated n (default 1e3,1e4,1e5,1e6,1e7)",
    )
    p.add_argument("--filter", default="", help="only expressions containing this text")
    p.add_argument(
        "--extra",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"also time {EXTRA_FILE.name} (default: on, off with --quick)",
    )
    p.add_argument(
        "--extra-only", action="store_true", help=f"time only {EXTRA_FILE.name}"
    )
    p.add_argument(
        "--dtypes-only",
        action="store_true",
        help="time only the complex and uint8 rows (a*b+c, abs(a)**2, exp(1j*a), where on uint8)",
    )
    p.add_argument(
        "--matmul-only",
        action="store_true",
        help="time only the matrix-multiplication section (A @ W, maximum(A @ W + b, 0))",
    )
    args = p.parse_args()
    if args.dtypes_only:
        binary = build(args)
        with tempfile.TemporaryDirectory(prefix="jitexpr-dtypes-") as tmpdir:
            dtype_section(Path(tmpdir), binary, args.quick)
        return 0
    if args.matmul_only:
        binary = build(args)
        with tempfile.TemporaryDirectory(prefix="jitexpr-matmul-") as tmpdir:
            matmul_section(Path(tmpdir), binary, args.quick)
        return 0
    with_extra = args.extra_only or (not args.quick if args.extra is None else args.extra)
    sets = [] if args.extra_only else [(False, STANDARD)]
    if with_extra:
        sets.append((True, load_extra()))
    if jx is None:
        print("warning: " + BINDINGS_MISSING.format(exe=sys.executable), file=sys.stderr)
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
            for extra_set, exprs in sets:
                for expr, dtype, mem in exprs:
                    if args.filter and args.filter not in expr:
                        continue
                    if dtype not in cache:
                        cache[dtype] = make_inputs(tmp, n, dtype)
                    arrays, files = cache[dtype]
                    row = run_row(
                        expr, dtype, n, mem, arrays, files, binary, args.quick, extra_set
                    )
                    rows.append(row)
                    print(
                        f"  {'extra: ' if extra_set else ''}{expr} {dtype} n={n}: jitexpr "
                        f"{row.jit_into * 1e9 / n:.2f} numexpr-2 {row.ne2 * 1e9 / n:.2f} ns/el",
                        file=sys.stderr,
                    )
            del cache
        calls = overhead(tmp, binary, args.quick)
    overall.end()
    standard = [r for r in rows if not r.extra_set]
    extra = [r for r in rows if r.extra_set]

    cores = os.cpu_count()
    print(f"## jitexpr vs numexpr {ne.__version__} vs NumPy {np.__version__}\n")
    notes = [
        (
            f"{time.strftime('%Y-%m-%d')}, {cpu_model()}, {cores} cores, Python "
            f"{platform.python_version()}; {THREADS} threads for jitexpr and numexpr-2T. "
            f"ns per element, median of repeats after a warm-up (at n = 1e3 that is also µs per "
            f"call). Ratios are jitexpr ÷ numexpr-2T: `evaluate` vs `evaluate` (both allocate), "
            f"`eval_into` vs `evaluate(out=)`."
        ),
    ]
    if any(r.jit_into_1t is not None for r in rows):
        notes.append(
            "At n = " + " and ".join(f"{n:.0e}" for n in ONE_THREAD_SIZES)
            + " jitexpr also runs with 1 thread: 2T speedup is jitexpr 1T eval_into ÷ "
            "eval_into (2 threads)."
        )
    if blosc2 is not None:
        notes.append(
            f"blosc2 {blosc2.__version__} 2T: `blosc2.evaluate` with {THREADS} threads, "
            "a reference only (no ratio)."
        )
    if jx is None:
        notes.append("Note: " + BINDINGS_MISSING.format(exe=sys.executable) + ".")
    print(" ".join(notes) + "\n")
    bad: list[str] = []
    if standard:
        print_table(standard, best_triad, bad)
    if extra:
        print("### Extra expressions (not tuned for)\n")
        print(
            f"From benches/{EXTRA_FILE.name}: typical numexpr and pandas expressions outside "
            "the standard set, for checking general speed; nothing is tuned for them and "
            "their ratios do not make `--quick` fail. Same columns as above.\n"
        )
        extra_bad: list[str] = []
        print_table(extra, best_triad, extra_bad)
        if extra_bad:
            print(
                "\nextra expressions (not checked) where jitexpr is slower than numexpr-2T: "
                + "; ".join(extra_bad),
                file=sys.stderr,
            )
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
        for r in standard or extra:
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
            f"jitexpr first call ({'standard' if standard else 'extra'} set), kernel cache "
            "cleared, median over the sizes, per expression "
            "(each a second compile in the process): preparing the interpreted tier (what a "
            f"first call pays before evaluating; parse, checks, optimizer included) "
            f"{compile_range('compile_s')}",
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
            if any(getattr(r, attr) is not None for r in standard or extra):
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
