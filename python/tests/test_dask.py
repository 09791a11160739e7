"""jitexpr.dask on a real distributed LocalCluster (two worker processes, loopback only).

Inputs are generated on the workers (``da.random.default_rng``), fetched once to
compute NumPy's answer, and compared with what the jitexpr graph computes.
"""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import jitexpr  # noqa: E402
import jitexpr.dask as jd  # noqa: E402
from dask.blockwise import Blockwise  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def data(client):
    rng = da.random.default_rng(0)
    x = rng.random((600, 500), chunks=(200, 150))
    y = rng.random((600, 500), chunks=(250, 100))  # chunked differently from x
    v = rng.random((500,), chunks=(120,))  # lower rank: broadcasts along the last axis
    col = rng.random((600, 1), chunks=(100, 1))  # an axis of length 1 broadcasts
    n = rng.integers(0, 100, size=(600, 500), chunks=(300, 250), dtype=np.int32)
    arrays = dict(x=x, y=y, v=v, col=col, n=n)
    values = dict(zip(arrays, client.compute(list(arrays.values()), sync=True)))
    return arrays, values


def test_elementwise_with_different_chunks_and_broadcasting(data):
    arrays, np_ = data
    r = jd.evaluate("sin(x)**2 + cos(y)**2 + v * col", **arrays)
    assert isinstance(r, da.Array) and r.shape == (600, 500) and r.dtype == np.float64
    # One blockwise layer runs the kernel (inputs of different chunks are aligned first).
    assert isinstance(r.dask.layers[r.name], Blockwise)
    expected = np.sin(np_["x"]) ** 2 + np.cos(np_["y"]) ** 2 + np_["v"] * np_["col"]
    np.testing.assert_allclose(r.compute(), expected, rtol=1e-14)


