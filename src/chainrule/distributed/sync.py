"""Make every rank start from rank 0's state: module parameters and buffers, optimizer state.

A model that differs between ranks (other layers, shapes or dtypes) is an
error on every rank, not a silent broadcast into the wrong arrays.  The
optimizer's state travels as a JSON outline plus one buffer broadcast per
array; nothing is pickled.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import comm


def broadcast_parameters(module, root: int = 0) -> None:
    """Overwrite every rank's parameters and buffers (BatchNorm running statistics too) with ``root``'s."""
    comm.init()
    tensors = list(module.named_parameters()) + list(module.named_buffers())
    comm.agree("the model's parameters and buffers",
               ", ".join(f"{n} {tuple(t._data.shape)} {t._data.dtype}" for n, t in tensors))
    for _, t in tensors:
        if not (t._data.flags.c_contiguous or t._data.flags.f_contiguous):
            t._data = np.ascontiguousarray(t._data)
        comm.broadcast_(t._data, root)


def broadcast_state(optimizer, root: int = 0) -> None:
    """Give every rank ``root``'s optimizer state and hyperparameters (after a resume, say)."""
    comm.init()
    arrays: list = []
    text = json.dumps(_outline(optimizer.state_dict(), arrays)) if comm.rank() == root else None
    outline = json.loads(comm.broadcast_bytes(text.encode() if text is not None else None, root))
    if comm.rank() != root:
        arrays = [np.empty(a["shape"], a["dtype"]) for a in _array_specs(outline)]
    for a in arrays:
        comm.broadcast_(a, root)
    if comm.rank() != root:
        optimizer.load_state_dict(_rebuild(outline, iter(arrays)))


def _outline(value: Any, arrays: list) -> Any:
    """``value`` with each array replaced by {"array": index, shape, dtype}; arrays collected in order."""
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray):
        arrays.append(np.ascontiguousarray(value))
        return {"array": len(arrays) - 1, "shape": list(value.shape), "dtype": value.dtype.str}
    if isinstance(value, dict):
        return {"dict": [[_outline(k, arrays), _outline(v, arrays)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"tuple" if isinstance(value, tuple) else "list": [_outline(v, arrays) for v in value]}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise comm.DistributedError(f"broadcast_state: cannot send a {type(value).__name__} in an optimizer state")


def _array_specs(outline: Any):
    if isinstance(outline, dict):
        if "array" in outline:
            yield outline
            return
        for items in outline.values():
            for item in items:
                yield from _array_specs(item)
    elif isinstance(outline, list):
        for item in outline:
            yield from _array_specs(item)


def _rebuild(outline: Any, arrays) -> Any:
    if not isinstance(outline, dict):
        return outline
    if "array" in outline:
        return next(arrays)
    if "dict" in outline:
        return {_rebuild(k, arrays): _rebuild(v, arrays) for k, v in outline["dict"]}
    items = [_rebuild(v, arrays) for v in outline.get("list", outline.get("tuple"))]
    return tuple(items) if "tuple" in outline else items
