"""Random computation graphs over chainrule's op set, run in chainrule and in PyTorch side by side.

A graph is plain JSON (so a shrunk failure is saved as a file and replayed as
a regression test): a dtype, a seed for the input values, a list of values
(each a new input leaf or an op on earlier values with JSON keyword
arguments) and a final reduction to a scalar. ``run(graph)`` evaluates it in
both libraries and compares values, dtypes, gradients and (order 2)
Hessian-vector products. Generation evaluates the graph in float64 as it
grows, so an op is only picked where its inputs are in its domain (log of
positive values, division by values away from 0, no ties for max/min).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from hypothesis import assume
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F

torch.set_num_threads(1)
DTYPES = {"float32": (np.float32, torch.float32), "float64": (np.float64, torch.float64)}
TOL = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-9, atol=1e-11)}
MAX_ABS = 1e3  # values beyond this make float32 comparisons meaningless: generation avoids them


# ------------------------------------------------------------ the op table: name -> both libraries
@dataclass(frozen=True)
class Op:
    cr: Callable  # (args, kw) -> chainrule Tensor
    torch: Callable  # (args, kw) -> torch tensor
    make: Callable  # (draw, x: np.ndarray, pool) -> (extra args spec, kw) or None when not applicable


def _axes(kw, ndim):
    a = kw.get("axis")
    return tuple(a) if isinstance(a, list) else a  # JSON has lists; the APIs take tuples


def _t_dim(a):
    return tuple(a) if isinstance(a, list) else a


def _unary(c, t, ok=lambda x: True):
    return Op(lambda a, kw: c(a[0]), lambda a, kw: t(a[0]), lambda draw, x, pool: ([], {}) if ok(x) else None)


def _positive(x):
    return x.size > 0 and x.min() > 0.05


def _away_from_zero(x):
    return x.size > 0 and np.abs(x).min() > 0.1


def _no_ties(x, axis=None):
    """Reductions by max/min: the extreme must be unique (PyTorch and chainrule may pick different ties)."""
    if x.size == 0:
        return False
    s = np.sort(x, axis=axis) if axis is not None else np.sort(x.ravel())
    if axis is None:
        return s.size < 2 or (s[-1] - s[-2] > 1e-3 and s[1] - s[0] > 1e-3)
    s = np.moveaxis(s, axis, -1)
    return s.shape[-1] < 2 or (np.all(s[..., -1] - s[..., -2] > 1e-3) and np.all(s[..., 1] - s[..., 0] > 1e-3))


def _pow_make(draw, x, pool):
    c = draw(st.sampled_from([2, 3, 0.5, -1.5, 1.0, -1]))
    if isinstance(c, float) and c != 1.0 and not _positive(x):
        return None
    if c < 0 and not _away_from_zero(x):
        return None
    return [], {"c": c}


def _scalar_make(draw, x, pool):
    return [], {"c": draw(st.sampled_from([0.5, -2.0, 3.0, 1.5]))}


def _binary_make(ok_b=lambda b: True, ok_pair=lambda a, b: True):
    def make(draw, x, pool):
        other = pool.partner(draw, x.shape)
        b = pool.value(other)
        if not ok_b(b) or not ok_pair(x, b):
            return None
        return [other], {}
    return make


def _axis_kw(draw, x, allow_none=True, allow_tuple=True):
    if x.ndim == 0:
        return None
    choices = list(range(x.ndim)) + [-1]
    kinds = ["int"] + (["none"] if allow_none else []) + (["tuple"] if allow_tuple and x.ndim > 1 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.sampled_from(choices))
    else:
        axis = sorted(draw(st.sets(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim)))
    return {"axis": axis, "keepdims": draw(st.booleans())}


def _reduce_make(need=lambda x, kw: True):
    def make(draw, x, pool):
        kw = _axis_kw(draw, x)
        if kw is None or not need(x, kw):
            return None
        return [], kw
    return make


def _reduced_size(x, kw):
    a = kw["axis"]
    if a is None:
        return x.size
    axes = a if isinstance(a, list) else [a]
    return int(np.prod([x.shape[i] for i in axes]))


def _var_make(draw, x, pool):
    kw = _axis_kw(draw, x)
    if kw is None:
        return None
    kw["correction"] = draw(st.sampled_from([0, 1]))
    n = _reduced_size(x, kw)
    if n <= kw["correction"]:
        return None
    return [], kw


def _std_ok(x, kw):
    """std's gradient at zero spread is inf/NaN in both: keep the spread away from 0."""
    a = kw["axis"]
    axis = tuple(a) if isinstance(a, list) else a
    return bool(np.all(np.std(x, axis=axis) > 1e-2))


