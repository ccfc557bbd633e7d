"""Checking gradients: ``gradcheck`` against central differences, and ``detect_anomaly``."""
from __future__ import annotations

import os
import sys
from typing import Callable, Sequence

from . import autograd as _ag
from .backend import xp
from .errors import AnomalyError, GradcheckError
from .tensor import Tensor


def _outputs(fn: Callable, inputs: Sequence) -> list:
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def gradcheck(fn: Callable, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare the full Jacobian from backward with central differences.

    Returns True, or raises ``GradcheckError`` naming the output, the input,
    the element index and both values.  Use float64 inputs: float32 is too
    coarse for a finite difference.  Costs two forward calls per input element
    and one backward per output element.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad")
    outs = _outputs(fn, inputs)
    if not any(isinstance(o, Tensor) and o.requires_grad for o in outs):
        raise GradcheckError("gradcheck: no output requires grad, so no gradient reaches the inputs")
    sizes = [o._data.size for o in outs]
    numeric = {i: _numeric_jacobian(fn, inputs, i, sizes, eps) for i in wrt}  # i -> [output k] -> (out size, in size)
    for k, out in enumerate(outs):
        if not out.requires_grad:
            continue
        for j in range(out._data.size):
            seed = xp.zeros(out._data.shape, dtype=out._data.dtype)  # C order, so .flat[j] is element j
            seed.flat[j] = 1
            analytic = _ag.grad(out, [inputs[i] for i in wrt], grad_outputs=Tensor._make(seed, None),
                                retain_graph=True, allow_unused=True)
            for i, a in zip(wrt, analytic):
                x = inputs[i]
                a_flat = xp.zeros(x._data.size) if a is None else a._data.reshape(-1)
                num = numeric[i][k][j]
                bad = ~(xp.abs(a_flat - num) <= atol + rtol * xp.abs(num))  # NaN counts as bad
                if bad.any():
                    e = int(xp.argmax(bad))
                    idx = tuple(int(v) for v in xp.unravel_index(e, x._data.shape))
                    raise GradcheckError(
                        f"gradcheck: d output[{k}]{_fmt(out, j)} / d input[{i}]{list(idx)} "
                        f"(input shape {x._data.shape}): analytic {a_flat[e]:.8g}, numeric {num[e]:.8g}, "
                        f"difference {abs(a_flat[e] - num[e]):.3g} > atol {atol} + rtol {rtol}·|numeric|"
                    )
    return True


def _fmt(out, j: int) -> str:
    if out._data.ndim == 0:
        return ""
    return str(list(int(v) for v in xp.unravel_index(j, out._data.shape)))


def _numeric_jacobian(fn, inputs, i: int, sizes: list, eps: float) -> list:
    """d outputs / d inputs[i] by central differences: one (out size, in size) matrix per output."""
    x = inputs[i]._data
    jac = [xp.zeros((n, x.size)) for n in sizes]
    with _ag.no_grad():
        for e in range(x.size):
            old = x.flat[e]  # .flat writes through even when x is not contiguous
            x.flat[e] = old + eps
            plus = [o._data.astype(xp.float64) for o in _outputs(fn, inputs)]  # a copy: fn may return x itself
            x.flat[e] = old - eps
            minus = [o._data.astype(xp.float64) for o in _outputs(fn, inputs)]
            x.flat[e] = old
            for k, (p, m) in enumerate(zip(plus, minus)):
                jac[k][:, e] = (p - m).reshape(-1) / (2 * eps)
    return jac


# ------------------------------------------------------------------ anomaly
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_line() -> str:
    """The first stack frame outside chainrule: where the user wrote the op."""
    f = sys._getframe(1)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_PACKAGE_DIR):
        f = f.f_back
    if f is None:
        return "<unknown>"
    return f"{f.f_code.co_filename}:{f.f_lineno}"


class detect_anomaly:
    """Inside, the first NaN or inf in a forward or backward op raises, naming the op and your line.

    Off by default because it inspects every array; the patched constructor
    is restored on exit, so normal runs pay nothing.
    """

    def __enter__(self) -> "detect_anomaly":
        self._old_make = Tensor.__dict__["_make"]
        old = self._old_make.__func__

        def checked_make(data, node):
            t = old(data, node)
            if node is not None:
                node_where[node] = user_line()
                if data.dtype.kind == "f" and not xp.isfinite(data).all():
                    raise AnomalyError(
                        f"detect_anomaly: {node.op.name} produced NaN or inf in the forward pass, "
                        f"at {node_where[node]}"
                    )
            return t

        node_where = _ag.anomaly_where
        Tensor._make = staticmethod(checked_make)
        self._prev = _ag.anomaly_enabled
        _ag.anomaly_enabled = True
        return self

    def __exit__(self, *exc) -> None:
        Tensor._make = self._old_make
        _ag.anomaly_enabled = self._prev
        if not self._prev:
            _ag.anomaly_where.clear()
