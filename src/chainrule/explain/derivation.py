"""The numbers of the backpropagation derivation, computed three independent ways.

1. *derivation*: the lecture's formulas, neuron by neuron, in float64 Python
   arithmetic — z = Σ wᵢxᵢ + b, a = σ(z), ∂l/∂z = σ'(z)·Σₖ wₖ·∂l/∂zₖ,
   ∂l/∂w = ∂z/∂w · ∂l/∂z;
2. *autograd*: chainrule's own ops and ``cr.grad`` on the same network;
3. *numeric*: central differences of the loss, (l(w+ε) − l(w−ε)) / 2ε.

A number is trusted when the three agree.  Nothing here formats text.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
LOSSES = ("mse", "cross_entropy")
ATOL, RTOL = 1e-6, 1e-4  # "agrees": |a − b| ≤ ATOL + RTOL·|b| (float64 throughout)
EPS = 1e-6  # central-difference step


def act(name: str, z: float) -> float:
    if name == "sigmoid":
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
    if name == "tanh":
        return math.tanh(z)
    if name == "relu":
        return z if z > 0 else 0.0
    return z


def act_prime(name: str, z: float) -> float:
    """σ'(z): the constant the forward pass fixes for the backward pass (relu'(0) = 0, as PyTorch)."""
    if name == "sigmoid":
        s = act("sigmoid", z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - math.tanh(z) ** 2
    if name == "relu":
        return 1.0 if z > 0 else 0.0
    return 1.0


def _np_act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    return z


@dataclass
class Layer:
    """One fully connected layer: z = W a + b, then the activation.  W is (out, in), as PyTorch."""

    weight: np.ndarray
    bias: np.ndarray
    activation: str
    name: str  # the state-dict prefix of its Linear, e.g. "0" for "0.weight"

    @property
    def sizes(self) -> tuple[int, int]:
        return self.weight.shape[1], self.weight.shape[0]


@dataclass
class LayerTrace:
    """What one example leaves in one layer: forward values, backward values, gradients."""

    inputs: np.ndarray  # a^(ℓ−1): the values that fed the weights, ∂z/∂wᵢⱼ = inputs[j]
    z: np.ndarray
    a: np.ndarray
    sigma_prime: np.ndarray
    dl_da: np.ndarray = None  # ∂l/∂a: Σₖ wₖ·∂l/∂zₖ for a hidden layer, from the loss for the output
    dl_dz: np.ndarray = None
    dl_dw: np.ndarray = None
    dl_db: np.ndarray = None
    dl_dz_autograd: np.ndarray = None
    dl_dw_autograd: np.ndarray = None
    dl_db_autograd: np.ndarray = None
    dl_dw_numeric: np.ndarray = None  # NaN where not computed
    dl_db_numeric: np.ndarray = None


@dataclass
class ExampleTrace:
    x: np.ndarray
    target: np.ndarray  # (K,) values for MSE, probabilities for cross-entropy
    target_class: int | None
    layers: list[LayerTrace]
    y: np.ndarray  # the network's prediction: a^L for MSE, softmax(a^L) for cross-entropy
    loss: float
    dl_dy: np.ndarray  # ∂l/∂(network output a^L)


@dataclass
class Totals:
    """L = Σₙ lⁿ and its gradient as a sum of per-example gradients; cost C = L / N."""

    loss: float
    cost: float
    dl_dw: list[np.ndarray]
    dl_db: list[np.ndarray]
    dl_dw_autograd: list[np.ndarray]
    dl_db_autograd: list[np.ndarray]
    dl_dw_numeric: list[np.ndarray]
    dl_db_numeric: list[np.ndarray]


@dataclass
class Step:
    """θ¹ = θ⁰ − η ∇L(θ⁰), and the loss before and after."""

    lr: float
    weight: list[np.ndarray]
    bias: list[np.ndarray]
    loss_before: float
    loss_after: float
    cost_before: float
    cost_after: float


@dataclass
class Derivation:
    layers: list[Layer]
    loss: str
    examples: list[ExampleTrace]
    totals: Totals
    step: Step
    focus: tuple | None = None  # (layer index, "weight"|"bias", index tuple) when one weight is explained
    atol: float = ATOL
    rtol: float = RTOL
    notes: list[str] = field(default_factory=list)
    published: object = None  # a presets.Preset whose printed activations the forward pass is compared with
    example_ids: list | None = None  # which test examples of a run these are (--checkpoint)
    image_shape: tuple | None = None  # (H, W) when the inputs are images, drawn beside the explanation


# --------------------------------------------------------------- the loss

def loss_value(kind: str, out: np.ndarray, target: np.ndarray) -> float:
    """lⁿ for one example: MSE = (1/K) Σⱼ (yⱼ − tⱼ)²; cross-entropy = −Σⱼ tⱼ log softmax(o)ⱼ."""
    if kind == "mse":
        return math.fsum((o - t) ** 2 for o, t in zip(out, target)) / len(out)
    m = max(out)
    lse = m + math.log(math.fsum(math.exp(o - m) for o in out))
    return -math.fsum(t * (o - lse) for o, t in zip(out, target))


def loss_grad(kind: str, out: np.ndarray, target: np.ndarray) -> np.ndarray:
    """∂l/∂(output): 2(yⱼ − tⱼ)/K for MSE; softmax(o)ⱼ·Σt − tⱼ (= yⱼ − tⱼ) for cross-entropy."""
    if kind == "mse":
        return np.array([2.0 * (o - t) / len(out) for o, t in zip(out, target)])
    p = softmax(out)
    s = math.fsum(target)
    return np.array([pj * s - t for pj, t in zip(p, target)])


def softmax(o: np.ndarray) -> np.ndarray:
    m = max(o)
    e = [math.exp(v - m) for v in o]
    s = math.fsum(e)
    return np.array([v / s for v in e])


# --------------------------------------------------------------- derivation (per neuron)

def derive_example(layers: list[Layer], x: np.ndarray, target: np.ndarray, loss: str) -> ExampleTrace:
    """The lecture's derivation for one example, one neuron and one weight at a time."""
    traces = []
    inp = [float(v) for v in x]
    for layer in layers:
        W, b = layer.weight, layer.bias
        z = [math.fsum([float(W[i, j]) * inp[j] for j in range(len(inp))] + [float(b[i])]) for i in range(len(b))]
        a = [act(layer.activation, v) for v in z]
        sp = [act_prime(layer.activation, v) for v in z]
        traces.append(LayerTrace(np.array(inp), np.array(z), np.array(a), np.array(sp)))
        inp = a
    out = traces[-1].a
    y = softmax(out) if loss == "cross_entropy" else out.copy()
    dl_dy = loss_grad(loss, out, target)
    # backward: case 1 (output layer) gets ∂l/∂a from the loss; case 2 sums over the neurons it feeds
    dl_da = dl_dy
    for ell in range(len(layers) - 1, -1, -1):
        t = traces[ell]
        t.dl_da = np.array(dl_da, dtype=np.float64)
        t.dl_dz = np.array([t.sigma_prime[i] * dl_da[i] for i in range(len(dl_da))])
        n_in = len(t.inputs)
        t.dl_dw = np.array([[t.inputs[j] * t.dl_dz[i] for j in range(n_in)] for i in range(len(t.dl_dz))])
        t.dl_db = np.array([1.0 * t.dl_dz[i] for i in range(len(t.dl_dz))])
        if ell > 0:
            W = layers[ell].weight
            dl_da = [math.fsum(float(W[k, i]) * t.dl_dz[k] for k in range(W.shape[0])) for i in range(n_in)]
    return ExampleTrace(np.asarray(x, dtype=np.float64), target, None, traces, y, loss_value(loss, out, target),
                        dl_dy)


