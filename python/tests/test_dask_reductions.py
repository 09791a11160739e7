"""jitexpr.dask reductions (issue 17): empty chunks, unknown chunk sizes, and
reductions inside larger expressions (staged passes), on the LocalCluster of
test_dask.py, compared with plain Dask (and the eager ``jitexpr.evaluate`` for
shapes, dtypes and error classes).
"""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import jitexpr  # noqa: E402
import jitexpr.dask as jd  # noqa: E402
import test_dask  # noqa: E402

# The LocalCluster and the random inputs of test_dask.py (module-scoped fixtures).
client = test_dask.client
data = test_dask.data


def _compute(client, *arrays):
    return client.compute(list(arrays), sync=True)


@pytest.fixture(scope="module")
def filtered(client):
    """Arrays with unknown chunk sizes (NaN) and empty chunks, as boolean indexing makes."""
    x = da.arange(100.0, chunks=10)
    a = x[x > 95]  # 10 chunks of unknown size, 9 of them empty
    xi = da.arange(100, chunks=10)
    ai = xi[xi > 95]  # the same in int64
    none = x[x > 200]  # every chunk empty
    rng = da.random.default_rng(1)
    m = rng.random((300, 40), chunks=(50, 15))
    b = m[m[:, 0] > 0.5]  # 2-D: unknown rows, known columns
    return {"a": a, "ai": ai, "none": none, "b": b}


def test_min_max_skip_empty_chunks(client, filtered):
    a, ai = filtered["a"], filtered["ai"]
    assert np.isnan(a.shape[0])
    # The reproducer: "zero-size array to reduction operation" before.
    assert jd.evaluate("max(a)", a=a).compute() == 99.0
    for func in ("min", "max"):
        for arr in (a, ai):
            r = jd.evaluate(f"{func}(a)", a=arr)
            got, expected = _compute(client, r, getattr(arr, func)())
            assert got.dtype == expected.dtype and got == expected
    # Known-size empty chunks too.
    z = da.from_array(np.arange(10.0) - 3, chunks=((0, 3, 0, 7, 0),))
    got = _compute(client, *(jd.evaluate(f"{f}(z)", z=z) for f in ("min", "max", "mean", "prod")))
    assert got == [-3.0, 6.0, 1.5, 0.0]


def test_all_reductions_with_empty_chunks(client, filtered):
    cases = [
        ("sum(a)", lambda a: a.sum()),
        ("prod(a)", lambda a: a.prod()),
        ("mean(a)", lambda a: a.mean()),
        ("any(a > 98)", lambda a: (a > 98).any()),
        ("all(a > 96)", lambda a: (a > 96).all()),
        ("sum(a > 97)", lambda a: (a > 97).sum()),
    ]
    for arr in (filtered["a"], filtered["ai"]):
        for ex, plain in cases:
            got, expected = _compute(client, jd.evaluate(ex, a=arr), plain(arr))
            assert got.dtype == expected.dtype, ex
            np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=ex)


def test_mean_with_unknown_chunk_sizes(client, filtered):
    a, b = filtered["a"], filtered["b"]
    # The reproducer: TypeError ('float' object cannot be interpreted as an integer).
    r = jd.evaluate("mean(a)", a=a)
    assert r.compute() == 97.5 == a.mean().compute()
    assert np.isnan(b.shape[0])
    for ex, plain in [
        ("mean(b, axis=0)", b.mean(axis=0)),
        ("mean(b, axis=1)", b.mean(axis=1)),
        ("sum(b * 2, axis=0)", (b * 2).sum(axis=0)),
        ("mean(b)", b.mean()),
        ("max(b, axis=-1)", b.max(axis=-1)),
    ]:
        got, expected = _compute(client, jd.evaluate(ex, b=b), plain)
        assert got.shape == expected.shape, ex
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=ex)


