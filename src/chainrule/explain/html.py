"""The explanation as one self-contained HTML page: the two drawings, a walk through them, every step.

One file, no network, no build step.  Without JavaScript everything is visible: the
drawings, the list of walk steps, every section.  With it, the walk shows one step
at a time (buttons, ← →) and lights up what that step uses.  Hovering a number shows
where it came from.  Wide screens get the drawings left to right, phones top to
bottom, so no label is drawn below 10 px and nothing is wider than the screen.
The blocks are the same as the terminal's (``content.py``).
"""
from __future__ import annotations

from html import escape

import numpy as np

from .content import TOP, build
from .derivation import Derivation
from .i18n import tr
from .steps import walk
from .svg import FONT_MIN, Layout, backward_svg, forward_svg

NARROW = 1060  # below this many CSS pixels the drawings are drawn top to bottom

CJK_SANS = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", ' \
           '"WenQuanYi Micro Hei", "Droid Sans Fallback"'

CSS = """
:root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --accent:#4f46e5; --ok:#15803d; --bad:#b91c1c;
  --mono: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", "Noto Sans Mono CJK SC", CJK; }
* { box-sizing: border-box; }
body { margin:0; background:#f1f5f9; color:var(--ink);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", CJK, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 28px 60px; }
header h1 { margin: 0 0 2px; font-size: 28px; letter-spacing: -0.01em; }
.subtitle { margin: 0 0 16px; color: var(--muted); }
.nw { white-space: nowrap; }
dl.summary { display:grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 0 0 6px;
  background:#fff; border:1px solid var(--line); border-radius:12px; padding:12px 18px; }
dl.summary dt { color: var(--muted); } dl.summary dd { margin:0; font-family: var(--mono); font-size: 14px; }
figure { margin: 18px 0; background:#fff; border:1px solid var(--line); border-radius:14px; padding: 10px 12px 4px;
  box-shadow: 0 1px 2px rgba(15,23,42,.05); }
.draw { overflow-x: auto; }
figcaption { font-weight: 600; margin: 2px 6px 4px; }
figcaption small { font-weight: 400; color: var(--muted); margin-left: 8px; }
figcaption small.legend { margin-left: 0; font-size: 13px; }
svg.h, svg.v { height: auto; display:block; margin: 0 auto; }
svg.h { width: 100%; min-width: calc(var(--w) * MINSCALE); }
svg.v { display: none; width: 100%; max-width: var(--w); min-width: calc(var(--w) * MINSCALE); }
@media (max-width: NARROWpx) { svg.h { display: none; } svg.v { display: block; } }
svg text { font-family: var(--mono); font-size: 13px; fill: var(--ink); }
svg .colhead { font-family: inherit; font-size: 13px; fill: var(--muted); font-weight: 600; }
svg .neuron rect { fill:#eef2ff; stroke:#6366f1; stroke-width:1.5; }
svg .input rect { fill:#f8fafc; stroke:#94a3b8; stroke-width:1.2; }
svg .output rect { fill:#ecfdf5; stroke:#10b981; stroke-width:1.2; }
svg .source rect { fill:#fff7ed; stroke:#f97316; stroke-width:1.2; }
svg.backward .neuron rect { fill:#fdf2f8; stroke:#db2777; }
svg .amplifier polygon { fill:#fde68a; stroke:#d97706; stroke-width:1.2; }
svg .amplabel { font-size: 11.5px; fill:#b45309; }
svg .zval { font-weight: 600; } svg .aval { fill:#4338ca; } svg .tval { fill: var(--muted); }
svg .gval { font-weight: 600; fill:#9d174d; } svg .gsym { fill: var(--muted); }
svg .wlabel { font-size: 11px; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
svg .legend { font-family: inherit; }
svg .flow { stroke:#94a3b8; stroke-width:1.5; }
svg .loss { font-weight: 700; fill:#c2410c; } svg .note, svg .more { fill: var(--muted); font-size: 12px; }
svg.image { display:block; width:auto; min-width:0; margin: 6px 0 6px 14px; border: 1px solid var(--line); }
figure.stepping .edge, figure.stepping .neuron, figure.stepping .input, figure.stepping .output,
figure.stepping .source, figure.stepping .amplifier { opacity: .22; transition: opacity .2s; }
figure.stepping .lit { opacity: 1; }
figure.stepping .lit rect { stroke:#ea580c; stroke-width: 3; }
figure.stepping .edge.lit line { stroke-opacity: 1; stroke-width: 3.5; }
section { background:#fff; border:1px solid var(--line); border-radius:14px; padding: 6px 22px 14px; margin: 18px 0; }
.walk h2 { font-size: 17px; }
.walk ol.steps { margin: 4px 0; padding-left: 26px; }
.walk ol.steps li { margin: 4px 0; }
.walk .st { display:block; font-weight: 600; color:#334155; }
.walk .f { display:block; font-family: var(--mono); font-size: 14px; }
.js .walk { position: sticky; bottom: 0; z-index: 5; box-shadow: 0 -4px 16px rgba(15,23,42,.12); }
.js .walk ol.steps li { display: none; }
.js .walk ol.steps li.current { display: list-item; }
.walk .controls { display:flex; gap: 10px; align-items:center; margin: 4px 0 8px; }
.walk .controls[hidden] { display: none; }
.walk button { font: inherit; padding: 5px 14px; border-radius: 8px; border: 1px solid #c7d2fe; background:#eef2ff;
  color:#3730a3; cursor:pointer; }
.walk .pos { color: var(--muted); font-family: var(--mono); }
h2 { font-size: 20px; margin: 14px 0 6px; }
h2 .n { display:inline-block; width: 30px; height: 30px; border-radius: 50%; background: var(--accent); color:#fff;
  text-align:center; line-height:30px; font-size:16px; margin-right:10px; }
h3 { font-size: 15px; margin: 14px 0 4px; color:#334155; }
h4.example { font-size: 15px; margin: 16px 0 4px; color:#7e22ce; font-family: var(--mono); font-weight:600; }
p.note { color: var(--muted); margin: 4px 0 8px; }
.math, .chain td, table.data td { font-family: var(--mono); font-size: 14px; }
.math, p.line, p.key, h4.example, .chain td, .walk .f { white-space: pre-wrap; }
.math { margin: 2px 0 2px 14px; }
.pairs { display:grid; grid-template-columns: fit-content(68%) auto; gap: 1px 36px; margin: 2px 0 6px 14px; }
.scroll { overflow-x: auto; }
table.chain { border-collapse: collapse; margin: 4px 0 8px 14px; }
table.chain td { padding: 0 6px 0 0; vertical-align: top; }
table.data { border-collapse: collapse; margin: 8px 0 10px; min-width: 60%; }
table.data th { text-align:right; font-weight:600; color:#334155; padding: 4px 10px; border-bottom: 2px solid #cbd5e1;
  white-space: nowrap; }
table.data th:first-child, table.data td:first-child { text-align:left; }
table.data td { text-align:right; padding: 2px 10px; border-bottom: 1px solid #f1f5f9; white-space: nowrap; }
table.data td[title] { cursor: help; }
table.data tr.group td { border-top: 2px solid #cbd5e1; }
table.data tr:hover td { background:#f8fafc; }
.ok { color: var(--ok); font-weight: 700; } .bad { color: var(--bad); font-weight: 700; }
p.key { font-weight: 600; color:#7e22ce; margin: 3px 0; font-family: var(--mono); }
p.line { margin: 3px 0 3px 14px; font-family: var(--mono); font-size: 14px; }
p.verdict { font-size: 16px; font-weight: 700; padding: 10px 14px; border-radius: 10px; }
p.verdict.ok { background:#f0fdf4; border:1px solid #bbf7d0; }
p.verdict.bad { background:#fef2f2; border:1px solid #fecaca; }
p.fonthint { background:#fffbeb; border:1px solid #fde68a; border-radius:10px; padding: 8px 12px; font-size: 14px; }
details { margin: 10px 0; } summary { cursor: pointer; color: var(--accent); font-weight: 600; }
@media (max-width: 700px) {
  main { padding: 12px 10px 40px; }
  header h1 { font-size: 22px; }
  section { padding: 4px 12px 10px; }
  figure { padding: 8px 6px 4px; }
  .pairs { grid-template-columns: 1fr; gap: 0; margin-left: 4px; }
  .math, p.line, table.chain { margin-left: 4px; }
  .math, .chain td, table.data td, p.line, .walk .f { font-size: 13px; }
  dl.summary { grid-template-columns: 1fr; padding: 10px 12px; }
  dl.summary dd { margin-bottom: 4px; }
  .js .walk p.note { display: none; }
}
""".replace("CJK", CJK_SANS).replace("NARROW", str(NARROW)).replace("MINSCALE", f"{10.2 / FONT_MIN:.3f}")

