"""Tensor: an array, its gradient, and a link to the node that made it.

The operators and methods at the bottom are sugar over the functions in
``chainrule.ops``; the Tensor itself knows nothing about differentiation
beyond holding ``grad_fn`` and ``grad``.
"""
from __future__ import annotations

import sys as _sys
from typing import Any, Callable

from . import autograd as _ag
from . import dtypes as _dtypes
from . import printing as _printing
from .backend import xp
from .errors import AutogradError, DTypeError, ShapeError

_new = object.__new__
_BY_NUMPY = _dtypes._BY_NUMPY


def to_array(data: Any, dtype=None):
    """Python data -> array: Python floats become float32, arrays keep their dtype."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, xp.ndarray):
        arr = data
    else:
        try:
            arr = xp.asarray(data)
        except ValueError as e:  # NumPy's words for a ragged nested list
            raise ShapeError(f"tensor: the data is not a rectangular array of numbers ({e})") from None
        # Python floats (and lists of them) become float32; an explicit np.float64(...) stays float64
        if dtype is None and arr.dtype == xp.float64 and not isinstance(data, xp.generic):
            arr = arr.astype(xp.float32)
    if dtype is not None:
        arr = arr.astype(xp.dtype(dtype), copy=False)
    if arr.dtype.byteorder not in "=|":  # a big-endian array from a file: the native dtype of the same kind
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype.kind not in "fiub":
        raise DTypeError(f"tensor: cannot hold values of dtype {arr.dtype} (only numbers and bools)")
    return arr


class Size(tuple):
    """A tensor's shape: a tuple (it compares equal to one) with PyTorch's ``numel()``."""

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"

    __str__ = tuple.__repr__  # in messages and f-strings a shape reads as the tuple "(4, 2)"


def _held_elsewhere(view: "Tensor") -> bool:
    """Does anything beyond ``view``'s own chain of bases (``_view_of``, which ``_rebase`` updates) hold the
    memory it views: a sibling view, a tensor with no link, a saved value, the caller's array?"""
    root = view._data.base
    chain, link = 1, getattr(view, "_view_of", None)
    while link is not None:
        chain, link = chain + 1, getattr(link[0], "_view_of", None)
    return _sys.getrefcount(root) - 2 > chain  # (- this frame's name and the call's argument)


def _all_sizes(args: tuple) -> bool:
    """Does ``cr.Tensor(*args)`` name a shape (``Tensor(2, 3)``, ``Tensor(Size([2, 3]))``), not data?"""
    if len(args) == 1 and isinstance(args[0], Size):
        return True
    return all(isinstance(a, int) and not isinstance(a, bool) for a in args)


def _sizes(args: tuple) -> tuple:
    shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else tuple(args) or (0,)
    if any(s < 0 for s in shape):
        raise ShapeError(f"cr.Tensor{shape}: negative dimension")
    return shape


def _fresh(data: Any, dtype):
    arr = to_array(data, dtype)
    if arr is (data._data if isinstance(data, Tensor) else data):  # (ndarray.data is a memoryview)
        arr = arr.copy()  # like torch.tensor(...): never aliases the caller's array
    return arr


