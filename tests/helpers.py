"""Test helpers: run one computation in chainrule and in PyTorch and compare values and gradients.

Every gradient test goes through ``check_op``: the forward values, then the
gradients for a random upstream gradient (so no term can hide behind a sum of
ones), then ``cr.gradcheck`` against central differences in float64.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr

TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}


def tol(dtype, scale: float = 1.0) -> dict:
    t = TOL[np.dtype(dtype).type]
    return {k: v * scale for k, v in t.items()}


def arrays_from_seed(seed: int, shapes: Sequence[tuple], kind: str = "normal") -> list:
    """Deterministic float64 test data for ``shapes``.

    kinds: "normal"; "positive" (in [0.5, 2.5], for log/sqrt/pow bases and divisors);
    "away" (|x| >= 0.2, away from the kinks of abs/relu/clip and from zero denominators).
    """
    r = np.random.default_rng(seed)
    out = []
    for s in shapes:
        a = r.standard_normal(s)
        if kind == "positive":
            a = np.abs(a) % 2.0 + 0.5
        elif kind == "away":
            a = np.where(a >= 0, a + 0.2, a - 0.2)
        out.append(np.asarray(a, dtype=np.float64))
    return out


def check_op(
    cr_fn: Callable,
    torch_fn: Callable,
    arrays: Sequence[np.ndarray],
    dtypes=(np.float32, np.float64),
    gradcheck: bool = True,
    grad_of: Sequence[int] | None = None,
    scale: float = 1.0,
    seed: int = 1,
) -> None:
    """``cr_fn(*tensors)`` matches ``torch_fn(*tensors)`` in value, dtype and gradient."""
    grad_of = range(len(arrays)) if grad_of is None else grad_of
    for dt in dtypes:
        xs = [cr.tensor(a.astype(dt), requires_grad=i in grad_of) for i, a in enumerate(arrays)]
        ts = [torch.tensor(a.astype(dt), requires_grad=i in grad_of) for i, a in enumerate(arrays)]
        y = cr_fn(*xs)
        ty = torch_fn(*ts)
        assert y.dtype == np.dtype(dt), f"output dtype {y.dtype}, inputs {np.dtype(dt)}"
        assert y.shape == tuple(ty.shape), f"shape {y.shape} != torch {tuple(ty.shape)}"
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **tol(dt, scale), err_msg="forward")
        if not ty.requires_grad:
            continue
        upstream = np.random.default_rng(seed).standard_normal(y.shape).astype(dt)
        y.backward(cr.tensor(upstream))
        ty.backward(torch.tensor(upstream))
        for i in grad_of:
            g, tg = xs[i].grad, ts[i].grad
            if tg is None:
                assert g is None or not np.any(g.numpy()), f"input {i}: torch has no gradient"
                continue
            assert g is not None, f"input {i}: no gradient"
            assert g.dtype == np.dtype(dt), f"input {i}: gradient dtype {g.dtype}, input {np.dtype(dt)}"
            assert g.shape == xs[i].shape
            np.testing.assert_allclose(g.numpy(), tg.numpy(), **tol(dt, scale), err_msg=f"grad of input {i}")
    if gradcheck:
        xs = [cr.tensor(a.astype(np.float64), requires_grad=i in grad_of) for i, a in enumerate(arrays)]
        assert cr.gradcheck(cr_fn, xs)


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable(num: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 3):
    """``num`` input shapes that broadcast together (NumPy rules)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
    ).map(lambda s: s.input_shapes)


seeds = st.integers(0, 2**16)


def axis_args(ndim: int):
    """None, an int (maybe negative) or a tuple of distinct axes for an ``ndim``-d tensor."""
    if ndim == 0:
        return st.sampled_from([None, 0, -1])
    single = st.integers(-ndim, ndim - 1)
    many = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda ax: st.tuples(*[st.sampled_from([a, a - ndim]) for a in ax])
    )
    return st.one_of(st.none(), single, many)


def torch_dims(axis, ndim: int):
    """PyTorch spells "all axes" as dim=None only for some ops; give it the explicit tuple."""
    if axis is None:
        return tuple(range(ndim))
    return axis
