"""The graph and the backward engine.

A Tensor made by an op points at a ``Node``; the node points at the nodes (or
leaf tensors) of its inputs and keeps what its VJP rule needs.  Nothing points
back from a node to its own output, so the graph has no reference cycles and
is freed by reference counting alone.

Every node gets a creation number, and a node's inputs are always older than it.
``backward`` keeps the nodes that have received a gradient in a heap and always
runs the newest: by then every consumer of that node has run, so its gradient is
complete (no recursion, any depth, no separate pass to count consumers).  In the
ordinary first-order case the VJP rules run on raw arrays; with
``create_graph=True`` the same rules run on Tensors, so the backward pass is
itself recorded and can be differentiated.
"""
from __future__ import annotations

import functools
import heapq
import itertools
import weakref
from typing import Any, Callable, Sequence

from .backend import xp as _xp
from .errors import AnomalyError, AutogradError

_grad_enabled = True
_next_seq = itertools.count().__next__
anomaly_enabled = False  # set by checks.detect_anomaly
anomaly_where: dict = {}  # node -> the user's line that created it, while anomaly mode is on


def is_grad_enabled() -> bool:
    return _grad_enabled


def _set(mode: bool) -> None:
    global _grad_enabled
    _grad_enabled = mode


class _GradMode:
    """Shared body of ``no_grad`` and ``enable_grad``: a context and a decorator."""

    mode = True

    def __new__(cls, *args):
        """``@no_grad`` works bare as well as ``@no_grad()`` (as in PyTorch)."""
        self = super().__new__(cls)
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return self(args[0])
        return self

    def __enter__(self) -> None:
        self.prev = _grad_enabled
        _set(self.mode)

    def __exit__(self, *exc) -> None:
        _set(self.prev)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Ops inside do not record the graph (evaluation, optimizer updates)."""

    mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """``with set_grad_enabled(False):`` - recording on or off by a flag."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __call__(self, fn: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class inference_mode(set_grad_enabled):
    """PyTorch's faster ``no_grad``; here the same thing (``inference_mode(False)`` leaves recording on)."""

    mode = False

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode


# ----------------------------------------------------------------- the graph
class Node:
    """One recorded op application: the op, its parents, what its VJP needs.

    ``next``    parents, one per input: a Node, a leaf Tensor that wants a
                gradient, or None (constant input).
    ``need``    one bool per input: does that input want a gradient?
    ``shapes``  the inputs' shapes: the engine sums each gradient down to its input's shape.
    ``xd``      the inputs' raw values (arrays or Python scalars), if the rule needs them.
    ``xt``      the inputs as given (Tensors), for a differentiable (create_graph) backward.
    ``y``       the output array (or the op's residual), if the rule needs it.
    ``seq``     creation order; backward runs nodes from the newest to the oldest.
    ``clock``   the in-place write clock when the values were saved (see ``check_saved``).
    ``extras``  None, or the rare per-node work: tensor hooks, retain_grad, cr.grad capture.
    """

    __slots__ = ("op", "next", "need", "shapes", "xd", "xt", "y", "kw", "extras", "freed", "seq", "clock")

    def __init__(self, op, next, need, shapes, xd, xt, y, kw):
        self.seq = _next_seq()  # creation order: a node's inputs always have smaller numbers
        self.clock = _clock
        self.op = op
        self.next = next
        self.need = need
        self.shapes = shapes
        self.xd = xd
        self.xt = xt
        self.y = y
        self.kw = kw
        self.extras = None
        self.freed = False

    def name(self) -> str:
        return self.op.name.title().replace("_", "") + "Backward0"  # PyTorch's spelling

    @property
    def next_functions(self) -> tuple:
        return tuple((n, 0) for n in self.next)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class _Extras:
    """What a few nodes carry besides their rule: hooks, a retained tensor, a cr.grad capture slot."""

    __slots__ = ("hooks", "retained", "capture")

    def __init__(self) -> None:
        self.hooks: list = []
        self.retained = None
        self.capture = None


def _extras(node: Node) -> _Extras:
    if node.extras is None:
        node.extras = _Extras()
    return node.extras


# ------------------------------------------------------- saved values and in-place writes
# One clock counts in-place writes; each write stamps the memory it touched (by its base array).
# A node remembers the clock when it saved its values; at backward, only if the clock has moved
# since are its saved arrays looked up, so the common case costs one comparison per node.
_clock = 0
_written: dict = {}  # id(base array) -> [writes so far, clock of the last write, weak reference]


