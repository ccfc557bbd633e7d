"""Published networks whose numbers a learner can compare line by line (``--preset NAME``).

Each preset holds the weights, the example and the activations exactly as its
source prints them (as strings, so the number of decimals shown is part of the
fact).  The explanation recomputes everything and says whether it matches the
source to the decimals the source gives.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .derivation import Layer


@dataclass(frozen=True)
class Preset:
    name: str
    summary: str  # one line for --help
    source: tuple  # (English, 中文): where the numbers are published
    weights: tuple  # per layer: ((row, row, …), bias), weight (out, in) as PyTorch's Linear
    x: tuple
    target: tuple
    lr: float
    published: tuple  # per layer: the activations a = σ(z) as the source prints them
    note: tuple = ("", "")  # (English, 中文): what differs from the source, if anything

    def layers(self) -> list[Layer]:
        """The network as explain's layers: sigmoid everywhere, Linear names 0, 2, 4, … (a Sequential)."""
        return [Layer(np.array(w, dtype=np.float64), np.array(b, dtype=np.float64), "sigmoid", str(2 * i))
                for i, (w, b) in enumerate(self.weights)]

    def explain(self, lr: float | None = None):
        """``backprop`` on the preset's own network and example, checked against its published numbers."""
        from .explanation import backprop

        return backprop(self.layers(), self.x, self.target, loss="mse", lr=self.lr if lr is None else lr,
                        published=self)


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        name="lecture",
        summary="the lecture's 2-2-2-2 sigmoid network, x = (1, −1): a = 0.98, 0.12 → 0.86, 0.11 → 0.62, 0.83",
        source=("the lecture's slides", "课程幻灯片"),
        weights=((((1, -2), (-1, 1)), (1, 0)),
                 (((2, -1), (-2, -1)), (0, 0)),
                 (((3, -1), (-1, 4)), (-2, 2))),
        x=(1.0, -1.0), target=(1.0, 0.0), lr=0.5,
        published=(("0.98", "0.12"), ("0.86", "0.11"), ("0.62", "0.83")),
        note=("The slides give no target; t = (1, 0) and the MSE loss are chainrule's choice.",
              "幻灯片没有给出目标值；t = (1, 0) 和均方误差是 chainrule 选的。"),
    ),
    Preset(
        name="mazur",
        summary="Matt Mazur's \"A Step by Step Backpropagation Example\": 2-2-2 sigmoid, x = (0.05, 0.1)",
        source=("Matt Mazur's \"A Step by Step Backpropagation Example\"",
                "Matt Mazur 的《A Step by Step Backpropagation Example》"),
        weights=((((0.15, 0.20), (0.25, 0.30)), (0.35, 0.35)),
                 (((0.40, 0.45), (0.50, 0.55)), (0.60, 0.60))),
        x=(0.05, 0.10), target=(0.01, 0.99), lr=0.5,
        published=(("0.593269992", "0.596884378"), ("0.75136507", "0.772928465")),
        note=("Mazur's E = Σ ½(t − o)² is the MSE of 2 outputs. He keeps the biases fixed; chainrule's step "
              "updates them too, so only the loss after the step differs from his.",
              "Mazur 的 E = Σ ½(t − o)² 就是 2 个输出的均方误差。他不更新偏置，chainrule 的这一步也更新偏置，"
              "所以只有更新后的损失与他的不同。"),
    ),
)}


def get(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"explain: no preset {name!r} (presets: {', '.join(PRESETS)})")
    return PRESETS[name]


def decimals(s: str) -> int:
    return len(s.split(".")[1]) if "." in s else 0


def matches(value: float, published: str) -> bool:
    """True when ``value`` rounds to ``published`` at the decimals the source prints."""
    return abs(value - float(published)) <= 0.5 * 10.0 ** -decimals(published) + 1e-12
