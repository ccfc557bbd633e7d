"""``cr.nn.functional``: the functional forms of the layers (PyTorch's ``torch.nn.functional``)."""
from __future__ import annotations

from ..functional import (  # noqa: F401
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    gelu,
    leaky_relu,
    linear,
    log_softmax,
    mse_loss,
    nll_loss,
    one_hot,
    relu,
    sigmoid,
    softmax,
    tanh,
)