def _base(a):
    while a.base is not None and isinstance(a.base, _xp.ndarray):
        a = a.base
    return a


def mark_written(arr) -> None:
    """Record an in-place write into ``arr`` (and so into every array sharing its memory)."""
    global _clock
    _clock += 1
    root = _base(arr)
    key = id(root)
    entry = _written.get(key)
    if entry is None or entry[2]() is not root:
        entry = _written[key] = [0, 0, weakref.ref(root, lambda _, k=key: _written.pop(k, None))]
    entry[0] += 1
    entry[1] = _clock


def check_saved(node: Node) -> None:
    """Refuse to run a rule whose saved inputs or output were changed in place after saving."""
    saved = list(node.xd or ()) + [node.y]
    for i, v in enumerate(saved):
        if not isinstance(v, _xp.ndarray):
            continue
        root = _base(v)
        entry = _written.get(id(root))
        if entry is not None and entry[2]() is root and entry[1] > node.clock:
            what = "its output" if i == len(saved) - 1 else f"its input {i}"
            raise AutogradError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: {what} of shape {tuple(v.shape)} ({v.dtype}), saved by {node.name()}, is at "
                f"version {entry[0]} now; it was changed in place after the {node.op.name} used it. "
                "Change a copy (.clone()) instead, or do the change after backward."
            )


# ----------------------------------------------------------------- backward
def _wrap_grad(g):
    return g if isinstance(g, _Tensor) else _Tensor._make(g, None)


def _run_hooks(hooks, g, shape, dtype):
    """Each hook sees the gradient and may replace it, with the same shape and dtype (as PyTorch)."""
    for hook in hooks:
        out = hook(_wrap_grad(g))
        if out is None:
            continue
        if not isinstance(out, _Tensor):
            raise AutogradError(f"a tensor hook must return a Tensor or None, not {type(out).__name__}")
        if tuple(out.shape) != tuple(shape):
            raise AutogradError(f"a tensor hook returned a gradient of shape {tuple(out.shape)} for a tensor of "
                                f"shape {tuple(shape)}; a hook must keep the gradient's shape")
        if out.dtype != dtype:
            out = out.to(dtype)  # PyTorch casts a hook's result to the tensor's dtype
        g = out if isinstance(g, _Tensor) else out._data
    return g


def _first_order(node: Node, g, retain_graph: bool):
    """The rule on raw arrays (the op's fast version where it has one), then its saved values freed."""
    if node.freed or node.clock != _clock:
        _check(node)
    op = node.op
    if op.warns:
        with _xp.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf/NaN there: detect_anomaly's job
            g_in = op.fast(_array_math, g, node.xd, node.y, node.kw, node.need)
    else:
        g_in = op.fast(_array_math, g, node.xd, node.y, node.kw, node.need)
    if not retain_graph and op.saves_any:
        node.xd = node.xt = node.y = None
        node.freed = True
    return g_in


def _differentiable(node: Node, g, retain_graph: bool):
    """The rule on Tensors, so the backward pass is itself recorded (create_graph=True)."""
    op = node.op
    if node.freed or node.clock != _clock:
        _check(node)
    y = node.y if op.residual else _Tensor._make(node.y, node) if op.saves_y else None
    if op.warns:
        with _xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            g_in = op.vjp(_tensor_math, g, node.xt, y, node.kw, node.need)
    else:
        g_in = op.vjp(_tensor_math, g, node.xt, y, node.kw, node.need)
    if not retain_graph and op.saves_any:
        node.xd = node.xt = node.y = None
        node.freed = True
    return g_in


def _check(node: Node) -> None:
    if node.freed:
        _raise_freed(node)
    check_saved(node)


def _with_anomaly_check(step):
    def checked(node, g, retain_graph):
        g_in = step(node, g, retain_graph)
        _check_finite(node, g_in)
        return g_in

    return checked


