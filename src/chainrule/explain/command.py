"""``chainrule explain``: the backpropagation derivation for a network, in the terminal, HTML and JSON.

With no options it reproduces the lecture's setting: 2 inputs, two hidden layers
of 2 sigmoid neurons, 2 sigmoid outputs, MSE, x = (1, −1), t = (1, 0), weights
drawn from a fixed seed and rounded to 2 decimals so the arithmetic can be
redone by hand.  ``--checkpoint RUN --weight 2.weight[3,5]`` follows one weight
of a trained network (``chainrule train``) along its paths to the loss.
Exit status: 0 when every gradient agrees three ways, 1 when one does not, 2 for bad options.
"""
from __future__ import annotations

import argparse
import math
import os
import sys

DEFAULT_LAYERS = "2,2,2,2"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "examples:\n"
        "  chainrule explain                               the lecture's 2-2-2-2 sigmoid network, MSE\n"
        "  chainrule explain --lang zh                     the same in Chinese\n"
        "  chainrule explain --activation relu --loss cross_entropy --examples 3 --html page.html\n"
        "  chainrule explain --weights net.json --input '1,-1' --target '0,1'\n"
        "  chainrule explain --checkpoint runs/RUN --weight 2.weight[3,5]\n\n"
        "--weights FILE: JSON {\"layers\": [{\"weight\": [[...]], \"bias\": [...], \"activation\": \"sigmoid\"}]}\n"
        "(weight is (out, in) like PyTorch's Linear) or a .safetensors state dict with keys 0.weight, 0.bias, ...")
    net = parser.add_argument_group("network")
    net.add_argument("--layers", metavar="SIZES", help=f"layer sizes from input to output (default {DEFAULT_LAYERS})")
    net.add_argument("--activation", choices=("sigmoid", "tanh", "relu"), default="sigmoid",
                     help="σ of the hidden layers (and of the outputs with MSE); default sigmoid")
    net.add_argument("--loss", choices=("mse", "cross_entropy"), default="mse", help="default mse")
    src = net.add_mutually_exclusive_group()
    src.add_argument("--weights", metavar="FILE", help="weights from a JSON or safetensors file (format below)")
    src.add_argument("--seed", type=int, default=0, help="seed of the generated weights and examples (default 0)")
    src.add_argument("--checkpoint", metavar="RUN", help="a run folder (or model file) written by `chainrule train`")
    net.add_argument("--weight", metavar="NAME", help="explain one parameter along its paths, e.g. 2.weight[3,5]")
    data = parser.add_argument_group("examples")
    data.add_argument("--input", metavar="X", help="inputs, comma-separated; several examples separated by ';'")
    data.add_argument("--target", metavar="T",
                      help="targets likewise; with cross_entropy one class index per example, e.g. '1;0'")
    data.add_argument("--examples", type=int, metavar="N", help="how many examples (default 1, or as many as --input)")
    data.add_argument("--lr", type=float, default=0.5,
                      help="learning rate η of the gradient-descent step on L = Σₙ lⁿ (default 0.5)")
    out = parser.add_argument_group("output")
    out.add_argument("--lang", choices=("en", "zh"), default="en", help="language of every label (en, zh)")
    out.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page with the two drawings")
    out.add_argument("--json", metavar="FILE", help="also write every number as JSON (schema chainrule.explain/1)")
    out.add_argument("--plain", action="store_true", help="no colour")
    out.add_argument("--quiet", "-q", action="store_true", help="print nothing (with --html / --json)")
    out.add_argument("--width", type=int, default=80, help="terminal columns to fit (default 80)")


def _rows(text: str, what: str) -> list[list[float]]:
    from ..cli import UsageError

    rows = []
    for part in text.split(";"):
        try:
            rows.append([float(v) for v in part.replace(" ", ",").split(",") if v.strip()])
        except ValueError:
            raise UsageError(f"--{what} {text!r}: expected numbers separated by ',' (examples by ';')") from None
    if not rows or any(not r for r in rows) or len({len(r) for r in rows}) != 1:
        raise UsageError(f"--{what} {text!r}: every example needs the same number of values")
    return rows


