"""The fast call path (python/src/lib.rs, raw.rs): evaluate's per-expression cache,
the name lookup it does in Rust, arrays read through the NumPy C API, and the Ctrl-C
watch, checked against NumPy."""

import collections.abc
import os
import signal
import threading
import time

import numpy as np
import pytest

import jitexpr as ne

RNG = np.random.default_rng(11)
G_SCALE = 3.0  # found through the caller's globals


def test_cache_hit_follows_a_new_dtype_of_the_same_name():
    ex = "x * 2 + 1"
    for dtype in (np.float64, np.int32, np.float32, np.int64, np.bool_, np.float64):
        x = np.arange(6).astype(dtype)
        r = ne.evaluate(ex, local_dict={"x": x})
        expected = x * 2 + 1
        assert r.dtype == expected.dtype, dtype
        np.testing.assert_array_equal(r, expected)


def test_a_name_that_changes_between_array_and_scalar():
    a = np.arange(4.0)
    for k, expected_dtype in ((np.arange(4.0), np.float64), (2.5, np.float64), (3, np.float64),
                              (True, np.float64), (np.float32(2), np.float64),
                              (np.arange(4, dtype=np.int32), np.float64), (7, np.float64)):
        r = ne.evaluate("a * k", local_dict={"a": a, "k": k})
        assert r.dtype == expected_dtype
        np.testing.assert_array_equal(r, a * k)
    # Alone, a Python number is a 0-d array of NumPy's dtype for it.
    for k, dtype in ((2.5, np.float64), (3, np.int64), (True, np.bool_), (2**40, np.int64)):
        r = ne.evaluate("k", local_dict={"k": k})
        assert r.shape == () and r.dtype == dtype and r == k
    # np.asarray(2**63) is uint64, which jitexpr computes in (NEP 50: + 1 stays uint64).
    r = ne.evaluate("k + 1", local_dict={"k": 2**63})
    assert r.dtype == np.uint64 and r == 2**63 + 1


def test_a_name_that_appears_and_disappears():
    d = {"a": np.ones(3)}
    with pytest.raises(KeyError, match="b"):
        ne.evaluate("a + b", local_dict=d, global_dict={})
    d["b"] = np.full(3, 2.0)
    np.testing.assert_array_equal(ne.evaluate("a + b", local_dict=d, global_dict={}), [3.0] * 3)
    del d["b"]
    with pytest.raises(KeyError, match="b"):
        ne.evaluate("a + b", local_dict=d, global_dict={})


def test_built_in_constants_are_taken_from_the_dicts_only_as_values():
    x = np.ones(2)
    np.testing.assert_allclose(ne.evaluate("x * pi", local_dict={"x": x, "pi": "text"}), np.pi * x)
    np.testing.assert_array_equal(ne.evaluate("x * pi", local_dict={"x": x, "pi": 2}), 2 * x)
    # The local dict decides: a non-value there hides a global value.
    r = ne.evaluate("x * pi", local_dict={"x": x, "pi": None}, global_dict={"pi": 5.0})
    np.testing.assert_allclose(r, np.pi * x)
    np.testing.assert_array_equal(
        ne.evaluate("x * pi", local_dict={"x": x}, global_dict={"pi": np.float32(5)}), 5 * x)


class _Mapping(collections.abc.Mapping):
    def __init__(self, d):
        self.d = d

    def __getitem__(self, k):
        return self.d[k]

    def __iter__(self):
        return iter(self.d)

    def __len__(self):
        return len(self.d)


class _Defaults(dict):
    def __contains__(self, k):
        return True

    def __missing__(self, k):
        return np.zeros(3)


def test_dicts_can_be_any_mapping():
    a = np.arange(3.0)
    np.testing.assert_array_equal(ne.evaluate("a + 1", local_dict=_Mapping({"a": a})), a + 1)
    np.testing.assert_array_equal(
        ne.evaluate("a + b", local_dict={"a": a}, global_dict=_Mapping({"b": a})), 2 * a)
    # A dict subclass is asked through its own `in` and `[]`.
    np.testing.assert_array_equal(ne.evaluate("a + zz", local_dict=_Defaults(a=a)), a)


def _wrapper(ex):
    return ne.evaluate(ex, _frame_depth=2)  # the variables of the wrapper's caller


