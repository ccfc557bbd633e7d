"""The lecture's notation (z¹₂, w²₁₃, ∂l/∂z) and number formats, shared by the text and the HTML."""
from __future__ import annotations

import math
import unicodedata

_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sup(n: int | str) -> str:
    return str(n).translate(_SUP)


def sub(*idx: int) -> str:
    """Subscripts, with a comma between indices once one has two digits (w₁₀,₂ not w₁₀₂)."""
    sep = "," if any(i > 9 for i in idx) else ""
    return sep.join(str(i).translate(_SUB) for i in idx)


def z_sym(layer: int, i: int) -> str:
    return f"z{sup(layer)}{sub(i)}"


def a_sym(layer: int, i: int) -> str:
    """The value feeding layer ``layer + 1``: xᵢ for the input, aˡᵢ after."""
    return f"x{sub(i)}" if layer == 0 else f"a{sup(layer)}{sub(i)}"


def w_sym(layer: int, i: int, j: int) -> str:
    return f"w{sup(layer)}{sub(i, j)}"


def b_sym(layer: int, i: int) -> str:
    return f"b{sup(layer)}{sub(i)}"


def param_sym(layer: int, kind: str, idx: tuple) -> str:
    """Symbol of a parameter from its 0-based layer and index (the lecture counts from 1)."""
    if kind == "weight":
        return w_sym(layer + 1, idx[0] + 1, idx[1] + 1)
    return b_sym(layer + 1, idx[0] + 1)


def num(v: float) -> str:
    """A number in a formula: 4 decimals (more below 0.001, to keep 4 significant digits), trailing zeros
    dropped (0.27, −1, 0.8594, 0.0009958); scientific from 10⁶ or below 10⁻⁴."""
    v = float(v)
    if math.isnan(v):
        return "—"
    if v == 0:
        return "0"
    if 1e-4 <= abs(v) < 1e6:  # 4 significant digits, at least 4 decimals
        digits = max(4, 3 - math.floor(math.log10(abs(v))))
        s = f"{v:.{digits}f}".rstrip("0").rstrip(".")
        return s.replace("-", "−")
    return f"{v:.3e}".replace("-", "−")


def paren(v: float) -> str:
    """A negative factor in a product gets parentheses: 0.3·(−1)."""
    s = num(v)
    return f"({s})" if s.startswith("−") else s


def cell(v: float) -> str:
    """A number in a table column: 6 decimals, or scientific when small or large (≤ 10 characters)."""
    v = float(v)
    if math.isnan(v):
        return "—"
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e3:
        return f"{v:.6f}".replace("-", "−")
    return f"{v:.3e}".replace("-", "−")


def width(s: str) -> int:
    """Display columns: CJK characters take two, combining marks none."""
    n = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


def pad(s: str, w: int, right: bool = False) -> str:
    fill = " " * max(0, w - width(s))
    return fill + s if right else s + fill