class Tensor:
    """An n-dimensional array that can record the ops applied to it."""

    __slots__ = ("_data", "_grad", "grad_fn", "_rg", "_hooks", "_view_of", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operator
    __hash__ = object.__hash__

    def __new__(cls, *args: Any, **kwargs: Any) -> "Tensor":
        """``cr.Tensor(2, 3)`` (sizes) is a zero-filled float32 tensor of that shape, as PyTorch reads it
        (PyTorch leaves the values uninitialised); ``cr.Tensor()`` is an empty one."""
        if cls is Tensor and not kwargs and (not args or _all_sizes(args)):
            t = _new(Tensor)
            t._adopt(xp.zeros(_sizes(args), xp.float32), False)
            return t
        return super().__new__(cls)

    def __init__(self, data: Any = None, *more: Any, dtype=None, requires_grad: bool = False) -> None:
        """``cr.Tensor(python data)`` is float32 (PyTorch's ``torch.Tensor``: the default dtype, even for
        integers); an array or Tensor keeps its dtype.  ``cr.tensor`` infers ints, as ``torch.tensor``."""
        if data is None or _all_sizes((data, *more)):
            return  # made by __new__
        if more:
            raise TypeError(f"cr.Tensor(): one data argument or integer sizes, got {(data, *more)!r}")
        if dtype is None and isinstance(data, (list, tuple, float)):
            dtype = xp.float32
        self._adopt(_fresh(data, dtype), requires_grad)

    @staticmethod
    def of(data: Any, dtype=None, requires_grad: bool = False) -> "Tensor":
        """A new leaf from any data with ``cr.tensor``'s dtype rules (Python ints stay int64)."""
        t = _new(Tensor)
        t._adopt(_fresh(data, dtype), requires_grad)
        return t

    def _adopt(self, arr, requires_grad: bool) -> None:
        """Become a fresh leaf holding ``arr`` (shared by Tensor and Parameter)."""
        self._data = arr
        self._grad = None
        self.grad_fn = None
        self._rg = False
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, node) -> "Tensor":
        """Wrap an array without checks or copies (used by every op)."""
        t = _new(Tensor)
        t._data = data
        t._grad = None
        t.grad_fn = node
        t._rg = node is not None
        t._hooks = None
        return t

    # ------------------------------------------------------------ attributes
    @property
    def data(self) -> "Tensor":
        """The same values as a Tensor outside the graph, sharing memory (PyTorch's ``.data``).

        Writes through it change this tensor; unlike PyTorch they still count as in-place writes,
        so a backward that needs the old values raises instead of using the new ones.
        ``.numpy()`` gives the array."""
        return Tensor._make(self._data, None)

    @data.setter
    def data(self, value) -> None:
        """``p.data = t`` makes this tensor hold ``t``'s values (its memory, as in PyTorch)."""
        if not isinstance(value, (Tensor, xp.ndarray)):
            raise TypeError(f"assigned data must be a Tensor, got {type(value).__name__}; "
                            f"write .data = cr.tensor(...)")
        self._data = to_array(value)

    @property
    def shape(self) -> "Size":
        return Size(self._data.shape)

    @property
    def grad(self):
        """The accumulated gradient (a Tensor of this tensor's shape and dtype), or None."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise ShapeError(f"assigned grad has shape {value._data.shape}, the tensor has shape "
                                 f"{self._data.shape}")
            if value._data.dtype != self._data.dtype:
                raise DTypeError(f"assigned grad is {value._data.dtype}, the tensor is {self._data.dtype}; "
                                 f"convert it first (.to({self._data.dtype}))")
        self._grad = value

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> "_dtypes.dtype":
        """The element type, printing as ``chainrule.float32`` (it equals ``numpy.float32`` too)."""
        d = self._data.dtype
        return _BY_NUMPY.get(d) or _dtypes.of(d)

    @property
    def device(self):
        """Where the values live: always ``cr.device("cpu")`` here (it compares equal to ``"cpu"``)."""
        from .devices import CPU

        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    @property
    def T(self) -> Tensor:
        return _ops.reverse_axes(self)

    @property
    def mT(self) -> "Tensor":
        return _ops.transpose(self, -2, -1)

    def size(self, dim: int | None = None):
        return Size(self._data.shape) if dim is None else self._data.shape[dim]

    def nelement(self) -> int:
        return int(self._data.size)

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ------------------------------------------------------------ conversion
    def numpy(self):
        return self._data

    def item(self):
        if self._data.size != 1:
            raise ValueError(
                f"item(): only a one-element tensor can be a Python number, this one has shape {self.shape}"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, not {self._data.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()"
            )
        return bool(self._data.item())

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def to(self, *args, **kwargs) -> "Tensor":
        """PyTorch's forms: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``, keywords;
        a dtype change is differentiable, a device other than the CPU is an error (devices.parse_to)."""
        from .devices import parse_to

        copy = kwargs.get("copy", False)
        _, dtype = parse_to(args, kwargs, "Tensor.to")
        dtype = None if dtype is None else xp.dtype(dtype)
        if dtype is None or dtype == self._data.dtype:
            return self.clone() if copy else self
        return _cast(self, dtype)

    def cuda(self, device=None, non_blocking: bool = False) -> "Tensor":
        from .devices import check

        check("cuda" if device is None else device, "Tensor.cuda")
        return self

    def float(self) -> "Tensor":
        return self.to(xp.float32)

    def double(self) -> "Tensor":
        return self.to(xp.float64)

    def half(self) -> "Tensor":
        return self.to(xp.float16)

    def long(self) -> "Tensor":
        return self.to(xp.int64)

    def int(self) -> "Tensor":
        return self.to(xp.int32)

    def bool(self) -> "Tensor":
        return self.to(xp.bool_)

    def type(self, dtype=None):
        """``x.type()`` names the type as PyTorch does (``chainrule.FloatTensor``); ``x.type(dtype)`` converts."""
        return f"chainrule.{self.dtype.tensor_type}" if dtype is None else self.to(dtype)

    def cpu(self) -> "Tensor":
        return self

    # ------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self.grad_fn is not None and not requires_grad:
            raise AutogradError(
                "requires_grad=False on a non-leaf tensor: use .detach() to get a tensor without history"
            )
        if requires_grad and self._data.dtype.kind != "f":
            raise DTypeError(
                f"only floating-point tensors can require gradients, this one is {self._data.dtype}"
            )
        self._rg = bool(requires_grad) or self.grad_fn is not None
        return self

    def detach(self) -> "Tensor":
        """The same values, cut from the graph (shares memory, as in PyTorch)."""
        return Tensor._make(self._data, None)

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._rg = False
        return self

    def clone(self) -> "Tensor":
        return _ops.add(self, 0) if self._rg else Tensor._make(self._data.copy(), None)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on a non-leaf tensor after backward."""
        if not self._rg:
            raise AutogradError("retain_grad() on a tensor that does not require grad")
        if self.grad_fn is not None:
            _ag.retain_on_node(self.grad_fn, self)

    @property
    def retains_grad(self) -> bool:
        return _ag.retains(self.grad_fn)

    def register_hook(self, hook: Callable):
        """``hook(grad) -> Tensor or None`` runs when this tensor's gradient is computed."""
        if not self._rg:
            raise AutogradError("cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is not None:
            return _ag.register_node_hook(self.grad_fn, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _ag._RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable):
        """``hook(tensor)`` runs once this leaf's ``.grad`` holds all of a backward pass's gradient."""
        return _ag.register_post_accumulate_grad_hook(self, hook)

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        if inputs is not None:
            inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
            grads = _ag.grad(self, inputs, gradient, retain_graph, create_graph, allow_unused=True)
            for t, g in zip(inputs, grads):
                if g is not None:
                    t.grad = g if t.grad is None else t.grad + g
            return
        _ag.backward(self, gradient, retain_graph, create_graph)

    # ------------------------------------------------------------ in place
    def _in_place(self, what: str, result: Callable, *others) -> "Tensor":
        """Write ``result(self)`` (an out-of-place op) into this tensor's memory, with PyTorch's rules:
        a leaf that requires grad only under no_grad; otherwise, when recording, the op is recorded
        on a copy of the old value and this tensor takes the new node; the write ticks the clock
        that backward checks saved values against (autograd.mark_written)."""
        recording = _ag._grad_enabled and (self._rg or any(isinstance(o, Tensor) and o._rg for o in others))
        src = self
        if recording:
            if self._rg and self.grad_fn is None:
                raise AutogradError(
                    f"{what}: a leaf tensor that requires grad is being used in an in-place operation; do it "
                    "under cr.no_grad() (as an optimizer does), or change a .clone()"
                )
            if _is_view_in_graph(self) and _held_elsewhere(self):
                raise AutogradError(
                    f"{what}: this tensor is a view ({self.grad_fn.name()}) of a tensor in the graph; changing it in "
                    "place would change the base's values but not its gradient. Assign through the base instead "
                    "(h = h.reshape(...) * 0, h[0] = ...), or change a .clone()"
                )
            _check_bases(self, what)
            if self._data.base is not None and _held_elsewhere(self):
                raise AutogradError(
                    f"{what}: this tensor is a view of memory that another tensor or view (or a value saved for "
                    "backward) holds (a slice, .view, .T, ...); "
                    "changing it in place while gradients are recorded would change that tensor without its "
                    "gradient knowing. Change a .clone() of the view, or build the new value out of place "
                    "(cr.where, cr.cat), or do it under cr.no_grad()"
                )
            src = Tensor._make(self._data.copy(), self.grad_fn)
            src._rg = self._rg
        out = result(src)
        out = out if isinstance(out, Tensor) else Tensor._make(xp.asarray(out), None)
        if out._data.shape != self._data.shape:
            raise ShapeError(f"{what}: the result has shape {out._data.shape}, which does not fit the tensor's "
                             f"shape {self._data.shape} (an in-place op cannot change the shape)")
        try:
            xp.copyto(self._data, out._data, casting="same_kind")
        except TypeError:
            raise DTypeError(f"{what}: the result ({out._data.dtype}) can't be written into a {self._data.dtype} "
                             f"tensor in place; convert first (.float() / .double())") from None
        except ValueError as e:  # a read-only array (an expanded view, a shared constant)
            raise ValueError(f"{what}: this tensor's memory is read-only ({e}); change a .clone()") from None
        _ag.mark_written(self._data)
        if recording:
            self.grad_fn, self._rg = out.grad_fn, out._rg
            if getattr(self, "_view_of", None) is not None:
                _rebase(self)
        return self

    def __setitem__(self, index, value) -> None:
        from .ops.index import _raw_index

        if _ag._grad_enabled and (self._rg or isinstance(value, Tensor) and value._rg):
            from .ops.select import put  # recorded, as PyTorch's CopySlices: dC[ix] += demb[k, j]

            self._in_place("item assignment", lambda t: put(t, index, value), value)
            return
        self._data[_raw_index(index)] = value._data if isinstance(value, Tensor) else value
        _ag.mark_written(self._data)

    def zero_(self) -> "Tensor":
        return self._in_place("zero_", lambda t: _replaced(t, 0))

    def fill_(self, value) -> "Tensor":
        return self._in_place("fill_", lambda t: _replaced(t, value), value)

    def copy_(self, src) -> "Tensor":
        src = src if isinstance(src, Tensor) else Tensor.of(src)
        return self._in_place("copy_", lambda t: _replaced(t, src.to(self._data.dtype)), src)

    def add_(self, other, alpha: float = 1.0) -> "Tensor":
        return self._in_place("add_", lambda t: _ops.add(t, other if alpha == 1 else _ops.mul(other, alpha)), other)

    def sub_(self, other, alpha: float = 1.0) -> "Tensor":
        return self._in_place("sub_", lambda t: _ops.sub(t, other if alpha == 1 else _ops.mul(other, alpha)), other)

    def mul_(self, other) -> "Tensor":
        return self._in_place("mul_", lambda t: _ops.mul(t, other), other)

    def div_(self, other, *, rounding_mode=None) -> "Tensor":
        return self._in_place("div_", lambda t: _ops.div(t, other, rounding_mode=rounding_mode), other)

    def pow_(self, exponent) -> "Tensor":
        return self._in_place("pow_", lambda t: _ops.pow(t, exponent), exponent)

    def clamp_(self, min=None, max=None) -> "Tensor":
        return self._in_place("clamp_", lambda t: _ops.clip(t, min, max))

    clip_ = clamp_

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None) -> "Tensor":
        from . import random

        gen = random.generator(generator)
        return self._in_place("uniform_", lambda t: gen.uniform(a, b, self._data.shape).astype(self._data.dtype))

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None) -> "Tensor":
        from . import random

        gen = random.generator(generator)
        return self._in_place("normal_", lambda t: gen.normal(mean, std, self._data.shape).astype(self._data.dtype))

    def __iadd__(self, other) -> "Tensor":
        return self.add_(other)

    def __isub__(self, other) -> "Tensor":
        return self.sub_(other)

    def __imul__(self, other) -> "Tensor":
        return self.mul_(other)

    def __itruediv__(self, other) -> "Tensor":
        return self.div_(other)

    def __ipow__(self, other) -> "Tensor":
        return self.pow_(other)

    # ------------------------------------------------------------ display
    def __repr__(self) -> str:
        body = _printing.body(self._data, "tensor(")
        extra = ""
        if self._data.dtype != xp.float32 and self._data.dtype != xp.int64 and self._data.dtype != xp.bool_:
            extra += f", dtype=chainrule.{self._data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name()}>"
        elif self._rg:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __format__(self, spec: str) -> str:
        """f"{loss:.4f}" formats a 0-d tensor's number, as PyTorch does."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))


_VIEW_OPS = frozenset({"reshape", "permute", "broadcast_to"})  # outputs sharing the input's memory, no base link


def _is_view_in_graph(t: Tensor) -> bool:
    """Whether ``t`` is a reshape/permute view of a tensor in the graph: an in-place change of it would
    reach that tensor's values but not its node (basic-index views are rebased instead: ``_rebase``)."""
    node = t.grad_fn
    return node is not None and t._data.base is not None and node.op.name in _VIEW_OPS


