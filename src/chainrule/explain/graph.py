"""``cr.explain.graph(output)``: the reverse-mode computation graph of any chainrule computation.

The lecture's "reversed network", generalised: every node of the graph with its op,
shape, value, the local derivative rule its op uses, and the upstream gradient
∂l/∂(its output) — computed here by walking the graph from the output back and
applying each node's rule, exactly the chain rule the lecture derives.  The
walk's gradients for the leaves are checked against chainrule's own backward pass
(``cr.grad``); one chosen element (``follow="conv.weight[0,0,1,1]"``) is also
checked against a central difference when ``recompute`` can redo the forward pass,
and its gradient is shown as the sum of products it is made of.

    import chainrule as cr
    g = cr.explain.graph(loss, names=model, follow="conv.weight[0,0,1,1]", recompute=lambda: f(model))
    print(g.text()); g.save_html("graph.html"); g.to_dict()["schema"]  # "chainrule.graph/1"
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import graphview as gv
from .derivation import agrees

SCHEMA = "chainrule.graph/1"
TERMS = 8  # products shown for the followed element
MAX_ONE_HOT = 4096  # output elements of the followed leaf's consumer whose local derivative is computed exactly


@dataclass
class GraphNode:
    id: int  # 0 … n−1 in creation order (inputs before the ops that use them)
    op: str
    shape: tuple
    value: np.ndarray | None  # None when the graph kept no copy and it cannot be recomputed
    grad: np.ndarray  # ∂l/∂(this node's output), from the walk
    rule: str
    inputs: list[str]  # "#k" for node k, a leaf's name, or "const"


@dataclass
class GraphLeaf:
    name: str
    shape: tuple
    value: np.ndarray
    grad: np.ndarray  # from the walk (the chain rule, node by node)
    grad_autograd: np.ndarray  # from cr.grad


@dataclass
class Term:
    index: tuple  # the element of the consumer's output
    upstream: float  # ∂l/∂(consumer output)[index]
    local: float  # ∂(consumer output)[index]/∂(followed element)
    node: int

    @property
    def product(self) -> float:
        return self.upstream * self.local


@dataclass
class Follow:
    name: str
    leaf: str
    index: tuple
    value: float
    path: list[int]  # ids of every node on a path from the element to the output, nearest first
    terms: list[Term]  # the largest products first
    n_terms: int  # how many nonzero products the sum has
    walk: float
    autograd: float
    numeric: float | None
    eps: float | None = None
    total: float = 0.0  # the sum of all the products (= the walk's gradient, the chain rule's claim)


@dataclass
class Graph:
    nodes: list[GraphNode]
    leaves: list[GraphLeaf]
    output: float
    follow: Follow | None = None
    atol: float = 1e-6
    rtol: float = 1e-4
    notes: list[str] = field(default_factory=list)

    def leaf_agrees(self, leaf: GraphLeaf) -> bool:
        return agrees(leaf.grad, leaf.grad_autograd, self.atol, self.rtol)

    @property
    def agree(self) -> bool:
        ok = all(self.leaf_agrees(lf) for lf in self.leaves)
        if self.follow is not None:
            f = self.follow
            ok = ok and agrees(f.walk, f.autograd, self.atol, self.rtol)
            ok = ok and agrees(f.total, f.walk, self.atol, self.rtol)
            if f.numeric is not None:
                ok = ok and agrees(f.numeric, f.autograd, self.num_atol, self.num_rtol)
        return ok

    @property
    def num_atol(self) -> float:
        return 1e-6 if self.follow is None or self.follow.eps is None or self.follow.eps < 1e-4 else 2e-4

    @property
    def num_rtol(self) -> float:
        return self.rtol if self.follow is None or self.follow.eps is None or self.follow.eps < 1e-4 else 2e-2

    # rendering lives in graphpage.py
    def text(self, lang: str = "en", width: int = 80) -> str:
        from .graphpage import text

        return text(self, lang=lang, cols=width)

    def html(self, lang: str = "en") -> str:
        from .graphpage import html

        return html(self, lang=lang)

    def to_dict(self) -> dict:
        from .graphpage import to_dict

        return to_dict(self)

    def save_html(self, path, lang: str = "en") -> None:
        from .explanation import _write

        _write(Path(path), self.html(lang=lang))

    def save_json(self, path) -> None:
        from .explanation import _write

        _write(Path(path), json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n")

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()


def _names(names) -> dict:
    """id(tensor) → name, from a Module (its named_parameters) or a {name: tensor} dict."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        names = dict(names.named_parameters())
    return {id(t): str(n) for n, t in dict(names).items()}


