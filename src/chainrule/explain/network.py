"""Turn what a user has — a ``cr.nn.Sequential``, weight lists, a weights file — into layers.

Weights file formats (``--weights FILE``):

* ``.json``: ``{"layers": [{"weight": [[...], ...], "bias": [...], "activation": "sigmoid"}, ...]}``
  — ``weight`` is (out, in) as PyTorch's ``Linear.weight``; ``bias`` may be left out (zeros);
  ``activation`` is ``sigmoid``, ``tanh``, ``relu`` or ``identity`` (default: the
  ``--activation`` option for hidden layers and the loss's default for the output layer).
* ``.safetensors``: a state dict of a ``Sequential`` of ``Linear`` layers, keys ``"0.weight"``,
  ``"0.bias"``, ``"2.weight"``, … exactly as PyTorch saves it; activations come from the options.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import DataError, ShapeError
from ..schema import load_json
from .derivation import ACTIVATIONS, Layer

_ACT_CLASSES = {"Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu", "Identity": "identity"}
_SKIP_CLASSES = {"Flatten", "Dropout"}  # no effect on a flat input in eval mode


def to_numpy(v) -> np.ndarray:
    """A chainrule Tensor, torch tensor, list or array, as float64 NumPy."""
    if hasattr(v, "detach"):
        v = v.detach()
    if hasattr(v, "cpu") and not isinstance(v, np.ndarray):
        v = v.cpu()
    if hasattr(v, "numpy"):
        v = v.numpy()
    return np.array(v, dtype=np.float64)


def output_activation(loss: str, activation: str) -> str:
    """The lecture's MSE network squashes its outputs too; cross-entropy takes raw logits."""
    return activation if loss == "mse" else "identity"


def from_model(model, loss: str = "mse") -> list[Layer]:
    """Layers of a Sequential of Linear and activation modules (chainrule's or PyTorch's), or a layer list."""
    if isinstance(model, (list, tuple)) and all(isinstance(m, Layer) for m in model):
        return [Layer(to_numpy(m.weight), to_numpy(m.bias), m.activation, m.name) for m in model]
    if isinstance(model, (list, tuple)) and all(isinstance(m, dict) for m in model):
        return from_spec(model, "sigmoid", loss)
    if hasattr(model, "named_children"):
        children = list(model.named_children())
    elif hasattr(model, "__iter__"):
        children = [(str(i), m) for i, m in enumerate(model)]
    else:
        raise TypeError(f"explain: expected a Sequential of Linear and activation modules, got {type(model).__name__}")
    layers: list[Layer] = []
    for name, mod in children:
        cls = type(mod).__name__
        if cls == "Linear":
            bias = getattr(mod, "bias", None)
            w = to_numpy(mod.weight)
            b = np.zeros(w.shape[0]) if bias is None else to_numpy(bias)
            layers.append(Layer(w, b, "identity", name))
        elif cls in _ACT_CLASSES:
            if not layers or layers[-1].activation != "identity":
                raise ValueError(f"explain: activation {cls} at {name!r} must follow a Linear layer")
            layers[-1].activation = _ACT_CLASSES[cls]
        elif cls not in _SKIP_CLASSES:
            raise ValueError(
                f"explain: module {name!r} ({cls}) is not supported; use Linear, Sigmoid, Tanh, ReLU layers, "
                "or explain any network's graph with --graph --follow NAME[i,...] (cr.explain.graph)"
            )
    if not layers:
        raise ValueError("explain: the model has no Linear layer")
    check_chain(layers)
    return layers


def from_spec(spec: list[dict], activation: str, loss: str) -> list[Layer]:
    """Layers from the JSON weights format (a list of {"weight", "bias", "activation"})."""
    layers = []
    for i, d in enumerate(spec):
        if not isinstance(d, dict) or "weight" not in d:
            raise DataError(f"explain: layer {i} has no 'weight'")
        w = _matrix(d["weight"], f"layer {i} weight")
        if w.ndim != 2:
            raise ShapeError(f"explain: layer {i} weight must be a (out, in) matrix, got shape {w.shape}")
        b = _matrix(d.get("bias", np.zeros(w.shape[0])), f"layer {i} bias")
        last = i == len(spec) - 1
        a = d.get("activation", output_activation(loss, activation) if last else activation)
        if a not in ACTIVATIONS:
            raise ValueError(f"explain: layer {i} activation {a!r} is not one of {', '.join(ACTIVATIONS)}")
        layers.append(Layer(w, b, a, str(2 * i)))
    check_chain(layers)
    return layers


def _matrix(value, what: str) -> np.ndarray:
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as e:  # ragged rows, strings
        raise DataError(f"explain: {what} is not a rectangular array of numbers ({e})") from None


def check_chain(layers: list[Layer]) -> None:
    for i, ly in enumerate(layers):
        if ly.bias.shape != ly.weight.shape[:1]:
            raise ShapeError(f"explain: layer {i} bias shape {ly.bias.shape} does not fit weight {ly.weight.shape}")
        if i and ly.weight.shape[1] != layers[i - 1].weight.shape[0]:
            raise ShapeError(
                f"explain: layer {i} takes {ly.weight.shape[1]} inputs but layer {i - 1} gives "
                f"{layers[i - 1].weight.shape[0]}"
            )


def seeded_network(sizes: list[int], activation: str, loss: str, seed: int) -> list[Layer]:
    """Weights drawn uniformly from [−1, 1] with ``seed`` and rounded to 2 decimals, so a reader can
    redo the arithmetic by hand; biases likewise."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = np.round(rng.uniform(-1, 1, size=(n_out, n_in)), 2)
        b = np.round(rng.uniform(-1, 1, size=n_out), 2)
        last = i == len(sizes) - 2
        layers.append(Layer(w, b, output_activation(loss, activation) if last else activation, str(2 * i)))
    return layers


def load_weights(path: str, activation: str, loss: str) -> list[Layer]:
    """Read the ``--weights`` file (JSON or safetensors, see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"explain: weights file {path!r} does not exist")
    if p.suffix == ".json":
        try:
            doc = load_json(p.read_text(), f"explain: {path}")  # refuses hostile nesting, not a RecursionError
        except UnicodeDecodeError as e:
            raise DataError(f"explain: {path}: not valid JSON ({e})") from None
        spec = doc.get("layers") if isinstance(doc, dict) else None
        if not isinstance(spec, list) or not spec:
            raise DataError(f"explain: {path}: expected {{\"layers\": [{{\"weight\": ..., \"bias\": ...}}, ...]}}")
        return from_spec(spec, activation, loss)
    from ..io import load

    return from_state_dict({k: v.numpy() for k, v in load(p).items()}, activation, loss)


def from_state_dict(sd: dict, activation: str, loss: str) -> list[Layer]:
    """Layers from Sequential-style keys ``"<i>.weight"`` / ``"<i>.bias"`` in index order."""
    idx = sorted({int(m.group(1)) for k in sd if (m := re.fullmatch(r"(\d+)\.weight", k))})
    if not idx:
        raise DataError(f"explain: no '<i>.weight' keys in the weights file (found {sorted(sd)[:6]})")
    layers = []
    for n, i in enumerate(idx):
        w = np.asarray(sd[f"{i}.weight"], dtype=np.float64)
        if w.ndim != 2:
            continue  # not a Linear layer (e.g. a norm's weight): the explanation covers Linear nets
        b = np.asarray(sd.get(f"{i}.bias", np.zeros(w.shape[0])), dtype=np.float64)
        last = n == len(idx) - 1
        layers.append(Layer(w, b, output_activation(loss, activation) if last else activation, str(i)))
    check_chain(layers)
    return layers