def _check_bases(view: Tensor, what: str) -> None:
    """PyTorch's rule for views: one of a leaf that requires grad may change only under no_grad."""
    link = getattr(view, "_view_of", None)
    while link is not None:
        base = link[0]
        if base._rg and base.grad_fn is None:
            raise AutogradError(f"{what}: a view of a leaf tensor that requires grad is being used in an in-place "
                                "operation; do it under cr.no_grad(), or change a .clone()")
        if _is_view_in_graph(base):
            raise AutogradError(f"{what}: this tensor is a view of a {base.grad_fn.name()} view of a tensor in the "
                                "graph; the change would reach its values but not its gradient. Assign through "
                                "the original tensor instead, or change a .clone()")
        link = getattr(base, "_view_of", None)


def _rebase(view: Tensor) -> None:
    """A basic-index view was changed in place (its memory is its base's): the base's node becomes
    ``put(old base, index, new view)``, as PyTorch's CopySlices, and so on up a chain of views."""
    from .ops.select import put

    base, index = view._view_of
    old = Tensor._make(base._data.copy(), base.grad_fn)
    old._rg = base._rg
    new = put(old, index, view)
    base.grad_fn, base._rg = new.grad_fn, new._rg
    if getattr(base, "_view_of", None) is not None:
        _rebase(base)


