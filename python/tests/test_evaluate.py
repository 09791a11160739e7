"""jitexpr.evaluate, compile and their errors, checked against NumPy's values."""

import pickle
import threading
import time

import numpy as np
import pytest

import jitexpr
import jitexpr as ne

RNG = np.random.default_rng(7)
G_ARRAY = np.arange(5.0)  # found through the caller's globals


def test_values_match_numpy_for_each_dtype():
    for dtype in (np.float64, np.float32, np.int64, np.int32):
        a = (RNG.random(1001) * 100).astype(dtype)
        b = (RNG.random(1001) * 100 + 1).astype(dtype)
        r = jitexpr.evaluate("a * b + a // b - (a % b)", local_dict={"a": a, "b": b})
        expected = a * b + a // b - (a % b)
        assert r.dtype == expected.dtype
        np.testing.assert_allclose(r, expected, rtol=1e-6 if dtype == np.float32 else 1e-15)
    m = RNG.random(100) > 0.5
    n = RNG.random(100) > 0.5
    np.testing.assert_array_equal(jitexpr.evaluate("m & ~n | (m ^ n)"), m & ~n | (m ^ n))


def test_math_and_promotion_follow_numpy():
    a = RNG.random(1000).astype(np.float32)
    b = RNG.random(1000)
    r = ne.evaluate("sin(a)**2 + cos(b)**2")
    assert r.dtype == np.float64
    # sin of float32 is computed in float32 (as NumPy does), so compare at float32 precision.
    np.testing.assert_allclose(r, np.sin(a) ** 2 + np.cos(b) ** 2, rtol=1e-6)
    # Weak literals: float32 * 2.0 stays float32, like NumPy 2.
    assert ne.evaluate("a * 2.0").dtype == np.float32
    np.testing.assert_array_equal(ne.evaluate("where(a > 0.5, a, 0)"), np.where(a > 0.5, a, 0))


def test_reductions_and_broadcasting():
    x = RNG.random((30, 40))
    v = RNG.random(40)
    np.testing.assert_allclose(ne.evaluate("x / sum(x, axis=1)"), x / x.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(ne.evaluate("sum(x * v)"), (x * v).sum(), rtol=1e-13)
    r = ne.evaluate("max(x, axis=0) - min(x, axis=0)")
    np.testing.assert_array_equal(r, x.max(axis=0) - x.min(axis=0))
    assert ne.evaluate("mean(x)").shape == ()


def test_any_strides_without_changing_values():
    base = RNG.random((40, 60))
    for view in (base[::-1], base[:, ::2], base.T, base[::3, ::-2], np.asfortranarray(base)):
        r = ne.evaluate("2 * v + 1", local_dict={"v": view})
        np.testing.assert_array_equal(r, 2 * view + 1)
    # A Fortran-ordered input gives a Fortran-ordered result (order='K').
    f = np.asfortranarray(base)
    assert ne.evaluate("f + 1").flags.f_contiguous
    assert ne.evaluate("f + 1", order="C").flags.c_contiguous


def test_python_and_numpy_scalars():
    a = np.arange(4, dtype=np.int32)
    k = 3
    f = 0.5
    flag = True
    np.testing.assert_array_equal(ne.evaluate("a * k"), a * np.int64(3))
    assert ne.evaluate("a * k").dtype == np.int64  # a Python int variable is an int64 array
    np.testing.assert_array_equal(ne.evaluate("a * f"), a * 0.5)
    np.testing.assert_array_equal(ne.evaluate("where(flag, a, 0)"), a)
    s = np.float32(2)
    assert ne.evaluate("s * 2").dtype == np.float32


NEW_DTYPES = [np.int8, np.int16, np.uint8, np.uint16, np.uint32, np.uint64, np.float16]


@pytest.mark.parametrize("dtype", NEW_DTYPES)
def test_narrow_unsigned_and_half_arrays_are_read_in_place(dtype, monkeypatch):
    import jitexpr._coerce

    def no_conversion(*args):
        raise AssertionError(f"converted {args[0]!r}")

    # An input of one of the twelve dtypes is read as it is: never converted.
    monkeypatch.setattr(jitexpr._coerce, "coerce", no_conversion)
    x = (np.arange(40) * 7 - 50).astype(dtype)
    y = x[::-2]
    for expr in ["x + x", "x * 3", "x - 1", "where(x > 2, x, 0)", "sum(x)", "max(x)"]:
        want = eval(expr, {"where": np.where, "sum": np.sum, "max": np.max}, {"x": x})
        got = ne.evaluate(expr, local_dict={"x": x})
        assert got.dtype == np.asarray(want).dtype, (expr, got.dtype)
        np.testing.assert_array_equal(got, want)
    got = ne.evaluate("y * 2", local_dict={"y": y})
    np.testing.assert_array_equal(got, y * 2)
    assert got.dtype == dtype


def test_new_dtypes_promote_as_numpy():
    i8 = np.array([-128, -1, 0, 1, 127], dtype=np.int8)
    u8 = np.array([0, 1, 2, 200, 255], dtype=np.uint8)
    h = np.array([0.5, -1.5, 2.0, 65504.0, 0.1], dtype=np.float16)
    q = np.array([0, 1, 2, 2**63, 2**64 - 1], dtype=np.uint64)
    env = {"i8": i8, "u8": u8, "h": h, "q": q}
    for expr in ["i8 + u8", "h * i8", "q + i8", "u8 / u8", "sin(u8)", "h + 1", "u8 + 1", "q // 3"]:
        with np.errstate(all="ignore"):
            want = eval(expr, {"sin": np.sin}, env)
        got = ne.evaluate(expr, local_dict=env)
        assert got.dtype == want.dtype, (expr, got.dtype, want.dtype)
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-3)
    with pytest.raises(ValueError, match="out of bounds for uint8"):
        ne.evaluate("u8 + 300", local_dict=env)