def run_backward(roots: Sequence, root_grads: Sequence, retain_graph: bool, create_graph: bool, sink) -> None:
    """Backpropagate ``root_grads`` from the tensors ``roots`` and hand each leaf's total to ``sink``.

    Nodes run newest first (by creation number): every consumer of a node was created
    after it, so all of a node's gradient has arrived when it runs.
    """
    step = _differentiable if create_graph else _first_order
    if anomaly_enabled:
        step = _with_anomaly_check(step)
    reduce = _sum_to_tensor if create_graph else _sum_to_array
    pending: dict = {}  # seq -> [node, gradient so far]
    heap: list = []
    leaves: dict = {}  # leaf tensor -> gradient
    for r, g in zip(roots, root_grads):
        n = r.grad_fn
        if n is None:
            leaves[r] = g if r not in leaves else leaves[r] + g
        elif n.seq in pending:
            pending[n.seq][1] = pending[n.seq][1] + g
        else:
            pending[n.seq] = [n, g]
            heap.append(-n.seq)
    heapq.heapify(heap)
    # leaves with post-accumulate hooks get their .grad as soon as their last use has run (overlap)
    uses = _leaf_uses(pending.values()) if _post_hooks and sink.__class__ is AccumulateSink else None
    _walk(heap, pending, leaves, step, reduce, retain_graph, sink, uses)
    for leaf, g in leaves.items():
        _deliver(leaf, g, sink)


def _deliver(leaf, g, sink) -> None:
    if leaf._hooks:  # a leaf's hooks run for cr.grad too, as in PyTorch
        g = _run_hooks(leaf._hooks, g, leaf._data.shape, leaf._data.dtype)
    sink.leaf(leaf, g)


def _walk(heap: list, pending: dict, leaves: dict, step, reduce, retain_graph: bool, sink, uses) -> None:
    """The loop: the newest pending node runs its rule; each input's gradient goes to its parent."""
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        node, g = pending.pop(-pop(heap))
        if node.extras is not None:
            g = _before(node, g, sink)
        for p, gi, shape in zip(node.next, step(node, g, retain_graph), node.shapes):
            if gi is None or p is None:
                continue
            if gi.shape != shape:  # the input was broadcast: its gradient is the sum over the copies
                gi = reduce(gi, shape)
            if p.__class__ is Node:
                entry = pending.get(p.seq)
                if entry is None:
                    pending[p.seq] = [p, gi]
                    push(heap, -p.seq)
                else:
                    entry[1] = entry[1] + gi
            else:
                leaves[p] = leaves[p] + gi if p in leaves else gi
                if uses is not None and p in uses:
                    uses[p] -= 1
                    if not uses[p]:
                        _deliver(p, leaves.pop(p), sink)


def _before(node: Node, g, sink):
    """The rare per-node work, in PyTorch's order: hooks, then retain_grad, then cr.grad's capture."""
    ex = node.extras
    if ex.hooks:
        g = _run_hooks(ex.hooks, g, g.shape, g.dtype)
    if ex.retained is not None:
        t = ex.retained()
        if t is not None:
            sink.retained(t, g)
    if ex.capture is not None and ex.capture[0] is sink:
        sink.results[ex.capture[1]] = g
    return g


class AccumulateSink:
    """``.backward()``: each leaf's ``.grad`` gets the sum of everything that reached it."""

    def __init__(self, create_graph: bool) -> None:
        self.create_graph = create_graph
        self.stored: set = set()  # arrays already handed to some .grad (add's VJP gives one array to both)

    def retained(self, t, g) -> None:
        self._add(t, g, copy=True)  # a copy: g flows on and may become a leaf's .grad

    def leaf(self, leaf, g) -> None:
        if leaf._rg:
            self._add(leaf, g, copy=False)
            if _post_hooks:
                for hook in _post_hooks.get(id(leaf), ()):
                    hook(leaf)

    def _add(self, t, g, copy: bool) -> None:
        if g.dtype != t._data.dtype:  # the engine casts a gradient to its tensor's dtype, as PyTorch's does
            g = g.to(t._data.dtype) if self.create_graph else g.astype(t._data.dtype)
            copy = False
        old = t._grad
        if self.create_graph:
            t._grad = g if old is None else old + g
        elif old is not None:
            old._data = old._data + g
        else:
            if copy or id(g) in self.stored or not g.flags.writeable:
                g = g.copy()
            self.stored.add(id(g))
            t._grad = _Tensor._make(g, None)


class CaptureSink:
    """``cr.grad``: the gradients reaching ``inputs`` are returned; no ``.grad`` is touched."""

    def __init__(self, inputs: Sequence) -> None:
        self.results: list = [None] * len(inputs)
        self.leaf_slots: dict = {}
        self.nodes: list = []
        for i, t in enumerate(inputs):
            if t.grad_fn is None:
                self.leaf_slots[t] = i
            else:
                ex = _extras(t.grad_fn)
                self.nodes.append((ex, ex.capture))
                ex.capture = (self, i)

    def retained(self, t, g) -> None:
        pass  # cr.grad leaves every .grad alone, retained ones too

    def leaf(self, leaf, g) -> None:
        i = self.leaf_slots.get(leaf)
        if i is not None:
            self.results[i] = g

    def close(self) -> None:
        for ex, previous in self.nodes:
            ex.capture = previous