def test_nothing_to_reduce(client, filtered):
    none = filtered["none"]
    for func in ("min", "max"):
        with pytest.raises(ValueError):  # NumPy: zero-size array to reduction operation
            getattr(np.empty(0), func)()
        with pytest.raises(
            jitexpr.JitexprValueError,
            match=f"zero-size array to reduction operation {func} which has no identity",
        ):
            client.compute(jd.evaluate(f"{func}(a)", a=none), sync=True)
        # Also when the empty reduction sits inside an expression.
        with pytest.raises(ValueError, match="zero-size array"):
            client.compute(jd.evaluate(f"a - {func}(a)", a=none), sync=True)
    # The others give their identity; the mean of nothing is NaN (as NumPy, without its warning).
    got = _compute(
        client, *(jd.evaluate(f"{f}(a)", a=none) for f in ("sum", "prod", "any", "all", "mean"))
    )
    assert got[:4] == [0.0, 1.0, False, True] and np.isnan(got[4])
    # An axis reduction over an empty axis raises; over an empty other axis it is empty.
    with pytest.raises(ValueError, match="zero-size array"):
        client.compute(jd.evaluate("max(z, axis=0)", z=da.zeros((0, 5), chunks=2)), sync=True)
    assert jd.evaluate("max(z, axis=0)", z=da.zeros((5, 0), chunks=2)).compute().shape == (0,)


# Reductions inside expressions: the expression, the plain Dask equivalent. Where a
# result cancels to about 0 (a - mean(a) near the mean, sum(a - mean(a))), the
# order of summation shows at the level of the inputs' rounding: ATOL says how much
# (1e-12 times the size of what was summed, the inputs being in [0, 1)).
STAGED = [
    ("a - mean(a)", lambda a: a - a.mean()),
    ("sum(a)*2", lambda a: a.sum() * 2),
    ("sum(a - mean(a))", lambda a: (a - a.mean()).sum()),
    ("max(a) - min(a)", lambda a: a.max() - a.min()),
    ("mean(a - mean(a))", lambda a: (a - a.mean()).mean()),
    (
        "a / sum(a, axis=0) - mean(a, axis=1)",
        lambda a: a / a.sum(axis=0) - a.mean(axis=1, keepdims=True),
    ),
    ("a / sum(a, axis=1)", lambda a: a / a.sum(axis=1, keepdims=True)),
    ("sum(a, axis=1) / 2", lambda a: a.sum(axis=1) / 2),
    ("max(a, axis=0) - min(a, axis=0)", lambda a: a.max(axis=0) - a.min(axis=0)),
    ("where(a > mean(a), a, 0)", lambda a: da.where(a > a.mean(), a, 0)),
    (
        "a - mean(a - mean(a, axis=1), axis=0)",
        lambda a: a - (a - a.mean(axis=1, keepdims=True)).mean(axis=0),
    ),
    ("sum(a / sum(a, axis=1), axis=1)", lambda a: (a / a.sum(axis=1, keepdims=True)).sum(axis=1)),
    ("sqrt(mean((a - mean(a))**2))", lambda a: da.sqrt(((a - a.mean()) ** 2).mean())),
]


ATOL = {  # times the number of elements summed
    "a - mean(a)": 1e-12 / 300_000,
    "sum(a - mean(a))": 1e-12,
    "mean(a - mean(a))": 1e-12 / 300_000,
    "a - mean(a - mean(a, axis=1), axis=0)": 1e-12 / 300_000,
}


@pytest.mark.parametrize("ex,plain", STAGED, ids=[s[0] for s in STAGED])
def test_reductions_inside_expressions(client, data, ex, plain):
    arrays, np_ = data
    x = arrays["x"]
    r = jd.evaluate(ex, a=x)
    assert isinstance(r, da.Array)
    eager = jitexpr.evaluate(ex, local_dict={"a": np_["x"]})
    assert r.shape == eager.shape and r.dtype == eager.dtype
    got, expected = _compute(client, r, plain(x))
    assert got.shape == expected.shape == eager.shape
    if not any(f in ex for f in ("sum", "mean")):  # min and max: exact
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(got, eager)
    else:
        atol = ATOL.get(ex, 0.0) * x.size
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=atol)
        np.testing.assert_allclose(got, eager, rtol=1e-12, atol=atol)