def test_safe_conversions():
    big = np.arange(5, dtype=">f8")  # non-native byte order
    np.testing.assert_array_equal(ne.evaluate("big * 2"), np.arange(5.0) * 2)
    lst = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(ne.evaluate("lst * 2"), [2.0, 4.0, 6.0])


@pytest.mark.parametrize(
    "value, fragment",
    [
        (np.arange(3, dtype=np.clongdouble), "complex256"),
        (np.arange(3, dtype=np.longdouble), "float128"),
        (np.array(["a", "b"]), "<U1"),
        (np.array([object(), 1], dtype=object), "object"),
        ("text", "str"),
    ],
)
def test_unsupported_dtypes_are_rejected_clearly(value, fragment):
    with pytest.raises(TypeError) as info:
        ne.evaluate("x + 1", local_dict={"x": value})
    assert "'x'" in str(info.value) and fragment in str(info.value)


def test_frame_lookup_local_global_and_dicts():
    a = np.arange(3.0)
    np.testing.assert_array_equal(ne.evaluate("a + 1"), a + 1)
    np.testing.assert_array_equal(ne.evaluate("G_ARRAY * 2"), G_ARRAY * 2)
    # local_dict given, global_dict omitted: the caller's globals still count (numexpr's rule).
    np.testing.assert_array_equal(
        ne.evaluate("q + G_ARRAY", local_dict={"q": np.ones(5)}), 1 + G_ARRAY
    )
    np.testing.assert_array_equal(
        ne.evaluate("q", local_dict={"q": a}, global_dict={"q": a * 0}), a
    )

    def inner():
        a = np.full(3, 10.0)  # shadows the outer `a`
        return ne.evaluate("a + 1")

    np.testing.assert_array_equal(inner(), np.full(3, 11.0))


def test_constants_and_variables_of_the_same_name():
    x = np.ones(2)
    np.testing.assert_allclose(ne.evaluate("x * pi"), np.pi * x)
    e = np.full(2, 3.0)  # a variable named like a constant takes precedence
    np.testing.assert_array_equal(ne.evaluate("x * e"), x * 3.0)


def test_re_evaluate_uses_new_values():
    a = np.arange(4.0)
    first = ne.evaluate("a * 2 + 1")
    a = np.arange(4.0) + 10
    np.testing.assert_array_equal(ne.re_evaluate(), a * 2 + 1)
    np.testing.assert_array_equal(first, np.arange(4.0) * 2 + 1)
    np.testing.assert_array_equal(ne.re_evaluate(local_dict={"a": np.ones(2)}), [3.0, 3.0])


def test_re_evaluate_without_evaluate_in_this_thread():
    errors = []

    def run():
        try:
            ne.re_evaluate()
        except RuntimeError as e:
            errors.append(str(e))

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert errors and "previous evaluate()" in errors[0]