def test_frame_lookup_depth_locals_globals_and_module_level():
    a = np.arange(3.0)
    np.testing.assert_array_equal(_wrapper("a * G_SCALE"), a * 3.0)

    def inner():
        b = np.full(3, 2.0)
        assert a is not None  # `a` is a closure variable: in f_locals
        return ne.evaluate("a * b")

    np.testing.assert_array_equal(inner(), a * 2.0)
    # At module level f_locals is f_globals.
    g = {"ne": ne, "np": np, "G": 1.0}
    exec("c = np.arange(3.0)\nresult = ne.evaluate('c + G')", g)
    np.testing.assert_array_equal(g["result"], np.arange(3.0) + 1)
    with pytest.raises(ValueError, match="call stack is not deep enough"):
        ne.evaluate("a", _frame_depth=10_000)


def test_re_evaluate_after_a_cache_hit_with_new_dtypes():
    a = np.arange(4.0)
    ne.evaluate("a * 2", order="C")
    a = np.arange(4, dtype=np.int32)
    r = ne.re_evaluate()
    assert r.dtype == np.int32
    np.testing.assert_array_equal(r, a * 2)
    out = np.empty(4)
    b = np.arange(4.0)
    ne.evaluate("b + 1", out=out)
    b = np.full(4, 5.0)
    assert ne.re_evaluate() is out
    np.testing.assert_array_equal(out, [6.0] * 4)


def test_re_evaluate_is_per_thread():
    a = np.arange(3.0)
    ne.evaluate("a + 1")
    seen = []

    def run():
        x = np.ones(2)
        ne.evaluate("x * 10")
        seen.append(ne.re_evaluate())

    t = threading.Thread(target=run)
    t.start()
    t.join()
    np.testing.assert_array_equal(seen[0], [10.0, 10.0])
    np.testing.assert_array_equal(ne.re_evaluate(), a + 1)


def test_failed_evaluate_does_not_replace_the_last_call():
    a = np.arange(3.0)
    ne.evaluate("a * 3")
    with pytest.raises(KeyError):
        ne.evaluate("nope + 1")
    np.testing.assert_array_equal(ne.re_evaluate(), a * 3)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32", "bool"])
def test_layouts_read_in_place(dtype):
    base = (RNG.random((7, 9, 5)) * 100).astype(dtype)
    views = [
        base, base[::-1], base[:, ::-2, :], base[::2, :, ::-3], base.T, np.asfortranarray(base),
        base[3:3], base[::-1][0:0, :, ::-1], base[:, :1, :], base[:, 4:5, ::-1], base[2],
        base[2, 3, 4], np.broadcast_to(base[:1], (4, 9, 5)),
        np.lib.stride_tricks.as_strided(base, (3, 1, 2), (base.strides[0], 7, base.strides[2])),
    ]
    for v in views:
        r = ne.evaluate("v", local_dict={"v": v})
        assert r.dtype == v.dtype and r.shape == v.shape
        np.testing.assert_array_equal(r, v)
        r = ne.evaluate("where(v == v, v, v)", local_dict={"v": v})
        np.testing.assert_array_equal(r, v)


def test_unaligned_and_byte_swapped_arrays_are_converted():
    raw = np.zeros(8 * 10 + 1, dtype=np.uint8)
    unaligned = raw[1:].view(np.float64)
    unaligned[:] = np.arange(10.0)
    assert not unaligned.flags.aligned
    np.testing.assert_array_equal(ne.evaluate("u * 2", local_dict={"u": unaligned}), np.arange(10.0) * 2)
    swapped = np.arange(6, dtype=">i4")[::-1]
    r = ne.evaluate("s + 1", local_dict={"s": swapped})
    assert r.dtype == np.int32
    np.testing.assert_array_equal(r, np.arange(6)[::-1] + 1)


def test_out_with_any_strides_is_written_in_place():
    a = RNG.random((6, 8))
    for out in (np.empty((6, 8))[::-1], np.empty((8, 6)).T, np.empty((6, 16))[:, ::-2],
                np.empty((6, 8), order="F")):
        r = ne.evaluate("a * 2 + 1", local_dict={"a": a}, out=out)
        assert r is out
        np.testing.assert_array_equal(out, a * 2 + 1)
    empty = np.empty((0, 3))
    assert ne.evaluate("e + 1", local_dict={"e": np.ones((0, 3))}, out=empty) is empty