def _extreme_make(draw, x, pool):
    kw = _axis_kw(draw, x, allow_tuple=False)
    if kw is None:
        return None
    if not _no_ties(x, None if kw["axis"] is None else kw["axis"] % x.ndim):
        return None
    return [], kw


def _softmax_make(draw, x, pool):
    if x.ndim == 0:
        return None
    return [], {"axis": draw(st.sampled_from(list(range(x.ndim)) + [-1]))}


def _matmul_make(draw, x, pool):
    if x.ndim == 0:
        return None
    k = x.shape[-1]
    if x.ndim == 1:
        shape = draw(st.sampled_from([(k,), (k, draw(st.integers(1, 3)))]))
    else:
        batch = x.shape[:-2]
        lead = draw(st.sampled_from([(), batch[-1:] if batch else (), (1,) + batch if len(batch) < 2 else batch]))
        shape = draw(st.sampled_from([(k,), tuple(lead) + (k, draw(st.integers(1, 3)))]))
    return [pool.new_input(shape)], {}


def _clip_make(draw, x, pool):
    lo = draw(st.sampled_from([-1.5, -0.5, 0.25]))
    hi = lo + draw(st.sampled_from([0.5, 1.0, 2.5]))
    if x.size and np.min(np.abs(np.concatenate([x.ravel() - lo, x.ravel() - hi]))) < 1e-3:
        return None  # a value on a bound: the gradient there is a convention
    return [], {"lo": lo, "hi": hi}


def _where_make(draw, x, pool):
    other = pool.partner(draw, x.shape)
    thr = draw(st.sampled_from([0.0, 0.5, -0.5]))
    return [other], {"thr": thr}


def _index_make(draw, x, pool):
    if x.ndim == 0:
        return None
    axis = draw(st.integers(0, x.ndim - 1))
    n = x.shape[axis]
    kind = draw(st.sampled_from(["slice", "int", "array", "mask", "none", "ellipsis"]))
    if n == 0 and kind in ("int", "array"):
        return None
    if kind == "slice":
        start = draw(st.integers(-n, n)) if n else 0
        step = draw(st.sampled_from([1, 2, 3]))
        key = {"slice": [start, None, step]}
    elif kind == "int":
        key = {"int": draw(st.integers(-n, n - 1))}
    elif kind == "array":
        key = {"array": draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))}  # repeats accumulate
    elif kind == "mask":
        key = {"mask": draw(st.lists(st.booleans(), min_size=n, max_size=n))}
    elif kind == "none":
        key = {"none": True}
    else:
        if x.shape[-1] == 0:
            return None
        return [], {"ellipsis": True, "last": draw(st.integers(-x.shape[-1], x.shape[-1] - 1))}
    return [], {"axis": axis, **key}


def _index_key(kw, ndim):
    if kw.get("ellipsis"):
        return (Ellipsis, kw["last"])
    if kw.get("none"):
        return (slice(None),) * kw["axis"] + (None,)
    lead = (slice(None),) * kw["axis"]
    if "slice" in kw:
        return lead + (slice(*kw["slice"]),)
    if "int" in kw:
        return lead + (kw["int"],)
    if "array" in kw:
        return lead + (np.array(kw["array"], dtype=np.int64),)
    return lead + (np.array(kw["mask"], dtype=bool),)


def _t_index(a, kw):
    key = tuple(torch.from_numpy(k) if isinstance(k, np.ndarray) else k for k in _index_key(kw, a[0].ndim))
    return a[0][key]


