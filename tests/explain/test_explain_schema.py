"""The JSON document keeps the documented schema ``chainrule.explain/1`` (docs/explain-schema.md)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.explain.network import seeded_network

DOC = Path(__file__).resolve().parents[2] / "docs" / "explain-schema.md"

# The contract, written out here on purpose: changing a key must fail this test.
TOP = {"schema", "loss", "lr", "tolerance", "network", "focus", "examples", "total", "step", "agree"}
EXAMPLE = {"x", "target", "target_class", "y", "loss", "dl_dy", "layers"}
EXAMPLE_LAYER = {"inputs", "z", "a", "sigma_prime", "dl_da", "dl_dz", "dl_dz_autograd", "dl_dw", "dl_dw_autograd",
                 "dl_dw_numeric", "dl_db", "dl_db_autograd", "dl_db_numeric"}
TOTAL = {"loss", "cost", "layers"}
TOTAL_LAYER = {"dl_dw", "dl_dw_autograd", "dl_dw_numeric", "dl_dw_mean", "dl_db", "dl_db_autograd", "dl_db_numeric",
               "dl_db_mean"}
STEP = {"lr", "loss_before", "loss_after", "cost_before", "cost_after", "layers"}
NETWORK = {"sizes", "layers"}
NETWORK_LAYER = {"name", "activation", "weight", "bias"}


def _doc() -> dict:
    d = cr.explain.backprop(seeded_network([2, 3, 2], "tanh", "mse", 1), [[1.0, 2.0], [0.5, -1.0]],
                            [[1.0, 0.0], [0.0, 1.0]]).to_dict()
    return json.loads(json.dumps(d, allow_nan=False))  # strict JSON: no NaN/inf slip through


def test_keys_are_exactly_the_documented_ones():
    d = _doc()
    assert d["schema"] == "chainrule.explain/1"
    assert set(d) == TOP
    assert set(d["network"]) == NETWORK and all(set(ly) == NETWORK_LAYER for ly in d["network"]["layers"])
    assert set(d["tolerance"]) == {"atol", "rtol"}
    assert d["focus"] is None
    for ex in d["examples"]:
        assert set(ex) == EXAMPLE
        assert all(set(ly) == EXAMPLE_LAYER for ly in ex["layers"])
    assert set(d["total"]) == TOTAL and all(set(ly) == TOTAL_LAYER for ly in d["total"]["layers"])
    assert set(d["step"]) == STEP and all(set(ly) == {"weight", "bias"} for ly in d["step"]["layers"])


def test_shapes_follow_the_network():
    d = _doc()
    assert d["network"]["sizes"] == [2, 3, 2]
    assert np.shape(d["network"]["layers"][0]["weight"]) == (3, 2)
    lay = d["examples"][1]["layers"][1]
    assert np.shape(lay["dl_dw"]) == (2, 3) and np.shape(lay["z"]) == (2,) and np.shape(lay["inputs"]) == (3,)
    assert isinstance(d["examples"][0]["loss"], float) and isinstance(d["agree"], bool)


def test_every_key_is_documented():
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", text))
    for key in TOP | EXAMPLE | EXAMPLE_LAYER | TOTAL | TOTAL_LAYER | STEP | NETWORK | NETWORK_LAYER:
        assert key in documented, f"{key!r} is missing from {DOC.name}"
    assert "chainrule.explain/1" in text
    # and the module docstring names the same version
    from chainrule.explain import schema

    assert schema.SCHEMA == "chainrule.explain/1" and "chainrule.explain/1" in schema.__doc__


def test_focus_document_has_nulls_where_nothing_was_estimated():
    e = cr.explain.backprop(seeded_network([2, 3, 2], "sigmoid", "mse", 0), [1.0, -1.0], [1.0, 0.0],
                            weight="0.bias[2]")
    d = json.loads(json.dumps(e.to_dict(), allow_nan=False))
    assert d["focus"] == {"layer": 0, "param": "bias", "index": [2], "name": "0.bias[2]"}
    lay = d["examples"][0]["layers"][0]
    assert lay["dl_db_numeric"][2] is not None and lay["dl_db_numeric"][0] is None
    assert all(v is None for row in lay["dl_dw_numeric"] for v in row)
