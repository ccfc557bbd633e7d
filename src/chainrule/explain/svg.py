"""The two drawings of the lecture, as inline SVG: the forward network and the reversed network.

Forward: z and a = σ(z) on each neuron, w on each edge, the prediction and target at the end.
Reversed: the same neurons run backwards, ∂l/∂z on each, and before each an amplifier
(a triangle) whose gain σ'(z) the forward pass fixed; ∂l/∂y enters from the loss at the end.

Each drawing comes in two orientations: layers as columns left to right (a wide screen) and
layers as rows top to bottom (a phone), so that no label is ever drawn below 10 px.  Every
neuron is a ``<g class="neuron" data-layer=ℓ data-index=i>``; every node, edge and amplifier
carries ``data-k`` (``x-j``, ``n-ℓ-i``, ``e-ℓ-i-j``, ``y-k``, ``s-k``) for the page's stepper.
Hovering a number shows the formula it came from (``<title>``).  Layers wider than
``MAX_ROWS`` show their first neurons and "⋮ +n".
"""
from __future__ import annotations

from html import escape

import numpy as np

from .derivation import Derivation
from .i18n import tr
from .notation import a_sym, num, paren, sub, sup, w_sym, z_sym

W_H = 1120  # viewBox width of the wide (horizontal) drawing
MARGIN = 16
NODE_W, NODE_H = 118, 50
ROW_H = 92  # horizontal drawing: distance between two neurons of a column
V_ROW = 136  # vertical drawing: distance between two layers
V_GAP = 26  # vertical drawing: gap between two neurons of a row
V_RIGHT = 64  # vertical drawing: room right of the last neuron for its amplifier's σ'(z) label
TOP = 44
AMP_W = 22
MAX_ROWS = 16
FONT, FONT_MIN = 13.0, 11.0  # node text; a long line shrinks to FONT_MIN at most, never below
POS, NEG, FOCUS = "#2563eb", "#dc2626", "#9333ea"


def _visible(n: int, keep=None) -> list[int]:
    if keep is not None:
        return list(keep)[:MAX_ROWS]
    return list(range(min(n, MAX_ROWS)))


class Layout:
    """Where every node sits.  Columns c = 0 (inputs), 1 … L (layers), L + 1 (outputs); ``vertical``
    turns columns into rows.  ``port(c, i, "in"|"out")`` is where edges meet a node."""

    def __init__(self, d: Derivation, keep: dict | None = None, vertical: bool = False):
        sizes = [d.layers[0].weight.shape[1]] + [ly.weight.shape[0] for ly in d.layers]
        keep = keep or {}
        self.vertical = vertical
        self.rows = [_visible(s, keep.get(c)) for c, s in enumerate(sizes)]
        self.hidden = [s - len(r) for s, r in zip(sizes, self.rows)]
        self.ncols = len(sizes) + 1
        most = max(len(r) + (h > 0) for r, h in zip(self.rows, self.hidden))
        if vertical:
            self.pitch = NODE_W + V_GAP
            self.width = 2 * MARGIN + most * self.pitch - V_GAP + V_RIGHT
            self.height = TOP + (self.ncols - 1) * V_ROW + NODE_H + 44
        else:
            self.width = W_H
            self.dx = (W_H - 2 * MARGIN - NODE_W) / (self.ncols - 1)
            self.height = TOP + most * ROW_H + 36
            self.mid = TOP + most * ROW_H / 2

    def pos(self, c: int, i: int) -> tuple[float, float]:
        rows = self.rows[min(c, len(self.rows) - 1)]
        k = rows.index(i)
        if self.vertical:
            # rows start at the left, where a phone's scrolled drawing starts (the explained weight's path)
            return MARGIN + 20 + NODE_W / 2 + k * self.pitch, TOP + NODE_H / 2 + c * V_ROW
        return MARGIN + NODE_W / 2 + c * self.dx, self.mid + (k - (len(rows) - 1) / 2) * ROW_H

    def port(self, c: int, i: int, side: str) -> tuple[float, float]:
        x, y = self.pos(c, i)
        s = 1 if side == "out" else -1
        return (x, y + s * NODE_H / 2) if self.vertical else (x + s * NODE_W / 2, y)

    def amp(self, c: int, i: int) -> tuple[list[tuple[float, float]], tuple[float, float]]:
        """The amplifier after neuron i (on its output side): triangle points, and where edges arrive."""
        x, y = self.port(c, i, "out")
        if self.vertical:
            return [(x, y), (x - 13, y + AMP_W), (x + 13, y + AMP_W)], (x, y + AMP_W + 3)
        return [(x, y), (x + AMP_W, y - 13), (x + AMP_W, y + 13)], (x + AMP_W + 3, y)

    def box(self, c: int, i: int, pad: float = 2) -> tuple:
        x, y = self.pos(c, i)
        return (x - NODE_W / 2 - pad, y - NODE_H / 2 - pad, x + NODE_W / 2 + pad, y + NODE_H / 2 + pad)

    def head(self, c: int) -> tuple[float, float, str]:
        """Where a column's heading goes, and its text-anchor."""
        if self.vertical:
            return MARGIN, TOP + c * V_ROW - 8, "start"
        return MARGIN + NODE_W / 2 + c * self.dx, 22, "middle"


