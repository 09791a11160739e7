#!/usr/bin/env python3
"""Golden files for tests/cli_io.rs, written by NumPy (the independent source).

Run from anywhere with /work/venv/bin/python tests/data/npy/make_npy.py; it rewrites
every file in this directory except itself. The values written here are hard-coded
again in tests/cli_io.rs (reading) and the expected `print()` text of each array in
print_cases.npz is written to print_expected.txt (formatting).
"""
import io
import os
import pathlib
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
for old in HERE.iterdir():
    if old.suffix in (".npy", ".npz", ".txt"):
        old.unlink()


def save(name, arr, **kw):
    np.save(HERE / name, arr, **kw)


# --- Supported dtypes: every dtype x order x byte order, 2x3 -------------------------
nan, inf = np.nan, np.inf
FLOAT = [[1.5, -2.25, 0.1], [nan, inf, -0.0]]
I4 = [[1, -2, 3], [2147483647, -2147483648, 0]]
I8 = [[1, -2, 3], [2**62, -(2**63), 2**63 - 1]]
B1 = [[True, False, True], [False, False, True]]
BASE = {"f8": FLOAT, "f4": FLOAT, "i8": I8, "i4": I4}
for code, values in BASE.items():
    for endian, tag in (("<", "le"), (">", "be")):
        a = np.array(values, dtype=endian + code)
        assert a.dtype.str == endian + code
        save(f"{code}_C_{tag}.npy", np.ascontiguousarray(a))
        f = np.asfortranarray(a)
        assert f.flags.f_contiguous and not f.flags.c_contiguous
        save(f"{code}_F_{tag}.npy", f)
# The narrow and unsigned integers and float16 (one-byte ones have no byte order).
NEW = {
    "i1": [[1, -2, 127], [-128, 0, 5]],
    "u1": [[0, 1, 255], [128, 7, 200]],
    "i2": [[1, -2, 3], [32767, -32768, 0]],
    "u2": [[1, 2, 3], [65535, 0, 300]],
    "u4": [[1, 2, 3], [2**32 - 1, 0, 70000]],
    "u8": [[1, 2, 3], [2**64 - 1, 0, 2**63]],
    "f2": FLOAT,
    "c8": [[1 + 2j, -0.5 - 0j, complex(inf, -2)], [complex(nan, 1), 0.1 + 0.2j, -3j]],
    "c16": [[1 + 2j, -0.5 - 0j, complex(inf, -2)], [complex(nan, 1), 0.1 + 0.2j, -3j]],
}
for code, values in NEW.items():
    tags = (("|", "le"),) if code.endswith("1") else (("<", "le"), (">", "be"))
    for endian, tag in tags:
        a = np.array(values, dtype=endian + code)
        assert a.dtype.str == endian + code, a.dtype.str
        save(f"{code}_C_{tag}.npy", np.ascontiguousarray(a))
        save(f"{code}_F_{tag}.npy", np.asfortranarray(a))
save("b1_C.npy", np.array(B1, dtype="|b1"))
save("b1_F.npy", np.asfortranarray(np.array(B1, dtype="|b1")))

# A Fortran-ordered 3-D array: value = 100*i + 10*j + k.
a3 = np.fromfunction(lambda i, j, k: 100 * i + 10 * j + k, (2, 3, 4), dtype=np.int64)
save("i8_F_3d.npy", np.asfortranarray(a3))

# 0-d arrays.
save("f8_0d.npy", np.array(3.25))
save("f4_0d.npy", np.array(-0.5, dtype=np.float32))
save("i8_0d.npy", np.array(-7, dtype=np.int64))
save("i4_0d.npy", np.array(42, dtype=np.int32))
save("b1_0d.npy", np.array(True))
save("f8_0d_be.npy", np.array(3.25, dtype=">f8"))

# Empty arrays.
for code in ("f8", "f4", "i8", "i4", "b1"):
    save(f"{code}_empty.npy", np.zeros(0, dtype=code))
save("f8_empty_2x0.npy", np.zeros((2, 0)))
save("i4_empty_0x3_F.npy", np.asfortranarray(np.zeros((0, 3), dtype=np.int32)))