# id(leaf) -> [hook(leaf)], run once the leaf's .grad holds all that one backward sends it (PyTorch's
# register_post_accumulate_grad_hook); data-parallel training starts a gradient's all-reduce there.
# Keyed by id (a Tensor's == is elementwise); an entry goes when its tensor does.
_post_hooks: dict = {}


def _leaf_uses(entries) -> dict:
    """For each leaf with post-accumulate hooks: how many graph edges below ``entries`` lead to it."""
    uses: dict = {}
    seen: set = set()
    stack = [node for node, _ in entries]
    while stack:
        node = stack.pop()
        if node.seq in seen:
            continue
        seen.add(node.seq)
        for p in node.next:
            if p.__class__ is Node:
                stack.append(p)
            elif p is not None and id(p) in _post_hooks:
                uses[p] = uses.get(p, 0) + 1
    return uses


def _raise_freed(node: Node):
    raise AutogradError(
        f"Trying to backward through the graph a second time (through {node.name()}): "
        "its saved values were freed after the first backward. "
        "Pass retain_graph=True to the first backward() if you need to call it twice."
    )


def _check_finite(node: Node, g_in) -> None:
    for i, gi in enumerate(g_in):
        if gi is None:
            continue
        arr = gi._data if isinstance(gi, _Tensor) else gi
        if arr.dtype.kind == "f" and not _xp.isfinite(arr).all():
            raise AnomalyError(
                f"detect_anomaly: {node.name()} returned NaN or inf as the gradient of its input {i}; "
                f"the {node.op.name} was created at {anomaly_where.get(node, '<before detect_anomaly>')}"
            )


def _sum_to_array(g, shape):
    return _sum_to(_array_math, g, shape)


def _sum_to_tensor(g, shape):
    return _sum_to(_tensor_math, g, shape)


def _sum_to(F, g, shape: tuple):
    """Undo broadcasting: sum ``g`` down to ``shape`` (the only place this is written)."""
    gs = tuple(g.shape)
    lead = len(gs) - len(shape)
    if lead < 0 or any(s != 1 and s != gs[i + lead] for i, s in enumerate(shape)):
        raise AutogradError(f"a gradient of shape {gs} cannot be summed down to its input's shape {tuple(shape)}")
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gs[i + lead] != 1)
    out = F.sum(g, axis=axes, keepdims=True) if axes else g
    return F.reshape(out, tuple(shape)) if lead else out


sum_to = _sum_to


# ------------------------------------------------------------ user-facing API
def _as_tuple(x) -> tuple:
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def _pair_up(outputs, grads) -> tuple:
    """Outputs as a tuple and one gradient (or None) each; for a single output tensor the
    gradient is taken whole, so ``gradient=[1.0, 2.0]`` is one gradient, not two."""
    if isinstance(outputs, _Tensor):
        if isinstance(grads, (list, tuple)) and len(grads) == 1 and (grads[0] is None or isinstance(grads[0], _Tensor)):
            grads = grads[0]  # grad_outputs=[v] for one output, as PyTorch accepts
        return (outputs,), (grads,)
    outputs = _as_tuple(outputs)
    if grads is None:
        return outputs, (None,) * len(outputs)
    grads = _as_tuple(grads)
    if len(grads) != len(outputs):
        raise AutogradError(f"got {len(grads)} gradients for {len(outputs)} outputs")
    return outputs, grads


def _root_grad(t, g, create_graph: bool):
    if g is None:
        if t._data.size != 1:
            raise AutogradError(
                f"grad can be implicitly created only for scalar outputs; this output has "
                f"shape {tuple(t._data.shape)}. Pass gradient= (a tensor of that shape)."
            )
        arr = _ones_like(t._data)
        return _Tensor._make(arr, None) if create_graph else arr
    if not isinstance(g, _Tensor):
        g = _Tensor(g, dtype=t._data.dtype)
    if g._data.shape != t._data.shape:
        raise AutogradError(
            f"gradient has shape {tuple(g._data.shape)} but the output has shape {tuple(t._data.shape)}"
        )
    # a copy in the output's dtype: .grad must never alias the caller's array (PyTorch casts too)
    return g if create_graph else g._data.astype(t._data.dtype)


