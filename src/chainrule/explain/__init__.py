"""``cr.explain``: the backpropagation derivation, computed for a real network.

    import chainrule as cr
    net = cr.nn.Sequential(cr.nn.Linear(2, 2), cr.nn.Sigmoid(), cr.nn.Linear(2, 2), cr.nn.Sigmoid())
    e = cr.explain.backprop(net, x=[1.0, -1.0], y=[1.0, 0.0], loss="mse", lr=0.5)
    print(e.text())            # forward pass, ∂z/∂w, backward pass, chain rule, one step
    e.html(lang="zh")          # a self-contained page with the forward and the reversed network
    e.to_dict()["schema"]      # "chainrule.explain/1" (see schema.py)
    cr.explain.preset("lecture").explain()   # the slides' own network and numbers (also "mazur")
    cr.explain.graph(loss, names=model, follow="conv.weight[0,0,1,1]")  # any graph, node by node

Every gradient is computed three ways — the lecture's per-neuron formulas,
chainrule's autograd, central differences — and marked as agreeing or not.
"""
from __future__ import annotations

from .derivation import ACTIVATIONS, LOSSES, Derivation, Layer
from .explanation import Explanation, backprop, parse_param_name
from .graph import Graph, graph
from .presets import PRESETS, Preset
from .presets import get as preset
from .schema import SCHEMA

__all__ = ["ACTIVATIONS", "LOSSES", "PRESETS", "SCHEMA", "Derivation", "Explanation", "Graph", "Layer", "Preset",
           "backprop", "graph", "parse_param_name", "preset"]
