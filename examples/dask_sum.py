"""jitexpr over a Dask array: sin(x)**2 + cos(y)**2 and its sum, 20000 x 20000.

    pip install ./python dask[array] distributed     # or python/test.sh, then python/.venv
    python examples/dask_sum.py                      # a LocalCluster on this machine
    python examples/dask_sum.py --n 4000             # a smaller problem
    python examples/dask_sum.py --scheduler tcp://scheduler:8786   # any Dask cluster

The inputs are generated on the workers (never sent from here), the expression is
compiled once here (errors show at once) and run by each worker on its blocks.
"""

import argparse
import time

import dask.array as da
from dask.distributed import Client, LocalCluster

import jitexpr.dask as jd


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20000, help="the arrays are n x n (default 20000)")
    p.add_argument("--chunk", type=int, default=2000, help="chunk edge (default 2000)")
    p.add_argument("--scheduler", help="address of an existing scheduler (default: a LocalCluster)")
    args = p.parse_args()

    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(host="127.0.0.1", dashboard_address="127.0.0.1:0")
        client = Client(cluster)
    print(client)

    rng = da.random.default_rng(0)
    n, c = args.n, args.chunk
    x = rng.random((n, n), chunks=(c, c))
    y = rng.random((n, n), chunks=(c, c))

    r = jd.evaluate("sin(x)**2 + cos(y)**2", x=x, y=y)  # lazy, one blockwise layer
    print(f"{r!r}\nr[:2, :4] = {r[:2, :4].compute()}")

    t = time.perf_counter()
    total = jd.evaluate("sum(sin(x)**2 + cos(y)**2)", x=x, y=y).compute()
    seconds = time.perf_counter() - t
    print(f"sum(sin(x)**2 + cos(y)**2) = {total:.6f} over {n * n:,} elements in {seconds:.2f} s")
    # For U, V uniform in [0, 1): E[sin²U] + E[cos²V] = (1/2 - sin(2)/4) + (1/2 + sin(2)/4) = 1.
    print(f"mean = {total / (n * n):.6f} (expected about 1)")
    client.close()


if __name__ == "__main__":
    main()