def text_width(s: str, size: float) -> float:
    """Width of monospace text (about 0.6 em a character; a CJK character is two)."""
    from .notation import width

    return 0.62 * size * width(s)


def _svg_open(lay: Layout, title: str, cls: str) -> list[str]:
    orient = "v" if lay.vertical else "h"
    arrow = f"{cls}-{orient}-arrow"
    return [
        f'<svg class="{cls} {orient}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {lay.width:.0f} '
        f'{lay.height:.0f}" style="--w:{lay.width:.0f}px" role="img" aria-label="{escape(title)}">',
        "<defs>"
        f'<marker id="{arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
        'markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker>'
        "</defs>",
    ]


def _text(x, y, s, cls="", anchor="middle", extra="") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}"{extra}>{escape(s)}</text>'


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class Labels:
    """Greedy placement of edge labels: each goes to the first spot along its edge, near one of its
    ends, that overlaps no node, amplifier, heading, crossing of two edges or label already placed;
    an edge with no free spot keeps only its tooltip."""

    SPOTS = (0.22, 0.78, 0.32, 0.68, 0.14, 0.86, 0.42, 0.58)

    def __init__(self):
        self.boxes: list[tuple] = []

    def block(self, box: tuple) -> None:
        self.boxes.append(box)

    def block_text(self, x: float, y: float, s: str, size: float, anchor: str = "middle") -> None:
        w = text_width(s, size)
        x0 = x - w / 2 if anchor == "middle" else x - w if anchor == "end" else x
        self.boxes.append((x0 - 2, y - size, x0 + w + 2, y + 0.35 * size))

    def block_crossings(self, edges: list[tuple]) -> None:
        for k, (p1, p2) in enumerate(edges):
            for q1, q2 in edges[k + 1:]:
                hit = _crossing(p1, p2, q1, q2)
                if hit is not None:
                    self.boxes.append((hit[0] - 7, hit[1] - 7, hit[0] + 7, hit[1] + 7))

    def place(self, p1, p2, text: str, size: float = 11.0):
        w, h = text_width(text, size) + 6, size + 4
        for t in self.SPOTS:
            cx, cy = p1[0] + t * (p2[0] - p1[0]), p1[1] + t * (p2[1] - p1[1])
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            if not any(_overlaps(box, b) for b in self.boxes):
                self.boxes.append(box)
                return cx, cy
        return None


