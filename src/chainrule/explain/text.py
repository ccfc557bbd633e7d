"""The explanation laid out for a terminal: formulas wrapped and tables aligned at 80 columns.

Layout works on plain text; colour (ANSI) is added per line afterwards, so widths
never count escape codes.
"""
from __future__ import annotations

import numpy as np

from .content import build
from .derivation import Derivation
from .notation import pad
from .notation import width as cols

_STYLES = {"title": "1;36", "section": "1;36", "h3": "1", "dim": "2", "ok": "1;32", "bad": "1;31",
           "key": "1;35", "head": "1"}
IND = 3  # body indent


class _Lines:
    def __init__(self, w: int):
        self.width, self.lines = w, []

    def add(self, s: str = "", style: str | None = None) -> None:
        self.lines.append((s.rstrip(), style))

    def wrapped(self, s: str, indent: int, style: str | None) -> None:
        for line in wrap(s, self.width - indent):
            self.add(" " * indent + line, style)

    def parts(self, first: str, parts: list[str], hang: int, tail: str = "", style=None) -> None:
        """``first`` + parts, breaking between parts; continuation lines start at column ``hang``."""
        line = first
        for k, p in enumerate(parts + ([tail] if tail else [])):
            if k and cols(line) + cols(p) > self.width and line.strip():
                self.add(line, style)
                line = " " * hang + p.lstrip()
            else:
                line += p
        self.add(line, style)


def wrap(s: str, w: int) -> list[str]:
    """Greedy wrap by display width, between words: at spaces, and in Chinese between words but never
    inside one nor before closing punctuation (``zh.units``); a piece wider than a line is cut."""
    from .zh import units

    lines, cur = [], ""
    for u in units(s):
        if cur.strip() and cols((cur + u).rstrip()) > w:
            lines.append(cur.rstrip())
            cur = u.lstrip() if cur.endswith(" ") or u.startswith(" ") else u
        else:
            cur += u
        while cols(cur.rstrip()) > w:  # one piece longer than the line
            k = len(cur)
            while k > 1 and cols(cur[:k]) > w:
                k -= 1
            lines.append(cur[:k])
            cur = cur[k:]
    if cur.strip():
        lines.append(cur.rstrip())
    return lines


def _table(out: _Lines, header: list[str], rows: list[list[str]], groups, optional=()) -> None:
    """Numbers right-aligned, the first column left; a dotted rule between layers.  Optional
    columns are left out when the table would not fit the width."""
    ws = [max(cols(c) for c in col) for col in zip(header, *rows)]
    if optional and IND + sum(ws) + len(ws) - 1 > out.width:
        keep = [k for k in range(len(header)) if k not in set(optional)]
        header, rows = [header[k] for k in keep], [[r[k] for k in keep] for r in rows]
        ws = [ws[k] for k in keep]
    gap = 2 if IND + sum(ws) + 2 * (len(ws) - 1) <= out.width else 1
    fmt = lambda r: " " * IND + (" " * gap).join(pad(c, ws[k], right=k > 0) for k, c in enumerate(r))
    span = sum(ws) + gap * (len(ws) - 1)
    out.add(fmt(header), "head")
    out.add(" " * IND + "─" * span, "dim")
    ends = set(np.cumsum(groups)[:-1].tolist()) if groups else set()
    for k, r in enumerate(rows):
        if k in ends:
            out.add(" " * IND + "┄" * span, "dim")
        out.add(fmt(r))


def _chain(out: _Lines, lhs: str, lines: list[list[str]], mark: str) -> None:
    """lhs = line₀ / = line₁ / …: every "=" under the first one, the mark after the last line."""
    first = " " * (IND + 2) + lhs + " = "
    hang = cols(first) - 2
    for k, parts in enumerate(lines):
        parts = parts + ([f"   {mark}"] if mark and k == len(lines) - 1 else [])
        out.parts(first if k == 0 else " " * hang + "= ", parts, hang + 2)


def _pairs(out: _Lines, pairs) -> None:
    """z … = v in a left column, a = σ(z) = … in a right one when both fit; else one under the other."""
    lefts = [" " * (IND + 2) + "".join(p) for p, _ in pairs]
    col = max(cols(s) for s in lefts) + 3
    fits = all(col + cols(r) <= out.width for _, r in pairs)
    for (parts, right), left in zip(pairs, lefts):
        if fits:
            out.add(pad(left, col) + right)
        else:
            head = " " * (IND + 2) + parts[0]
            out.parts(head, parts[1:], cols(head))
            out.add(" " * (IND + 6) + right)


def render(d: Derivation, lang: str = "en", color: bool = False, width: int = 80) -> str:
    """The whole explanation as terminal text (ANSI colour when ``color``)."""
    out = _Lines(width)
    for b in build(d, lang):
        kind = b[0]
        if kind == "title":
            out.add(b[1], "title")
        elif kind == "para":
            out.wrapped(b[1], IND, b[2])
        elif kind == "subtitle":
            out.wrapped(b[1], 0, "dim")
        elif kind == "kv":
            kw = max(cols(k) for k, _ in b[1])
            out.add()
            for k, v in b[1]:
                out.add(f"  {pad(k, kw)}  {v}")
        elif kind == "section":
            out.add()
            out.add()
            out.add(f"{b[1]}  {b[2]}", "section")
        elif kind == "h3":
            out.wrapped(b[1], IND, "h3")
        elif kind == "example":
            out.add()
            out.wrapped(b[1], IND, "key")
        elif kind == "line":
            out.wrapped(b[1], IND, b[2])
        elif kind == "blank":
            out.add()
        elif kind == "pairs":
            _pairs(out, b[1])
        elif kind == "chain":
            _chain(out, b[1], b[2], b[3])
        elif kind == "expr":
            first = " " * IND + b[1]
            out.parts(first, b[2], max(IND, cols(first)) if b[1].strip() else IND, b[3])
        elif kind == "table":
            out.add()
            _table(out, *b[1:])
        elif kind == "image":
            for line in shade(b[1], b[2]):
                out.add(" " * (IND + 2) + line)
        elif kind == "verdict":
            out.add()
            out.wrapped(b[1], 0, "ok" if b[2] else "bad")
    return _paint(out.lines, color)


SHADES = " ░▒▓█"


def shade(img: np.ndarray, mark=None) -> list[str]:
    """An image as text, two characters per pixel (darker = larger); the marked pixel is drawn as <>."""
    lo, hi = float(img.min()), float(img.max())
    levels = np.zeros(img.shape, int) if hi == lo else np.rint((img - lo) / (hi - lo) * (len(SHADES) - 1)).astype(int)
    rows = []
    for r, row in enumerate(levels):
        rows.append("".join("<>" if mark == (r, c) else SHADES[v] * 2 for c, v in enumerate(row)).rstrip())
    return ["┌" + "─" * 2 * img.shape[1] + "┐"] + [f"│{pad(r, 2 * img.shape[1])}│" for r in rows] + \
        ["└" + "─" * 2 * img.shape[1] + "┘"]


def _paint(lines, color: bool) -> str:
    res = []
    for s, style in lines:
        if color:
            s = s.replace("✓", "\x1b[32m✓\x1b[0m").replace("✗", "\x1b[1;31m✗\x1b[0m") if not style else s
            if style:
                s = f"\x1b[{_STYLES[style]}m{s}\x1b[0m"
        res.append(s)
    return "\n".join(res) + "\n"