def _reshape_make(draw, x, pool):
    n = x.size
    if n == 0:
        return None
    dims, rest = [], n
    for _ in range(draw(st.integers(0, 2))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        d = draw(st.sampled_from(divisors))
        dims.append(d)
        rest //= d
    dims.append(rest)
    if draw(st.booleans()) and len(dims) > 1:
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return [], {"shape": dims}


def _transpose_make(draw, x, pool):
    if x.ndim < 2:
        return None
    a, b = draw(st.permutations(list(range(x.ndim))))[:2]
    return [], {"a": a, "b": b}


def _permute_make(draw, x, pool):
    if x.ndim < 2:
        return None
    return [], {"perm": list(draw(st.permutations(list(range(x.ndim)))))}


def _squeeze_make(draw, x, pool):
    ones = [i for i, s in enumerate(x.shape) if s == 1]
    if draw(st.booleans()) or not ones:
        return [], {"unsqueeze": draw(st.integers(0, x.ndim))}
    return [], {"squeeze": draw(st.sampled_from(ones))}


def _expand_make(draw, x, pool):
    if x.ndim == 0 or 1 not in x.shape:
        return [], {"shape": [draw(st.integers(1, 3))] + list(x.shape)}
    return [], {"shape": [draw(st.integers(1, 3)) if s == 1 else s for s in x.shape]}


def _cat_make(draw, x, pool):
    if x.ndim == 0:
        return None
    axis = draw(st.integers(0, x.ndim - 1))
    shape = list(x.shape)
    shape[axis] = draw(st.integers(1, 3))
    return [pool.new_input(tuple(shape))], {"axis": axis}


def _stack_make(draw, x, pool):
    return [pool.same_shape(draw, x.shape)], {"axis": draw(st.integers(0, x.ndim))}


def _pad_make(draw, x, pool):
    if x.ndim == 0:
        return None
    k = draw(st.integers(1, min(2, x.ndim)))
    pad = [draw(st.integers(0, 2)) for _ in range(2 * k)]
    return [], {"pad": pad, "value": draw(st.sampled_from([0.0, 1.5]))}


def _loss_make(kind):
    def make(draw, x, pool):
        if kind in ("cross_entropy", "nll_loss"):
            if x.ndim != 2 or x.shape[1] < 2 or x.shape[0] < 1:
                return None
            target = draw(st.lists(st.integers(0, x.shape[1] - 1), min_size=x.shape[0], max_size=x.shape[0]))
            return [], {"target": target, "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
        if x.size == 0:
            return None
        other = pool.same_shape(draw, x.shape, kind="unit" if kind == "bce" else "normal")
        return [other], {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    return make


OPS: dict[str, Op] = {
    "neg": _unary(lambda x: -x, lambda x: -x),
    "exp": _unary(cr.exp, torch.exp, lambda x: x.size == 0 or x.max() < 5),
    "log": _unary(cr.log, torch.log, _positive),
    "sqrt": _unary(cr.sqrt, torch.sqrt, _positive),
    "tanh": _unary(cr.tanh, torch.tanh),
    "sigmoid": _unary(cr.sigmoid, torch.sigmoid),
    "sin": _unary(cr.sin, torch.sin),
    "cos": _unary(cr.cos, torch.cos),
    "abs": _unary(cr.abs, torch.abs, _away_from_zero),
    "relu": _unary(cr.relu, torch.relu, lambda x: x.size == 0 or np.abs(x).min() > 1e-3),
    "pow": Op(lambda a, kw: a[0] ** kw["c"], lambda a, kw: a[0] ** kw["c"], _pow_make),
    "add_scalar": Op(lambda a, kw: a[0] + kw["c"], lambda a, kw: a[0] + kw["c"], _scalar_make),
    "mul_scalar": Op(lambda a, kw: kw["c"] * a[0], lambda a, kw: kw["c"] * a[0], _scalar_make),
    "rsub_scalar": Op(lambda a, kw: kw["c"] - a[0], lambda a, kw: kw["c"] - a[0], _scalar_make),
    "rdiv_scalar": Op(lambda a, kw: kw["c"] / a[0], lambda a, kw: kw["c"] / a[0],
                      lambda draw, x, pool: _scalar_make(draw, x, pool) if _away_from_zero(x) else None),
    "add": Op(lambda a, kw: a[0] + a[1], lambda a, kw: a[0] + a[1], _binary_make()),
    "sub": Op(lambda a, kw: a[0] - a[1], lambda a, kw: a[0] - a[1], _binary_make()),
    "mul": Op(lambda a, kw: a[0] * a[1], lambda a, kw: a[0] * a[1], _binary_make()),
    "div": Op(lambda a, kw: a[0] / a[1], lambda a, kw: a[0] / a[1], _binary_make(_away_from_zero)),
    "pow_tensor": Op(lambda a, kw: a[0] ** a[1], lambda a, kw: a[0] ** a[1],
                     _binary_make(lambda b: b.size == 0 or np.abs(b).max() < 3,
                                  lambda a, b: _positive(a) and a.max() < 10)),
    "maximum": Op(lambda a, kw: cr.maximum(a[0], a[1]), lambda a, kw: torch.maximum(a[0], a[1]),
                  _binary_make(ok_pair=lambda a, b: np.broadcast(a, b).size == 0
                               or np.abs(np.subtract(a, b)).min() > 1e-3)),
    "minimum": Op(lambda a, kw: cr.minimum(a[0], a[1]), lambda a, kw: torch.minimum(a[0], a[1]),
                  _binary_make(ok_pair=lambda a, b: np.broadcast(a, b).size == 0
                               or np.abs(np.subtract(a, b)).min() > 1e-3)),
    "where": Op(lambda a, kw: cr.where(a[0] > kw["thr"], a[0], a[1]),
                lambda a, kw: torch.where(a[0] > kw["thr"], a[0], a[1]), _where_make),
    "clip": Op(lambda a, kw: cr.clip(a[0], kw["lo"], kw["hi"]), lambda a, kw: torch.clamp(a[0], kw["lo"], kw["hi"]),
               _clip_make),
    "sum": Op(lambda a, kw: a[0].sum(axis=_axes(kw, 0), keepdims=kw["keepdims"]),
              lambda a, kw: a[0].sum(dim=_t_dim(kw["axis"]), keepdim=kw["keepdims"]) if kw["axis"] is not None
              else (a[0].sum().reshape([1] * a[0].ndim) if kw["keepdims"] else a[0].sum()), _reduce_make()),
    "mean": Op(lambda a, kw: a[0].mean(axis=_axes(kw, 0), keepdims=kw["keepdims"]),
               lambda a, kw: a[0].mean(dim=_t_dim(kw["axis"]), keepdim=kw["keepdims"]) if kw["axis"] is not None
               else (a[0].mean().reshape([1] * a[0].ndim) if kw["keepdims"] else a[0].mean()),
               _reduce_make(lambda x, kw: _reduced_size(x, kw) > 0)),
    "var": Op(lambda a, kw: a[0].var(axis=_axes(kw, 0), keepdims=kw["keepdims"], correction=kw["correction"]),
              lambda a, kw: torch.var(a[0], dim=_t_dim(kw["axis"]), keepdim=kw["keepdims"],
                                      correction=kw["correction"]), _var_make),
    "std": Op(lambda a, kw: a[0].std(axis=_axes(kw, 0), keepdims=kw["keepdims"], correction=kw["correction"]),
              lambda a, kw: torch.std(a[0], dim=_t_dim(kw["axis"]), keepdim=kw["keepdims"],
                                      correction=kw["correction"]),
              lambda draw, x, pool: (lambda r: r if r is not None and _std_ok(x, r[1]) else None)(
                  _var_make(draw, x, pool))),
    "logsumexp": Op(lambda a, kw: cr.logsumexp(a[0], axis=_axes(kw, 0), keepdims=kw["keepdims"]),
                    lambda a, kw: torch.logsumexp(a[0], dim=_t_dim(kw["axis"]) if kw["axis"] is not None
                                                  else tuple(range(a[0].ndim)), keepdim=kw["keepdims"]),
                    _reduce_make(lambda x, kw: _reduced_size(x, kw) > 0)),
    "amax": Op(lambda a, kw: a[0].amax(axis=kw["axis"], keepdims=kw["keepdims"]),
               lambda a, kw: torch.amax(a[0], dim=kw["axis"] if kw["axis"] is not None else (),
                                        keepdim=kw["keepdims"]), _extreme_make),
    "amin": Op(lambda a, kw: a[0].amin(axis=kw["axis"], keepdims=kw["keepdims"]),
               lambda a, kw: torch.amin(a[0], dim=kw["axis"] if kw["axis"] is not None else (),
                                        keepdim=kw["keepdims"]), _extreme_make),
    "max_all": Op(lambda a, kw: a[0].max(), lambda a, kw: a[0].max(),
                  lambda draw, x, pool: ([], {}) if x.size and _no_ties(x) else None),
    "softmax": Op(lambda a, kw: cr.softmax(a[0], axis=kw["axis"]), lambda a, kw: torch.softmax(a[0], kw["axis"]),
                  _softmax_make),
    "log_softmax": Op(lambda a, kw: cr.log_softmax(a[0], axis=kw["axis"]),
                      lambda a, kw: torch.log_softmax(a[0], kw["axis"]), _softmax_make),
    "matmul": Op(lambda a, kw: a[0] @ a[1], lambda a, kw: a[0] @ a[1], _matmul_make),
    "index": Op(lambda a, kw: a[0][_index_key(kw, a[0].ndim)], _t_index, _index_make),
    "reshape": Op(lambda a, kw: a[0].reshape(*kw["shape"]), lambda a, kw: a[0].reshape(*kw["shape"]), _reshape_make),
    "transpose": Op(lambda a, kw: a[0].transpose(kw["a"], kw["b"]), lambda a, kw: a[0].transpose(kw["a"], kw["b"]),
                    _transpose_make),
    "permute": Op(lambda a, kw: a[0].permute(*kw["perm"]), lambda a, kw: a[0].permute(*kw["perm"]), _permute_make),
    "flatten": Op(lambda a, kw: a[0].flatten(), lambda a, kw: a[0].flatten(), lambda draw, x, pool: ([], {})),
    "squeeze": Op(lambda a, kw: a[0].unsqueeze(kw["unsqueeze"]) if "unsqueeze" in kw else a[0].squeeze(kw["squeeze"]),
                  lambda a, kw: a[0].unsqueeze(kw["unsqueeze"]) if "unsqueeze" in kw else a[0].squeeze(kw["squeeze"]),
                  _squeeze_make),
    "expand": Op(lambda a, kw: a[0].expand(*kw["shape"]), lambda a, kw: a[0].expand(*kw["shape"]), _expand_make),
    "cat": Op(lambda a, kw: cr.cat([a[0], a[1]], axis=kw["axis"]), lambda a, kw: torch.cat([a[0], a[1]], kw["axis"]),
              _cat_make),
    "stack": Op(lambda a, kw: cr.stack([a[0], a[1]], axis=kw["axis"]),
                lambda a, kw: torch.stack([a[0], a[1]], kw["axis"]), _stack_make),
    "pad": Op(lambda a, kw: cr.pad(a[0], tuple(kw["pad"]), value=kw["value"]),
              lambda a, kw: torch.nn.functional.pad(a[0], tuple(kw["pad"]), value=kw["value"]), _pad_make),
}
LOSSES: dict[str, Op] = {
    "cross_entropy": Op(lambda a, kw: F.cross_entropy(a[0], cr.tensor(np.array(kw["target"])),
                                                      reduction=kw["reduction"]),
                        lambda a, kw: torch.nn.functional.cross_entropy(a[0], torch.tensor(kw["target"]),
                                                                        reduction=kw["reduction"]),
                        _loss_make("cross_entropy")),
    "nll_loss": Op(lambda a, kw: F.nll_loss(a[0], cr.tensor(np.array(kw["target"])), reduction=kw["reduction"]),
                   lambda a, kw: torch.nn.functional.nll_loss(a[0], torch.tensor(kw["target"]),
                                                              reduction=kw["reduction"]),
                   _loss_make("nll_loss")),
    "mse_loss": Op(lambda a, kw: F.mse_loss(a[0], a[1], reduction=kw["reduction"]),
                   lambda a, kw: torch.nn.functional.mse_loss(a[0], a[1], reduction=kw["reduction"]),
                   _loss_make("mse")),
    "bce_with_logits": Op(lambda a, kw: F.binary_cross_entropy_with_logits(a[0], a[1], reduction=kw["reduction"]),
                          lambda a, kw: torch.nn.functional.binary_cross_entropy_with_logits(
                              a[0], a[1], reduction=kw["reduction"]), _loss_make("bce")),
}


# ------------------------------------------------------------ generation
def input_values(graph: dict, i: int, shape, kind: str = "normal") -> np.ndarray:
    """The values of input ``i``: a pure function of the graph's seed, so a saved graph replays exactly."""
    rng = np.random.default_rng([graph["seed"], i])
    if kind == "unit":
        x = rng.uniform(0.0, 1.0, size=shape)
    else:
        x = rng.uniform(-2.0, 2.0, size=shape)
    return x.astype(DTYPES[graph["dtype"]][0])


class Pool:
    """The values of a graph being generated, evaluated in float64 as it grows."""

    def __init__(self, graph: dict) -> None:
        self.graph = graph
        self.values: list[np.ndarray] = []

    def value(self, i: int) -> np.ndarray:
        return self.values[i]

    def new_input(self, shape, kind: str = "normal") -> int:
        spec = {"input": list(shape), "kind": kind}
        self.graph["values"].append(spec)
        self.values.append(input_values(self.graph, len(self.values), tuple(shape), kind).astype(np.float64))
        return len(self.values) - 1

    def partner(self, draw, shape) -> int:
        """An existing value or a new input whose shape broadcasts with ``shape``."""
        fits = [i for i, v in enumerate(self.values) if _broadcasts(v.shape, shape)]
        if fits and draw(st.booleans()):
            return draw(st.sampled_from(fits))
        k = draw(st.integers(0, len(shape)))
        tail = [s if not draw(st.booleans()) else 1 for s in shape[len(shape) - k:]]
        lead = [draw(st.integers(1, 2))] if k == len(shape) and draw(st.integers(0, 5)) == 0 else []
        return self.new_input(tuple(lead + tail))

    def same_shape(self, draw, shape, kind: str = "normal") -> int:
        fits = [i for i, v in enumerate(self.values) if v.shape == tuple(shape)] if kind == "normal" else []
        if fits and draw(st.booleans()):
            return draw(st.sampled_from(fits))
        return self.new_input(tuple(shape), kind)


def _broadcasts(a, b) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return np.broadcast_shapes(a, b) == tuple(b)  # the partner never grows the result


def _torch_eval(op: Op, args: list[np.ndarray], kw: dict) -> np.ndarray:
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")  # what PyTorch warns about (e.g. std with too few values) is not used
        return op.torch([torch.from_numpy(np.asarray(a)) for a in args], kw).numpy()


@st.composite
def graphs(draw, max_ops: int = 6) -> dict:
    graph = {"dtype": draw(st.sampled_from(sorted(DTYPES))), "order": draw(st.sampled_from([1, 2])),
             "seed": draw(st.integers(0, 2**32 - 1)), "values": [], "loss": None}
    pool = Pool(graph)
    shape = tuple(draw(st.lists(st.integers(0 if draw(st.integers(0, 9)) == 0 else 1, 4), min_size=0, max_size=3)))
    pool.new_input(shape)
    for _ in range(draw(st.integers(1, max_ops))):
        src = len(pool.values) - 1 if draw(st.integers(0, 3)) else draw(st.integers(0, len(pool.values) - 1))
        x = pool.values[src]
        name = draw(st.sampled_from(sorted(OPS)))
        made = OPS[name].make(draw, x, pool)
        if made is None:
            continue
        extra, kw = made
        args = [src] + extra
        try:
            out = _torch_eval(OPS[name], [pool.values[i] for i in args], kw)
        except (RuntimeError, IndexError, ValueError, UserWarning):
            continue  # not valid in PyTorch either (e.g. an empty reduction): not a test of this graph
        if out.size and not np.all(np.isfinite(out)) or (out.size and np.abs(out).max() > MAX_ABS):
            continue
        graph["values"].append({"op": name, "args": args, "kw": kw})
        pool.values.append(np.asarray(out, dtype=np.float64))
    last = pool.values[-1]
    loss = draw(st.sampled_from(sorted(LOSSES) + ["weighted_sum"] * 4))
    if loss != "weighted_sum":
        made = LOSSES[loss].make(draw, last, pool)
        if made is not None:
            graph["loss"] = {"op": loss, "args": [len(pool.values) - 1] + made[0], "kw": made[1]}
    assume(any("op" in v for v in graph["values"]) or graph["loss"] is not None)
    return graph


# ------------------------------------------------------------ running a graph in both libraries
class Mismatch(AssertionError):
    """chainrule and PyTorch disagree on this graph; the message says where."""


def _build(graph: dict, lib: str, dtype: str | None = None, nudge: float = 0.0) -> tuple[list, Any]:
    """The graph in ``lib``; ``dtype`` float64 replays a float32 graph on its own (upcast) inputs;
    ``nudge`` ±inf moves every input one representable step that way (how sensitive the graph is)."""
    values, leaves = [], []
    for i, v in enumerate(graph["values"]):
        if "input" in v:
            arr = input_values(graph, i, tuple(v["input"]), v.get("kind", "normal"))
            arr = np.nextafter(arr, np.asarray(nudge, arr.dtype)) if nudge else arr
            arr = arr.astype(DTYPES[dtype][0]) if dtype else arr
            t = cr.tensor(arr, requires_grad=True) if lib == "cr" else torch.tensor(arr, requires_grad=True)
            leaves.append(t)
            values.append(t)
        else:
            op = OPS[v["op"]]
            fn = op.cr if lib == "cr" else op.torch
            values.append(fn([values[j] for j in v["args"]], v["kw"]))
    out = values[-1]
    if graph.get("loss"):
        spec = graph["loss"]
        op = LOSSES[spec["op"]]
        out = (op.cr if lib == "cr" else op.torch)([values[j] for j in spec["args"]], spec["kw"])
    return leaves, out


def _weights(graph: dict, shape, dtype: str | None = None) -> np.ndarray:
    rng = np.random.default_rng([graph["seed"], 10_000])
    w = rng.uniform(0.5, 1.5, size=shape).astype(DTYPES[graph["dtype"]][0])
    return w.astype(DTYPES[dtype][0]) if dtype else w


def _scalar(out, graph: dict, lib: str, dtype: str | None = None):
    w = _weights(graph, tuple(out.shape), dtype)
    return (out * (cr.tensor(w) if lib == "cr" else torch.from_numpy(w))).sum()


def _close(what: str, got, want, graph: dict, second_order: bool = False, exact=None) -> None:
    """``got`` (chainrule) agrees with ``want`` (PyTorch, same dtype); where they differ in float32, ``exact``
    (PyTorch in float64 on the same inputs) referees: chainrule passes if it is as close to it as PyTorch is."""
    if want is None or got is None:
        g = None if got is None else np.asarray(got)
        w = None if want is None else np.asarray(want)
        if (g is None) != (w is None) and not ((g is not None and not g.any()) or (w is not None and not w.any())):
            raise Mismatch(f"{what}: chainrule {'None' if g is None else 'a gradient'}, torch "
                           f"{'None' if w is None else 'a gradient'}")
        return
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        raise Mismatch(f"{what}: shape {got.shape} != torch {want.shape}")
    if got.dtype != want.dtype:
        raise Mismatch(f"{what}: dtype {got.dtype} != torch {want.dtype}")
    tol = dict(TOL[graph["dtype"]])
    if second_order and graph["dtype"] == "float32":  # two rounds of float32 rounding (a zero Hessian came out
        tol["atol"] *= 5                                # as 2e-5 in PyTorch, -7e-7 here; float64 agrees)
    scale = max(1.0, float(np.abs(want).max())) if want.size and np.isfinite(want).all() else 1.0
    if np.allclose(got, want, rtol=tol["rtol"], atol=tol["atol"] * scale, equal_nan=True):
        return
    if exact is not None and _as_close_as_torch(got, want, exact.values()[0], exact.values()[1:]):
        return
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    idx = np.unravel_index(np.nanargmax(err), err.shape) if err.size else ()
    raise Mismatch(f"{what}: max difference {np.nanmax(err):.3g} at {idx}: chainrule {got[idx]!r}, "
                   f"torch {want[idx]!r}" + _referee_says(exact, got.shape, idx))


def _referee_says(exact, shape, idx) -> str:
    e = np.asarray(exact.values()[0]) if exact is not None else None
    return f", float64 {e[idx]!r}" if e is not None and e.shape == shape else ""


def _as_close_as_torch(got, want, exact, nudged) -> bool:
    """A float32 disagreement that is the graph's own ill-conditioning, not a defect: chainrule is no further
    from the float64 value than twice what PyTorch's float32 error, or moving the inputs by one float32 step,
    gives (cancellations and steep functions amplify rounding, differently in each library)."""
    g, w, e = (np.asarray(a, np.float64) for a in (got, want, exact))
    if g.shape != e.shape or not (np.isfinite(g).all() and np.isfinite(w).all() and np.isfinite(e).all()):
        return False
    spread = np.zeros_like(e)
    for n in nudged:
        n = np.asarray(n, np.float64)
        if n.shape == e.shape and np.isfinite(n).all():
            spread = np.maximum(spread, np.abs(n - w))
    return bool((np.abs(g - e) <= 2.0 * np.maximum(np.abs(w - e), spread) + 1e-6 * np.maximum(np.abs(e), 1.0)).all())


def _np(t) -> np.ndarray | None:
    if t is None:
        return None
    if not isinstance(t, torch.Tensor):
        return t.numpy()
    if t._is_zerotensor():  # PyTorch's lazy zeros for a zero second derivative (numpy(force=True) crashed on one)
        return np.zeros(tuple(t.shape), dtype=DTYPES["float64" if t.dtype == torch.float64 else "float32"][0])
    return t.detach().clone().numpy()


def _torch_results(graph: dict, dtype: str | None = None, nudge: float = 0.0) -> dict:
    """PyTorch's forward value, gradients and Hessian-vector products (the vectors drawn from the seed)."""
    leaves, out = _build(graph, "torch", dtype, nudge)
    s = _scalar(out, graph, "torch", dtype)
    order2 = graph["order"] == 2
    grads = torch.autograd.grad(s, leaves, allow_unused=True, create_graph=order2)
    res = {"out": out, "grads": grads, "hv": None, "vs": None}
    if order2:
        pairs = [(i, t) for i, t in enumerate(grads) if t is not None and t.requires_grad]
        if pairs:
            rng = np.random.default_rng([graph["seed"], 20_000])
            vs = {i: rng.uniform(-1, 1, size=tuple(t.shape)).astype(DTYPES[graph["dtype"]][0]) for i, t in pairs}
            cast = DTYPES[dtype or graph["dtype"]][0]
            res["vs"] = vs
            res["hv"] = torch.autograd.grad(sum((t * torch.from_numpy(vs[i].astype(cast))).sum() for i, t in pairs),
                                            leaves, allow_unused=True)
    return res


def run(graph: dict) -> None:
    """Raise Mismatch (or chainrule's own exception) where chainrule and PyTorch disagree on ``graph``."""
    t = _torch_results(graph)
    c_leaves, c_out = _build(graph, "cr")
    refs: list = []  # PyTorch in float64, and in float32 on nudged inputs: made only to referee a disagreement

    def exact(key, i=None):
        if graph["dtype"] != "float32":
            return []
        if not refs:
            for dtype, nudge in (("float64", 0.0), (None, np.inf), (None, -np.inf)):
                try:
                    refs.append(_torch_results(graph, dtype, nudge))
                except Exception:  # noqa: BLE001 - no referee for a graph that does not replay so
                    refs.append({"out": None, "grads": None, "hv": None})
        return [_np(r[key] if i is None or r[key] is None else r[key][i]) for r in refs]

    _close("forward value", _np(c_out), _np(t["out"]), graph, exact=_Lazy(exact, "out"))
    c_s = _scalar(c_out, graph, "cr")
    order2 = graph["order"] == 2
    c_g = cr.grad(c_s, c_leaves, allow_unused=True, create_graph=order2)
    for i, (c, tg) in enumerate(zip(c_g, t["grads"])):
        _close(f"gradient of input {i}", _np(c), _np(tg), graph, exact=_Lazy(exact, "grads", i))
    if not order2 or t["hv"] is None:
        return
    # A gradient chainrule returns as a constant (piecewise-linear ops: relu, abs, indexing) has a zero
    # derivative; PyTorch still records a graph for it. Only the values are compared: zeros either way.
    live = [(c, t["vs"][i]) for i, c in enumerate(c_g) if i in t["vs"] and c is not None and c.requires_grad]
    if not live:
        c_hv = [None] * len(c_leaves)
    else:
        c_hv = cr.grad(sum((c * cr.tensor(v)).sum() for c, v in live), c_leaves, allow_unused=True)
    for i, (c, th) in enumerate(zip(c_hv, t["hv"])):
        _close(f"Hessian-vector product, input {i}", _np(c), _np(th), graph, second_order=True,
               exact=_Lazy(exact, "hv", i))


class _Lazy:
    """The referees' values (float64, then float32 on nudged inputs), computed on first use (most comparisons
    never need them); none for a float64 graph."""

    def __init__(self, fn, *args) -> None:
        self.fn, self.args = fn, args

    def values(self) -> list:
        vs = [np.nan if v is None else v for v in self.fn(*self.args)]
        return (vs + [np.nan, np.nan, np.nan])[:3]


def describe(graph: dict) -> str:
    """The graph as code-like lines, for a failure message."""
    lines = [f"dtype {graph['dtype']}, order {graph['order']}, seed {graph['seed']}"]
    for i, v in enumerate(graph["values"]):
        if "input" in v:
            lines.append(f"  v{i} = input{tuple(v['input'])}{' in [0, 1]' if v.get('kind') == 'unit' else ''}")
        else:
            args = ", ".join(f"v{j}" for j in v["args"])
            lines.append(f"  v{i} = {v['op']}({args}{', ' if v['kw'] else ''}"
                         f"{', '.join(f'{k}={w!r}' for k, w in v['kw'].items())})")
    if graph.get("loss"):
        spec = graph["loss"]
        lines.append(f"  loss = {spec['op']}({', '.join(f'v{j}' for j in spec['args'])}, {spec['kw']})")
    return "\n".join(lines)