def _crossing(p1, p2, q1, q2):
    """The point where segments p and q cross (not at a shared end), or None."""
    d = (p2[0] - p1[0]) * (q2[1] - q1[1]) - (p2[1] - p1[1]) * (q2[0] - q1[0])
    if abs(d) < 1e-9:
        return None
    t = ((q1[0] - p1[0]) * (q2[1] - q1[1]) - (q1[1] - p1[1]) * (q2[0] - q1[0])) / d
    u = ((q1[0] - p1[0]) * (p2[1] - p1[1]) - (q1[1] - p1[1]) * (p2[0] - p1[0])) / d
    if 0.02 < t < 0.98 and 0.02 < u < 0.98:
        return p1[0] + t * (p2[0] - p1[0]), p1[1] + t * (p2[1] - p1[1])
    return None


def _edge(p1, p2, w: float, wmax: float, label: str | None, arrow_id: str, labels: Labels, tip: str, key: str,
          focus: bool = False) -> str:
    color = FOCUS if focus else POS if w >= 0 else NEG
    sw = 4.5 if focus else 1.0 + 3.0 * abs(w) / wmax if wmax else 1.0
    parts = [f'<g class="edge{" focus" if focus else ""}" data-k="{key}"><title>{escape(tip)}</title>'
             f'<line x1="{p1[0]:.1f}" y1="{p1[1]:.1f}" x2="{p2[0]:.1f}" y2="{p2[1]:.1f}" stroke="{color}" '
             f'stroke-width="{sw:.2f}" stroke-opacity="{0.9 if focus else 0.55}" marker-end="url(#{arrow_id})"/>']
    if label and (spot := labels.place(p1, p2, label)):
        parts.append(_text(spot[0], spot[1] + 4, label, "wlabel", extra=f' fill="{color}"'))
    parts.append("</g>")
    return "".join(parts)


def _fit(s: str, w: float = NODE_W - 10) -> str:
    """A smaller font for a line that would overflow its node, but never below FONT_MIN."""
    if text_width(s, FONT) > w:
        return f' style="font-size:{max(FONT_MIN, FONT * w / text_width(s, FONT)):.1f}px"'
    return ""


def _box(x, y, lines: list[tuple[str, str]], cls: str, data: str, tip: str = "") -> str:
    """A rounded node with one or two lines of text (each (text, css class)); ``tip`` shows on hover."""
    title = f"<title>{escape(tip)}</title>" if tip else ""
    out = [f'<g class="{cls}" {data}>{title}<rect x="{x - NODE_W / 2:.1f}" y="{y - NODE_H / 2:.1f}" '
           f'width="{NODE_W}" height="{NODE_H}" rx="11"/>']
    ys = [y + 5] if len(lines) == 1 else [y - 4, y + 15]
    for (s, c), yy in zip(lines, ys):
        out.append(_text(x, yy, s, c, extra=_fit(s)))
    return "".join(out) + "</g>"


def _more(lay: Layout, col: int) -> str:
    if lay.hidden[col] <= 0:
        return ""
    rows = lay.rows[col]
    x, y = lay.pos(col, rows[-1])
    if lay.vertical:
        return _text(x + NODE_W / 2 + 8, y + 5, f"⋯ +{lay.hidden[col]}", "more", anchor="start")
    return _text(x, y + ROW_H * 0.75, f"⋮ +{lay.hidden[col]}", "more")


def _wmax(d: Derivation) -> float:
    return max(float(np.abs(ly.weight).max()) for ly in d.layers) or 1.0


def _heads(lay: Layout, heads: list[str], labels: Labels) -> list[str]:
    out = []
    for c, h in enumerate(heads):
        if h:
            x, y, anchor = lay.head(c)
            labels.block_text(x, y, h, 13, anchor)
            out.append(_text(x, y, h, "colhead", anchor=anchor))
    return out


def _label_all(d: Derivation) -> bool:
    """Weight labels on every edge, except for one weight of a large network (only its own edge)."""
    return d.focus is None


