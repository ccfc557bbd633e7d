"""The graph explanation laid out: terminal text, one self-contained HTML page with an SVG, and JSON.

JSON schema ``chainrule.graph/1`` (a contract; a change gets a new version):

    {"schema": "chainrule.graph/1", "output": l, "agree": bool,
     "tolerance": {"atol", "rtol"},
     "nodes": [{"id", "op", "shape", "inputs": ["#k" | leaf name | "const"], "rule",
                "value": summary | null, "grad": summary}],       # in creation order; the last is the output
     "leaves": [{"name", "shape", "grad": summary, "grad_autograd": summary, "agree"}],
     "follow": null | {"name", "leaf", "index", "value", "path": [node ids], "n_terms", "sum_of_products",
                       "terms": [{"node", "index", "upstream", "local", "product"}],
                       "walk", "autograd", "numeric" | null, "eps" | null}}

A summary is {"min", "max", "mean", "norm"} plus "data" (nested lists) when the array has at most 64 elements.
"""
from __future__ import annotations

from html import escape

import numpy as np

from .graph import TERMS, Graph
from .html import CSS, _t
from .i18n import tr
from .notation import cell, num, pad, paren, width
from .text import wrap

SMALL = 64


def _summary(a) -> dict | None:
    if a is None:
        return None
    a = np.asarray(a, dtype=np.float64)
    s = {"min": float(a.min()), "max": float(a.max()), "mean": float(a.mean()), "norm": float(np.linalg.norm(a))}
    if a.size <= SMALL:
        s["data"] = a.tolist()
    return s


def brief(a) -> str:
    """A value in one short line: the number, a few numbers, or min/mean/max."""
    if a is None:
        return "—"
    a = np.asarray(a, dtype=np.float64)
    if a.size == 1:
        return num(a.item())
    if a.size <= 4:
        return "(" + ", ".join(num(v) for v in a.ravel()) + ")"
    return f"min {num(a.min())}  mean {num(a.mean())}  max {num(a.max())}"


def _shape(s: tuple) -> str:
    return "(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")"


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _idx(i: tuple) -> str:
    return "[" + ",".join(map(str, i)) + "]"


def lines(g: Graph, lang: str = "en") -> list[tuple[str, str, int]]:
    """(text, style, indent) for every line; ``text`` and ``html`` lay them out."""
    out = [(tr("g_title", lang), "title", 0), (tr("g_subtitle", lang), "dim", 0), ("", "", 0)]
    out.append((tr("g_nodes", lang, n=len(g.nodes), k=len(g.leaves), l=num(g.output)), "key", 0))
    out.append(("", "", 0))
    for n in reversed(g.nodes):
        out.append((f"#{n.id}  {n.op}  {_shape(n.shape)}  ← {', '.join(n.inputs)}", "h3", 2))
        out.append((f"{tr('g_value', lang)}: {brief(n.value)}", "", 6))
        out.append((f"∂l/∂#{n.id}: {brief(n.grad)}", "", 6))
        out.append((f"{tr('g_rule', lang)}: {n.rule}", "dim", 6))
    out.append(("", "", 0))
    out.append((tr("g_leaves", lang), "section", 0))
    for lf in g.leaves:
        ok = g.leaf_agrees(lf)
        out.append((f"{lf.name}  {_shape(lf.shape)}  ∂l/∂{lf.name}: {brief(lf.grad)}   {_mark(ok)}", "", 2))
    f = g.follow
    if f is not None:
        out += [("", "", 0), (tr("g_follow", lang, name=f.name), "section", 0),
                (f"{f.name} = {num(f.value)}", "", 2),
                (tr("g_path", lang, path=" → ".join(f"#{k} {g.nodes[k].op}" for k in f.path) + " → l"), "", 2)]
        via = sorted({t.node for t in f.terms})
        for k in via:
            n = g.nodes[k]
            out.append((tr("g_last_hop", lang, name=f.name, k=k, op=n.op), "dim", 2))
        for t in f.terms:
            out.append((f"y = #{t.node}{_idx(t.index)}:  ∂l/∂y · ∂y/∂w = {num(t.upstream)} × {paren(t.local)} = "
                        f"{num(t.product)}", "", 4))
        if f.n_terms > TERMS:
            out.append((f"+ … {tr('g_more_terms', lang, n=f.n_terms - len(f.terms))}", "", 4))
        out.append((f"∂l/∂{f.name} = Σ ∂l/∂y · ∂y/∂w = {num(f.total)}", "key", 2))
        out.append(("", "", 0))
        num_s = cell(f.numeric) + (f"   (ε = {f.eps:g})" if f.eps else "") if f.numeric is not None \
            else tr("g_no_numeric", lang)
        rows = [(tr("g_walk", lang), cell(f.walk)), (tr("g_sum", lang), cell(f.total)),
                (tr("col_autograd", lang), cell(f.autograd)), (tr("col_numeric", lang), num_s)]
        w = max(width(k) for k, _ in rows)
        out += [(f"{pad(k, w)}  {v}", "", 2) for k, v in rows]
    out.append(("", "", 0))
    out.append((tr("g_agree" if g.agree else "g_disagree", lang), "ok" if g.agree else "bad", 0))
    if lang == "zh":
        from .zh import fullwidth

        out = [(fullwidth(s), style, ind) for s, style, ind in out]
    return out


