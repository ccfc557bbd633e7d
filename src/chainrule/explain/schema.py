"""The explanation as plain data (``--json FILE``, ``Explanation.to_dict()``): schema ``chainrule.explain/1``.

The keys below are a contract; a change to them gets a new schema version.
Numbers are floats (float64); arrays are nested lists; a value that was not
computed (central differences skipped outside ``--weight``) is ``null``.
Layers are indexed ℓ = 0, 1, … (the lecture's layer ℓ+1); weights are (out, in),
as PyTorch's ``Linear.weight``.  See docs/explain-schema.md for the prose version.

    {
      "schema": "chainrule.explain/1",
      "loss": "mse" | "cross_entropy",
      "lr": η,
      "tolerance": {"atol": float, "rtol": float},
      "network": {"sizes": [n_in, n_1, …, n_out],
                  "layers": [{"name": "0", "activation": "sigmoid"|"tanh"|"relu"|"identity",
                              "weight": [[…]], "bias": […]}, …]},
      "focus": null | {"layer": ℓ, "param": "weight"|"bias", "index": [i, j], "name": "2.weight[3,5]"},
      "examples": [{
          "x": […], "target": […], "target_class": int | null,
          "y": […],               # prediction: a^L for MSE, softmax(a^L) for cross-entropy
          "loss": lⁿ, "dl_dy": […],   # ∂l/∂(network output)
          "layers": [{
              "inputs": […],       # the values that fed the weights = ∂z/∂wᵢⱼ for every i
              "z": […], "a": […], "sigma_prime": […],
              "dl_da": […],        # Σₖ wₖ·∂l/∂zₖ (hidden) or ∂l/∂y (output)
              "dl_dz": […], "dl_dz_autograd": […],
              "dl_dw": [[…]], "dl_dw_autograd": [[…]], "dl_dw_numeric": [[…]],
              "dl_db": […], "dl_db_autograd": […], "dl_db_numeric": […]}, …]}, …],
      "total": {"loss": L, "cost": L/N,
                "layers": [{"dl_dw", "dl_dw_autograd", "dl_dw_numeric", "dl_dw_mean",
                            "dl_db", "dl_db_autograd", "dl_db_numeric", "dl_db_mean"}, …]},
      "step": {"lr": η, "loss_before": L(θ⁰), "loss_after": L(θ¹),
               "cost_before": float, "cost_after": float,
               "layers": [{"weight": [[…]], "bias": […]}, …]},   # θ¹ = θ⁰ − η·∇L(θ⁰)
      "agree": bool             # every gradient equal three ways within tolerance
    }
"""
from __future__ import annotations

import math

import numpy as np

from .derivation import Derivation, agrees

SCHEMA = "chainrule.explain/1"

EXAMPLE_LAYER_KEYS = ("inputs", "z", "a", "sigma_prime", "dl_da", "dl_dz", "dl_dz_autograd", "dl_dw",
                      "dl_dw_autograd", "dl_dw_numeric", "dl_db", "dl_db_autograd", "dl_db_numeric")


def _list(a):
    """float64 array → nested lists, NaN (not computed) → None."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 0:
        v = float(arr)
        return None if math.isnan(v) else v
    return [_list(v) for v in arr]


def all_agree(d: Derivation) -> bool:
    """Every derivation gradient equals autograd and central differences (only the explained one in focus)."""
    tot = d.totals
    if d.focus is not None:
        ell, kind, idx = d.focus
        key = "dl_dw" if kind == "weight" else "dl_db"
        pairs = [(getattr(ex.layers[ell], key)[idx], getattr(ex.layers[ell], key + s)[idx])
                 for ex in d.examples for s in ("_autograd", "_numeric")]
        pairs += [(getattr(tot, key)[ell][idx], getattr(tot, key + s)[ell][idx]) for s in ("_autograd", "_numeric")]
        return all(agrees(a, b, d.atol, d.rtol) for a, b in pairs)
    pairs = []
    for ex in d.examples:
        for t in ex.layers:
            pairs += [(t.dl_dw, t.dl_dw_autograd), (t.dl_dw, t.dl_dw_numeric),
                      (t.dl_db, t.dl_db_autograd), (t.dl_db, t.dl_db_numeric), (t.dl_dz, t.dl_dz_autograd)]
    for ell in range(len(d.layers)):
        pairs += [(tot.dl_dw[ell], tot.dl_dw_autograd[ell]), (tot.dl_dw[ell], tot.dl_dw_numeric[ell]),
                  (tot.dl_db[ell], tot.dl_db_autograd[ell]), (tot.dl_db[ell], tot.dl_db_numeric[ell])]
    return all(agrees(a, b, d.atol, d.rtol) for a, b in pairs)


def to_dict(d: Derivation) -> dict:
    sizes = [d.layers[0].weight.shape[1]] + [ly.weight.shape[0] for ly in d.layers]
    focus = None
    if d.focus is not None:
        ell, kind, idx = d.focus
        focus = {"layer": ell, "param": kind, "index": list(idx),
                 "name": f"{d.layers[ell].name}.{kind}[{','.join(map(str, idx))}]"}
    n = len(d.examples)
    tot = d.totals
    return {
        "schema": SCHEMA,
        "loss": d.loss,
        "lr": float(d.step.lr),
        "tolerance": {"atol": d.atol, "rtol": d.rtol},
        "network": {
            "sizes": sizes,
            "layers": [{"name": ly.name, "activation": ly.activation, "weight": _list(ly.weight),
                        "bias": _list(ly.bias)} for ly in d.layers],
        },
        "focus": focus,
        "examples": [{
            "x": _list(ex.x), "target": _list(ex.target), "target_class": ex.target_class,
            "y": _list(ex.y), "loss": float(ex.loss), "dl_dy": _list(ex.dl_dy),
            "layers": [{k: _list(getattr(t, k)) for k in EXAMPLE_LAYER_KEYS} for t in ex.layers],
        } for ex in d.examples],
        "total": {
            "loss": float(tot.loss), "cost": float(tot.cost),
            "layers": [{
                "dl_dw": _list(tot.dl_dw[ell]), "dl_dw_autograd": _list(tot.dl_dw_autograd[ell]),
                "dl_dw_numeric": _list(tot.dl_dw_numeric[ell]), "dl_dw_mean": _list(tot.dl_dw[ell] / n),
                "dl_db": _list(tot.dl_db[ell]), "dl_db_autograd": _list(tot.dl_db_autograd[ell]),
                "dl_db_numeric": _list(tot.dl_db_numeric[ell]), "dl_db_mean": _list(tot.dl_db[ell] / n),
            } for ell in range(len(d.layers))],
        },
        "step": {
            "lr": float(d.step.lr), "loss_before": float(d.step.loss_before), "loss_after": float(d.step.loss_after),
            "cost_before": float(d.step.cost_before), "cost_after": float(d.step.cost_after),
            "layers": [{"weight": _list(w), "bias": _list(b)} for w, b in zip(d.step.weight, d.step.bias)],
        },
        "agree": all_agree(d),
    }
