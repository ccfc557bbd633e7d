"""The explanation as one self-contained HTML page: the two drawings, then every step.

No scripts, no external fonts or styles: the file opens anywhere, offline, and
prints.  The blocks are the same as the terminal's (``content.py``).
"""
from __future__ import annotations

from html import escape

import numpy as np

from .content import TOP, build
from .derivation import Derivation
from .i18n import tr
from .svg import backward_svg, forward_svg

CSS = """
:root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --accent:#4f46e5; --ok:#15803d; --bad:#b91c1c;
  --mono: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
* { box-sizing: border-box; }
body { margin:0; background:#f1f5f9; color:var(--ink);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC",
  "PingFang SC", "Microsoft YaHei", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 28px 60px; }
header h1 { margin: 0 0 2px; font-size: 28px; letter-spacing: -0.01em; }
.subtitle { margin: 0 0 16px; color: var(--muted); }
dl.summary { display:grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 0 0 6px;
  background:#fff; border:1px solid var(--line); border-radius:12px; padding:12px 18px; }
dl.summary dt { color: var(--muted); } dl.summary dd { margin:0; font-family: var(--mono); font-size: 14px; }
figure { margin: 18px 0; background:#fff; border:1px solid var(--line); border-radius:14px; padding: 10px 12px 4px;
  box-shadow: 0 1px 2px rgba(15,23,42,.05); }
figcaption { font-weight: 600; margin: 2px 6px 4px; }
figcaption small { font-weight: 400; color: var(--muted); margin-left: 8px; }
figcaption small.legend { margin-left: 0; font-size: 13px; }
svg { width: 100%; height: auto; display:block; }
svg.image { width: auto; margin: 6px 0 6px 14px; border: 1px solid var(--line); }
svg text { font-family: var(--mono); font-size: 13px; fill: var(--ink); }
svg .colhead { font-family: inherit; font-size: 13px; fill: var(--muted); font-weight: 600; }
svg .neuron rect { fill:#eef2ff; stroke:#6366f1; stroke-width:1.5; }
svg .input rect { fill:#f8fafc; stroke:#94a3b8; stroke-width:1.2; }
svg .output rect { fill:#ecfdf5; stroke:#10b981; stroke-width:1.2; }
svg .source rect { fill:#fff7ed; stroke:#f97316; stroke-width:1.2; }
svg .backward .neuron rect, svg.backward .neuron rect { fill:#fdf2f8; stroke:#db2777; }
svg .amplifier polygon { fill:#fde68a; stroke:#d97706; stroke-width:1.2; }
svg .amplabel { font-size: 11.5px; fill:#b45309; }
svg .zval { font-weight: 600; } svg .aval { fill:#4338ca; } svg .tval { fill: var(--muted); }
svg .gval { font-weight: 600; fill:#9d174d; } svg .gsym { fill: var(--muted); }
svg .wlabel { font-size: 11px; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
svg .flow { stroke:#94a3b8; stroke-width:1.5; }
svg .loss { font-weight: 700; fill:#c2410c; } svg .note, svg .more { fill: var(--muted); font-size: 12px; }
section { background:#fff; border:1px solid var(--line); border-radius:14px; padding: 6px 22px 14px; margin: 18px 0; }
h2 { font-size: 20px; margin: 14px 0 6px; }
h2 .n { display:inline-block; width: 30px; height: 30px; border-radius: 50%; background: var(--accent); color:#fff;
  text-align:center; line-height:30px; font-size:16px; margin-right:10px; }
h3 { font-size: 15px; margin: 14px 0 4px; color:#334155; }
h4.example { font-size: 15px; margin: 16px 0 4px; color:#7e22ce; font-family: var(--mono); font-weight:600; }
p.note { color: var(--muted); margin: 4px 0 8px; }
.math, .chain td, table.data td { font-family: var(--mono); font-size: 14px; }
.math, p.line, p.key, h4.example, .chain td { white-space: pre-wrap; }
.math { margin: 2px 0 2px 14px; }
.pairs { display:grid; grid-template-columns: fit-content(68%) auto; gap: 1px 36px; margin: 2px 0 6px 14px; }
table.chain { border-collapse: collapse; margin: 4px 0 8px 14px; }
table.chain td { padding: 0 6px 0 0; vertical-align: top; }
table.data { border-collapse: collapse; margin: 8px 0 10px; min-width: 60%; }
table.data th { text-align:right; font-weight:600; color:#334155; padding: 4px 10px; border-bottom: 2px solid #cbd5e1; }
table.data th:first-child, table.data td:first-child { text-align:left; }
table.data td { text-align:right; padding: 2px 10px; border-bottom: 1px solid #f1f5f9; }
table.data tr.group td { border-top: 2px solid #cbd5e1; }
table.data tr:hover td { background:#f8fafc; }
.ok { color: var(--ok); font-weight: 700; } .bad { color: var(--bad); font-weight: 700; }
p.key { font-weight: 600; color:#7e22ce; margin: 3px 0; font-family: var(--mono); }
p.line { margin: 3px 0 3px 14px; font-family: var(--mono); font-size: 14px; }
p.verdict { font-size: 16px; font-weight: 700; padding: 10px 14px; border-radius: 10px; }
p.verdict.ok { background:#f0fdf4; border:1px solid #bbf7d0; }
p.verdict.bad { background:#fef2f2; border:1px solid #fecaca; }
details { margin: 10px 0; } summary { cursor: pointer; color: var(--accent); font-weight: 600; }
"""


