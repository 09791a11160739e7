"""numexpr's own expression list, run through jitexpr.evaluate and compared with numexpr.

The list is imported from the installed numexpr (``numexpr.tests.test_numexpr.tests``),
not copied, and the variables are built exactly as numexpr's ``test_expressions``
builds them: for int64, float32, float64 and complex128, with ``a`` or ``b`` a
scalar or not.
"""

import warnings

import numpy as np
import pytest

import jitexpr

numexpr = pytest.importorskip("numexpr")
from numexpr.tests import test_numexpr as T  # noqa: E402

ARRAY_SIZE = 100
DTYPES = (np.int64, np.float32, np.float64, np.complex128)

# Every function of numexpr's list is in jitexpr (`contains`, of strings, is not in it).
NOT_IN_JITEXPR = ()

# Where jitexpr departs from numexpr on purpose (README, "Where jitexpr departs from
# NumPy or numexpr"): `int ** negative int` is an integer in jitexpr (0, or ±1 for a
# base of ±1; NumPy raises), a float in numexpr. Those cases are checked against
# exact powers instead.
# Filled by the test: (expression, dtype) where numexpr departs from NumPy and
# jitexpr gives NumPy's value (printed by the last test, for the README).
DEPARTURES = set()

INT_NEGATIVE_POWER = ("** -1", "**-7", "**-2.5", "**-1.5", "**-1.3", "**-.5")


