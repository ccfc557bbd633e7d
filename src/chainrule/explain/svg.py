"""The two drawings of the lecture, as inline SVG: the forward network and the reversed network.

Forward: z and a = σ(z) on each neuron, w on each edge, the prediction and target at the right.
Reversed: the same neurons run right to left, ∂l/∂z on each, and before each an amplifier
(a triangle) whose gain σ'(z) the forward pass fixed; ∂l/∂y enters from the loss at the right.
Every neuron is a ``<g class="neuron" data-layer=ℓ data-index=i>`` so tests (and readers of the
DOM) can find them.  Layers wider than ``MAX_ROWS`` show their first neurons and "⋮ n more".
"""
from __future__ import annotations

from html import escape

import numpy as np

from .derivation import Derivation
from .i18n import tr
from .notation import a_sym, num, sub, sup, w_sym, z_sym

W_SVG = 1120  # viewBox width
MARGIN = 16
NODE_W, NODE_H = 114, 50
ROW_H = 92
TOP = 44
AMP_W = 22
MAX_ROWS = 16
POS, NEG, FOCUS = "#2563eb", "#dc2626", "#9333ea"


def _visible(n: int, keep=None) -> list[int]:
    if keep is not None:
        return list(keep)[:MAX_ROWS]
    return list(range(min(n, MAX_ROWS)))


class _Layout:
    """Column x and row y of every node; columns: inputs, layer 1 … L, outputs."""

    def __init__(self, d: Derivation, keep: dict | None = None):
        sizes = [d.layers[0].weight.shape[1]] + [ly.weight.shape[0] for ly in d.layers]
        keep = keep or {}
        self.rows = [_visible(s, keep.get(c)) for c, s in enumerate(sizes)]
        self.hidden = [s - len(r) for s, r in zip(sizes, self.rows)]
        self.ncols = len(sizes) + 1
        self.dx = (W_SVG - 2 * MARGIN - NODE_W) / (self.ncols - 1)
        tallest = max(len(r) + (h > 0) for r, h in zip(self.rows, self.hidden))
        self.height = TOP + tallest * ROW_H + 36
        self.mid = TOP + tallest * ROW_H / 2

    def x(self, col: int) -> float:
        return MARGIN + NODE_W / 2 + col * self.dx

    def y(self, col: int, i: int) -> float:
        rows = self.rows[min(col, len(self.rows) - 1)]
        k = rows.index(i)
        return self.mid + (k - (len(rows) - 1) / 2) * ROW_H


def _svg_open(lay: _Layout, title: str, cls: str) -> list[str]:
    return [
        f'<svg class="{cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W_SVG} {lay.height:.0f}" '
        f'role="img" aria-label="{escape(title)}">',
        "<defs>"
        f'<marker id="{cls}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
        'markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker>'
        "</defs>",
    ]


def _text(x, y, s, cls="", anchor="middle", extra="") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}"{extra}>{escape(s)}</text>'


class _Labels:
    """Greedy placement of edge labels: each goes to the first spot along its edge that overlaps
    neither a node nor a label already placed; an edge with no free spot keeps only its tooltip."""

    SPOTS = (0.3, 0.45, 0.2, 0.6, 0.38, 0.52, 0.7)

    def __init__(self, lay: "_Layout", extra_right: float = 0.0, extra_top: float = 0.0):
        self.boxes = []
        for c, rows in enumerate(lay.rows + [lay.rows[-1]]):
            for i in rows:
                y = lay.y(c, i)
                self.boxes.append((lay.x(c) - NODE_W / 2 - 2, y - NODE_H / 2 - 2 - extra_top,
                                   lay.x(c) + NODE_W / 2 + extra_right + 2, y + NODE_H / 2 + 2))

    def place(self, x1, y1, x2, y2, text: str):
        w, h = 6.7 * len(text) + 6, 14
        for t in self.SPOTS:
            cx, cy = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in self.boxes):
                self.boxes.append(box)
                return cx, cy
        return None


def _edge(x1, y1, x2, y2, w: float, wmax: float, label: str, arrow_id: str, labels: _Labels | None,
          tip: str, focus: bool = False) -> str:
    color = FOCUS if focus else POS if w >= 0 else NEG
    sw = 4.5 if focus else 1.0 + 3.0 * abs(w) / wmax if wmax else 1.0
    parts = [f'<g class="edge{" focus" if focus else ""}"><title>{escape(tip)}</title>'
             f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
             f'stroke-width="{sw:.2f}" stroke-opacity="{0.9 if focus else 0.55}" marker-end="url(#{arrow_id})"/>']
    if focus:
        parts.append(_text((x1 + x2) / 2, (y1 + y2) / 2 - 9, label, "wlabel", extra=f' fill="{color}"'))
    elif label and labels is not None and (spot := labels.place(x1, y1, x2, y2, label)):
        parts.append(_text(spot[0], spot[1] + 4, label, "wlabel", extra=f' fill="{color}"'))
    parts.append("</g>")
    return "".join(parts)


