"""``backprop(model, x, y)``: derive, check, and hold the numbers; render them on demand."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ..errors import ShapeError
from .derivation import LOSSES, Derivation, Layer, derive
from .network import from_model, to_numpy


class Explanation:
    """The derivation for one network and a few examples: ``.text()``, ``.html()``, ``.to_dict()``."""

    def __init__(self, derivation: Derivation):
        self.derivation = derivation

    @property
    def agree(self) -> bool:
        """True when every gradient equals chainrule's autograd and central differences."""
        from .schema import all_agree

        return all_agree(self.derivation)

    def text(self, lang: str = "en", color: bool = False, width: int = 80) -> str:
        from .text import render

        return render(self.derivation, lang=lang, color=color, width=width)

    def html(self, lang: str = "en", example: int = 0) -> str:
        from .html import render

        return render(self.derivation, lang=lang, example=example)

    def to_dict(self) -> dict:
        from .schema import to_dict

        return to_dict(self.derivation)

    def save_html(self, path: str | Path, lang: str = "en") -> None:
        _write(Path(path), self.html(lang=lang))

    def save_json(self, path: str | Path) -> None:
        _write(Path(path), json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n")

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:  # Jupyter shows the page inline
        return self.html()


def _write(path: Path, text: str) -> None:
    """Write all at once (``io.atomic_write``), so a failed write leaves the old file."""
    from ..io import atomic_write

    atomic_write(path, text.encode("utf-8"))


_NAME = re.compile(r"^\s*(.+?)\.(weight|bias)\s*\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]\s*$")


def parse_param_name(name: str, layers: list[Layer]) -> tuple[int, str, tuple]:
    """``"2.weight[3,5]"`` → (layer index, "weight", (3, 5)), checked against the network."""
    m = _NAME.match(name)
    if not m:
        raise ValueError(f"explain: weight name {name!r} should look like '2.weight[3,5]' or '0.bias[1]'")
    prefix, kind, idx = m.group(1), m.group(2), tuple(int(v) for v in m.group(3).split(","))
    names = [ly.name for ly in layers]
    if prefix not in names:
        raise ValueError(f"explain: no Linear layer {prefix!r} in the network (its layers: {', '.join(names)})")
    ell = names.index(prefix)
    shape = layers[ell].weight.shape if kind == "weight" else layers[ell].bias.shape
    if len(idx) != len(shape):
        want = "[i,j]" if len(shape) == 2 else "[i]"
        raise ValueError(f"explain: {name.strip()!r} gives {len(idx)} index{'es' if len(idx) > 1 else ''} but "
                         f"{prefix}.{kind} has {len(shape)} dimension{'s' if len(shape) > 1 else ''} "
                         f"(shape {tuple(shape)}): write {prefix}.{kind}{want}")
    if any(not 0 <= i < s for i, s in zip(idx, shape)):
        raise ValueError(f"explain: index {list(idx)} is outside {prefix}.{kind} of shape {tuple(shape)}")
    return ell, kind, idx


def _targets(y, loss: str, n: int, k: int):
    """(N, K) float targets, and the class indices when cross-entropy got integer classes."""
    raw = y.detach() if hasattr(y, "detach") else y
    raw = np.asarray(raw.numpy() if hasattr(raw, "numpy") else raw)
    classes = None
    if loss == "cross_entropy" and np.issubdtype(raw.dtype, np.integer) and raw.size == n and raw.ndim <= 1:
        classes = raw.reshape(n).astype(np.int64)
        if classes.min() < 0 or classes.max() >= k:
            raise ValueError(f"explain: target classes must lie in [0, {k - 1}], got {classes.tolist()}")
        return np.eye(k)[classes], classes
    arr = np.asarray(raw, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.shape != (n, k):
        raise ShapeError(f"explain: targets of shape {arr.shape} do not fit {n} example(s) and {k} outputs")
    return arr, classes


def backprop(model, x, y, loss: str = "mse", lr: float = 0.5, weight: str | None = None,
             published=None) -> Explanation:
    """Explain backpropagation for ``model`` (a Sequential of Linear and activation modules, or
    a list of ``Layer``) on inputs ``x`` (in,) or (N, in) with targets ``y`` ((K,), (N, K), or class
    indices for cross-entropy).  ``weight="2.weight[3,5]"`` explains one weight along its paths;
    ``published`` (a ``presets.Preset``) adds the check against the numbers its source prints."""
    if loss in ("ce", "cross-entropy"):
        loss = "cross_entropy"
    if loss not in LOSSES:
        raise ValueError(f"explain: loss must be one of {', '.join(LOSSES)}, not {loss!r}")
    layers = from_model(model, loss)
    X = to_numpy(x)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    if X.ndim != 2 or X.shape[1] != layers[0].weight.shape[1]:
        raise ShapeError(f"explain: input of shape {X.shape} does not fit a first layer that takes "
                         f"{layers[0].weight.shape[1]} inputs")
    T, classes = _targets(y, loss, X.shape[0], layers[-1].weight.shape[0])
    numbers = [("input", X), ("target", T)] + [(f"{ly.name}.{kind}", getattr(ly, kind)) for ly in layers
                                               for kind in ("weight", "bias")]
    for what, arr in numbers:  # NaN marks "not computed" in the checks, so NaN data would pass them all
        if not np.isfinite(arr).all():
            raise ValueError(f"explain: the {what} holds NaN or inf; the derivation needs finite numbers")
    focus = None if weight is None else parse_param_name(weight, layers)
    d = derive(layers, X, T, loss, float(lr), classes, focus)
    d.published = published
    return Explanation(d)