# Format versions 2.0 and 3.0 of the same array.
for version in ((2, 0), (3, 0)):
    with open(HERE / f"f8_v{version[0]}.npy", "wb") as fh:
        np.lib.format.write_array(fh, np.array([1.0, 2.0, 3.0]), version=version)

# --- Unsupported dtypes --------------------------------------------------------------
save("c32.npy", np.array([1 + 2j], dtype=np.clongdouble))
save("obj.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
save("str.npy", np.array(["abc"]))
save("structured.npy", np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]))

# --- .npz ----------------------------------------------------------------------------
np.savez(HERE / "two.npz", a=np.array([1.0, 2.0, 3.0]), b=np.array([[1, 2], [3, 4]], dtype=np.int32))
np.savez(HERE / "one.npz", x=np.array([True, False]))
np.savez_compressed(
    HERE / "compressed.npz",
    f=np.array([0.5, -1.0], dtype=np.float32),
    big=np.array([[1, 2], [3, 4]], dtype=">i8"),
    fort=np.asfortranarray(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])),
    scalar=np.array(7, dtype=np.int64),
)
np.savez(HERE / "unsupported.npz", u=np.array([1 + 2j], dtype=np.clongdouble), ok=np.array([1.0]))
np.savez(HERE / "complex.npz", c=np.array([1 + 2j, -0.5 - 0j], dtype=">c8"), z=np.array([[3 - 4j]], dtype="<c16"))
np.savez(HERE / "narrow.npz", u1=np.array([0, 255], dtype=np.uint8), i2=np.array([-3, 4], dtype=">i2"),
         u8=np.array([2**64 - 1], dtype=np.uint64), h=np.array([0.1, -2.5, np.inf], dtype=">f2"))

# Not NumPy files at all.
(HERE / "not_npy.npy").write_bytes(b"hello, world\n")
(HERE / "truncated.npy").write_bytes((HERE / "f8_v2.npy").read_bytes()[:-4])