# --------------------------------------------------------------- autograd (chainrule's ops)

def _cr_forward(layers, params, x, target, loss):
    import chainrule as cr
    from chainrule.ops import softmax_cross_entropy

    h = x
    zs = []
    for layer, (w, b) in zip(layers, params):
        z = cr.linear(h, w, b)
        zs.append(z)
        h = {"sigmoid": cr.sigmoid, "tanh": cr.tanh, "relu": cr.relu}.get(layer.activation, lambda v: v)(z)
    if loss == "mse":
        k = h.shape[-1]
        total = ((h - target) ** 2).sum() / k
    else:
        total = softmax_cross_entropy(h, target, reduction="sum")
    return total, zs


def autograd_grads(layers: list[Layer], X: np.ndarray, T: np.ndarray, loss: str, want_z: bool = False):
    """∂L/∂W, ∂L/∂b (and ∂L/∂z) for the examples X (N, in) from chainrule's backward pass."""
    import chainrule as cr

    params = [(cr.tensor(ly.weight.copy(), requires_grad=True), cr.tensor(ly.bias.copy(), requires_grad=True))
              for ly in layers]
    total, zs = _cr_forward(layers, params, cr.tensor(np.asarray(X, np.float64)), cr.tensor(T), loss)
    flat = [p for pair in params for p in pair] + (zs if want_z else [])
    grads = [g.numpy().astype(np.float64) for g in cr.grad(total, flat)]
    n = len(layers)
    dW, db = grads[0:2 * n:2], grads[1:2 * n:2]
    return dW, db, (grads[2 * n:] if want_z else None)