def z_tip(d: Derivation, ex, ell: int, i: int) -> str:
    """Where zˡᵢ and aˡᵢ come from, as a hover text."""
    ly, t = d.layers[ell], ex.layers[ell]
    terms = [f"{paren(ly.weight[i, j])}·{paren(t.inputs[j])}" for j in range(len(t.inputs))]
    if len(terms) > 8:
        terms = terms[:8] + ["…"]
    zs, feed = z_sym(ell + 1, i + 1), "x" if ell == 0 else "a" + sup(ell)
    return (f"{zs} = Σⱼ w{sup(ell + 1)}{sub(i + 1)}ⱼ·{feed}ⱼ + b{sup(ell + 1)}{sub(i + 1)}"
            f" = {' + '.join(terms)} + {paren(ly.bias[i])} = {num(t.z[i])}\n"
            f"{a_sym(ell + 1, i + 1)} = σ({zs}) = {num(t.a[i])}")


def forward_svg(d: Derivation, n: int = 0, lang: str = "en", keep: dict | None = None, vertical: bool = False) -> str:
    """The network with this example's forward pass written on it."""
    ex = d.examples[n]
    lay = Layout(d, keep, vertical)
    out = _svg_open(lay, tr("fig_forward", lang), "forward")
    arrow = f"forward-{'v' if vertical else 'h'}-arrow"
    wmax = _wmax(d)
    labels = Labels()
    L = len(d.layers)
    for c in range(L + 2):
        for i in lay.rows[min(c, L)]:
            labels.block(lay.box(c, i))
    heads = [tr("input", lang)] + [tr("layer", lang, l=ell + 1) for ell in range(L)] + [tr("output", lang)]
    out += _heads(lay, heads, labels)
    edges = [(ell, i, j) for ell in range(L) for i in lay.rows[ell + 1] for j in lay.rows[ell]]
    ends = {e: (lay.port(e[0], e[2], "out"), lay.port(e[0] + 1, e[1], "in")) for e in edges}
    labels.block_crossings(list(ends.values()))
    focus_edge = d.focus is not None and d.focus[1] == "weight"
    # the focused edge first, so its label gets the best spot; then all edges (nodes sit on top)
    for ell, i, j in sorted(edges, key=lambda e: not (focus_edge and d.focus[0] == e[0] and d.focus[2] == e[1:])):
        w = float(d.layers[ell].weight[i, j])
        hit = focus_edge and d.focus[0] == ell and d.focus[2] == (i, j)
        tip = f"{w_sym(ell + 1, i + 1, j + 1)} = {num(w)}   ({d.layers[ell].name}.weight[{i}, {j}])"
        label = f"{w_sym(ell + 1, i + 1, j + 1)} = {num(w)}" if hit else num(w) if _label_all(d) else None
        out.append(_edge(*ends[(ell, i, j)], w, wmax, label, arrow, labels, tip, f"e-{ell + 1}-{i}-{j}", focus=hit))
    for j in lay.rows[0]:
        out.append(_box(*lay.pos(0, j), [(f"x{sub(j + 1)} = {num(ex.x[j])}", "val")], "input",
                        f'data-index="{j}" data-k="x-{j}"', f"x{sub(j + 1)} = {num(ex.x[j])} ({tr('input', lang)})"))
    out.append(_more(lay, 0))
    for ell in range(L):
        t = ex.layers[ell]
        for i in lay.rows[ell + 1]:
            lines = [(f"{z_sym(ell + 1, i + 1)} = {num(t.z[i])}", "zval"),
                     (f"{a_sym(ell + 1, i + 1)} = {num(t.a[i])}", "aval")]
            out.append(_box(*lay.pos(ell + 1, i), lines, "neuron",
                            f'data-layer="{ell + 1}" data-index="{i}" data-k="n-{ell + 1}-{i}"', z_tip(d, ex, ell, i)))
        out.append(_more(lay, ell + 1))
    c = L + 1
    for k in lay.rows[L]:
        (x1, y1), (x2, y2) = lay.port(L, k, "out"), lay.port(c, k, "in")
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" class="flow" '
                   f'marker-end="url(#{arrow})"/>')
        y_tip = (f"y{sub(k + 1)} = softmax(a{sup(L)}){sub(k + 1)} = {num(ex.y[k])}" if d.loss == "cross_entropy"
                 else f"y{sub(k + 1)} = {a_sym(L, k + 1)} = {num(ex.y[k])}")
        out.append(_box(*lay.pos(c, k), [(f"y{sub(k + 1)} = {num(ex.y[k])}", "yval"),
                                         (f"t{sub(k + 1)} = {num(ex.target[k])}", "tval")], "output",
                        f'data-index="{k}" data-k="y-{k}"', y_tip))
    if d.loss == "cross_entropy":
        k0 = lay.rows[L][0]
        (x1, y1), (x2, y2) = lay.port(L, k0, "out"), lay.port(c, k0, "in")
        out.append(_text(x1 + 8, (y1 + y2) / 2 + 4, "softmax", "note", anchor="start") if vertical else
                   _text((x1 + x2) / 2, y1 - 10, "softmax", "note"))
    lx = lay.width / 2 if vertical else lay.pos(c, 0 if not lay.rows[L] else lay.rows[L][0])[0]
    out.append(_text(lx, lay.height - 14, f"l = {num(ex.loss)}", "loss"))
    out.append("</svg>")
    return "\n".join(s for s in out if s)


