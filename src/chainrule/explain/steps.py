"""The page's walk through the two drawings: one step per neuron, forward then backward.

Each step names the drawing, the nodes and edges it involves (the drawings' ``data-k``
keys) and its formula with numbers.  The page lists every step (readable with JavaScript
off) and, with JavaScript, shows one at a time and highlights what it names.
"""
from __future__ import annotations

from dataclasses import dataclass

from .content import _hidden_neuron, _loss_terms, _output_neuron, neuron_pair
from .derivation import Derivation
from .i18n import tr
from .notation import num


@dataclass
class Step:
    figure: str  # "forward" | "backward"
    keys: list[str]
    title: str
    lines: list[str]


def _chain_lines(block) -> list[str]:
    """A ("chain", lhs, [parts, …], mark) block as lines: lhs = … / = … / = … mark."""
    _, lhs, rows, mark = block
    lines = [("" if k else lhs + " ") + "= " + "".join(parts) for k, parts in enumerate(rows)]
    lines[-1] += f"   {mark}" if mark else ""
    return lines


def walk(d: Derivation, n: int, lang: str, rows: list[list[int]]) -> list[Step]:
    """The steps for example ``n`` over the neurons drawn (``rows[c]``: visible indices of column c)."""
    ex = d.examples[n]
    L = len(d.layers)
    inputs = lambda ell: [f"x-{j}" if ell == 0 else f"n-{ell}-{j}" for j in rows[ell]]
    steps = []
    for ell in range(L):
        for i in rows[ell + 1]:
            left, right = neuron_pair(d, ex, ell, i, top=8)
            keys = inputs(ell) + [f"e-{ell + 1}-{i}-{j}" for j in rows[ell]] + [f"n-{ell + 1}-{i}"]
            title = f"{tr('s_forward_short', lang)} · {tr('layer', lang, l=ell + 1)} · {tr('neuron', lang, i=i + 1)}"
            steps.append(Step("forward", keys, title, ["".join(left), right]))
    y_keys = [f"y-{k}" for k in rows[L]] + [f"n-{L}-{k}" for k in rows[L]]
    steps.append(Step("forward", y_keys, f"{tr('s_forward_short', lang)} · {tr('loss_is', lang)}",
                      [f"l = {''.join(_loss_terms(d, ex))} = {num(ex.loss)}"]))
    for ell in range(L - 1, -1, -1):
        for i in rows[ell + 1]:
            title = f"{tr('s_backward_short', lang)} · {tr('layer', lang, l=ell + 1)} · {tr('neuron', lang, i=i + 1)}"
            if ell == L - 1:
                lines = [x for b in _output_neuron(d, ex, i) for x in _chain_lines(b)]
                keys = [f"s-{i}", f"n-{L}-{i}"]
            else:
                lines = _chain_lines(_hidden_neuron(d, ex, ell, i, top=8))
                keys = [f"n-{ell + 2}-{k}" for k in rows[ell + 2]] + [f"e-{ell + 2}-{k}-{i}" for k in rows[ell + 2]]
                keys.append(f"n-{ell + 1}-{i}")
            steps.append(Step("backward", keys, title, lines))
    return steps
