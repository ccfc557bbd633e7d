"""axpy (y += a·x in one pass through NumPy's own OpenBLAS): the same values as NumPy's two passes,
in place, for every layout it accepts, and the NumPy fallback wherever it cannot be used."""
from __future__ import annotations

import numpy as np
import pytest

from chainrule.optim import blas


def _pair(dtype, shape, order):
    rng = np.random.default_rng(0)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    y = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    return x, y


def test_numpys_bundled_blas_is_found():
    # NumPy's Linux wheels bundle OpenBLAS; without it every update here would take the two-pass form
    assert blas.available()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,order", [((1000,), "C"), ((37, 29), "C"), ((37, 29), "F"), ((), "C")])
def test_axpy_updates_in_place_and_matches_numpy(dtype, shape, order):
    x, y = _pair(dtype, shape, order)
    expected = y + dtype(-0.37) * x
    before = y.__array_interface__["data"][0]
    blas.axpy(-0.37, x, y)
    assert y.__array_interface__["data"][0] == before and y.dtype == dtype
    # one rounding (a fused multiply-add) instead of two: equal to within an ulp or so
    np.testing.assert_allclose(y, expected, rtol=4 * np.finfo(dtype).eps, atol=4 * np.finfo(dtype).eps)
    assert not np.array_equal(y, x)  # (the update did happen)


def test_mixed_layouts_and_other_dtypes_take_the_numpy_path_correctly(monkeypatch):
    calls = []
    real = blas._AXPY if blas._AXPY is not None else blas._load()

    def spy(f):
        def call(*args):
            calls.append(1)
            return f(*args)
        return call

    spies = {k: spy(f) for k, f in real.items()}
    monkeypatch.setattr(blas, "_AXPY", spies)
    x, y = _pair(np.float32, (6, 5), "F")
    yc = np.ascontiguousarray(y)
    expected = yc + np.float32(2.0) * x
    blas.axpy(2.0, x, yc)  # x Fortran-ordered, y C-ordered: elements would pair up wrongly in BLAS
    np.testing.assert_allclose(yc, expected, rtol=1e-6)
    xh, yh = x.astype(np.float16), y.astype(np.float16)
    expected16 = yh + np.float16(2.0) * xh
    blas.axpy(2.0, xh, yh)
    assert yh.dtype == np.float16
    np.testing.assert_allclose(yh, expected16, rtol=1e-3)
    assert calls == []
    blas.axpy(2.0, x, y)  # same layout: BLAS
    assert calls == [1]


def test_without_the_library_the_fallback_gives_the_same_values(monkeypatch):
    x, y = _pair(np.float32, (50, 3), "C")
    y2 = y.copy()
    blas.axpy(0.5, x, y)
    monkeypatch.setattr(blas, "_AXPY", {})
    scratch = np.empty_like(y2)
    blas.axpy(0.5, x, y2, scratch)
    np.testing.assert_allclose(y2, y, rtol=1e-6)
