"""axpy (y += a·x) and axpby (y ← a·x + b·y), one pass each through NumPy's own OpenBLAS: the same
values as NumPy's two passes, in place, for every layout they accept, and the NumPy fallback wherever
BLAS cannot be used."""
from __future__ import annotations

import glob
import os

import numpy as np
import pytest

from chainrule.optim import blas


@pytest.fixture(autouse=True)
def _blas_for_every_size(request, monkeypatch):
    """These tests use small arrays: let BLAS take them (except where a test checks the size rule)."""
    if "default_size" not in request.keywords:
        monkeypatch.setattr(blas, "MIN_SIZE", 0)


def _pair(dtype, shape, order):
    rng = np.random.default_rng(0)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    y = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    return x, y


def _bundled_openblas() -> list:
    libdir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    return glob.glob(os.path.join(libdir, "libscipy_openblas64_*.so"))


needs_blas = pytest.mark.skipif(not _bundled_openblas(), reason="this NumPy does not bundle OpenBLAS")


def test_numpys_bundled_blas_is_found_exactly_when_numpy_bundles_it():
    # NumPy's Linux wheels bundle OpenBLAS (this project's machines): there it must be found, or every
    # update would silently take the two-pass form; elsewhere the fallback must be chosen
    assert blas.available() == bool(_bundled_openblas())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,order", [((1000,), "C"), ((37, 29), "C"), ((37, 29), "F"), ((), "C")])
@pytest.mark.parametrize("fn", ["axpy", "axpby"])
def test_updates_in_place_and_match_numpy(dtype, shape, order, fn):
    x, y = _pair(dtype, shape, order)
    before = y.__array_interface__["data"][0]
    if fn == "axpy":
        expected = y + dtype(-0.37) * x
        blas.axpy(-0.37, x, y)
    else:
        expected = dtype(-0.37) * x + dtype(0.9) * y
        blas.axpby(-0.37, x, 0.9, y)
    assert y.__array_interface__["data"][0] == before and y.dtype == dtype
    # one rounding (a fused multiply-add) instead of two: equal to within an ulp or so
    np.testing.assert_allclose(y, expected, rtol=4 * np.finfo(dtype).eps, atol=4 * np.finfo(dtype).eps)
    assert not np.array_equal(y, x)  # (the update did happen)


def _spy_on_blas(monkeypatch) -> list:
    real = blas._FUNCS if blas._FUNCS is not None else blas._load()
    calls: list = []

    def spy(key, f):
        def call(*args):
            calls.append(key[0])
            return f(*args)
        return call

    monkeypatch.setattr(blas, "_FUNCS", {k: spy(k, f) for k, f in real.items()})
    return calls


@needs_blas
def test_mixed_layouts_and_other_dtypes_take_the_numpy_path_correctly(monkeypatch):
    calls = _spy_on_blas(monkeypatch)
    x, y = _pair(np.float32, (6, 5), "F")
    yc = np.ascontiguousarray(y)
    expected = yc + np.float32(2.0) * x
    blas.axpy(2.0, x, yc)  # x Fortran-ordered, y C-ordered: elements would pair up wrongly in BLAS
    np.testing.assert_allclose(yc, expected, rtol=1e-6)
    yc2 = np.ascontiguousarray(y)
    blas.axpby(1.0, x, 0.5, yc2)
    np.testing.assert_allclose(yc2, x + np.float32(0.5) * y, rtol=1e-6)
    xh, yh = x.astype(np.float16), y.astype(np.float16)
    expected16 = yh + np.float16(2.0) * xh
    blas.axpy(2.0, xh, yh)
    assert yh.dtype == np.float16
    np.testing.assert_allclose(yh, expected16, rtol=1e-3)
    assert calls == []
    blas.axpy(2.0, x, y)  # same layout: BLAS
    blas.axpby(2.0, x, 0.5, y)
    assert calls == ["axpy", "axpby"]


@pytest.mark.parametrize("fn", ["axpy", "axpby"])
def test_without_the_library_the_fallback_gives_the_same_values(fn, monkeypatch):
    x, y = _pair(np.float32, (50, 3), "C")
    y2 = y.copy()
    args = (0.5, x, y) if fn == "axpy" else (0.5, x, 0.8, y)
    getattr(blas, fn)(*args)
    monkeypatch.setattr(blas, "_FUNCS", {})
    getattr(blas, fn)(*args[:-1], y2)
    np.testing.assert_allclose(y2, y, rtol=1e-6)


@needs_blas
def test_sgd_with_momentum_runs_in_blas(monkeypatch):
    import chainrule as cr

    calls = _spy_on_blas(monkeypatch)
    lin = cr.nn.Linear(3, 2)
    opt = cr.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        lin(cr.tensor(np.ones((4, 3), np.float32))).sum().backward()
        opt.step()
    assert calls.count("axpby") == 4 and calls.count("axpy") == 4  # per parameter: parameters are never packed


@needs_blas
@pytest.mark.default_size
def test_small_arrays_stay_in_numpy_where_a_call_costs_more_than_it_saves(monkeypatch):
    calls = _spy_on_blas(monkeypatch)
    x, y = _pair(np.float32, (blas.MIN_SIZE - 1,), "C")
    blas.axpy(0.5, x, y)
    assert calls == []
    x, y = _pair(np.float32, (blas.MIN_SIZE,), "C")
    blas.axpy(0.5, x, y)
    assert calls == ["axpy"]
