"""chainrule's benchmarks: training steps and per-op overhead against PyTorch, MyGrad and NumPy.

Run everything with ``python -m benchmarks`` (or ``chainrule bench``) from the
repository root; ``--help`` lists the options.
"""
