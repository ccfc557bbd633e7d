"""chainrule: reverse-mode automatic differentiation over NumPy, made readable.

    import chainrule as cr
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4.])
"""
from __future__ import annotations

import math

from .autograd import enable_grad, grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .checks import detect_anomaly, gradcheck
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .devices import device, get_default_device, set_default_device
from .dtypes import (  # noqa: A004 - PyTorch's names
    bool,
    double,
    dtype,
    finfo,
    float,
    float16,
    float32,
    float64,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    short,
    uint8,
)
from .errors import (
    AnomalyError,
    ArgumentError,
    AutogradError,
    ChainruleError,
    DataError,
    DTypeError,
    GradcheckError,
    IndexOutOfRange,
    ShapeError,
)
from .function import Function, FunctionCtx
from .legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    is_tensor,
)
from .ops import (
    abs,
    add,
    amax,
    amin,
    argmax,
    argmin,
    broadcast_to,
    cat,
    clamp,
    clip,
    cos,
    div,
    exp,
    expand,
    flatten,
    gelu,
    linear,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    pad,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    softmax,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from .printing import set_printoptions
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .settings import (
    are_deterministic_algorithms_enabled,
    compile,
    get_default_dtype,
    get_num_interop_threads,
    get_num_threads,
    set_default_dtype,
    set_num_interop_threads,
    set_num_threads,
    use_deterministic_algorithms,
)
from .tensor import Size, Tensor

__version__ = "0.1.0"
inf, nan, pi, e = math.inf, math.nan, math.pi, math.e


def _export_ops() -> None:
    """Ops the table exports (``ops.registry.public``) beyond the names imported above."""
    from .ops.registry import PUBLIC

    for name, (fn, _) in PUBLIC.items():
        if name not in globals():
            globals()[name] = fn
            __all__.append(name)

concatenate = cat


def __getattr__(name: str):
    """Optional parts load on first use, so ``import chainrule`` stays light."""
    import importlib

    if name in ("nn", "optim", "data", "explain", "distributed", "utils", "cuda", "backends", "accelerator",
                "linalg", "testing", "distributions"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".io", __name__), name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


__all__ = [
    "AnomalyError", "ArgumentError", "Generator", "default_generator", "device", "double", "float",
    "get_default_device", "half",
    "initial_seed", "int", "int8", "int16", "long", "seed", "set_default_device", "short",
    "AutogradError", "ChainruleError", "DataError", "DTypeError", "Function", "FunctionCtx",
    "GradcheckError", "IndexOutOfRange", "ShapeError", "Tensor", "abs", "add", "amax", "amin", "arange", "argmax",
    "argmin", "as_tensor", "bool", "broadcast_to", "cat", "clamp", "clip", "concatenate", "cos",
    "detect_anomaly", "div", "empty", "enable_grad", "exp", "expand", "eye", "flatten", "float16",
    "float32", "float64", "from_numpy", "full", "full_like", "gelu", "grad", "gradcheck", "int32",
    "int64", "is_grad_enabled", "linear", "linspace", "log", "log_softmax", "logsumexp",
    "manual_seed", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "no_grad", "ones",
    "ones_like", "pad", "permute", "pow", "rand", "randint", "randn", "randperm", "relu", "reshape",
    "set_grad_enabled", "sigmoid", "sign", "sin", "softmax", "sqrt", "squeeze", "stack", "std", "sub",
    "sum", "tanh", "tensor", "transpose", "uint8", "unsqueeze", "var", "where", "zeros", "zeros_like",
]
_export_ops()
__all__ += ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor",
            "LongTensor", "ShortTensor", "are_deterministic_algorithms_enabled", "compile", "e", "finfo",
            "get_default_dtype", "get_num_interop_threads", "get_num_threads", "get_rng_state", "iinfo", "inf",
            "inference_mode", "is_tensor", "nan", "pi", "set_default_dtype", "set_num_interop_threads",
            "set_num_threads", "set_printoptions", "set_rng_state", "use_deterministic_algorithms"]
__all__ += ["Size", "dtype", "empty_like", "normal", "rand_like", "randint_like", "randn_like"]


def _guard() -> None:
    """Errors escaping from NumPy or Python internals become chainrule's own, naming the op (boundary.py)."""
    from . import boundary

    boundary.guard_namespace(globals(), __all__)
    boundary.guard_methods(Tensor, {"__getitem__": "indexing", "__setitem__": "item assignment", "__and__": "and",
                                    "__or__": "or", "__invert__": "invert"})


_guard()
