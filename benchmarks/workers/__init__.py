"""One module per framework, each exposing ``build(cfg, opt, weights, threads) -> model``.

A model offers ``batch(x, y)`` (NumPy -> native, done outside the timing),
``step(x, y)`` (one full training step; returns the loss), ``fwd(x, y)``
(forward + loss with the graph recorded), ``fwdbwd(x, y)`` (forward, loss and
backward, no update), ``loss_value(loss) -> float`` and ``weights()`` (the
current (weight (out, in), bias) NumPy arrays, for the correctness tests).
"""
FRAMEWORKS = ("chainrule", "torch", "mygrad", "numpy")