SCRIPT = """
(function () {
  var root = document.documentElement;
  root.classList.add("js");
  var hint = document.querySelector(".fonthint");
  if (hint) {  // hide the font hint when 神 and 中 render differently (a Chinese font is there)
    try {
      var c = document.createElement("canvas"), g = c.getContext("2d");
      c.width = c.height = 40;
      var draw = function (ch) {
        g.clearRect(0, 0, 40, 40); g.font = "32px " + getComputedStyle(document.body).fontFamily;
        g.fillText(ch, 2, 34); return Array.prototype.join.call(g.getImageData(0, 0, 40, 40).data, "");
      };
      if (draw("\\u795e") !== draw("\\u4e2d")) hint.hidden = true;
    } catch (e) {}
  }
  var box = document.querySelector(".walk");
  if (!box) return;
  var steps = Array.prototype.slice.call(box.querySelectorAll("ol.steps > li")), k = 0;
  var pos = box.querySelector(".pos");
  function show(n) {
    k = Math.max(0, Math.min(steps.length - 1, n));
    steps.forEach(function (li, i) { li.classList.toggle("current", i === k); });
    document.querySelectorAll(".lit").forEach(function (e) { e.classList.remove("lit"); });
    var li = steps[k], fig = li.getAttribute("data-fig");
    document.querySelectorAll("figure.main").forEach(function (f) {
      f.classList.toggle("stepping", f.classList.contains("fig-" + fig));
    });
    li.getAttribute("data-keys").split(" ").forEach(function (key) {
      document.querySelectorAll("figure.main.fig-" + fig + ' [data-k="' + key + '"]').forEach(function (e) {
        e.classList.add("lit");
      });
    });
    pos.textContent = (k + 1) + " / " + steps.length;
  }
  box.querySelectorAll("button").forEach(function (b) {
    b.addEventListener("click", function () { show(k + Number(b.getAttribute("data-go"))); });
  });
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "ArrowRight") { show(k + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { show(k - 1); e.preventDefault(); }
  });
  box.querySelector(".controls").hidden = false;
  show(0);
})();
"""