def _cast(t: Tensor, dtype) -> Tensor:
    y = t._data.astype(dtype)
    if t._rg and dtype.kind == "f" and _ag._grad_enabled:
        return _ops.registry.apply1(_CAST, t, {"dtype": dtype, "old": t._data.dtype})
    return Tensor._make(y, None)


from . import ops as _ops  # noqa: E402  (ops need the Tensor class defined above)
from .ops import registry as _registry  # noqa: E402

_registry._Tensor = Tensor
_ag._Tensor = Tensor
_ag._array_math = _ops.arraymath.ArrayMath
_ag._tensor_math = _ops
_CAST = _registry.defop(
    "cast", lambda x, dtype, old: x.astype(dtype),
    lambda F, g, x, y, kw, need: (F.cast(g, kw["old"]),), saves="",
    test=_registry.Case(lambda t, a: a.float().double(), call=lambda a: a.float().double(), fd=False),
)


def _install_operators() -> None:
    """The operator sugar: each entry is just the public function of that name."""
    o = _ops

    def rev(fn):
        return lambda self, other: fn(other, self)

    table = {
        "__add__": o.add, "__radd__": rev(o.add), "__sub__": o.sub, "__rsub__": rev(o.sub),
        "__mul__": o.mul, "__rmul__": rev(o.mul), "__truediv__": o.true_divide, "__rtruediv__": rev(o.true_divide),
        "__pow__": o.pow, "__rpow__": rev(o.pow), "__matmul__": o.matmul, "__rmatmul__": rev(o.matmul),
        "__neg__": o.neg, "__pos__": lambda self: self, "__abs__": o.abs,
        "__eq__": o.eq, "__ne__": o.ne, "__lt__": o.lt, "__le__": o.le, "__gt__": o.gt, "__ge__": o.ge,
        "__getitem__": o.getitem,
        "__floordiv__": o.floor_divide, "__rfloordiv__": rev(o.floor_divide),
        "__mod__": o.remainder, "__rmod__": rev(o.remainder),
        "__and__": lambda a, b: Tensor._make(a._data & _raw(b), None),
        "__or__": lambda a, b: Tensor._make(a._data | _raw(b), None),
        "__invert__": lambda a: Tensor._make(~a._data, None),
    }
    methods = (
        "exp log sqrt abs sin cos tanh sigmoid relu clip clamp maximum minimum pow matmul sum mean max min "
        "var std logsumexp argmax argmin reshape transpose permute flatten squeeze unsqueeze expand "
        "broadcast_to softmax log_softmax sign add sub mul div neg"
    ).split()
    for name, fn in table.items():
        setattr(Tensor, name, fn)
    for name in methods:
        setattr(Tensor, name, getattr(o, name))
    for name, (fn, method) in _registry.PUBLIC.items():  # what the table exports, beyond the list above
        if method and not hasattr(Tensor, name):
            setattr(Tensor, name, fn)
    for name in _IN_PLACE:  # x.exp_() is x.exp() written back in place
        if not hasattr(Tensor, name + "_") and hasattr(o, name):
            setattr(Tensor, name + "_", _in_place_method(name))
    for name in _REBOUND:  # x.unsqueeze_(0): this tensor becomes x.unsqueeze(0) (a new shape, same memory)
        if not hasattr(Tensor, name + "_") and hasattr(o, name):
            setattr(Tensor, name + "_", _rebound_method(name))
    for name, values in _FILLS.items():  # x.bernoulli_(p): random values written into this tensor
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _fill_method(name, values))
    Tensor.stride = _stride
    Tensor.H = property(_conj_transpose)
    Tensor.mH = Tensor.adjoint = property(lambda self: _ops.transpose(self, -2, -1))
    Tensor.where = lambda self, condition, y: _ops.where(condition, self, y)
    Tensor.bincount = lambda self, weights=None, minlength=0: _ops.bincount(self, weights, minlength)
    Tensor.itemsize = property(lambda self: int(self._data.itemsize))
    Tensor.nbytes = property(lambda self: int(self._data.nbytes))
    Tensor.is_cpu = property(lambda self: True)
    Tensor.real = property(lambda self: self)
    Tensor.share_memory_ = lambda self: self  # one process's memory: nothing to share or move
    Tensor.view = o.reshape
    Tensor.any = o.any  # x.any(dim=1, keepdim=True), as PyTorch
    Tensor.all = o.all
    Tensor.amax = o.amax
    Tensor.amin = o.amin
    Tensor.pad = o.pad


