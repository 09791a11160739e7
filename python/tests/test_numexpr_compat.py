"""numexpr's own expression list, run through jitexpr.evaluate and compared with numexpr.

The list is imported from the installed numexpr (``numexpr.tests.test_numexpr.tests``),
not copied, and the variables are built exactly as numexpr's ``test_expressions``
builds them: for int64, float32 and float64, with ``a`` or ``b`` a scalar or not.
Complex numbers are outside jitexpr; ``test_complex_inputs_are_rejected`` checks
the error instead.
"""

import warnings

import numpy as np
import pytest

import jitexpr

numexpr = pytest.importorskip("numexpr")
from numexpr.tests import test_numexpr as T  # noqa: E402

ARRAY_SIZE = 100
DTYPES = (np.int64, np.float32, np.float64)

# Functions numexpr has and jitexpr does not; `x.real` is attribute access, which
# jitexpr's grammar rejects. Each must be a clear JitexprError, never a wrong value.
NOT_IN_JITEXPR = ("conj(", ".real")

# Where jitexpr departs from numexpr on purpose (README, "Where jitexpr departs from
# NumPy or numexpr"): `int ** negative int` is an integer in jitexpr (0, or ±1 for a
# base of ±1; NumPy raises), a float in numexpr. Those cases are checked against
# exact powers instead.
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
    assert T.equal(expected, got, False), (
        f"{expr!r} dtype={np.dtype(dtype).name} scalar={test_scalar}: "
        f"numexpr {expected!r}, jitexpr {got!r}"
    )


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
    assert len(CASES) == 9 * sum(len(e) for _, e in T.tests)


def test_complex_inputs_are_rejected():
    a = np.arange(3) * (1 + 1j)
    with pytest.raises(TypeError, match="no complex numbers"):
        jitexpr.evaluate("a + 1", local_dict={"a": a})


def test_reductions_take_numexprs_positional_axis():
    a = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(jitexpr.evaluate("sum(a, 1)"), a.sum(axis=1))
    np.testing.assert_array_equal(jitexpr.evaluate("max(a, 0)"), a.max(axis=0))
    np.testing.assert_array_equal(jitexpr.evaluate("sum(a, -1)"), jitexpr.evaluate("sum(a, axis=-1)"))