def _t(s: str) -> str:
    """Escaped text in which no formula symbol (∂l/∂z¹₁₁) and no Chinese word (神经元) can break
    across lines: each sits in a nowrap span; lines still break between them."""
    from .zh import is_cjk, units

    out = []
    for u in units(s):
        word = u.rstrip()
        tail = u[len(word):]
        atomic = len(word) > 1 and (is_cjk(word[0]) or any(ord(c) > 127 or c in "/=" for c in word))
        out.append((f'<span class="nw">{escape(word)}</span>' if atomic else escape(word)) + escape(tail))
    return "".join(out)


def _marks(s: str) -> str:
    """Text with the agreement marks coloured."""
    return _t(s).replace("✓", '<span class="ok">✓</span>').replace("✗", '<span class="bad">✗</span>')


def _cell(c) -> str:
    tip = getattr(c, "tip", None)
    attr = f' title="{escape(tip)}"' if tip else ""
    return f"<td{attr}>{_marks(c)}</td>"


def _figures(d: Derivation, n: int, lang: str, main: bool = False) -> str:
    keep = _focus_keep(d, n)
    cap = f' <small>{_t(tr("drawn_for", lang, n=n + 1))}</small>' if len(d.examples) > 1 else ""
    cap += f'<br><small class="legend">{_t(tr("edge_colours", lang))}</small>'
    cls = " main" if main else ""
    return (f'<figure class="fig-forward{cls}"><div class="draw">{forward_svg(d, n, lang, keep)}'
            f'{forward_svg(d, n, lang, keep, vertical=True)}</div>'
            f'<figcaption>{_t(tr("fig_forward", lang))}{cap}</figcaption></figure>'
            f'<figure class="fig-backward{cls}"><div class="draw">{backward_svg(d, n, lang, keep)}'
            f'{backward_svg(d, n, lang, keep, vertical=True)}</div>'
            f'<figcaption>{_t(tr("fig_backward", lang))}{cap}</figcaption></figure>')


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


def _walk(d: Derivation, n: int, lang: str) -> str:
    """The walk: every step listed (JavaScript off), or one at a time with buttons and ← →."""
    rows = Layout(d, _focus_keep(d, n)).rows
    items = []
    for s in walk(d, n, lang, rows):
        lines = "".join(f'<span class="f">{_marks(x)}</span>' for x in s.lines)
        items.append(f'<li data-fig="{s.figure}" data-keys="{" ".join(s.keys)}"><span class="st">{_t(s.title)}'
                     f"</span>{lines}</li>")
    return (f'<section class="walk"><h2>{_t(tr("walk", lang))}</h2><p class="note">{_t(tr("walk_help", lang))}</p>'
            f'<div class="controls" hidden><button type="button" data-go="-1">{_t(tr("prev", lang))}</button>'
            f'<span class="pos"></span><button type="button" data-go="1">{_t(tr("next", lang))}</button></div>'
            f'<ol class="steps">{"".join(items)}</ol></section>')