def _raw(v):
    return v._data if isinstance(v, Tensor) else v


def _replaced(t: Tensor, value) -> Tensor:
    """``value`` (broadcast) in ``t``'s place, differentiably: selected, so the old value's gradient is exactly 0
    and an inf or NaN in it cannot leak (``t * 0 + value`` made them NaN)."""
    return _ops.where(Tensor._make(xp.zeros((), dtype=bool), None), t, value)


# ops-sweep: the in-place forms, each the out-of-place op of its name written back (one mechanism)
_IN_PLACE = (
    "neg negative exp exp2 expm1 log log1p log2 log10 sqrt rsqrt square reciprocal abs sign sin cos tan asin acos "
    "atan asinh acosh atanh arcsin arccos arctan arcsinh arccosh arctanh sinh cosh tanh sigmoid relu erf erfc "
    "erfinv logit nan_to_num floor ceil round trunc fix frac fmod remainder lerp addcmul addcdiv addmv addmm "
    "clamp_min clamp_max masked_fill index_fill index_add index_copy scatter scatter_add xlogy atan2 arctan2 "
    "fmax fmin maximum minimum tril triu absolute addbmm addr baddbmm copysign cumprod cumsum deg2rad rad2deg "
    "divide multiply subtract true_divide floor_divide hypot ldexp sinc sgn heaviside index_put masked_scatter "
    "scatter_reduce logical_and logical_or logical_not logical_xor eq ne lt le gt ge greater greater_equal less "
    "less_equal not_equal"
).split()
_REBOUND = ("unsqueeze", "squeeze", "transpose", "t", "swapaxes", "swapdims")
_FILLS = {"bernoulli_": "bernoulli_values", "exponential_": "exponential_values", "random_": "random_values",
          "geometric_": "geometric_values", "cauchy_": "cauchy_values", "log_normal_": "log_normal_values"}
