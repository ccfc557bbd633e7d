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


# ----------------------------------------------------------------- the graph
class Node:
    """One recorded op application: the op, its parents, what its VJP needs.

    ``next``  parents, one per input: a Node, a leaf Tensor that wants a
              gradient, or None (constant input).
    ``need``  one bool per input: does that input want a gradient?
    ``xd``    the inputs' raw values (arrays or Python scalars), if the rule needs them.
    ``xt``    the inputs as Tensors, for a differentiable (create_graph) backward.
    ``y``     the output array, if the rule needs it.
    ``seq``   creation order; backward runs nodes from the newest to the oldest.
    """

    __slots__ = ("op", "next", "need", "xd", "xt", "y", "kw", "hooks", "retained", "freed", "seq")

    def __init__(self, op, next, need, xd, xt, y, kw):
        self.seq = _next_seq()  # creation order: a node's inputs always have smaller numbers
        self.op = op
        self.next = next
        self.need = need
        self.xd = xd
        self.xt = xt
        self.y = y
        self.kw = kw
        self.hooks = None
        self.retained = None
        self.freed = False

    def name(self) -> str:
        return self.op.name.title().replace("_", "") + "Backward"

    @property
    def next_functions(self) -> tuple:
        return tuple((n, 0) for n in self.next)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


def make_node(op, inputs: Sequence[Any], xd: tuple, y, kw) -> Node | None:
    """Record ``op`` if grad mode is on and some Tensor input wants a gradient.

    ``y`` is what the rule reads as its output (the residual for residual ops).
    """
    if not _grad_enabled:
        return None
    T = _Tensor
    need = tuple([isinstance(x, T) and x._rg for x in inputs])
    if True not in need:
        return None
    nxt = tuple([(x.grad_fn or x) if n else None for x, n in zip(inputs, need)])
    saves = op.saves
    return Node(op, nxt, need, xd if saves else None, tuple(inputs) if saves else None,
                y if op.saves_y else None, kw)


# ----------------------------------------------------------------- backward
def _wrap_grad(g):
    return g if isinstance(g, _Tensor) else _Tensor._make(g, None)


def _run_hooks(hooks, g, create_graph: bool):
    for hook in hooks:
        out = hook(_wrap_grad(g))
        if out is not None:
            g = out if create_graph else out.data
    return g


def _accumulate_into(t, g, create_graph: bool, stored: set) -> None:
    """Add ``g`` to ``t.grad`` (a retained non-leaf) without sharing one array between two .grad."""
    if create_graph:
        t.grad = g if t.grad is None else t.grad + g
        return
    if t.grad is None:
        if id(g) in stored or not g.flags.writeable:
            g = g.copy()
        stored.add(id(g))
        t.grad = _Tensor._make(g, None)
    else:
        t.grad.data = t.grad.data + g


def run_backward(
    roots: Sequence,
    root_grads: Sequence,
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence | None = None,
    allow_unused: bool = False,
):
    """Backpropagate ``root_grads`` from the tensors ``roots``.

    With ``capture`` (a list of tensors) the gradients reaching those tensors
    are returned and no ``.grad`` is touched (this is ``cr.grad``); without it
    the leaves' ``.grad`` accumulate (this is ``Tensor.backward``).
    """
    F = _tensor_math if create_graph else _array_math

    # Nodes run newest first (by creation number): every consumer of a node was
    # created after it, so all of a node's gradient has arrived when it runs.
    pending: dict = {}  # seq -> [node, gradient so far]
    heap: list = []
    leaf_grads: dict = {}  # leaf tensor -> gradient
    for r, g in zip(roots, root_grads):
        n = r.grad_fn
        if n is None:
            leaf_grads[r] = g if r not in leaf_grads else leaf_grads[r] + g
        elif n.seq in pending:
            pending[n.seq][1] = pending[n.seq][1] + g
        else:
            pending[n.seq] = [n, g]
            heap.append(-n.seq)
    heapq.heapify(heap)
    # leaves with post-accumulate hooks get their .grad as soon as their last use has run (overlap)
    uses = _leaf_uses(pending.values()) if _post_hooks and capture is None else None
    stored: set = set()  # arrays already handed to some .grad (add's VJP passes one array to both sides)

    wanted: dict = {}
    results: list = []
    if capture is not None:
        for i, t in enumerate(capture):
            wanted[t.grad_fn if t.grad_fn is not None else t] = i
        results = [None] * len(capture)
        for key, i in wanted.items():
            if key.__class__ is not Node and key in leaf_grads:
                results[i] = leaf_grads[key]

    pop, push = heapq.heappop, heapq.heappush
    plain = not create_graph and capture is None and not anomaly_enabled
    while heap:
        node, g = pending.pop(-pop(heap))
        if plain and node.hooks is None and node.retained is None:
            # the hot path, inlined: run the VJP rule on arrays, then free what it saved
            op = node.op
            if node.freed and (op.saves or op.saves_y):
                _raise_freed(node)
            g_in = op.vjp(F, g, node.xd, node.y, node.kw, node.need)
            if not retain_graph:
                node.xd = node.xt = node.y = None
                node.freed = True
        else:
            if node.hooks is not None or node.retained is not None or capture is not None:
                g = _node_extras(node, g, create_graph, wanted, results)
            g_in = _call_rule(node, g, F, create_graph, retain_graph)
            if anomaly_enabled:
                _check_finite(node, g_in)
        for p, gi in zip(node.next, g_in):
            if gi is None or p is None:
                continue
            if p.__class__ is Node:
                entry = pending.get(p.seq)
                if entry is None:
                    pending[p.seq] = [p, gi]
                    push(heap, -p.seq)
                else:
                    entry[1] = entry[1] + gi
            elif p in leaf_grads:
                leaf_grads[p] = leaf_grads[p] + gi
            else:
                leaf_grads[p] = gi
            if uses is not None and p in uses:
                uses[p] -= 1
                if not uses[p]:
                    _to_leaf(p, leaf_grads.pop(p), create_graph, stored)

    if capture is not None:
        for key, i in wanted.items():
            if key.__class__ is not Node and key in leaf_grads:
                g = leaf_grads[key]  # a leaf's hooks run for cr.grad too, as in PyTorch
                results[i] = _run_hooks(key._hooks, g, create_graph) if key._hooks else g
        return results

    # Leaves last: each .grad gets the sum of everything that reached it.
    for leaf, g in leaf_grads.items():
        _to_leaf(leaf, g, create_graph, stored)
    return None


