"""`@` from Python: NumPy's matmul values, shapes and dtypes, fused epilogues, errors."""

import numpy as np
import pytest

import jitexpr

RNG = np.random.default_rng(19)


def _close(got, want, dtype):
    tol = 1e-5 if np.dtype(dtype) == np.float32 else 1e-12
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "ashape, bshape",
    [
        ((7, 5), (5, 3)),
        ((5,), (5, 3)),
        ((7, 5), (5,)),
        ((5,), (5,)),
        ((2, 1, 4, 5), (3, 5, 2)),
        ((0, 5), (5, 3)),
        ((300, 260), (260, 270)),  # more than one 256×256 tile
    ],
)
def test_matmul_equals_numpy(dtype, ashape, bshape):
    a = RNG.standard_normal(ashape).astype(dtype)
    b = RNG.standard_normal(bshape).astype(dtype)
    _close(jitexpr.evaluate("a @ b"), a @ b, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_epilogues_equal_numpy(dtype):
    x = RNG.standard_normal((300, 40)).astype(dtype)
    w = RNG.standard_normal((40, 270)).astype(dtype)
    b = RNG.standard_normal(270).astype(dtype)
    _close(jitexpr.evaluate("maximum(x @ w + b, 0)"), np.maximum(x @ w + b, 0), dtype)
    _close(jitexpr.evaluate("exp(-(x @ w) / 4)"), np.exp(-(x @ w) / 4).astype(dtype), dtype)
    y = RNG.standard_normal(300).astype(dtype)
    v = w[:, 0].copy()
    got = jitexpr.evaluate("sum((x @ v - y)**2)")
    want = np.sum((x @ v - y) ** 2)
    np.testing.assert_allclose(got, want, rtol=1e-4 if dtype == np.float32 else 1e-12)


def test_non_contiguous_and_integer_operands():
    a = RNG.integers(-100, 100, (9, 12)).astype(np.int32)
    b = RNG.integers(-100, 100, (6, 12)).astype(np.int32)
    got = jitexpr.evaluate("a @ bt", local_dict={"a": a[::-1], "bt": b.T})
    want = a[::-1] @ b.T
    assert got.dtype == want.dtype and np.array_equal(got, want)
    f = np.asfortranarray(RNG.standard_normal((8, 6)))
    g = f.T.copy()
    np.testing.assert_allclose(jitexpr.evaluate("f @ g"), f @ g, rtol=1e-12)


def test_shape_mismatch_is_a_shape_error_naming_both_shapes():
    a = np.ones((5, 3))
    b = np.ones((4, 2))
    with pytest.raises(jitexpr.JitexprShapeError) as e:
        jitexpr.evaluate("a @ b")
    assert "(5, 3)" in str(e.value) and "(4, 2)" in str(e.value)