_MODULE_LEVEL = (  # the in-place functions PyTorch also has as torch.<name> (torch.relu_(x), torch.zero_(x))
    "abs_ acos_ acosh_ addmv_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_ atanh_ ceil_ "
    "clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ detach_ erf_ erfc_ exp2_ exp_ expm1_ fill_ fix_ floor_ frac_ "
    "log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_ negative_ reciprocal_ relu_ round_ rsqrt_ sigmoid_ sin_ "
    "sinh_ sqrt_ square_ tan_ tanh_ trunc_ xlogy_ zero_"
).split()


def _in_place_method(name: str):
    fn = getattr(_ops, name)

    def method(self, *args, **kwargs):
        return self._in_place(name + "_", lambda t: fn(t, *args, **kwargs), *args, *kwargs.values())

    method.__name__ = name + "_"
    method.__doc__ = f"``{name}`` written back into this tensor (PyTorch's ``{name}_``)."
    return method


def _rebound_method(name: str):
    """A shape-changing in-place op: this tensor takes the result's array (a view of the same memory)
    and node; a leaf that requires grad may do so only under no_grad, as PyTorch."""
    fn = getattr(_ops, name)

    def method(self, *args, **kwargs):
        if _ag._grad_enabled and self._rg and self.grad_fn is None:
            raise AutogradError(f"{name}_: a leaf tensor that requires grad is being used in an in-place operation; "
                                "do it under cr.no_grad(), or on a .clone()")
        out = fn(self, *args, **kwargs)
        self._data = out._data
        if out.grad_fn is not None:
            self.grad_fn, self._rg = out.grad_fn, out._rg
        return self

    method.__name__ = name + "_"
    return method


def _fill_method(name: str, values: str):
    def method(self, *args, **kwargs):
        from .ops import sampling

        return self._in_place(name, lambda t: getattr(sampling, values)(self, *args, **kwargs))

    method.__name__ = name
    return method


def _stride(self, dim: int | None = None):
    """Steps between neighbours in elements (PyTorch's unit), per dim or for ``dim``."""
    steps = tuple(s // self._data.itemsize for s in self._data.strides)
    return steps if dim is None else steps[dim]


def _conj_transpose(self) -> "Tensor":
    """``x.H``: the (conjugate, here plain) transpose of a matrix."""
    if self._data.ndim != 2:
        raise ShapeError(f"tensor.H is only for matrices (2-D tensors), got shape {self._data.shape}; "
                         "use .mT for batches of matrices")
    return _ops.transpose(self, 0, 1)


def _install_module_level() -> None:
    """``cr.relu_(x)`` and the other in-place functions PyTorch has at module level: the methods."""
    for name in _MODULE_LEVEL:
        fn = getattr(Tensor, name, None)
        if fn is not None and name not in _registry.PUBLIC:
            _registry.PUBLIC[name] = (fn, False)


_install_operators()
_install_module_level()