def text(g: Graph, lang: str = "en", cols: int = 80) -> str:
    res = []
    for s, _style, ind in lines(g, lang):
        if not s:
            res.append("")
            continue
        hang = 4 if ind else 0
        for k, line in enumerate(wrap(s, cols - ind - hang)):
            res.append(" " * (ind + (hang if k else 0)) + line)
    return "\n".join(res) + "\n"


# ----------------------------------------------------------------- the page

def _layout(g: Graph):
    """Column of every node and leaf: a node one right of its deepest input node, a leaf just left of
    its first consumer (so its edge is short and crosses nothing)."""
    leaves = {lf.name for lf in g.leaves}
    col: dict = {}
    for n in g.nodes:
        col[f"#{n.id}"] = 1 + max((col[s] for s in n.inputs if s in col), default=0)
        for s in n.inputs:
            if s in leaves and s not in col:
                col[s] = col[f"#{n.id}"] - 1
    return col


def svg(g: Graph, lang: str, vertical: bool = False) -> str:
    """The graph drawn by depth: left to right on a wide screen, top to bottom (``vertical``) on a phone."""
    col = _layout(g)
    ncol = max(col.values()) + 1
    rows: dict[int, list[str]] = {}
    for key in [f"#{n.id}" for n in g.nodes] + [lf.name for lf in g.leaves]:  # the chain of ops first
        rows.setdefault(col[key], []).append(key)
    bw, bh, top = 150, 54, 20
    along, across = (84, 166) if vertical else (190, 76)  # distance between depths, and within one depth
    most = max(len(r) for r in rows.values())
    if vertical:
        width, height = 10 + most * across, top + ncol * along
        pos = {key: (10 + k * across + bw / 2, top + c * along + bh / 2) for c, keys in rows.items()
               for k, key in enumerate(keys)}
    else:
        width, height = ncol * along + 10, top + most * across + 10
        pos = {key: (10 + c * along + bw / 2, top + k * across + bh / 2) for c, keys in rows.items()
               for k, key in enumerate(keys)}
    on_path = {f"#{k}" for k in g.follow.path} | {g.follow.leaf} if g.follow is not None else set()
    orient = "v" if vertical else "h"
    out = [f'<svg class="graph {orient}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'style="--w:{width}px" role="img" aria-label="{escape(tr("g_title", lang))}"><defs>'
           f'<marker id="g-arrow-{orient}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
           'markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>']
    for n in g.nodes:
        x2, y2 = pos[f"#{n.id}"]
        for s in n.inputs:
            if s == "const":
                continue
            x1, y1 = pos[s]
            hot = s in on_path and f"#{n.id}" in on_path
            if vertical:
                x1, y1, y2 = x1, y1 + bh / 2, y2 - bh / 2 - 2
            else:
                x1, x2 = x1 + bw / 2, x2 - bw / 2 - 2
            out.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" '
                       f'class="gedge{" hot" if hot else ""}" marker-end="url(#g-arrow-{orient})"/>')
    for lf in g.leaves:
        x, y = pos[lf.name]
        tip = f"{lf.name} {_shape(lf.shape)}\n∂l/∂{lf.name}: {brief(lf.grad)}"
        cls = "gleaf" + (" hot" if lf.name in on_path else "")
        out.append(_gbox(x, y, bw, bh, lf.name, _shape(lf.shape), cls, tip))
    for n in g.nodes:
        x, y = pos[f"#{n.id}"]
        tip = (f"#{n.id} {n.op} {_shape(n.shape)}\n{tr('g_value', lang)}: {brief(n.value)}\n"
               f"∂l/∂#{n.id}: {brief(n.grad)}\n{tr('g_rule', lang)}: {n.rule}")
        out.append(_gbox(x, y, bw, bh, f"#{n.id} {n.op}", f"∂l/∂: {brief(n.grad)}" if n.grad.size == 1 else
                         _shape(n.shape), "gnode" + (" hot" if f"#{n.id}" in on_path else ""), tip))
    out.append("</svg>")
    return "".join(out)