def _variables(dtype, test_scalar):
    a = np.arange(2 * ARRAY_SIZE, dtype=dtype)[::2]
    a2 = np.zeros([ARRAY_SIZE, ARRAY_SIZE], dtype=dtype)
    b = np.arange(ARRAY_SIZE, dtype=dtype) / ARRAY_SIZE
    c = np.arange(ARRAY_SIZE, dtype=dtype)
    d = np.arange(ARRAY_SIZE, dtype=dtype)
    e = np.arange(ARRAY_SIZE, dtype=dtype)
    if test_scalar == 1:
        a = a[ARRAY_SIZE // 2]
    if test_scalar == 2:
        b = b[ARRAY_SIZE // 2]
    return {"a": a, "a2": a2, "b": b, "c": c, "d": d, "e": e}


CASES = [
    (section, expr, dtype, test_scalar)
    for section, exprs in T.tests
    for expr in exprs
    for dtype in DTYPES
    for test_scalar in (0, 1, 2)
]


def _numpy_value(expr, env):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return eval(expr, {"np": np, **{k: getattr(np, k) for k in dir(np)}}, dict(env))


@pytest.mark.parametrize(
    "section, expr, dtype, test_scalar",
    CASES,
    ids=[f"{s}:{e}:{np.dtype(d).name}:{t}" for s, e, d, t in CASES],
)
def test_numexpr_expression(section, expr, dtype, test_scalar):
    env = _variables(dtype, test_scalar)
    if any(f in expr for f in NOT_IN_JITEXPR):
        with pytest.raises(jitexpr.JitexprError):
            jitexpr.evaluate(expr, local_dict=env)
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = numexpr.evaluate(expr, local_dict=dict(env))
    except Exception as numexpr_error:  # numexpr rejects it: so must jitexpr, or give NumPy's value
        try:
            got = jitexpr.evaluate(expr, local_dict=env)
        except jitexpr.JitexprError:
            return
        np.testing.assert_allclose(got, _numpy_value(expr, env), rtol=1e-6, err_msg=str(numexpr_error))
        return
    got = jitexpr.evaluate(expr, local_dict=env)
    if np.dtype(dtype).kind == "i" and any(p in expr.replace(" ", "") for p in INT_NEGATIVE_POWER):
        return _check_negative_integer_power(expr, env, got)
    assert np.shape(got) == np.shape(expected)
    # numexpr's own comparison (allclose, atol 1e-8, or 1e-5 for float32; NaN and inf counts).
    if T.equal(expected, got, False):
        return
    # Where numexpr departs from NumPy (complex division by zero, complex
    # powers, ...: README), jitexpr gives NumPy's value.
    want = np.asarray(_numpy_value(expr, env))
    assert _same(want, got), (
        f"{expr!r} dtype={np.dtype(dtype).name} scalar={test_scalar}: "
        f"numexpr {expected!r}, NumPy {want!r}, jitexpr {got!r}"
    )
    assert not _same(want, expected), f"{expr!r}: numexpr equals NumPy but not jitexpr"
    DEPARTURES.add((expr, np.dtype(dtype).name))


def _check_negative_integer_power(expr, env, got):
    # jitexpr: integer result; compare with exact integer powers of the base.
    base = np.asarray(eval(expr.split("**")[0].strip(), {}, dict(env)))
    exponent = float(expr.split("**")[1].strip())
    with np.errstate(all="ignore"):
        expected = np.power(base.astype(np.float64), exponent)
    if got.dtype.kind == "i":
        expected = np.where(np.abs(base) == 1, expected, 0).astype(got.dtype)
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_the_list_is_numexprs():
    # A guard that the parametrization really came from numexpr's list.
    sections = [name for name, _ in T.tests]
    assert sections == ["MISC", "OPERATIONS", "COMPARISONS", "1_ARG_FUNCS", "2_ARG_FUNCS", "POW_TESTS"]
    assert len(CASES) == 3 * len(DTYPES) * sum(len(e) for _, e in T.tests)


def test_complex_inputs_are_read_in_place_and_returned_as_complex():
    a = np.arange(3) * (1 + 1j)
    z = np.array([1 - 2j, 0.5j, -3 + 0j], dtype=np.complex64)
    got = jitexpr.evaluate("a + 1", local_dict={"a": a})
    assert got.dtype == np.complex128
    np.testing.assert_array_equal(got, a + 1)
    got = jitexpr.evaluate("z * 1j + conj(z)", local_dict={"z": z})
    assert got.dtype == np.complex64
    np.testing.assert_array_equal(got, z * np.complex64(1j) + np.conj(z))
    np.testing.assert_array_equal(jitexpr.evaluate("(a - 10).real", local_dict={"a": a}), (a - 10).real)
    np.testing.assert_array_equal(jitexpr.evaluate("abs(z)**2", local_dict={"z": z}), np.abs(z) ** 2)
    # Strided and reversed views are read in place too.
    np.testing.assert_array_equal(jitexpr.evaluate("exp(a)", local_dict={"a": a[::-2]}), np.exp(a[::-2]))
    # A Python complex is a complex128 scalar; a float32 array with a weak literal stays complex64.
    f = np.ones(2, dtype=np.float32)
    assert jitexpr.evaluate("f * 1j", local_dict={"f": f}).dtype == np.complex64
    assert jitexpr.evaluate("f * k", local_dict={"f": f, "k": 2j}).dtype == np.complex128
    out = np.empty(3, dtype=np.complex128)
    jitexpr.evaluate("sqrt(a)", local_dict={"a": a}, out=out)
    np.testing.assert_allclose(out, np.sqrt(a), rtol=1e-15)


def test_reductions_take_numexprs_positional_axis():
    a = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(jitexpr.evaluate("sum(a, 1)"), a.sum(axis=1))
    np.testing.assert_array_equal(jitexpr.evaluate("max(a, 0)"), a.max(axis=0))
    np.testing.assert_array_equal(jitexpr.evaluate("sum(a, -1)"), jitexpr.evaluate("sum(a, axis=-1)"))


def _same(want, got):
    """numexpr's tolerance, part by part for complex (NaN equal to NaN)."""
    want, got = np.asarray(want), np.asarray(got)
    if want.dtype.kind != "c" and got.dtype.kind != "c":
        return T.equal(want, got, False)
    return all(
        np.allclose(p(want), p(got), rtol=1e-6, atol=1e-8, equal_nan=True) for p in (np.real, np.imag)
    )


def test_zz_list_numexpr_departures(capsys):
    # Runs after the expressions (file order): the cases where jitexpr follows NumPy.
    with capsys.disabled():
        for expr, dtype in sorted(DEPARTURES):
            print(f"numexpr departs from NumPy: {expr!r} ({dtype})")
    assert all(isinstance(e, str) for e, _ in DEPARTURES)
