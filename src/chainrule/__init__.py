"""chainrule: reverse-mode automatic differentiation over NumPy, made readable.

    import chainrule as cr
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4.])
"""
from __future__ import annotations

from .autograd import enable_grad, grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .checks import detect_anomaly, gradcheck
from .creation import (
    arange,
    as_tensor,
    bool,
    empty,
    eye,
    float16,
    float32,
    float64,
    from_numpy,
    full,
    full_like,
    int32,
    int64,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    tensor,
    uint8,
    zeros,
    zeros_like,
)
from .devices import device, get_default_device, set_default_device
from .dtypes import (  # noqa: A004 - PyTorch's names
    double,
    finfo,
    float,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    long,
    set_default_dtype,
    short,
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
from .legacy import BoolTensor, ByteTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor
from .likes import compile, empty_like, rand_like, randint_like, randn_like
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
from .random import Generator, default_generator, initial_seed, manual_seed, seed
from .tensor import Size, Tensor

__version__ = "0.1.0"


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

    if name in ("nn", "optim", "data", "explain", "distributed", "utils", "cuda", "backends", "accelerator", "linalg"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".io", __name__), name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


__all__ = [
    "AnomalyError", "ArgumentError", "rand_like", "randint_like", "randn_like", "empty_like", "compile",
    "inference_mode", "finfo", "iinfo", "get_default_dtype", "set_default_dtype", "BoolTensor", "ByteTensor",
    "DoubleTensor", "FloatTensor", "IntTensor", "LongTensor",
    "Generator", "default_generator", "device", "double", "float",
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
__all__ += ["Size"]