def backward_svg(d: Derivation, n: int = 0, lang: str = "en", keep: dict | None = None, vertical: bool = False) -> str:
    """The reversed network: ∂l/∂y enters from the loss, amplifiers σ'(z), sums of w·∂l/∂z flow back."""
    ex = d.examples[n]
    lay = Layout(d, keep, vertical)
    out = _svg_open(lay, tr("fig_backward", lang), "backward")
    arrow = f"backward-{'v' if vertical else 'h'}-arrow"
    wmax = _wmax(d)
    labels = Labels()
    L = len(d.layers)
    for c in range(1, L + 2):
        for i in lay.rows[min(c, L)]:
            labels.block(lay.box(c, i))
    amps = {}
    for ell in range(L):
        t = ex.layers[ell]
        for i in lay.rows[ell + 1]:
            tri, arrive = lay.amp(ell + 1, i)
            xs, ys = [p[0] for p in tri], [p[1] for p in tri]
            labels.block((min(xs) - 2, min(ys) - 2, max(xs) + 2, max(ys) + 2))
            s = f"σ'(z) = {num(t.sigma_prime[i])}"
            x, y = lay.pos(ell + 1, i)
            if vertical:
                spot = (x + 17, y + NODE_H / 2 + AMP_W / 2 + 5, "start")
            else:
                spot = (x + NODE_W / 2 + AMP_W, y - NODE_H / 2 - 7, "end")
            labels.block_text(spot[0], spot[1], s, 11.5, spot[2])
            amps[(ell, i)] = (tri, arrive, s, spot)
    heads = [""] + [tr("layer", lang, l=ell + 1) for ell in range(L)] + [tr("from_loss", lang)]
    out += _heads(lay, heads, labels)
    out.append(_legend(lay, lang, labels))
    edges = [(ell, k, i) for ell in range(L - 1) for k in lay.rows[ell + 2] for i in lay.rows[ell + 1]]
    ends = {e: (lay.port(e[0] + 2, e[1], "in"), amps[(e[0], e[2])][1]) for e in edges}
    labels.block_crossings(list(ends.values()))
    for ell, k, i in edges:
        w = float(d.layers[ell + 1].weight[k, i])
        tip = (f"{w_sym(ell + 2, k + 1, i + 1)} = {num(w)}: ∂l/∂{z_sym(ell + 2, k + 1)} × {num(w)} flows back "
               f"to {z_sym(ell + 1, i + 1)}")
        out.append(_edge(*ends[(ell, k, i)], w, wmax, num(w) if _label_all(d) else None, arrow, labels, tip,
                         f"e-{ell + 2}-{k}-{i}"))
    c = L + 1
    last = ex.layers[-1]
    src = "y" if d.loss == "mse" else "a" + sup(L)
    for k in lay.rows[L]:
        (x1, y1), (x2, y2) = lay.port(c, k, "in"), amps[(L - 1, k)][1]
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" class="flow" '
                   f'marker-end="url(#{arrow})"/>')
        rule = (f"2(y{sub(k + 1)} − t{sub(k + 1)})/{len(ex.y)}" if d.loss == "mse"
                else f"y{sub(k + 1)} − t{sub(k + 1)}")
        out.append(_box(*lay.pos(c, k), [(f"∂l/∂{src}{sub(k + 1)}", "gsym"), (num(last.dl_da[k]), "gval")],
                        "source", f'data-index="{k}" data-k="s-{k}"',
                        f"∂l/∂{src}{sub(k + 1)} = {rule} = {num(last.dl_da[k])}"))
    for ell in range(L):
        t = ex.layers[ell]
        for i in lay.rows[ell + 1]:
            x, y = lay.pos(ell + 1, i)
            tri, _, s, spot = amps[(ell, i)]
            zs = z_sym(ell + 1, i + 1)
            pts = " ".join(f"{px:.1f},{py:.1f}" for px, py in tri)
            amp = (f'<g class="amplifier" data-k="n-{ell + 1}-{i}"><title>σ\'({zs}) = {num(t.sigma_prime[i])}: '
                   f"{escape(tr('amp_tip', lang, z=zs, v=num(t.z[i])))}</title><polygon points=\"{pts}\"/>"
                   + _text(spot[0], spot[1], s, "amplabel", anchor=spot[2]) + "</g>")
            tip = f"∂l/∂{zs} = σ'({zs}) × ∂l/∂{a_sym(ell + 1, i + 1)} = {num(t.sigma_prime[i])} × " \
                  f"{paren(t.dl_da[i])} = {num(t.dl_dz[i])}"
            box = _box(x, y, [(f"∂l/∂{zs}", "gsym"), (num(t.dl_dz[i]), "gval")], "neuron",
                       f'data-layer="{ell + 1}" data-index="{i}" data-k="n-{ell + 1}-{i}"', tip)
            out.append(box + amp)
        out.append(_more(lay, ell + 1))
    out.append("</svg>")
    return "\n".join(s for s in out if s)


