"""Differential fuzzing of chainrule against PyTorch: random graphs, values, gradients, second order.

The normal test run tries a bounded number of graphs (seconds); a long run is
``python -m tests.fuzz --examples 100000``. Shrunk failures are saved in
``tests/fuzz/regressions/`` and replayed by ``test_regressions.py``.
"""
