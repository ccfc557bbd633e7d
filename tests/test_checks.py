"""gradcheck (and its report for a wrong gradient) and detect_anomaly (naming the op and the user's line)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import chainrule as cr


class WrongSquare(cr.Function):
    """x**2 with a deliberately wrong backward at element 2: 3x instead of 2x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        scale = np.array([2.0, 2.0, 3.0, 2.0])
        return g * x * cr.tensor(scale)


def _line_of(marker: str) -> int:
    """The line number in this file holding ``marker`` (so tests do not hard-code numbers)."""
    with open(__file__, encoding="utf-8") as f:
        return next(i for i, line in enumerate(f, 1) if marker in line and "_line_of" not in line)


def test_gradcheck_passes_for_correct_gradients():
    x = cr.tensor(np.array([[0.3, -1.2], [2.0, 0.5]]), requires_grad=True)
    w = cr.tensor(np.array([1.5, -0.7]), requires_grad=True)
    c = cr.tensor(np.array([2.0, 3.0]))  # a constant input is skipped
    assert cr.gradcheck(lambda a, b, k: (a * b + k).tanh() @ b, (x, w, c)) is True
    assert cr.gradcheck(lambda a: (a.exp(), a.sum(0) ** 2), x) is True  # several outputs


def test_gradcheck_reports_input_index_and_both_values():
    x = cr.tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(lambda t: WrongSquare.apply(t), (x,))
    msg = str(info.value)
    assert "input[0][2]" in msg and "output[0][2]" in msg
    analytic = float(re.search(r"analytic (\S+),", msg).group(1))
    numeric = float(re.search(r"numeric (\S+),", msg).group(1))
    assert analytic == pytest.approx(9.0) and numeric == pytest.approx(6.0, rel=1e-6)


def test_gradcheck_names_the_second_input_when_it_is_wrong():
    class WrongSecond(cr.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * a * 1.01

    a = cr.tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    b = cr.tensor(np.array([[3.0, 4.0]]), requires_grad=True)
    with pytest.raises(cr.GradcheckError, match=r"d input\[1\]\[0, 0\]"):
        cr.gradcheck(WrongSecond.apply, (a, b))
    assert isinstance(cr.GradcheckError("x"), AssertionError)


def test_gradcheck_rejects_nothing_to_check():
    with pytest.raises(ValueError, match="no input requires grad"):
        cr.gradcheck(lambda t: t * 2, (cr.tensor([1.0], dtype=cr.float64),))
    x = cr.tensor([1.0], dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.GradcheckError, match="no output requires grad"):
        cr.gradcheck(lambda t: t.detach() * 2, (x,))


def test_gradcheck_catches_a_missing_gradient():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    # detach() shares memory, so the finite difference sees t twice while backward sees it once
    with pytest.raises(cr.GradcheckError, match=r"analytic 1, numeric 2"):
        cr.gradcheck(lambda t: t + t.detach(), (x,))


def test_gradcheck_leaves_inputs_unchanged():
    a = np.array([0.25, 0.5, 2.0])
    x = cr.tensor(a.copy(), requires_grad=True)
    cr.gradcheck(lambda t: t.log() * t, (x,))
    np.testing.assert_array_equal(x.numpy(), a)
    assert x.grad is None


def test_detect_anomaly_names_op_and_line_for_nan_in_forward():
    x = cr.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with cr.detect_anomaly():
            y = x * 2
            y.log()  # ANOMALY-FORWARD
    assert isinstance(info.value, cr.ChainruleError)
    msg = str(info.value)
    assert "log" in msg
    assert f"test_checks.py:{_line_of('ANOMALY-FORWARD')}" in msg


def test_detect_anomaly_names_op_and_line_for_nan_in_backward():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with cr.detect_anomaly():
            y = x.sqrt()  # ANOMALY-BACKWARD
            (y * 0 + 1).sum().backward()
    assert isinstance(info.value, cr.errors.AnomalyError)
    msg = str(info.value)
    assert re.search("sqrt", msg, re.IGNORECASE)
    assert f"test_checks.py:{_line_of('ANOMALY-BACKWARD')}" in msg


def test_without_detect_anomaly_nan_passes_silently_and_mode_is_restored():
    x = cr.tensor([-1.0], requires_grad=True)
    with pytest.raises(FloatingPointError):
        with cr.detect_anomaly():
            x.log()
    with np.errstate(invalid="ignore"):
        y = x.log()
    assert np.isnan(y.item())
    y.sum().backward()
    assert x.grad.item() == -1.0


def test_detect_anomaly_is_quiet_for_finite_values():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.detect_anomaly():
        (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) * [2.0, 3.0], rtol=1e-6)