def per_example_grads(layers: list[Layer], X: np.ndarray, T: np.ndarray, loss: str, focus) -> np.ndarray:
    """∂lⁿ/∂θ of one parameter for every example at once: ∂lⁿ/∂wᵢⱼ = aⱼⁿ·∂lⁿ/∂zᵢⁿ, with ∂lⁿ/∂zⁿ from one
    batched backward pass (examples do not mix in L = Σₙ lⁿ, so row n of ∂L/∂z is example n's)."""
    ell, kind, idx = focus
    _, _, dZ = autograd_grads(layers, X, T, loss, want_z=True)
    dz = dZ[ell][:, idx[0]]
    if kind == "bias":
        return dz
    h = np.asarray(X, dtype=np.float64)
    for layer in layers[:ell]:
        h = _np_act(layer.activation, h @ layer.weight.T + layer.bias)
    return h[:, idx[1]] * dz


# --------------------------------------------------------------- numeric (central differences)

def forward_loss(layers: list[Layer], X: np.ndarray, T: np.ndarray, loss: str, weights=None, biases=None) -> float:
    """Σₙ lⁿ by plain matrix arithmetic (the numeric check's own forward pass)."""
    h = np.asarray(X, dtype=np.float64)
    for i, layer in enumerate(layers):
        W = layer.weight if weights is None else weights[i]
        b = layer.bias if biases is None else biases[i]
        h = _np_act(layer.activation, h @ W.T + b)
    if loss == "mse":
        return float(((h - T) ** 2).sum() / h.shape[1])
    m = h.max(axis=1, keepdims=True)
    logp = h - m - np.log(np.exp(h - m).sum(axis=1, keepdims=True))
    return float(-(T * logp).sum())


def numeric_grads(layers: list[Layer], X: np.ndarray, T: np.ndarray, loss: str, only=None, eps: float = EPS):
    """Central differences for every parameter, or only for ``only`` = [(layer, "weight"|"bias", index)]."""
    Ws = [ly.weight.copy() for ly in layers]
    bs = [ly.bias.copy() for ly in layers]
    dW = [np.full(w.shape, np.nan) for w in Ws]
    db = [np.full(b.shape, np.nan) for b in bs]
    if only is None:
        only = [(i, "weight", idx) for i, w in enumerate(Ws) for idx in np.ndindex(w.shape)]
        only += [(i, "bias", idx) for i, b in enumerate(bs) for idx in np.ndindex(b.shape)]
    for i, kind, idx in only:
        arr, out = (Ws[i], dW[i]) if kind == "weight" else (bs[i], db[i])
        keep = arr[idx]
        arr[idx] = keep + eps
        up = forward_loss(layers, X, T, loss, Ws, bs)
        arr[idx] = keep - eps
        down = forward_loss(layers, X, T, loss, Ws, bs)
        arr[idx] = keep
        out[idx] = (up - down) / (2 * eps)
    return dW, db


# --------------------------------------------------------------- all of it

def derive(layers: list[Layer], X: np.ndarray, T: np.ndarray, loss: str, lr: float,
           target_classes=None, focus=None) -> Derivation:
    """Every number of the explanation for examples X (N, in) with targets T (N, K)."""
    X = np.asarray(X, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    only = None if focus is None else [focus]
    examples = []
    for n in range(X.shape[0]):
        ex = derive_example(layers, X[n], T[n], loss)
        if target_classes is not None:
            ex.target_class = int(target_classes[n])
        dW, db, dZ = autograd_grads(layers, X[n:n + 1], T[n:n + 1], loss, want_z=True)
        nW, nb = numeric_grads(layers, X[n:n + 1], T[n:n + 1], loss, only)
        for ell, t in enumerate(ex.layers):
            t.dl_dw_autograd, t.dl_db_autograd, t.dl_dz_autograd = dW[ell], db[ell], dZ[ell][0]
            t.dl_dw_numeric, t.dl_db_numeric = nW[ell], nb[ell]
        examples.append(ex)
    n_layers = len(layers)
    sum_w = [np.sum([ex.layers[ell].dl_dw for ex in examples], axis=0) for ell in range(n_layers)]
    sum_b = [np.sum([ex.layers[ell].dl_db for ex in examples], axis=0) for ell in range(n_layers)]
    aW, ab, _ = autograd_grads(layers, X, T, loss)
    nW, nb = numeric_grads(layers, X, T, loss, only)
    total = math.fsum(ex.loss for ex in examples)
    totals = Totals(total, total / len(examples), sum_w, sum_b, aW, ab, nW, nb)
    new_w = [ly.weight - lr * g for ly, g in zip(layers, sum_w)]
    new_b = [ly.bias - lr * g for ly, g in zip(layers, sum_b)]
    after = forward_loss(layers, X, T, loss, new_w, new_b)
    step = Step(lr, new_w, new_b, total, after, total / len(examples), after / len(examples))
    return Derivation(layers, loss, examples, totals, step, focus)


def agrees(a, b, atol: float = ATOL, rtol: float = RTOL) -> bool:
    """True where ``a`` matches ``b``; a value never computed (NaN) counts as agreeing."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ok = np.abs(a - b) <= atol + rtol * np.abs(b)
    return bool(np.all(ok | np.isnan(a) | np.isnan(b)))
