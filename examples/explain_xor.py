"""The backpropagation derivation, computed for a 2-2-1 tanh network on two XOR examples.

    python examples/explain_xor.py            # terminal tables
    python examples/explain_xor.py page.html  # also the page with both drawings
"""
from __future__ import annotations

import sys

import chainrule as cr
from chainrule import nn


def main(html: str | None = None):
    cr.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1), nn.Sigmoid())
    x = [[0.0, 1.0], [1.0, 1.0]]
    y = [[1.0], [0.0]]
    explanation = cr.explain.backprop(model, x, y, loss="mse", lr=0.5)
    print(explanation.text())
    if html:
        explanation.save_html(html)
    return explanation


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
