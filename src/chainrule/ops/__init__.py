"""Primitive ops (forward + VJP, one registry) and the public functions on Tensors.

This package is also the namespace ``F`` that VJP rules use when
``create_graph=True``: every name in ``arraymath.ArrayMath`` exists here too.
"""
from ..backend import xp as _xp
from .elementwise import (
    abs,
    add,
    clamp,
    clip,
    cos,
    div,
    eq,
    exp,
    ge,
    gelu,
    gelu_cdf,
    gt,
    le,
    log,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    sub,
    tanh,
    where,
)
from .index import getitem, index_add_zeros
from .linalg import linear, matmul
from .reduce import amax, amin, argmax, argmin, logsumexp, max, mean, min, std, sum, sum_to, var
from .registry import REGISTRY
from .registry import apply as run
from .shape import (
    broadcast_to,
    cat,
    expand,
    flatten,
    pad,
    permute,
    reshape,
    reverse_axes,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from .softmax import log_softmax, softmax, softmax_cross_entropy

__all__ = [
    "REGISTRY", "abs", "amax", "amin", "cast", "run", "add", "argmax", "argmin", "broadcast_to", "cat", "clamp",
    "clip", "cos", "div",
    "eq", "exp", "expand", "flatten", "ge", "gelu", "gelu_cdf", "getitem", "gt", "index_add_zeros", "le",
    "linear", "log", "log_softmax", "logsumexp", "lt", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "ne", "neg", "pad", "permute", "pow", "relu", "reshape", "reverse_axes", "sigmoid", "sign", "sin",
    "softmax", "softmax_cross_entropy", "sqrt", "squeeze", "stack", "std", "sub", "sum", "sum_to", "tanh",
    "transpose", "unsqueeze", "var", "where",
]


def cast(x, dtype):
    """``x`` in ``dtype``, differentiably (F.cast: ArrayMath has the array version)."""
    return x.to(dtype)


from . import (  # noqa: E402,F401  (the whole table)
    activation,
    conv,
    embedding,
    fold,
    like,
    loss,
    normalization,
    pool,
    select,
    stats,
    torchnames,
)


def _export() -> None:
    """Every function the table's modules export (``registry.public``) is a name here too."""
    from .registry import PUBLIC

    for name, (fn, _) in PUBLIC.items():
        if name not in globals():
            globals()[name] = fn
            __all__.append(name)


def _check() -> None:
    import sys

    from .arraymath import ArrayMath, add_forwards, check_namespaces

    add_forwards(REGISTRY, ("exp", "tanh", "log", "sqrt", "sin", "cos", "abs", "sigmoid", "relu", "gelu_cdf", "where",
                            "maximum", "minimum", "matmul", "softmax", "log_softmax"))
    for name in ("flip", "roll", "tril", "triu", "cumsum"):  # rules use these as F.<name>(g, <the op's kw>)
        setattr(ArrayMath, name, staticmethod(_ARRAY_FORWARDS[name]))
    check_namespaces(sys.modules[__name__])


from . import (  # noqa: E402,F401  (ops-sweep: PyTorch's remaining common names)
    aliases,
    cumulative,
    more,
    orderstats,
    placement,
    predicates,
    products,
    rearrange,
    rounding,
    sampling,
    special,
    trig,
)

_ARRAY_FORWARDS = {  # the forwards with the public functions' positional arguments
    "flip": lambda x, dims: _xp.flip(x, axis=dims),
    "roll": lambda x, shifts, dims: _xp.roll(x, shifts, axis=dims),
    "tril": lambda x, diagonal=0: _xp.tril(x, diagonal),
    "triu": lambda x, diagonal=0: _xp.triu(x, diagonal),
    "cumsum": lambda x, dim: _xp.cumsum(x, axis=dim),
}
def _quiet() -> None:
    """NumPy's floating-point warnings (log 0, 1/0, 0/0, overflow in exp) raised inside chainrule's own op code
    never reach the user: PyTorch returns inf/NaN without a word, and finding them is ``detect_anomaly``'s job.
    A filter on chainrule's modules costs nothing until a warning occurs (``np.errstate`` around every op
    would cost ~3 µs a call); warnings from the user's own NumPy code are left alone."""
    import warnings

    warnings.filterwarnings("ignore", category=RuntimeWarning,
                            module=r"chainrule\.(ops|functional|autograd|checks|nn\.functional)(\.|$)")


_export()
_check()
_quiet()