def test_out_same_dtype_is_written_in_place():
    a = RNG.random(1000)
    b = RNG.random(1000)
    out = np.empty(1000)
    r = ne.evaluate("a * b + 1", out=out)
    assert r is out
    np.testing.assert_array_equal(out, a * b + 1)
    strided = np.empty((1000, 2))[:, 0]  # a non-contiguous output
    ne.evaluate("a - b", out=strided)
    np.testing.assert_array_equal(strided, a - b)


def test_out_overlapping_inputs_gives_the_unaliased_result():
    a = np.arange(10.0)
    ne.evaluate("a * 2", out=a)  # numexpr's in-place idiom
    np.testing.assert_array_equal(a, np.arange(10.0) * 2)
    # A reversed view of the output: in-place element order would read written values.
    x = np.arange(10.0)
    rev = x[::-1]
    expected = rev + x
    ne.evaluate("rev + x", out=x)
    np.testing.assert_array_equal(x, expected)
    # Reductions reading an input that is also the output.
    m = np.arange(6.0)
    ne.evaluate("m - mean(m)", out=m)
    np.testing.assert_array_equal(m, np.arange(6.0) - 2.5)


def test_out_of_a_safely_wider_dtype():
    a = np.arange(5, dtype=np.float32)
    out = np.zeros(5)
    ne.evaluate("a * 2", out=out)
    np.testing.assert_array_equal(out, np.arange(5.0) * 2)


def test_out_errors():
    a = np.arange(5.0)
    with pytest.raises(ValueError) as info:  # a shape error, with the core's message
        ne.evaluate("a * 2", out=np.empty(4))
    assert isinstance(info.value, ne.JitexprShapeError)
    assert "output array has shape (4,) but the result has shape (5,)" in str(info.value)
    with pytest.raises(ValueError, match=r"shape \(2, 5\)"):  # no silent broadcasting on the slow path
        ne.evaluate("a * 2", out=np.empty((2, 5), dtype=np.float32))
    with pytest.raises(TypeError, match="output array is int32 but the expression gives float64"):
        ne.evaluate("a * 2", out=np.empty(5, dtype=np.int32))
    ro = np.empty(5)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        ne.evaluate("a * 2", out=ro)
    with pytest.raises(TypeError, match="out must be a NumPy array"):
        ne.evaluate("a * 2", out=[0.0] * 5)
    out = np.zeros(5, dtype=np.float32)
    with pytest.raises(TypeError, match="under casting='safe'"):
        ne.evaluate("a * 2", out=out)  # float64 into float32 is not safe
    ne.evaluate("a * 2", out=out, casting="same_kind")
    np.testing.assert_array_equal(out, np.arange(5.0) * 2)


def test_syntax_error_is_a_syntaxerror_with_position_and_carets():
    a = np.ones(3)
    with pytest.raises(SyntaxError) as info:
        ne.evaluate("a + sin(a")
    e = info.value
    assert isinstance(e, ne.JitexprSyntaxError)
    # The error points at the end, where `)` was expected (1-based column 10).
    assert e.span[0] == 9 and e.offset == 10 and e.lineno == 1 and e.text == "a + sin(a"
    assert "unclosed `(`" in str(e) and "1 | a + sin(a" in str(e) and "^" not in e.message
    with pytest.raises(SyntaxError, match="conditional expressions are not supported"):
        ne.evaluate("a if a else a")
    with pytest.raises(SyntaxError, match="attribute access"):
        ne.evaluate("a.sum")


def test_unknown_names_are_keyerror_and_nameerror():
    a = np.ones(3)
    with pytest.raises(KeyError) as info:
        ne.evaluate("a + undefined_name")
    assert isinstance(info.value, NameError)
    assert info.value.name == "undefined_name"
    assert "unknown variable `undefined_name`" in str(info.value)
    assert "1 | a + undefined_name" in str(info.value)  # the caret diagnostic
    with pytest.raises(NameError, match="did you mean `cos`"):
        ne.evaluate("coss(a)")