def _ones_like(a):
    return _xp.ones_like(a)


def backward(
    tensors,
    grad_tensors=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad``."""
    if grad_tensors is None and not create_graph and tensors.__class__ is _Tensor and tensors._rg \
            and tensors._data.size == 1:
        # the everyday case, loss.backward(): no wrapping, no mode switch
        d = tensors._data
        run_backward((tensors,), (_xp.array(1, d.dtype).reshape(d.shape),), bool(retain_graph), False,
                     AccumulateSink(False))
        return
    tensors, grad_tensors = _pair_up(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(tensors):
        if not t._rg:
            raise AutogradError(
                f"element {i} of tensors does not require grad and does not have a grad_fn: "
                "nothing to differentiate (did you create it under no_grad, or forget requires_grad=True?)"
            )
    roots = [_root_grad(t, g, create_graph) for t, g in zip(tensors, grad_tensors)]
    with set_grad_enabled(create_graph):
        run_backward(tensors, roots, retain_graph, create_graph, AccumulateSink(create_graph))


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple.

    Leaves' ``.grad`` are left alone.  With ``create_graph=True`` the returned
    gradients are part of a graph themselves (gradients of gradients).
    """
    outputs, grad_outputs = _pair_up(outputs, grad_outputs)
    inputs = _as_tuple(inputs)
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs):
        if not isinstance(t, _Tensor) or not t._rg:
            raise AutogradError(f"inputs[{i}] does not require grad: set requires_grad=True on it")
    for t in outputs:
        if not t._rg:
            raise AutogradError("an output does not require grad: nothing connects it to the inputs")
    roots = [_root_grad(t, g, create_graph) for t, g in zip(outputs, grad_outputs)]
    sink = CaptureSink(inputs)
    try:
        with set_grad_enabled(create_graph):
            run_backward(outputs, roots, retain_graph, create_graph, sink)
    finally:
        sink.close()
    res = sink.results
    out = []
    for i, (t, g) in enumerate(zip(inputs, res)):
        if g is None:
            if not allow_unused:
                raise AutogradError(
                    f"inputs[{i}] (shape {tuple(t._data.shape)}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            out.append(None)
        elif create_graph:
            out.append(_wrap_grad(g))
        else:
            if isinstance(g, _Tensor):
                g = g._data
            out.append(_Tensor._make(g if g.flags.writeable else g.copy(), None))
    return tuple(out)


def register_node_hook(node: Node, fn: Callable):
    hooks = _extras(node).hooks
    hooks.append(fn)
    return _RemovableHandle(hooks, fn)


def register_post_accumulate_grad_hook(leaf, fn: Callable):
    if leaf.grad_fn is not None or not leaf._rg:
        raise AutogradError("post-accumulate-grad hooks go on leaf tensors that require grad")
    hooks = _post_hooks.get(id(leaf))
    if hooks is None:
        hooks = _post_hooks[id(leaf)] = []
        weakref.finalize(leaf, _post_hooks.pop, id(leaf), None)
    hooks.append(fn)
    return _RemovableHandle(hooks, fn)


def retain_on_node(node: Node, tensor) -> None:
    _extras(node).retained = weakref.ref(tensor)


def retains(node: Node | None) -> bool:
    return node is not None and node.extras is not None and node.extras.retained is not None


class _RemovableHandle:
    def __init__(self, hooks: list, fn: Callable) -> None:
        self.hooks, self.fn = hooks, fn

    def remove(self) -> None:
        if self.fn in self.hooks:
            self.hooks.remove(self.fn)


_Tensor: Any = None  # set by tensor.py, which imports this module first
_array_math: Any = None  # ops.arraymath.ArrayMath: VJP rules on raw arrays
_tensor_math: Any = None  # the chainrule.ops module: VJP rules on Tensors (create_graph)


def __getattr__(name: str):
    """``cr.autograd.Function`` as PyTorch spells it; looked up late because function.py imports this module."""
    if name in ("Function", "FunctionCtx"):
        from . import function

        return getattr(function, name)
    if name == "Variable":
        from .legacy import Variable

        return Variable
    if name in ("gradcheck", "detect_anomaly"):
        from . import checks

        return getattr(checks, name)
    raise AttributeError(f"module 'chainrule.autograd' has no attribute {name!r}")