def test_numpy_arrays_scalars_and_dtypes(data):
    arrays, np_ = data
    w = np.linspace(0, 1, 500)  # a NumPy array joins as one chunk
    k = 3
    r = jd.evaluate("where(n > 50, n * k, -n) + w", n=arrays["n"], w=w, k=k)
    expected = np.where(np_["n"] > 50, np_["n"] * np.int64(3), -np_["n"]) + w
    assert r.dtype == expected.dtype
    np.testing.assert_array_equal(r.compute(), expected)
    # int32 only: the result stays int32, as NumPy 2 gives.
    r = jd.evaluate("n // 7 + n % 7", n=arrays["n"])
    assert r.dtype == np.int32
    np.testing.assert_array_equal(r.compute(), np_["n"] // 7 + np_["n"] % 7)


def test_frame_lookup(data):
    arrays, np_ = data
    x = arrays["x"]  # noqa: F841 (read from this frame)
    r = jd.evaluate("2 * x + 1")
    np.testing.assert_allclose(r.compute(), 2 * np_["x"] + 1)


def test_reductions(data):
    arrays, np_ = data
    x, y, v = np_["x"], np_["y"], np_["v"]
    s = jd.evaluate("sum(x * y)", **arrays)
    assert s.shape == () and s.dtype == np.float64
    assert "jitexpr-sum" in "".join(map(str, s.dask.layers))  # through dask's reduction machinery
    np.testing.assert_allclose(s.compute(), (x * y).sum(), rtol=1e-12)
    m = jd.evaluate("max(x - v, axis=0)", **arrays)
    assert m.shape == (500,)
    np.testing.assert_array_equal(m.compute(), (x - v).max(axis=0))
    mn = jd.evaluate("min(y, axis=-1)", **arrays)
    np.testing.assert_array_equal(mn.compute(), y.min(axis=-1))
    mean = jd.evaluate("mean(x * 2, axis=1)", **arrays)
    np.testing.assert_allclose(mean.compute(), (x * 2).mean(axis=1), rtol=1e-13)
    count = jd.evaluate("sum(x > 0.5)", **arrays)
    assert count.dtype == np.int64 and count.compute() == (x > 0.5).sum()
    assert jd.evaluate("any(x > 0.999999)", **arrays).compute() == (x > 0.999999).any()
    assert jd.evaluate("all(x >= 0)", **arrays).compute()
    imean = jd.evaluate("mean(n)", n=arrays["n"])
    assert imean.dtype == np.float64
    np.testing.assert_allclose(imean.compute(), np_["n"].mean(), rtol=1e-14)


def test_errors_are_raised_when_building_the_graph(data):
    arrays, _ = data
    with pytest.raises(KeyError, match="unknown variable `z`"):
        jd.evaluate("x + z", x=arrays["x"])
    with pytest.raises(SyntaxError):
        jd.evaluate("x +", x=arrays["x"])
    with pytest.raises(ValueError, match="could not be broadcast"):
        jd.evaluate("x + v", x=arrays["x"], v=da.ones(7))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        jd.evaluate("sum(x, axis=2)", x=arrays["x"])
    with pytest.raises(TypeError, match="not supported"):
        jd.evaluate("u + 1", u=da.ones(3, dtype=np.clongdouble))
    assert isinstance(jd.evaluate("a + 1", a=np.ones(3)), da.Array)  # NumPy only: still lazy-typed


def test_complex_passes_through(data):
    arrays, np_ = data
    z = arrays["x"] + 1j * arrays["y"]  # complex128, built lazily on the workers
    r = jd.evaluate("abs(z)**2 + real(z * conj(z)) * 1j", z=z)
    assert r.dtype == np.complex128
    zz = np_["x"] + 1j * np_["y"]
    np.testing.assert_allclose(r.compute(), np.abs(zz) ** 2 + (zz * np.conj(zz)).real * 1j, rtol=1e-14)
    s = jd.evaluate("sum(exp(1j * x))", x=arrays["x"]).compute()
    np.testing.assert_allclose(s, np.exp(1j * np_["x"]).sum(), rtol=1e-12)


def test_matrix_products_contract_blocks_then_apply_the_epilogue(data):
    """`@` over chunked 2-d arrays: blocks multiplied by jitexpr kernels and the
    partial products summed per output block, the expression around it after."""
    arrays, np_ = data
    x, v, n = arrays["x"], arrays["v"], arrays["n"]
    rng = da.random.default_rng(1)
    w = rng.random((500, 130), chunks=(90, 60))  # inner axis chunked unlike x's
    b = np.linspace(-1, 1, 130)
    W = w.compute()
    cases = [
        ("x @ w", np_["x"] @ W),
        ("maximum(x @ w - 120 + b, 0)", np.maximum(np_["x"] @ W - 120 + b, 0)),
        ("x @ v", np_["x"] @ np_["v"]),
        ("v @ w", np_["v"] @ W),
        ("sum((x @ w - 100)**2)", np.sum((np_["x"] @ W - 100) ** 2)),
        ("(x - mean(x)) @ w", (np_["x"] - np_["x"].mean()) @ W),
    ]
    for ex, want in cases:
        r = jd.evaluate(ex, x=x, w=w, b=b, v=v)
        assert isinstance(r, da.Array), ex
        got = r.compute()
        assert got.shape == want.shape and got.dtype == want.dtype, ex
        # Sums of 500 products of ~0.25, in another order: to rounding (1e-13 absolute).
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9, err_msg=ex)
    # Integers: exact, int32 wrapping as NumPy's.
    m = n[:, :40].astype(np.int32) * 1000003
    got = jd.evaluate("m @ n", m=m.T, n=n).compute()
    want = np_["n"][:, :40].T.astype(np.int32) * np.int32(1000003) @ np_["n"]
    assert got.dtype == want.dtype and np.array_equal(got, want)
    with pytest.raises(jitexpr.JitexprShapeError, match="inner dimensions"):
        jd.evaluate("x @ x", x=x)
