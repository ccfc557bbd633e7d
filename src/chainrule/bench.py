"""``chainrule bench``: run the benchmark suite of the source tree (``benchmarks/``).

The suite lives beside the package, not in it (it needs PyTorch and MyGrad,
which chainrule itself never imports), so this command finds it from a
source checkout, or from the current directory, and says how to get it otherwise.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HOW = ("chainrule bench runs the benchmarks of the source repository, which this installation does not have.\n"
       "From a checkout of chainrule:  pip install -e '.[test,bench]'  then  python -m benchmarks --quick")


def _suite_root() -> Path | None:
    """The directory holding ``benchmarks/runner.py``: the source tree above this file, or the cwd."""
    for root in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (root / "benchmarks" / "runner.py").is_file():
            return root
    return None


def _import_options(root: Path):
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from benchmarks import options

    return options


def configure(parser: argparse.ArgumentParser) -> None:
    root = _suite_root()
    if root is not None:
        _import_options(root).add_arguments(parser)  # argparse only: keeps `chainrule --help` fast
    else:
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    root = _suite_root()
    if root is None:
        print(HOW, file=sys.stderr)
        return 1
    _import_options(root)
    from benchmarks import runner

    return runner.run(args)