def _block(b) -> str:
    kind = b[0]
    if kind == "title":
        return f"<h1>{_t(b[1])}</h1>"
    if kind == "subtitle":
        return f'<p class="subtitle">{_t(b[1])}</p>'
    if kind == "kv":
        return '<dl class="summary">' + "".join(f"<dt>{_t(k)}</dt><dd>{_t(v)}</dd>" for k, v in b[1]) + "</dl>"
    if kind == "para":
        return f'<p class="note">{_t(b[1])}</p>' if b[2] == "dim" else f'<p class="line">{_marks(b[1])}</p>'
    if kind == "section":
        return f'</section><section><h2><span class="n">{b[1]}</span>{_t(b[2])}</h2>'
    if kind == "h3":
        return f"<h3>{_t(b[1])}</h3>"
    if kind == "example":
        return f'<h4 class="example">{_t(b[1])}</h4>'
    if kind == "line":
        cls = {"key": "key", "dim": "note"}.get(b[2], "line")
        return f'<p class="{cls}">{_marks(b[1])}</p>'
    if kind == "blank":
        return ""
    if kind == "pairs":
        cells = (f'<div class="math">{_parts(p)}</div><div class="math">{_t(r)}</div>' for p, r in b[1])
        return '<div class="pairs">' + "".join(cells) + "</div>"
    if kind == "chain":
        rows = []
        for k, parts in enumerate(b[2]):
            mark = f" &nbsp;{_marks(b[3])}" if b[3] and k == len(b[2]) - 1 else ""
            lhs = _t(b[1]) if k == 0 else ""
            rows.append(f"<tr><td>{lhs}</td><td>=</td><td>{_parts(parts)}{mark}</td></tr>")
        return '<div class="scroll"><table class="chain">' + "".join(rows) + "</table></div>"
    if kind == "expr":
        return f'<p class="math">{_t(b[1])}{_parts(b[2])}{_t(b[3])}</p>'
    if kind == "table":
        starts = set(np.cumsum(b[3])[:-1].tolist()) if b[3] else set()
        head = "".join(f"<th>{_t(h)}</th>" for h in b[1])
        body = "".join(f'<tr{" class=group" if k in starts else ""}>' + "".join(_cell(c) for c in r) + "</tr>"
                       for k, r in enumerate(b[2]))
        return (f'<div class="scroll"><table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
                "</table></div>")
    if kind == "image":
        return _image_svg(b[1], b[2])
    if kind == "verdict":
        return f'<p class="verdict {"ok" if b[2] else "bad"}">{_marks(b[1])}</p>'
    raise ValueError(f"explain: unknown block {kind!r}")


def _parts(parts: list[str]) -> str:
    """A formula's parts (terms), each unbreakable; a line may break only between two of them."""
    out = []
    for p in parts:
        word = p.strip()
        lead, tail = p[:len(p) - len(p.lstrip())], p[len(p.rstrip()):] if word else ""
        out.append(escape(lead) + f'<span class="nw">{escape(word)}</span>' + escape(tail) if word else escape(p))
    return "".join(out)


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
    """The page: header, the two drawings (for ``example``; the others folded), the walk, every section."""
    blocks = build(d, lang)
    first = next(k for k, b in enumerate(blocks) if b[0] == "section")
    head = "".join(_block(b) for b in blocks[:first])
    body = "".join(_block(b) for b in blocks[first:])
    figs = _figures(d, example, lang, main=True)
    for n in range(len(d.examples)):
        if n != example and n < 8:
            label = _t(tr("example", lang, n=n + 1))
            figs += f"<details><summary>{label}</summary>{_figures(d, n, lang)}</details>"
    hint = ""
    if lang == "zh":
        hint = (f'<p class="fonthint">{_t(tr("font_hint", "zh"))}<br>'
                f'<span lang="en">{escape(tr("font_hint", "en"))}</span></p>')
    title = escape(tr("focus_title" if d.focus is not None else "title", lang))
    return (f'<!doctype html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="chainrule explain">\n<title>{title}</title>\n<style>{CSS}</style>\n'
            f"</head>\n<body>\n<main>\n<header>{hint}{head}</header>\n{figs}\n{_walk(d, example, lang)}\n"
            f"<section>{body}</section>\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
            ).replace("<section></section>", "")