def _marks(s: str) -> str:
    """Escape, then colour the agreement marks."""
    return escape(s).replace("✓", '<span class="ok">✓</span>').replace("✗", '<span class="bad">✗</span>')


def _figures(d: Derivation, n: int, lang: str) -> str:
    keep = _focus_keep(d, n)
    cap = f' <small>{escape(tr("drawn_for", lang, n=n + 1))}</small>' if len(d.examples) > 1 else ""
    cap += f'<br><small class="legend">{escape(tr("edge_colours", lang))}</small>'
    return (f'<figure class="fig-forward">{forward_svg(d, n, lang, keep)}'
            f'<figcaption>{escape(tr("fig_forward", lang))}{cap}</figcaption></figure>'
            f'<figure class="fig-backward">{backward_svg(d, n, lang, keep)}'
            f'<figcaption>{escape(tr("fig_backward", lang))}{cap}</figcaption></figure>')


def _focus_keep(d: Derivation, n: int):
    """For one weight of a large network, draw the neurons on its paths (the largest ∂l/∂z)."""
    if d.focus is None:
        return None
    ell, kind, idx = d.focus
    ex = d.examples[n]
    keep = {ell + 1: [idx[0]]}
    if kind == "weight":
        keep[ell] = [idx[1]]
    for m in range(ell + 1, len(d.layers)):
        order = np.argsort(-np.abs(ex.layers[m].dl_dz), kind="stable")[:TOP]
        keep[m + 1] = sorted(int(i) for i in order)
    for c in range(ell):
        keep[c] = list(range(min(4, d.layers[c].weight.shape[0] if c else d.layers[0].weight.shape[1])))
    return keep