def _fit(s: str, w: float = NODE_W - 12) -> str:
    """A smaller font for a line that would overflow its node (monospace: ~0.6 em per character)."""
    size = 13.0
    if len(s) * 0.6 * size > w:
        return f' style="font-size:{max(8.0, w / (0.6 * len(s))):.1f}px"'
    return ""


def _box(x, y, lines: list[tuple[str, str]], cls: str, data: str, w=NODE_W, h=NODE_H) -> str:
    """A rounded node with one or two lines of text (each (text, css class))."""
    out = [f'<g class="{cls}" {data}><rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w}" height="{h}" rx="11"/>']
    ys = [y + 5] if len(lines) == 1 else [y - 4, y + 15]
    for (s, c), yy in zip(lines, ys):
        out.append(_text(x, yy, s, c, extra=_fit(s)))
    return "".join(out) + "</g>"


def _more(lay: _Layout, col: int) -> str:
    if lay.hidden[col] <= 0:
        return ""
    rows = lay.rows[col]
    y = lay.y(col, rows[-1]) + ROW_H * 0.75
    return _text(lay.x(col), y, f"⋮ +{lay.hidden[col]}", "more")


def _wmax(d: Derivation) -> float:
    return max(float(np.abs(ly.weight).max()) for ly in d.layers) or 1.0


def forward_svg(d: Derivation, n: int = 0, lang: str = "en", keep: dict | None = None) -> str:
    """The network with this example's forward pass written on it."""
    ex = d.examples[n]
    lay = _Layout(d, keep)
    out = _svg_open(lay, tr("fig_forward", lang), "forward")
    wmax = _wmax(d)
    labels = _Labels(lay)
    L = len(d.layers)
    # column headings
    heads = [tr("input", lang)] + [tr("layer", lang, l=ell + 1) for ell in range(L)] + [tr("output", lang)]
    for c, h in enumerate(heads):
        out.append(_text(lay.x(c), 22, h, "colhead"))
    # edges first, so nodes sit on top
    for ell, ly in enumerate(d.layers):
        for i in lay.rows[ell + 1]:
            for j in lay.rows[ell]:
                w = float(ly.weight[i, j])
                hit = d.focus is not None and d.focus[:2] == (ell, "weight") and d.focus[2] == (i, j)
                tip = f"{w_sym(ell + 1, i + 1, j + 1)} = {num(w)}"
                out.append(_edge(lay.x(ell) + NODE_W / 2, lay.y(ell, j), lay.x(ell + 1) - NODE_W / 2,
                                 lay.y(ell + 1, i), w, wmax, tip if hit else num(w), "forward-arrow", labels, tip,
                                 focus=hit))
    # inputs
    for j in lay.rows[0]:
        out.append(_box(lay.x(0), lay.y(0, j), [(f"x{sub(j + 1)} = {num(ex.x[j])}", "val")], "input",
                        f'data-index="{j}"'))
    out.append(_more(lay, 0))
    # neurons: z on top, a below
    for ell in range(L):
        t = ex.layers[ell]
        for i in lay.rows[ell + 1]:
            lines = [(f"{z_sym(ell + 1, i + 1)} = {num(t.z[i])}", "zval"), (f"{a_sym(ell + 1, i + 1)} = {num(t.a[i])}",
                                                                              "aval")]
            out.append(_box(lay.x(ell + 1), lay.y(ell + 1, i), lines, "neuron",
                            f'data-layer="{ell + 1}" data-index="{i}"'))
        out.append(_more(lay, ell + 1))
    # prediction and target
    c = L + 1
    for k in lay.rows[L]:
        y = lay.y(L, k)
        tgt = f"t{sub(k + 1)} = {num(ex.target[k])}"
        out.append(f'<line x1="{lay.x(L) + NODE_W / 2:.1f}" y1="{y:.1f}" x2="{lay.x(c) - NODE_W / 2:.1f}" '
                   f'y2="{y:.1f}" class="flow" marker-end="url(#forward-arrow)"/>')
        out.append(_box(lay.x(c), y, [(f"y{sub(k + 1)} = {num(ex.y[k])}", "yval"), (tgt, "tval")], "output",
                        f'data-index="{k}"'))
    if d.loss == "cross_entropy":
        out.append(_text((lay.x(L) + lay.x(c)) / 2, lay.y(L, lay.rows[L][0]) - 10, "softmax", "note"))
    out.append(_text(lay.x(c), lay.height - 14, f"l = {num(ex.loss)}", "loss"))
    out.append("</svg>")
    return "\n".join(s for s in out if s)