def _to_leaf(leaf, g, create_graph: bool, stored: set) -> None:
    """Run the leaf's hooks on its whole gradient, add it to ``.grad``, then the post-accumulate hooks."""
    if leaf._hooks:
        g = _run_hooks(leaf._hooks, g, create_graph)
    if not leaf._rg:
        return
    old = leaf.grad
    if create_graph:
        leaf.grad = g if old is None else old + g
    elif old is not None:
        old.data = old.data + g
    else:
        if id(g) in stored or not g.flags.writeable:
            g = g.copy()
        stored.add(id(g))
        leaf.grad = _Tensor._make(g, None)
    if _post_hooks:
        for hook in _post_hooks.get(id(leaf), ()):
            hook(leaf)


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


def _node_extras(node: Node, g, create_graph: bool, wanted: dict, results: list):
    """The rare per-node work: tensor hooks, retain_grad, and capture for cr.grad."""
    if node.hooks:
        g = _run_hooks(node.hooks, g, create_graph)
    if node.retained is not None:
        t = node.retained()
        if t is not None and not wanted:
            _accumulate_into(t, g, create_graph, {id(g)})  # a copy: g flows on and may become a leaf's .grad
    if node in wanted:
        results[wanted[node]] = g
    return g


def _raise_freed(node: Node):
    raise AutogradError(
        f"Trying to backward through the graph a second time (through {node.name()}): "
        "its saved values were freed after the first backward. "
        "Pass retain_graph=True to the first backward() if you need to call it twice."
    )


def _call_rule(node: Node, g, F, create_graph: bool, retain_graph: bool):
    op = node.op
    if node.freed and (op.saves or op.saves_y):
        _raise_freed(node)
    if create_graph:
        xs = node.xt
        y = None
        if op.saves_y and not op.residual:
            y = _Tensor._make(node.y, node)
        g_in = op.vjp(F, g, xs, y, node.kw, node.need)
    else:
        g_in = op.vjp(F, g, node.xd, node.y, node.kw, node.need)
    if not retain_graph:
        node.xd = node.xt = node.y = None
        node.freed = True
    return g_in


def _check_finite(node: Node, g_in) -> None:
    from .backend import xp

    for i, gi in enumerate(g_in):
        if gi is None:
            continue
        arr = gi.data if isinstance(gi, _Tensor) else gi
        if arr.dtype.kind == "f" and not xp.isfinite(arr).all():
            raise AnomalyError(
                f"detect_anomaly: {node.name()} returned NaN or inf as the gradient of its input {i}; "
                f"the {node.op.name} was created at {anomaly_where.get(node, '<before detect_anomaly>')}"
            )


# ------------------------------------------------------------ user-facing API
def _as_tuple(x) -> tuple:
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def _pair_up(outputs, grads) -> tuple:
    """Outputs as a tuple and one gradient (or None) each; for a single output tensor the
    gradient is taken whole, so ``gradient=[1.0, 2.0]`` is one gradient, not two."""
    if isinstance(outputs, _Tensor):
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
        if t.data.size != 1:
            raise AutogradError(
                f"grad can be implicitly created only for scalar outputs; this output has "
                f"shape {tuple(t.data.shape)}. Pass gradient= (a tensor of that shape)."
            )
        arr = _ones_like(t.data)
        return _Tensor._make(arr, None) if create_graph else arr
    if not isinstance(g, _Tensor):
        g = _Tensor(g, dtype=t.data.dtype)
    if g.data.shape != t.data.shape:
        raise AutogradError(
            f"gradient has shape {tuple(g.data.shape)} but the output has shape {tuple(t.data.shape)}"
        )
    # a copy in the output's dtype: .grad must never alias the caller's array (PyTorch casts too)
    return g if create_graph else g.data.astype(t.data.dtype)


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
            and tensors.data.size == 1:
        # the everyday case, loss.backward(): no wrapping, no mode switch
        d = tensors.data
        run_backward((tensors,), (_xp.array(1, d.dtype).reshape(d.shape),), bool(retain_graph), False)
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
        run_backward(tensors, roots, retain_graph, create_graph)


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
    with set_grad_enabled(create_graph):
        res = run_backward(outputs, roots, retain_graph, create_graph, capture=inputs)
    out = []
    for i, (t, g) in enumerate(zip(inputs, res)):
        if g is None:
            if not allow_unused:
                raise AutogradError(
                    f"inputs[{i}] (shape {tuple(t.data.shape)}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            out.append(None)
        elif create_graph:
            out.append(_wrap_grad(g))
        else:
            if isinstance(g, _Tensor):
                g = g.data
            out.append(_Tensor._make(g if g.flags.writeable else g.copy(), None))
    return tuple(out)


def register_node_hook(node: Node, fn: Callable):
    if node.hooks is None:
        node.hooks = []
    node.hooks.append(fn)
    return _RemovableHandle(node.hooks, fn)


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
    node.retained = weakref.ref(tensor)


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
    raise AttributeError(f"module 'chainrule.autograd' has no attribute {name!r}")
