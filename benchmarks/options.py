"""The command-line options of the benchmark, shared by ``python -m benchmarks`` and ``chainrule bench``.

Kept free of heavy imports: ``chainrule --help`` builds this parser.
"""
from __future__ import annotations

import argparse

FRAMEWORKS = ("chainrule", "torch", "mygrad", "numpy")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads of every worker (default 1)")
    p.add_argument("--quick", action="store_true", help="smoke run: configs a-c, one round, fewer steps")
    p.add_argument("--configs", metavar="LIST",
                   help="comma-separated jobs among a,b,c,c-adam,d,e (default: all; --quick: a,b,c)")
    p.add_argument("--frameworks", metavar="LIST", default=",".join(FRAMEWORKS),
                   help=f"comma-separated, among {','.join(FRAMEWORKS)} (default: all)")
    p.add_argument("--rounds", type=int, default=None,
                   help="processes per framework and config, alternating (default 2; --quick: 1)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="rank by wall-clock time per step (default, as the anchors) or by the process's CPU time, "
                        "which other processes on a busy machine do not inflate (both are always in --json)")
    p.add_argument("--json", metavar="FILE", help="write every measurement to FILE")
    p.add_argument("--plot", metavar="FILE", help="draw the speed ratios to FILE (PNG, needs matplotlib)")
    p.add_argument("--no-overhead", action="store_true", help="skip the per-op overhead and 10-op chains")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines, only the report")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Training steps of chainrule, PyTorch, MyGrad and hand-written NumPy, side by side.")
    add_arguments(p)
    return p