def test_shape_type_value_and_limit_errors():
    a = np.ones(3)
    b = np.ones((2, 4))
    with pytest.raises(ValueError, match="could not be broadcast") as info:
        ne.evaluate("a + b")
    assert "`+` of (3,) and (2, 4)" in str(info.value)
    i = np.ones(3, dtype=np.int32)
    with pytest.raises(ValueError, match="out of bounds for int32") as info:
        ne.evaluate("i + 3000000000")
    assert isinstance(info.value, ne.JitexprValueError)
    m = np.ones(3, dtype=bool)
    with pytest.raises(TypeError, match="bool") as info:
        ne.evaluate("m - m")
    assert isinstance(info.value, ne.JitexprTypeError)
    # Nesting is limited only by the 256 KiB length limit (numexpr issue #473:
    # 400 parentheses).
    np.testing.assert_array_equal(ne.evaluate("(" * 400 + "a" + ")" * 400), a)
    np.testing.assert_array_equal(ne.evaluate("-(" * 10_001 + "a" + ")" * 10_001), -a)
    with pytest.raises(ValueError, match="bytes long; the limit is 262144") as info:
        ne.evaluate("(" * 140_000 + "a" + ")" * 140_000)
    assert isinstance(info.value, ne.JitexprLimitError)
    empty = np.ones(0)
    with pytest.raises(ValueError) as info:
        ne.evaluate("min(empty)")
    assert isinstance(info.value, ne.JitexprValueError)
    with pytest.raises(ValueError, match="axis"):
        ne.evaluate("sum(a, axis=3)")


def test_bad_arguments():
    a = np.ones(2)
    with pytest.raises(TypeError, match="unexpected keyword"):
        ne.evaluate("a", bogus=1)
    with pytest.raises(ValueError, match="unknown backend"):
        ne.evaluate("a", backend="cuda")
    with pytest.raises(TypeError, match="must be a str"):
        ne.evaluate(b"a")
    with pytest.raises(ValueError, match="at least 1"):
        ne.set_num_threads(0)
    # numexpr's keywords are accepted.
    np.testing.assert_array_equal(ne.evaluate("a", optimization="aggressive", truediv=True), a)


def test_backends_agree():
    a = RNG.random(3000) * 10 - 5
    b = RNG.random(3000) * 10 - 5
    ex = "where(a > b, sqrt(abs(a)) * b, a // (b + 0.5)) + sum(a)"
    jit = ne.evaluate(ex, backend="jit", math="reference")
    interp = ne.evaluate(ex, backend="interpreter")
    np.testing.assert_array_equal(jit, interp)


def test_gpu_backend_without_gpu_feature_is_a_clear_error():
    a = np.ones(3, dtype=np.float32)
    if ne.has_gpu():
        pytest.skip("this build has the GPU backend (feature gpu)")
    with pytest.raises(NotImplementedError, match="no GPU backend"):
        ne.evaluate("a + 1", backend="gpu")


def test_threads():
    previous = ne.get_num_threads()
    assert ne.set_num_threads(1) == previous
    assert ne.get_num_threads() == 1
    a = RNG.random(300_000)
    one = ne.evaluate("sum(sin(a))")
    ne.set_num_threads(2)
    assert ne.get_num_threads() == 2
    assert ne.evaluate("sum(sin(a))") == one  # fixed 8192-element blocks: thread-independent
    ne.set_num_threads(previous)
    assert ne.detect_number_of_cores() >= 1


def test_evaluation_releases_the_gil():
    a = RNG.random(4_000_000)
    ne.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        ne.evaluate("sum(arctan2(sin(a), cos(a)) ** 1.5)", math="reference")
        duration = time.perf_counter() - t0
        done = threading.Event()
        failures = []

        def work():
            try:
                ne.evaluate("sum(arctan2(sin(a), cos(a)) ** 1.5)", local_dict={"a": a}, math="reference")
            except BaseException as e:  # reported below; the loop must end either way
                failures.append(e)
            finally:
                done.set()

        t = threading.Thread(target=work)
        t.start()
        max_gap, last = 0.0, time.perf_counter()
        deadline = last + 60
        while not done.is_set() and last < deadline:
            now = time.perf_counter()
            max_gap, last = max(max_gap, now - last), now
        t.join(timeout=60)
        assert not t.is_alive(), "the evaluation in the worker thread did not finish in 60 s"
        assert not failures, failures
    finally:
        ne.set_num_threads(ne.detect_number_of_cores())
    # With the GIL held, this thread would stall for the whole evaluation.
    assert duration > 0.05
    assert max_gap < duration / 2, (max_gap, duration)