def _block(b) -> str:
    kind = b[0]
    if kind == "title":
        return f"<h1>{escape(b[1])}</h1>"
    if kind == "subtitle":
        return f'<p class="subtitle">{escape(b[1])}</p>'
    if kind == "kv":
        return '<dl class="summary">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in b[1]) + "</dl>"
    if kind == "para":
        return f'<p class="note">{escape(b[1])}</p>' if b[2] == "dim" else f'<p class="line">{_marks(b[1])}</p>'
    if kind == "section":
        return f'</section><section><h2><span class="n">{b[1]}</span>{escape(b[2])}</h2>'
    if kind == "h3":
        return f"<h3>{escape(b[1])}</h3>"
    if kind == "example":
        return f'<h4 class="example">{escape(b[1])}</h4>'
    if kind == "line":
        cls = {"key": "key", "dim": "note"}.get(b[2], "line")
        return f'<p class="{cls}">{_marks(b[1])}</p>'
    if kind == "blank":
        return ""
    if kind == "pairs":
        cells = (f'<div class="math">{escape("".join(p))}</div><div class="math">{escape(r)}</div>' for p, r in b[1])
        return '<div class="pairs">' + "".join(cells) + "</div>"
    if kind == "chain":
        rows = []
        for k, parts in enumerate(b[2]):
            mark = f" &nbsp;{_marks(b[3])}" if b[3] and k == len(b[2]) - 1 else ""
            lhs = escape(b[1]) if k == 0 else ""
            rows.append(f"<tr><td>{lhs}</td><td>=</td><td>{escape(''.join(parts))}{mark}</td></tr>")
        return '<table class="chain">' + "".join(rows) + "</table>"
    if kind == "expr":
        return f'<p class="math">{escape(b[1] + "".join(b[2]) + b[3])}</p>'
    if kind == "table":
        starts = set(np.cumsum(b[3])[:-1].tolist()) if b[3] else set()
        head = "".join(f"<th>{escape(h)}</th>" for h in b[1])
        body = "".join(
            f'<tr{" class=group" if k in starts else ""}>' + "".join(f"<td>{_marks(c)}</td>" for c in r) + "</tr>"
            for k, r in enumerate(b[2]))
        return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    if kind == "image":
        return _image_svg(b[1], b[2])
    if kind == "verdict":
        return f'<p class="verdict {"ok" if b[2] else "bad"}">{_marks(b[1])}</p>'
    raise ValueError(f"explain: unknown block {kind!r}")


def _image_svg(img: np.ndarray, mark) -> str:
    """The input image as a grid of grey squares; the pixel the weight reads outlined."""
    h, w = img.shape
    lo, hi = float(img.min()), float(img.max())
    px = max(4, 160 // max(h, w))
    cells = []
    for r in range(h):
        for c in range(w):
            v = 0.0 if hi == lo else (float(img[r, c]) - lo) / (hi - lo)
            g = int(round(255 * (1 - v)))
            cells.append(f'<rect x="{c * px}" y="{r * px}" width="{px}" height="{px}" fill="rgb({g},{g},{g})">'
                         f"<title>pixel ({r}, {c}) = {img[r, c]:.4g}</title></rect>")
    if mark is not None:
        cells.append(f'<rect class="mark" x="{mark[1] * px + 1}" y="{mark[0] * px + 1}" width="{px - 2}" '
                     f'height="{px - 2}" fill="none" stroke="#9333ea" stroke-width="2.5"/>')
    return (f'<svg class="image" viewBox="0 0 {w * px} {h * px}" width="{w * px}" height="{h * px}" role="img">'
            + "".join(cells) + "</svg>")


def render(d: Derivation, lang: str = "en", example: int = 0) -> str:
    """The page: header, the two drawings (for ``example``; the others folded), every section."""
    blocks = build(d, lang)
    first = next(k for k, b in enumerate(blocks) if b[0] == "section")
    head = "".join(_block(b) for b in blocks[:first])
    body = "".join(_block(b) for b in blocks[first:])
    figs = _figures(d, example, lang)
    for n in range(len(d.examples)):
        if n != example and n < 8:
            label = escape(tr("example", lang, n=n + 1))
            figs += f"<details><summary>{label}</summary>{_figures(d, n, lang)}</details>"
    title = escape(tr("focus_title" if d.focus is not None else "title", lang))
    return (f'<!doctype html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="chainrule explain">\n<title>{title}</title>\n<style>{CSS}</style>\n'
            f"</head>\n<body>\n<main>\n<header>{head}</header>\n{figs}\n<section>{body}</section>\n</main>\n"
            "</body>\n</html>\n").replace("<section></section>", "")