def _legend(lay: Layout, lang: str, labels: Labels) -> str:
    """In the reversed drawing's empty input column (or row): what a triangle and an edge do to ∂l/∂z."""
    if lay.vertical:
        x, y = MARGIN + 10, TOP + 12
        y2 = y + 30
    else:
        x, y = MARGIN, lay.mid - 24
        y2 = y + 36
    tri = f"{x + 4},{y} {x + 4 + AMP_W},{y - 11} {x + 4 + AMP_W},{y + 11}"
    for yy, key in ((y, "legend_amp"), (y2, "legend_edge")):
        labels.block_text(x + AMP_W + 12, yy + 4, tr(key, lang), 13, "start")
    labels.block((x, y - 12, x + AMP_W + 8, y2 + 6))
    return (f'<g class="legend"><g class="amplifier"><polygon points="{tri}"/></g>'
            + _text(x + AMP_W + 12, y + 4, tr("legend_amp", lang), "legend", anchor="start")
            + f'<line x1="{x + 4 + AMP_W}" y1="{y2}" x2="{x + 4}" y2="{y2}" class="flow" '
            f'marker-end="url(#backward-{"v" if lay.vertical else "h"}-arrow)"/>'
            + _text(x + AMP_W + 12, y2 + 4, tr("legend_edge", lang), "legend", anchor="start") + "</g>")