def test_compile_run_positional_keyword_and_out():
    a = RNG.random(100)
    b = RNG.random(100)
    k = ne.compile("a * b + c", {"a": "float64", "b": np.float64, "c": float})
    assert k.names == ["a", "b", "c"] and k.dtype == "float64" and k.source == "a * b + c"
    np.testing.assert_array_equal(k(a, b, 1.5), a * b + 1.5)
    np.testing.assert_array_equal(k.run(a=a, b=b, c=np.float64(2)), a * b + 2)
    out = np.empty(100)
    assert k(a, b, c=0.0, out=out) is out
    np.testing.assert_array_equal(out, a * b)
    assert "a: float64" in repr(k)
    k2 = pickle.loads(pickle.dumps(k))
    np.testing.assert_array_equal(k2(a, b, 1.0), a * b + 1)
    # numexpr's NumExpr with a list signature; the default dtype is float64.
    nk = ne.NumExpr("2*x + y", [("x", np.int32), ("y", np.int32)])
    assert nk.dtype == "int32"
    np.testing.assert_array_equal(nk(np.arange(3, dtype=np.int32), np.ones(3, np.int8)), [1, 3, 5])
    assert ne.compile("x + 1").signature == [("x", "float64")]


def test_compile_errors():
    with pytest.raises(SyntaxError):
        ne.compile("a +", {"a": "float64"})
    with pytest.raises(KeyError):
        ne.compile("a + b", {"a": "float64"})
    with pytest.raises(TypeError, match="not supported"):
        ne.compile("a", {"a": np.clongdouble})
    with pytest.raises(ValueError, match="twice"):
        ne.compile("a", [("a", "float64"), ("a", "float64")])
    k = ne.compile("a + 1", {"a": "int32"})
    with pytest.raises(TypeError, match="compiled for int32") as info:
        k(np.ones(2))  # float64 into int32 would lose values
    assert isinstance(info.value, ne.JitexprTypeError)
    with pytest.raises(TypeError, match="does not convert exactly"):
        k(2.5)
    np.testing.assert_array_equal(k(7), np.int32(8))
    with pytest.raises(TypeError, match="takes 1 arrays"):
        k(1, 2)
    with pytest.raises(TypeError, match="unexpected input 'b'"):
        k(b=1)
    with pytest.raises(TypeError, match="by position and by name"):
        k(1, a=1)
    with pytest.raises(KeyError, match="missing input `a`"):
        k()


def test_ctrl_c_cancels_a_long_evaluation_and_raises_keyboard_interrupt():
    # SIGINT while a long evaluation runs with the GIL released: the call is
    # cancelled (its own token) and raises KeyboardInterrupt within a fraction of
    # a second, instead of when the evaluation would have finished.
    import os
    import signal

    expr = "sum(sin(a) * cos(a) + tanh(a) + arctan2(a, a + 1))"
    # Long enough to interrupt: 4e6 elements took 0.48 s on a fast Xeon, so
    # the size doubles (up to 3 times) until the evaluation takes over 0.5 s.
    for n in (4_000_000, 8_000_000, 16_000_000, 32_000_000):
        a = np.linspace(0.0, 1.0, n)
        start = time.perf_counter()
        full = jitexpr.evaluate(expr, local_dict={"a": a}, backend="interpreter")
        full_time = time.perf_counter() - start
        if full_time > 0.5:
            break
    assert full_time > 0.5, full_time
    timer = threading.Timer(0.1, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        jitexpr.evaluate(expr, local_dict={"a": a}, backend="interpreter")
    elapsed = time.perf_counter() - start
    timer.join()
    assert elapsed < 0.5 * full_time, (elapsed, full_time)
    # The next evaluation is not affected.
    again = jitexpr.evaluate(expr, local_dict={"a": a}, backend="interpreter")
    assert again == full


def test_jitexpr_dask_without_dask_says_how_to_install_it(monkeypatch):
    import importlib
    import sys

    for name in [m for m in sys.modules if m == "dask" or m.startswith("dask.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "jitexpr.dask", raising=False)
    monkeypatch.setitem(sys.modules, "dask", None)  # `import dask...` now fails
    with pytest.raises(ImportError, match=r"pip install 'dask\[array\]'"):
        importlib.import_module("jitexpr.dask")