# --- print() -------------------------------------------------------------------------
cases = {}
f32, i32 = np.float32, np.int32
cases["f_simple"] = np.array([1.0, 2.0, 3.0])
cases["i_2d"] = np.array([[1, 2], [3, 4]])
cases["b_mixed"] = np.array([True, False, True])
cases["b_2d_all_true"] = np.array([[True, True], [True, True]])
cases["f_nonfinite"] = np.array([nan, inf, -inf, -0.0, 1.5])
cases["f_frac"] = np.array([0.1, 0.25, 123.456])
cases["f_exp_small"] = np.array([1e-5, 1.0])
cases["f_exp_big"] = np.array([1e10, 1.0, -3.5])
cases["f_exp_mixed"] = np.array([1.5e-10, 2.25e3, -7.0])
cases["f_exp_3digit"] = np.array([1e100, 1e-100])
cases["f_exp_nan"] = np.array([1e-20, nan, -inf])
cases["f32_thirds"] = np.array([0.1, 0.2, 1 / 3], dtype=f32)
cases["f32_threshold"] = np.array([1e-4, 0.01], dtype=f32)
cases["f_threshold"] = np.array([1e-4, 0.01])
cases["f_precision"] = np.array([1 / 3, 2 / 3, 123456.123456789])
cases["f_tie"] = np.array([0.001953125, 0.1])
cases["f_below_1e8"] = np.array([99999999.0])
cases["f_1e8"] = np.array([1e8])
cases["f_ratio"] = np.array([12345678.5, 1.0])
cases["f_wrap"] = np.arange(30.0)
cases["i_wrap"] = np.arange(100)
cases["f_wrap_2d"] = np.arange(40.0).reshape(2, 20) * 1.1
a = np.full(1001, 0.5)
a[:3] = [1.0, 2.0, 3.0]
a[-3:] = [0.25, 0.125, 7.0]
cases["f_summary"] = a
cases["i32_summary_2d"] = np.arange(2000, dtype=i32).reshape(2, 1000)
cases["i32_summary_3d"] = np.arange(1200, dtype=i32).reshape(10, 10, 12)
a = np.zeros((40, 30))
a[0, :4] = [1.5, -2.0, 3.0, 4.0]
a[-1, -3:] = [1e-3, 2.5, 100.0]
cases["f_summary_both"] = a
b = np.ones(1500, dtype=bool)
b[1] = b[-2] = False
cases["b_summary"] = b
cases["i_3d"] = np.arange(24).reshape(2, 3, 4)
cases["i_4d"] = np.arange(16).reshape(2, 2, 2, 2)
cases["f_neg"] = np.array([-1.5, 2.0, -3.25])
cases["i_neg"] = np.array([-100, 5])
cases["f_fortran"] = np.asfortranarray(np.arange(6.0).reshape(2, 3))
cases["i64_extremes"] = np.array([-(2**63), 2**63 - 1])
cases["f_all_nan"] = np.array([nan, nan])
cases["f_zeros"] = np.array([0.0, 0.0])
cases["f_subnormal"] = np.array([5e-324])
cases["f32_max"] = np.array([3.4028235e38, -1.0], dtype=f32)
cases["f_sevenths"] = np.array([10.0**k / 7 for k in range(8)])
cases["f_linspace"] = np.linspace(0.0, 1.0, 7)
cases["f32_logspace"] = np.logspace(-5, 5, 11, dtype=f32)
cases["f_round_up"] = np.array([0.999999999, 2.0])
cases["i32_col"] = np.array([[1], [-22], [333]], dtype=i32)
cases["s_f64"] = np.array(2.5)
cases["s_f64_small"] = np.array(1e-5)
cases["s_f64_big"] = np.array(1e16)
cases["s_f64_int"] = np.array(123456789.0)
cases["s_f64_zero"] = np.array(0.0)
cases["s_f64_negzero"] = np.array(-0.0)
cases["s_f64_nan"] = np.array(nan)
cases["s_f64_neginf"] = np.array(-inf)
cases["s_f64_third"] = np.array(1 / 3)
cases["s_f32"] = np.array(0.1, dtype=f32)
cases["s_f32_1e-4"] = np.array(1e-4, dtype=f32)
cases["s_i64"] = np.array(-7)
cases["s_i32"] = np.array(12, dtype=i32)
cases["s_bool"] = np.array(True)
cases["e_f64"] = np.zeros(0)
cases["e_i32_2x0"] = np.zeros((2, 0), dtype=i32)
cases["e_bool"] = np.zeros((0, 3), dtype=bool)
cases["u1_wrap"] = np.arange(0, 256, 9, dtype=np.uint8)
cases["i1_neg"] = np.array([-128, 0, 127, -5], dtype=np.int8)
cases["u8_max"] = np.array([2**64 - 1, 0, 12], dtype=np.uint64)
cases["i2_2d"] = np.array([[1, -300], [32767, 4]], dtype=np.int16)
cases["s_u2"] = np.array(65535, dtype=np.uint16)
cases["c_simple"] = np.array([1 + 2j, 3 - 4j])
cases["c_frac"] = np.array([0.5 + 0.25j, -1.5 - 0j, 2j])
cases["c_nonfinite"] = np.array([complex(nan, 1), complex(inf, -inf), 1 + 0j])
cases["c_2d"] = np.array([[1 + 1j, -2.5 + 0.125j], [0j, 10 - 3j]])
cases["c_exp"] = np.array([1e-10 + 1j, 1e10 - 2j])
cases["c64_thirds"] = np.array([1 / 3 + 2j / 3, 0.1 - 0.2j], dtype=np.complex64)
cases["s_c128"] = np.array(1 + 2j)
cases["s_c128_frac"] = np.array(-0.5 + 0.25j)
cases["s_c64"] = np.array(1.5 - 2j, dtype=np.complex64)

np.savez_compressed(HERE / "print_cases.npz", **cases)
with open(HERE / "print_expected.txt", "w", newline="\n") as out:
    for name, arr in cases.items():
        out.write(f"### {name}\n{str(arr)}\nshape={arr.shape}, dtype={arr.dtype}\n")

total = sum(p.stat().st_size for p in HERE.iterdir())
assert total < 64_000, total
print(f"wrote {len(list(HERE.iterdir())) - 1} files, {total} bytes")