def test_reductions_inside_expressions_with_unknown_chunk_sizes(client, filtered):
    a, b = filtered["a"], filtered["b"]
    for ex, plain in STAGED[:5]:
        got, expected = _compute(client, jd.evaluate(ex, a=a), plain(a))
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=ex)
    np.testing.assert_allclose(jd.evaluate("a - mean(a)", a=a).compute(), [-1.5, -0.5, 0.5, 1.5])
    for ex, plain in STAGED[5:]:
        got, expected = _compute(client, jd.evaluate(ex, a=b), plain(b))
        assert got.shape == expected.shape, ex
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=ex)


def test_axis_reductions_broadcast_back(client, data):
    arrays, np_ = data
    x, y, v, col = arrays["x"], arrays["y"], arrays["v"], arrays["col"]
    cases = [
        # A lower-rank operand: its reduction keeps its own rank, (1,), and broadcasts.
        ("x + sum(v, axis=0)", x + v.sum(axis=0, keepdims=True)),
        ("sum(x, axis=1) + v", x.sum(axis=1, keepdims=True) + v),
        ("x - max(y, axis=0) * col", x - y.max(axis=0) * col),
        (
            "x / sum(x * y, axis=-1) + mean(col)",
            x / (x * y).sum(axis=-1, keepdims=True) + col.mean(),
        ),
        ("sum(x, 1) - max(x, -1)", x.sum(axis=1) - x.max(axis=-1)),  # numexpr's positional axis
        ("x - mean(x)  # centred\n  + 0 * max(y)", x - x.mean() + 0 * y.max()),
    ]
    for ex, plain in cases:
        r = jd.evaluate(ex, **arrays)
        eager = jitexpr.evaluate(ex, local_dict=np_)
        assert r.shape == eager.shape == plain.shape, ex
        got, expected = _compute(client, r, plain)
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=ex)


def test_float32_and_integer_inputs(client, data):
    arrays, np_ = data
    f = arrays["x"].astype(np.float32)
    n = arrays["n"]  # int32
    f32 = [
        ("f - mean(f)", f - f.mean()),
        ("f / sum(f, axis=0)", f / f.sum(axis=0)),
        ("mean(f, axis=1) * 2", f.mean(axis=1) * np.float32(2)),
        ("max(f) - min(f, axis=0)", f.max() - f.min(axis=0)),
    ]
    for ex, plain in f32:
        r = jd.evaluate(ex, f=f)
        got, expected = _compute(client, r, plain)
        assert r.dtype == got.dtype == expected.dtype == np.float32, ex
        np.testing.assert_allclose(got, expected, rtol=1e-5, err_msg=ex)
    ints = [
        ("n - min(n, axis=1)", n - n.min(axis=1, keepdims=True), np.int32),
        ("sum(n) * 2", n.sum(dtype=np.int64) * 2, np.int64),
        ("max(n, axis=0) - min(n, axis=0)", n.max(axis=0) - n.min(axis=0), np.int32),
        (
            "prod(n > 0, axis=1) + sum(n % 3, axis=1)",
            (n > 0).prod(axis=1) + (n % 3).sum(axis=1),
            np.int64,
        ),
        ("any(n > 98, axis=0) & (n > 50)", (n > 98).any(axis=0) & (n > 50), np.bool_),
    ]
    for ex, plain, dtype in ints:
        r = jd.evaluate(ex, n=n)
        got, expected = _compute(client, r, plain)
        assert r.dtype == got.dtype == dtype, ex
        np.testing.assert_array_equal(got, expected, err_msg=ex)
    r = jd.evaluate("mean(n) - n", n=n)
    assert r.dtype == np.float64
    np.testing.assert_allclose(r.compute(), np_["n"].mean() - np_["n"], rtol=1e-12)


