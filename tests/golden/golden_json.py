"""The JSON encoding of an array in the golden files, shared by the generators:
``{"dtype", "shape", "data"}`` with floats as ``repr`` strings (exact, and
``nan``/``inf`` survive), complex as ``[re, im]`` pairs of those."""

import numpy as np


def enc(a):
    a = np.asarray(a)
    if a.dtype.kind == "c":
        data = [[repr(float(x.real)), repr(float(x.imag))] for x in a.ravel()]
    elif a.dtype.kind == "f":
        data = [repr(float(x)) for x in a.ravel()]
    elif a.dtype.kind == "b":
        data = [bool(x) for x in a.ravel()]
    else:
        data = [int(x) for x in a.ravel()]
    return {"dtype": a.dtype.name, "shape": list(a.shape), "data": data}