def backward_svg(d: Derivation, n: int = 0, lang: str = "en", keep: dict | None = None) -> str:
    """The reversed network: ∂l/∂y enters at the right, amplifiers σ'(z), sums of w·∂l/∂z flow left."""
    ex = d.examples[n]
    lay = _Layout(d, keep)
    out = _svg_open(lay, tr("fig_backward", lang), "backward")
    wmax = _wmax(d)
    labels = _Labels(lay, extra_right=AMP_W, extra_top=16)  # the amplifier and its σ'(z) label
    L = len(d.layers)
    heads = [""] + [tr("layer", lang, l=ell + 1) for ell in range(L)] + [tr("from_loss", lang)]
    for c, h in enumerate(heads):
        if h:
            out.append(_text(lay.x(c), 22, h, "colhead"))
    out.append(_legend(lay, lang))
    right = lambda c: lay.x(c) + NODE_W / 2 + AMP_W  # the amplifier's input side
    # edges: from neuron k of layer ℓ+1 (its left side) back to layer ℓ's amplifier i
    for ell in range(L - 1):
        W = d.layers[ell + 1].weight
        for k in lay.rows[ell + 2]:
            for i in lay.rows[ell + 1]:
                w = float(W[k, i])
                tip = f"{w_sym(ell + 2, k + 1, i + 1)} = {num(w)}"
                out.append(_edge(lay.x(ell + 2) - NODE_W / 2, lay.y(ell + 2, k), right(ell + 1), lay.y(ell + 1, i),
                                 w, wmax, num(w), "backward-arrow", labels, tip))
    # the loss feeds the output layer
    c = L + 1
    last = ex.layers[-1]
    src = "y" if d.loss == "mse" else "a" + sup(L)
    for k in lay.rows[L]:
        y = lay.y(L, k)
        out.append(f'<line x1="{lay.x(c) - NODE_W / 2:.1f}" y1="{y:.1f}" x2="{right(L):.1f}" y2="{y:.1f}" '
                   f'class="flow" marker-end="url(#backward-arrow)"/>')
        out.append(_box(lay.x(c), y, [(f"∂l/∂{src}{sub(k + 1)}", "gsym"), (num(last.dl_da[k]), "gval")],
                        "source", f'data-index="{k}"'))
    # neurons with their amplifiers
    for ell in range(L):
        t = ex.layers[ell]
        for i in lay.rows[ell + 1]:
            x, y = lay.x(ell + 1), lay.y(ell + 1, i)
            xr = x + NODE_W / 2
            amp = (f'<g class="amplifier"><polygon points="{xr:.1f},{y:.1f} {xr + AMP_W:.1f},{y - 13:.1f} '
                   f'{xr + AMP_W:.1f},{y + 13:.1f}"/>'
                   + _text(xr + AMP_W, y - NODE_H / 2 - 7, f"σ'(z) = {num(t.sigma_prime[i])}", "amplabel",
                           anchor="end") + "</g>")
            box = _box(x, y, [(f"∂l/∂{z_sym(ell + 1, i + 1)}", "gsym"), (num(t.dl_dz[i]), "gval")], "neuron",
                       f'data-layer="{ell + 1}" data-index="{i}"')
            out.append(box + amp)
        out.append(_more(lay, ell + 1))
    out.append("</svg>")
    return "\n".join(s for s in out if s)


def _legend(lay: _Layout, lang: str) -> str:
    """In the reversed drawing's empty input column: what a triangle and an edge do to ∂l/∂z."""
    x, y = MARGIN, lay.mid - 24
    tri = f"{x + 4},{y} {x + 4 + AMP_W},{y - 11} {x + 4 + AMP_W},{y + 11}"
    return (f'<g class="legend"><g class="amplifier"><polygon points="{tri}"/></g>'
            + _text(x + AMP_W + 12, y + 4, tr("legend_amp", lang), "legend", anchor="start")
            + f'<line x1="{x + 4 + AMP_W}" y1="{y + 36}" x2="{x + 4}" y2="{y + 36}" class="flow" '
            'marker-end="url(#backward-arrow)"/>'
            + _text(x + AMP_W + 12, y + 40, tr("legend_edge", lang), "legend", anchor="start") + "</g>")