def test_compiled_kernel_scalars_and_conversions():
    k = ne.compile("a * b + c", {"a": "float64", "b": "float64", "c": "float64"})
    a = RNG.random(5)
    np.testing.assert_array_equal(k(a, a, 1.5), a * a + 1.5)
    np.testing.assert_array_equal(k(a, 2, c=True), a * 2 + 1)  # exact conversions
    i = ne.compile("n + 1", {"n": "int32"})
    assert i(np.int16(3)).dtype == np.int32
    assert i(5).dtype == np.int32
    with pytest.raises(TypeError, match="does not convert exactly"):
        i(2.5)
    with pytest.raises(TypeError, match="does not convert exactly"):
        i(2**40)
    with pytest.raises(TypeError, match="compiled for int32"):
        i(np.arange(3, dtype=np.int64))


def test_result_is_not_a_copy_and_owns_its_memory():
    a = RNG.random(100)
    r = ne.evaluate("a + 1")
    r[0] = -1.0  # writeable
    assert r.flags.writeable and r.flags.c_contiguous
    assert not np.shares_memory(r, a)


def test_large_evaluations_off_the_main_thread_and_into_out():
    a = RNG.random(1 << 20)
    results = []
    t = threading.Thread(target=lambda: results.append(ne.evaluate("a * 2 + 1", local_dict={"a": a})))
    t.start()
    t.join()
    np.testing.assert_array_equal(results[0], a * 2 + 1)
    out = np.empty_like(a)
    assert ne.evaluate("a * 2 + 1", out=out) is out
    np.testing.assert_array_equal(out, a * 2 + 1)
    # Watched by the result's size: two small inputs, a large broadcast result
    # (2**25 elements, priced over 20 ms per thread).
    x, y = RNG.random((4096, 1)), RNG.random((1, 8192))
    np.testing.assert_allclose(ne.evaluate("sum(x * y)"), (x * y).sum(), rtol=1e-12)


def test_ctrl_c_cancels_a_large_broadcast_on_the_jit():
    # The inputs are small (2 x 16000 elements), the work is not (256M elements):
    # the watch follows the result's size.
    x = np.linspace(0.0, 1.0, 16000).reshape(-1, 1)
    y = np.linspace(1.0, 2.0, 16000).reshape(1, -1)
    expr = "sum(arctan2(x, y) * tanh(x + y) + sin(x * y) * exp(-x))"
    start = time.perf_counter()
    full = ne.evaluate(expr, local_dict={"x": x, "y": y})
    full_time = time.perf_counter() - start
    if full_time < 0.3:
        pytest.skip(f"too fast to interrupt reliably here ({full_time:.3f} s)")
    timer = threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        ne.evaluate(expr, local_dict={"x": x, "y": y})
    elapsed = time.perf_counter() - start
    timer.join()
    assert elapsed < 0.7 * full_time, (elapsed, full_time)
    assert ne.evaluate(expr, local_dict={"x": x, "y": y}) == full


def test_argument_errors_in_order():
    a = np.ones(2)
    # Python's own message (evaluate is a vectorcall builtin without **kwargs).
    with pytest.raises(TypeError, match="evaluate\\(\\) got an unexpected keyword argument 'zz'"):
        ne.evaluate("a", zz=1, bogus=2, truediv=False)
    with pytest.raises(TypeError, match="must be a str, not int"):
        ne.evaluate(3)
    with pytest.raises(SyntaxError):  # the expression before the backend
        ne.evaluate("a +", backend="cuda")
    with pytest.raises(ValueError, match=r"unknown backend 3: use one of jit, interpreter, gpu"):
        ne.evaluate("a", backend=3)
    with pytest.raises(ValueError, match="unknown math"):
        ne.evaluate("a", math="exact")
    np.testing.assert_array_equal(ne.evaluate("a", backend="interp"), a)
    r = ne.evaluate("a", order="F")
    assert r.flags.f_contiguous