def _nodes_of(root) -> list:
    """Every node the output depends on, in creation order (iterative: any depth)."""
    seen, stack, out = set(), [root], []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        stack.extend(p for p in gv.view(n).parents if p is not None and gv.is_node(p))
    return sorted(out, key=gv.order)


def _array(v) -> np.ndarray:
    return np.asarray(getattr(v, "data", v) if not isinstance(v, np.ndarray) else v)


_FOLLOW = re.compile(r"^\s*([\w.]+?)\s*\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]\s*$")


def graph(output, names=None, follow: str | None = None, recompute=None, eps: float | None = None) -> Graph:
    """Explain the graph that made the scalar ``output``.  ``names``: a Module or {name: tensor} that
    names the leaves; ``follow``: one element, e.g. ``"conv.weight[0,0,1,1]"``; ``recompute``: a
    function that runs the forward pass again and returns the output (for the central difference)."""
    import chainrule as cr

    from ..errors import ShapeError

    if not isinstance(output, cr.Tensor) or output.numel() != 1:
        raise ShapeError(f"explain.graph: the output must be a scalar Tensor (a loss), got shape "
                         f"{getattr(output, 'shape', type(output).__name__)}")
    root = gv.node_of(output)
    if root is None:
        raise ValueError("explain.graph: the output was not computed from tensors that require grad; there is "
                         "no graph to explain")
    label = _names(names)
    nodes = _nodes_of(root)
    views = {id(n): gv.view(n) for n in nodes}
    ids = {id(n): k for k, n in enumerate(nodes)}
    leaves: dict = {}  # id(tensor) → tensor, in order of first use
    for n in nodes:
        for p in views[id(n)].parents:
            if p is not None and not gv.is_node(p) and id(p) not in leaves:
                leaves[id(p)] = p
    unnamed = iter(range(1, len(leaves) + 1))
    leaf_name = {k: label.get(k) or f"leaf{next(unnamed)}" for k in leaves}

    # the walk: ∂l/∂(output) = 1, then each node's rule, newest node first
    grads = {id(root): np.ones(output.shape, dtype=output.dtype)}
    for n in reversed(nodes):
        v = views[id(n)]
        shapes = [tuple(p.shape) if p is not None and not gv.is_node(p) else None for p in v.parents]
        for p, gi in zip(v.parents, gv.view(n, shapes).vjp(grads[id(n)])):
            if p is None or gi is None:
                continue
            grads[id(p)] = gi if id(p) not in grads else grads[id(p)] + gi

    values = {id(root): _array(output)}
    for n in nodes:  # a node's value: what it saved, what a consumer saved as its input, or recomputed
        v = views[id(n)]
        if v.output is not None:
            values.setdefault(id(n), _array(v.output))
        for p, x in zip(v.parents, v.inputs or ()):
            if p is not None and gv.is_node(p) and x is not None:
                values.setdefault(id(p), _array(x))
    for n in nodes:
        if id(n) not in values:
            y = views[id(n)].recompute()
            values[id(n)] = None if y is None else _array(y)

    def source(p) -> str:
        if p is None:
            return "const"
        return f"#{ids[id(p)]}" if gv.is_node(p) else leaf_name[id(p)]

    gnodes = [GraphNode(ids[id(n)], views[id(n)].op, tuple(grads[id(n)].shape), values[id(n)], grads[id(n)],
                        views[id(n)].rule, [source(p) for p in views[id(n)].parents]) for n in nodes]
    tensors = list(leaves.values())
    auto = cr.grad(output, tensors, retain_graph=True, allow_unused=True)
    gleaves = [GraphLeaf(leaf_name[id(t)], tuple(t.shape), t.numpy().copy(), grads.get(id(t), np.zeros(t.shape)),
                         np.zeros(t.shape) if a is None else a.numpy().astype(np.float64))
               for t, a in zip(tensors, auto)]
    g = Graph(gnodes, gleaves, float(output.item()))
    if follow is not None:
        g.follow = _follow(follow, output, nodes, views, ids, grads, leaves, leaf_name, gleaves, recompute, eps)
    return g


