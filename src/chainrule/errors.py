"""chainrule's own exceptions, so a user sees the op and the shapes, not NumPy internals."""
from __future__ import annotations


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose."""


class ShapeError(ChainruleError, ValueError):
    """Operand shapes that do not fit the op (matmul, broadcasting, cat, reshape)."""


class DTypeError(ChainruleError, TypeError):
    """Dtypes that cannot be combined without a silent upcast, or a dtype an op refuses."""


class AutogradError(ChainruleError, RuntimeError):
    """Misuse of the backward pass (non-scalar output, freed graph, no grad)."""


class IndexOutOfRange(ChainruleError, IndexError):
    """An index outside the tensor's shape."""


class GradcheckError(ChainruleError, AssertionError):
    """Analytic and numeric gradients disagree; the message names input, index, values."""


class DataError(ChainruleError, ValueError):
    """A missing, truncated or malformed data or checkpoint file."""


class AnomalyError(ChainruleError, FloatingPointError):
    """detect_anomaly found NaN or inf; the message names the op and the line that created it."""


class ArgumentError(ChainruleError, ValueError, TypeError):
    """A bad plain argument (a size, a rate, a seed): both a ValueError and a TypeError, as PyTorch raises either."""
