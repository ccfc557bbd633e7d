"""``chainrule bench``: run the benchmark suite of the source tree (``benchmarks/``).

The suite lives beside the package, not in it (it needs PyTorch and MyGrad,
which chainrule itself never imports), so this command finds it from a
source checkout, or from the current directory, and says how to get it otherwise.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HOW = ("it needs the benchmarks/ folder of a chainrule source checkout (this installation has none) and PyTorch "
       "and MyGrad: in a checkout run  pip install -e '.[test,bench]'  then  chainrule bench --quick")


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
        parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines, only the report")
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from .cli import UsageError

    root = _suite_root()
    if root is None:
        raise UsageError(HOW)
    _import_options(root)
    from benchmarks import runner

    try:
        return runner.run(args)
    except SystemExit as e:  # the runner's own one-line refusals (a missing framework, an unknown config)
        if isinstance(e.code, str):
            raise UsageError(e.code.removeprefix("benchmarks: ")) from None
        raise