def _sizes(text: str) -> list[int]:
    from ..cli import UsageError

    try:
        sizes = [int(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"--layers {text!r}: expected sizes like 2,2,2,2") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise UsageError(f"--layers {text!r}: at least an input and an output size, all ≥ 1")
    return sizes


def _examples(args, n_in: int, n_out: int):
    """(X, targets) from --input/--target/--examples, or generated from --seed."""
    import numpy as np

    from ..cli import UsageError

    X = np.array(_rows(args.input, "input")) if args.input else None
    n = args.examples if args.examples is not None else (len(X) if X is not None else 1)
    if X is not None:
        if len(X) != n:
            raise UsageError(f"--examples {n} but --input gives {len(X)} example(s)")
        if X.shape[1] != n_in:
            raise UsageError(f"--input has {X.shape[1]} values per example but the network takes {n_in}")
    rng = np.random.default_rng(args.seed + 1)
    if X is None:
        X = np.array([[1.0, -1.0]]) if (n == 1 and n_in == 2) else np.round(rng.uniform(-2, 2, (n, n_in)), 2)
    ce = args.loss == "cross_entropy"
    if args.target:
        T = _rows(args.target, "target")
        if len(T) != n:
            raise UsageError(f"--target gives {len(T)} example(s) but there are {n}")
        if ce and len(T[0]) == 1:
            cls = np.array([int(r[0]) for r in T])
            if any(r[0] != int(r[0]) for r in T) or cls.min() < 0 or cls.max() >= n_out:
                raise UsageError(f"--target: class indices must be integers in [0, {n_out - 1}]")
            return X, cls
        T = np.array(T)
        if T.shape[1] != n_out:
            raise UsageError(f"--target has {T.shape[1]} values per example but the network has {n_out} outputs")
        return X, T
    cls = np.array([0]) if n == 1 else rng.integers(0, n_out, n)
    return X, (cls if ce else np.eye(n_out)[cls])


def _checkpoint(args):
    """(model, X, targets, loss) from a run folder: the first test examples of its dataset."""
    import numpy as np

    from ..cli import UsageError
    from ..errors import DataError

    try:
        from ..evaluate import load_run
        from ..trainconfig import ConfigError

        model, cfg, _info, splits = load_run(args.checkpoint)
    except (DataError, ConfigError, OSError) as e:
        raise UsageError(str(e)) from None
    if args.input or args.target:
        raise UsageError("--checkpoint explains the run's own test examples; leave out --input and --target")
    x, y = splits[1]
    n = args.examples if args.examples is not None else 1
    X = x.numpy()[:n].astype(np.float64)
    labels = y.numpy()[:n]  # int64 class indices
    targets = labels if cfg.loss == "cross_entropy" else np.eye(model[-1].weight.shape[0])[labels]
    return model, X, targets, cfg.loss


def run(args: argparse.Namespace) -> int:
    from ..cli import UsageError
    from ..errors import ChainruleError
    from . import backprop
    from .network import lecture_network, load_weights

    if args.width < 40:
        raise UsageError(f"--width {args.width}: at least 40 columns")
    if args.examples is not None and args.examples < 1:
        raise UsageError(f"--examples {args.examples}: need at least 1")
    if not 0 < args.lr < math.inf:  # NaN fails both comparisons
        raise UsageError(f"--lr {args.lr}: the learning rate must be positive and finite")
    try:
        if args.checkpoint:
            if not args.weight:
                raise UsageError("--checkpoint needs --weight NAME (e.g. 2.weight[3,5]): a trained network's full "
                                 "tables would be unreadable")
            model, X, targets, loss = _checkpoint(args)
        else:
            loss = args.loss
            if args.weights:
                if args.layers:
                    raise UsageError("--layers and --weights together: the weights file fixes the sizes")
                model = load_weights(args.weights, args.activation, loss)
            else:
                model = lecture_network(_sizes(args.layers or DEFAULT_LAYERS), args.activation, loss, args.seed)
            n_in, n_out = model[0].weight.shape[1], model[-1].weight.shape[0]
            if loss == "cross_entropy" and n_out < 2:
                raise UsageError("--loss cross_entropy needs at least 2 outputs")
            X, targets = _examples(args, n_in, n_out)
        e = backprop(model, X, targets, loss=loss, lr=args.lr, weight=args.weight)
    except UsageError:
        raise
    except (ChainruleError, ValueError) as err:
        raise UsageError(str(err).removeprefix("explain: ")) from None
    color = not args.plain and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    if not args.quiet:
        sys.stdout.write(e.text(lang=args.lang, color=color, width=args.width))
    for path, save in ((args.html, lambda p: e.save_html(p, lang=args.lang)), (args.json, e.save_json)):
        if path:
            try:
                save(path)
            except OSError as err:
                raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
            if not args.quiet:
                print(f"wrote {path}")
    return 0 if e.agree else 1
