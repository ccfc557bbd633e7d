"""The ``chainrule`` command: a thin dispatcher to one module per subcommand.

Each subcommand module exposes ``configure(parser)`` and ``run(args) -> int``
and imports its heavy libraries inside ``run``, so ``chainrule --help`` is fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .errors import ChainruleError
from .extras import MissingDependency

# name -> (module, one-line help)
COMMANDS = {
    "train": ("chainrule.train", "train a network (default: a fully connected net on the bundled digits; --model cnn)"),
    "evaluate": ("chainrule.evaluate", "accuracy, per-class precision/recall/F1, confusion matrix, worst mistakes"),
    "explain": ("chainrule.explain.command", "the backpropagation derivation, computed for a real network"),
    "bench": ("chainrule.bench", "time training steps against PyTorch side by side"),
}


class UsageError(Exception):
    """A bad option: reported in one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Reverse-mode automatic differentiation over NumPy: train, explain, benchmark.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue  # a subcommand whose module is not there yet (or lacks an optional library)
        p = sub.add_parser(name, help=help_text, description=help_text)
        mod.configure(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    nul = next((a for a in given if "\0" in str(a)), None)
    if nul is not None:  # no file name holds one; the OS would refuse it deep inside with a ValueError
        print(f"chainrule: error: argument {str(nul)!r} contains a NUL byte", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # a subcommand may run itself again (distributed)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except UsageError as e:
        print(f"chainrule {args.command}: error: {e}", file=sys.stderr)
        return 2
    except MissingDependency as e:
        print(f"chainrule {args.command}: error: {e}", file=sys.stderr)
        return 2
    except ChainruleError as e:  # a subcommand's own checks (a file, a size, memory) that no handler reworded
        print(f"chainrule {args.command}: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `chainrule ... | head`: stop quietly, as Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as e:  # a path the OS refuses (too long, a folder, not allowed), named
        print(f"chainrule {args.command}: error: {e.filename or ''}{': ' if e.filename else ''}"
              f"{e.strerror or e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # run the imported module's main, so subcommands' `chainrule.cli.UsageError` is the class caught here
    from chainrule.cli import main as _main

    sys.exit(_main())