def _follow(spec, output, nodes, views, ids, grads, leaves, leaf_name, gleaves, recompute, eps) -> Follow:
    m = _FOLLOW.match(spec)
    if not m:
        raise ValueError(f"explain.graph: --follow {spec!r} should look like 'conv.weight[0,0,1,1]'")
    name, idx = m.group(1), tuple(int(v) for v in m.group(2).split(","))
    by_name = {leaf_name[k]: t for k, t in leaves.items()}
    if name not in by_name:
        raise ValueError(f"explain.graph: no leaf {name!r} in the graph (its leaves: {', '.join(by_name)})")
    t = by_name[name]
    if len(idx) != t.ndim or any(not 0 <= i < s for i, s in zip(idx, t.shape)):
        raise ValueError(f"explain.graph: index {list(idx)} does not fit {name} of shape {tuple(t.shape)} "
                         f"({t.ndim} index{'es' if t.ndim != 1 else ''} needed)")
    leaf = next(lf for lf in gleaves if lf.name == name)
    # the last hop: every consumer of the leaf, and its output elements' products g[e]·∂y[e]/∂w
    terms = []
    for n in nodes:
        v = views[id(n)]
        shapes = [tuple(p.shape) if p is not None and not gv.is_node(p) else None for p in v.parents]
        vjp = gv.view(n, shapes).vjp
        for k, p in enumerate(v.parents):
            if p is not t:
                continue
            g = grads[id(n)]
            flat = np.abs(g).ravel()
            order = np.argsort(-flat, kind="stable")
            order = order[:MAX_ONE_HOT][flat[order[:MAX_ONE_HOT]] > 0]
            for e in order:
                one = np.zeros_like(g)
                one.flat[e] = 1.0
                local = float(np.asarray(vjp(one)[k])[idx])
                if local != 0.0:
                    terms.append(Term(np.unravel_index(e, g.shape), float(g.flat[e]), local, ids[id(n)]))
    terms.sort(key=lambda tm: -abs(tm.product))
    total = float(np.sum([tm.product for tm in terms])) if terms else 0.0
    path = _path(t, nodes, views, ids)
    numeric = None
    if recompute is not None:
        eps = eps or (1e-6 if t.dtype == np.float64 else 1e-3)
        numeric = _central(recompute, t, idx, eps)
    return Follow(spec.strip(), name, idx, float(leaf.value[idx]), path, terms[:TERMS], len(terms),
                  float(leaf.grad[idx]), float(leaf.grad_autograd[idx]), numeric, eps, total)


def _path(t, nodes, views, ids) -> list[int]:
    """Nodes that depend on leaf ``t`` (every path from it to the output runs through them)."""
    hit: set = set()
    out = []
    for n in nodes:  # creation order: parents before children
        v = views[id(n)]
        if any(p is t or (p is not None and gv.is_node(p) and id(p) in hit) for p in v.parents):
            hit.add(id(n))
            out.append(ids[id(n)])
    return out


def _central(recompute, t, idx, eps: float) -> float:
    """(l(w+ε) − l(w−ε)) / 2ε, changing the one element in place and putting it back."""
    import chainrule as cr

    arr = t.numpy()  # the tensor's own memory: changing it changes what the forward pass reads
    keep = float(arr[idx])
    try:
        with cr.no_grad():
            arr[idx] = keep + eps
            up = float(_value(recompute()))
            arr[idx] = keep - eps
            down = float(_value(recompute()))
    finally:
        arr[idx] = keep
    return (up - down) / (2 * eps)


def _value(v) -> float:
    return v.item() if hasattr(v, "item") else float(v)


def example(seed: int = 0, digit: int = 0):
    """The built-in example: one bundled 8×8 digit through conv (1 → 2 channels, 3×3) → ReLU → Linear(72 → 10)
    → cross-entropy, in float64.  Returns (model, loss function of no arguments)."""
    import chainrule as cr
    from chainrule import nn

    class TinyCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.fc = nn.Linear(2 * 6 * 6, 10)

        def forward(self, x):
            return self.fc(cr.relu(self.conv(x)).reshape(x.shape[0], -1))

    cr.manual_seed(seed)
    model = TinyCNN().double()
    images, labels = cr.data.load_digits()
    x = cr.tensor(images.numpy()[digit].reshape(1, 1, 8, 8).astype(np.float64))
    y = cr.tensor(labels.numpy()[digit:digit + 1])
    return model, lambda: cr.nn.functional.cross_entropy(model(x), y)