def test_new_results_have_the_broadcast_shape_and_order_k_layout():
    c = RNG.random((4, 6))
    f = np.asfortranarray(c)
    cases = [
        ("f + 1", {"f": f}, "F"),
        ("f + c", {"f": f, "c": c}, "C"),  # not every full-shape input is Fortran
        ("f + r", {"f": f, "r": RNG.random(6)}, "F"),  # a broadcast row does not count
        ("x + y", {"x": RNG.random((4, 1)), "y": RNG.random((1, 6))}, "C"),
        ("x * 2", {"x": f[::-1, ::2]}, "C"),
        ("s + v", {"s": 2.0, "v": RNG.random(5)}, "C"),
        ("s + t", {"s": 2.0, "t": np.float32(1)}, "C"),
        ("e + z", {"e": np.ones((0, 3)), "z": np.ones((1, 3))}, "C"),
        ("(x > 0.5) & (y < 0.5)", {"x": f, "y": f}, "F"),
        ("where(x > 0.5, n, 0)", {"x": c, "n": np.arange(6, dtype=np.int32)}, "C"),
    ]
    for ex, d, order in cases:
        r = ne.evaluate(ex, local_dict=d)
        # Python numbers are 0-d arrays (float64, int64), not NumPy's weak scalars.
        arrays = {k: np.asarray(v) for k, v in d.items()}
        expected = eval(ex.replace("where", "np.where"), {"np": np}, arrays)
        expected = np.asarray(expected)
        assert r.shape == expected.shape and r.dtype == expected.dtype, ex
        np.testing.assert_array_equal(r, expected)
        if r.ndim > 1 and r.size:
            assert r.flags.f_contiguous if order == "F" else r.flags.c_contiguous, ex
    # A compiled kernel's unused input does not shape the result.
    k = ne.compile("a * 2", {"a": "float64", "b": "float64"})
    assert k(np.ones(3), np.ones((5, 7))).shape == (3,)
    with pytest.raises(ValueError):  # shapes that do not broadcast: the core's error
        ne.evaluate("p + q", local_dict={"p": np.ones(3), "q": np.ones(4)})


def test_validate_returns_none_then_re_evaluate_runs_it():
    # numexpr.validate: check, return None, and re_evaluate() runs what was checked.
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(3, dtype=np.int32)
    assert ne.validate("a * b + 1") is None
    np.testing.assert_array_equal(ne.re_evaluate(), a * b + 1)
    # New values of the same names, through the caller's frame or the dicts.
    a = np.ones((2, 3))
    np.testing.assert_array_equal(ne.re_evaluate(), a * b + 1)
    np.testing.assert_array_equal(
        ne.re_evaluate(local_dict={"a": np.zeros((2, 3)), "b": b}), np.ones((2, 3))
    )
    # With out: re_evaluate writes into it, as numexpr's does.
    out = np.empty(2)
    assert ne.validate("sum(x, axis=1)", {"x": a}, out=out) is None
    assert ne.re_evaluate({"x": a * 2}) is out
    np.testing.assert_array_equal(out, [6.0, 6.0])
    # Keyword arguments evaluate takes are taken (and numexpr's ignored ones).
    assert ne.validate("x + 1", {"x": a}, order="C", casting="same_kind",
                       backend="interpreter", optimization="aggressive") is None


def test_validate_returns_the_exception_evaluate_would_raise():
    a = np.arange(6.0).reshape(2, 3)
    c = np.arange(4.0)
    cases = [
        ("a +", {"a": a}, {}, ne.JitexprSyntaxError),
        ("nope + a", {"a": a}, {}, ne.JitexprNameError),
        ("a + c", {"a": a, "c": c}, {}, ne.JitexprShapeError),  # shapes: (2, 3) and (4,)
        ("sum(a, axis=2)", {"a": a}, {}, ne.JitexprError),
        ("a & a", {"a": a}, {}, ne.JitexprTypeError),
        ("a", {"a": a}, {"out": np.empty((3, 2))}, ne.JitexprShapeError),
        ("a", {"a": a}, {"out": np.empty((2, 3), np.int32)}, ne.JitexprTypeError),
        ("a", {"a": a}, {"out": [0.0] * 6}, TypeError),
        ("a", {"a": a}, {"order": "Z"}, ValueError),
        ("a", {"a": a}, {"casting": "sometimes"}, ValueError),
        ("a", {"a": a}, {"backend": "tpu"}, ValueError),
        (3, {}, {}, TypeError),
    ]
    for ex, names, kwargs, kind in cases:
        e = ne.validate(ex, local_dict=names, **kwargs)
        assert isinstance(e, kind), (ex, kwargs, e)
        # evaluate raises the same kind of error.
        with pytest.raises(kind):
            ne.evaluate(ex, local_dict=names, **kwargs)
    # A read-only out.
    ro = np.empty((2, 3))
    ro.flags.writeable = False
    assert isinstance(ne.validate("a", {"a": a}, out=ro), ValueError)