def _gbox(x, y, w, h, top: str, bottom: str, cls: str, tip: str) -> str:
    def fit(s):
        size = 13.0 if len(s) * 7.8 <= w - 10 else max(11.0, (w - 10) / (0.6 * len(s)))
        return f' style="font-size:{size:.1f}px"'
    return (f'<g class="{cls}"><title>{escape(tip)}</title><rect x="{x - w / 2:.0f}" y="{y - h / 2:.0f}" width="{w}" '
            f'height="{h}" rx="10"/><text x="{x:.0f}" y="{y - 4:.0f}" text-anchor="middle"{fit(top)}>{escape(top)}'
            f'</text><text x="{x:.0f}" y="{y + 15:.0f}" text-anchor="middle" class="sub"{fit(bottom)}>'
            f"{escape(bottom)}</text></g>")


GRAPH_CSS = """
svg.graph .gnode rect { fill:#fdf2f8; stroke:#db2777; stroke-width:1.3; }
svg.graph .gleaf rect { fill:#eef2ff; stroke:#6366f1; stroke-width:1.3; }
svg.graph .hot rect { stroke:#ea580c; stroke-width:3; }
svg.graph .sub { fill: var(--muted); }
svg.graph .gedge { stroke:#94a3b8; stroke-width:1.4; } svg.graph .gedge.hot { stroke:#ea580c; stroke-width:2.6; }
pre.gtext { font-family: var(--mono); font-size: 13px; white-space: pre-wrap; }
"""


def html(g: Graph, lang: str = "en") -> str:
    body = []
    for s, style, _ind in lines(g, lang):
        if not s:
            continue
        tag = {"title": "h1", "section": "h2", "h3": "h3"}.get(style)
        if tag:
            body.append(f"<{tag}>{_t(s)}</{tag}>")
        else:
            cls = {"dim": "note", "key": "key", "ok": "verdict ok", "bad": "verdict bad"}.get(style, "line")
            body.append(f'<p class="{cls}">{_t(s)}</p>')
    figure = (f'<figure><div class="draw">{svg(g, lang)}{svg(g, lang, vertical=True)}</div>'
              f'<figcaption>{_t(tr("g_fig", lang))}</figcaption>'
              "</figure>")
    head, rest = body[:3], body[3:]
    return (f'<!doctype html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{escape(tr("g_title", lang))}</title>\n<style>{CSS}{GRAPH_CSS}</style>\n</head>\n<body>\n<main>\n'
            f'<header>{"".join(head)}</header>\n{figure}\n<section>{"".join(rest)}</section>\n</main>\n</body>\n'
            "</html>\n")


def to_dict(g: Graph) -> dict:
    f = g.follow
    return {
        "schema": "chainrule.graph/1",
        "output": g.output,
        "agree": g.agree,
        "tolerance": {"atol": g.atol, "rtol": g.rtol},
        "nodes": [{"id": n.id, "op": n.op, "shape": list(n.shape), "inputs": n.inputs, "rule": n.rule,
                   "value": _summary(n.value), "grad": _summary(n.grad)} for n in g.nodes],
        "leaves": [{"name": lf.name, "shape": list(lf.shape), "grad": _summary(lf.grad),
                    "grad_autograd": _summary(lf.grad_autograd), "agree": g.leaf_agrees(lf)} for lf in g.leaves],
        "follow": None if f is None else {
            "name": f.name, "leaf": f.leaf, "index": list(f.index), "value": f.value, "path": f.path,
            "n_terms": f.n_terms, "sum_of_products": f.total,
            "terms": [{"node": t.node, "index": [int(i) for i in t.index], "upstream": t.upstream, "local": t.local,
                       "product": t.product} for t in f.terms],
            "walk": f.walk, "autograd": f.autograd, "numeric": f.numeric, "eps": f.eps},
    }