def test_staged_graph(client, data):
    arrays, np_ = data
    x = arrays["x"]
    # Lazy, one reduction pass per distinct reduction call: mean(x) twice is one pass.
    r = jd.evaluate("x - mean(x) + mean(x) * max(x, axis=0)", x=x)
    layers = [str(name) for name in r.dask.layers]
    assert sum(name.startswith("jitexpr-mean-aggregate") for name in layers) == 1
    assert sum(name.startswith("jitexpr-max-aggregate") for name in layers) == 1
    expected = np_["x"] - np_["x"].mean() + np_["x"].mean() * np_["x"].max(axis=0)
    np.testing.assert_allclose(r.compute(), expected, rtol=1e-12)
    # A variable named like the generated ones is left alone.
    r = jd.evaluate("__jx_r0 - mean(x)", x=x, __jx_r0=2.0)
    np.testing.assert_allclose(r.compute(), 2.0 - np_["x"].mean(), rtol=1e-12)
    # NumPy inputs and scalars work through the same stages.
    r = jd.evaluate("w / sum(w) + k", w=np_["v"], k=1)
    np.testing.assert_allclose(r.compute(), np_["v"] / np_["v"].sum() + 1, rtol=1e-12)


@pytest.mark.parametrize(
    "ex",
    [
        "x - sum(x, axis=2)",
        "sum(x, axis=-3) * 2",
        "x / mean(x - max(x, axis=5))",
        "sum(x - mean(x), axis=2)",
        "mean(v, axis=1) + x",
        "x - sum(x, axis=k)",
        "x - mean(z)",
        "x - foo(x)",
        "x - sum(x,",
        "x - sum(v + x[:, 0])",
        "x - mean(x) + v2",
    ],
)
def test_errors_match_eager(data, ex):
    arrays, np_ = data
    eager_values = dict(np_, k=1, v2=np.ones(7))
    lazy_values = dict(arrays, k=1, v2=da.ones(7))
    with pytest.raises(jitexpr.JitexprError) as eager:
        jitexpr.evaluate(ex, local_dict=eager_values, global_dict={})
    with pytest.raises(jitexpr.JitexprError) as lazy:  # while building the graph
        jd.evaluate(ex, local_dict=lazy_values, global_dict={})
    assert type(lazy.value) is type(eager.value), (lazy.value, eager.value)


def test_deep_nesting(client, data):
    """jitexpr nests as deep as its 256 KiB limit; Python's parser (which splits
    expressions at their reductions) stops near 200 parentheses: a clear error."""
    arrays, np_ = data
    x = arrays["x"]
    # No reduction: never parsed by Python.
    ex = "-(" * 10_001 + "x" + ")" * 10_001
    (got,) = _compute(client, jd.evaluate(ex, local_dict={"x": x}, global_dict={}))
    np.testing.assert_array_equal(got, -np_["x"])
    # A top-level reduction of a deep operand: split by jitexpr, not Python.
    ex = "sum(" + "(" * 5_000 + "x" + ")" * 5_000 + ", axis=--1)"
    (got,) = _compute(client, jd.evaluate(ex, local_dict={"x": x}, global_dict={}))
    np.testing.assert_allclose(got, np_["x"].sum(axis=1), rtol=1e-12)
    # A reduction inside an expression nested deeper than Python parses.
    ex = "x - " + "(" * 1_000 + "mean(x)" + ")" * 1_000
    with pytest.raises(jitexpr.JitexprUnsupportedError) as e:
        jd.evaluate(ex, local_dict={"x": x}, global_dict={})
    assert "Python's parser rejects it" in str(e.value)
    assert len(e.value.message) < 300  # the expression is shortened


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.uint32, np.uint64, np.float16])
def test_narrow_unsigned_and_half_dtypes_pass_through(client, dtype):
    """The new dtypes stay themselves through the graph: elementwise results and
    reductions have NumPy's dtypes and values (chunks of several sizes)."""
    x = (np.arange(1000) * 37 % 251).astype(dtype)
    dx = da.from_array(x, chunks=((300, 300, 250, 150),))
    for expr, want in [
        ("x * 2 + 1", x * dtype(2) + dtype(1)),
        ("where(x > 100, x - 100, x)", np.where(x > 100, x - dtype(100), x)),
        ("sum(x)", x.sum()),
        ("max(x)", x.max()),
        ("min(x)", x.min()),
        ("mean(x)", x.mean()),
    ]:
        got = jd.evaluate(expr, x=dx)
        assert got.dtype == np.asarray(want).dtype, (expr, got.dtype)
        got = got.compute()
        assert got.dtype == np.asarray(want).dtype, (expr, got.dtype)
        np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=1e-3)