def test_a_failed_validate_does_not_replace_the_last_call():
    a = np.arange(3.0)
    assert ne.validate("a * 5") is None
    assert ne.validate("a * ") is not None
    np.testing.assert_array_equal(ne.re_evaluate(), a * 5)


@pytest.mark.parametrize("shape", [(), (1,), (7,), (1000,), (3, 5), (4, 1, 6), (5, 1)])
def test_flat_runs_and_views_give_numpys_values_and_layout(shape):
    # C-contiguous inputs of one shape take the flat path (no views);
    # Fortran-ordered, strided, reversed and broadcast ones the general one.
    a = RNG.standard_normal(shape)
    b = RNG.standard_normal(shape)
    i = RNG.integers(-50, 50, shape).astype(np.int32)
    m = RNG.random(shape) < 0.5
    if a.size:
        a.flat[0] = np.nan
    cases = {"C": (a, b, i, m)}
    if len(shape) > 1:
        cases["F"] = tuple(np.asfortranarray(x) for x in (a, b, i, m))
    if shape and shape[0] > 2:
        cases["reversed"] = tuple(x[::-1] for x in (a, b, i, m))
        cases["broadcast"] = (a, b[:1], i, m)
    for kind, (a, b, i, m) in cases.items():
        d = {"a": a, "b": b, "i": i, "m": m}
        for ex, expected in (
            ("a * b + i", a * b + i),
            ("where(m, a, b) / 3", np.where(m, a, b) / 3),
            ("(a > b) | m", (a > b) | m),
            ("i * 3 - 1", i * 3 - 1),
        ):
            r = ne.evaluate(ex, local_dict=d)
            assert r.dtype == expected.dtype and r.shape == expected.shape, (kind, ex)
            np.testing.assert_array_equal(r, expected, err_msg=f"{kind} {ex}")
            if kind == "F" and r.ndim > 1:
                assert r.flags.f_contiguous, ex


def test_recycled_result_blocks_are_rewritten_and_never_shared():
    # Results of 4 MiB or more freed by NumPy are kept for the next result
    # of their size (`raw::Recycling`): a new result reusing one holds its
    # own values only, and a live result is never handed out again.
    n = 1 << 20  # 8 MiB of float64, 16 MiB of complex128
    x = np.linspace(-1.0, 1.0, n)
    z = x + 1j * x[::-1]
    for expr, want in (("x + 1", lambda k: x + k), ("z * z + 1", lambda k: z * z + k)):
        d = {"x": x, "z": z}
        live = [ne.evaluate(expr, local_dict=d) for _ in range(3)]
        del live[1]  # its block is kept
        live += [ne.evaluate(expr.replace("1", str(k)), local_dict=d) for k in (2, 3, 4)]
        for r, k in zip(live, (1, 1, 2, 3, 4)):
            # (Within rounding of NumPy's: each stale value is off by 1 or more.)
            np.testing.assert_allclose(r, want(k), rtol=1e-15, atol=0)
        for i, r in enumerate(live):
            for s in live[i + 1 :]:
                assert not np.shares_memory(r, s)


def test_a_freed_large_result_block_is_reused():
    # In a fresh interpreter, after results of two other sizes filled the
    # two slots: the block of a dropped 16 MiB result (kept, the oldest
    # evicted) is the next such result's.
    script = (
        "import numpy as np, jitexpr as ne\n"
        "for k in (19, 20): y = np.ones(1 << k); r = ne.evaluate('y + 1'); del r\n"
        "x = np.ones(1 << 21)\n"
        "r = ne.evaluate('x + 1'); a = r.__array_interface__['data'][0]; del r\n"
        "r = ne.evaluate('x + 2'); b = r.__array_interface__['data'][0]\n"
        "print(a == b, float(r.min()), float(r.max()))\n"
    )
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", "3.0", "3.0"]
