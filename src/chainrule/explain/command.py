"""``chainrule explain``: the backpropagation derivation for a network, in the terminal, HTML and JSON.

With no options it is the lecture's own example (``--preset lecture``): the 2-2-2-2
sigmoid network of the slides, x = (1, −1), whose activations 0.98, 0.12 → 0.86,
0.11 → 0.62, 0.83 the output compares with the slides'.  ``--seed N`` (or any of
``--layers``/``--activation``/``--loss``) draws weights from a seed instead, rounded
to 2 decimals so the arithmetic can be redone by hand.  ``--checkpoint RUN --weight
2.weight[3,5]`` follows one weight of a trained network (``chainrule train``) along
its paths to the loss.
Exit status: 0 when every gradient agrees three ways, 1 when one does not, 2 for bad options.
"""
from __future__ import annotations

import argparse
import math
import os
import sys

DEFAULT_LAYERS = "2,2,2,2"
DEFAULT_PRESET = "lecture"
GRAPH_FOLLOW = "conv.weight[0,0,1,1]"


def configure(parser: argparse.ArgumentParser) -> None:
    from .presets import PRESETS

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    presets = "".join(f"  {name:<8} {p.summary}\n" for name, p in PRESETS.items())
    parser.epilog = (
        f"presets (--preset NAME, default {DEFAULT_PRESET}):\n{presets}\n"
        "examples:\n"
        "  chainrule explain                               the lecture's 2-2-2-2 sigmoid network, MSE\n"
        "  chainrule explain --lang zh                     the same in Chinese\n"
        "  chainrule explain --preset mazur                Matt Mazur's published example\n"
        "  chainrule explain --seed 3                      the same sizes with seeded random weights\n"
        "  chainrule explain --activation relu --loss cross_entropy --examples 3 --html page.html\n"
        "  chainrule explain --weights net.json --input '1,-1' --target '0,1'\n"
        "  chainrule explain --checkpoint runs/RUN --weight 2.weight[3,5]\n"
        "  chainrule explain --graph                       the computation graph of a small CNN, any op\n"
        "  chainrule explain --graph --follow 'conv.weight[0,0,1,1]' --html graph.html\n\n"
        "--weights FILE: JSON {\"layers\": [{\"weight\": [[...]], \"bias\": [...], \"activation\": \"sigmoid\"}]}\n"
        "(weight is (out, in) like PyTorch's Linear) or a .safetensors state dict with keys 0.weight, 0.bias, ...")
    net = parser.add_argument_group("network")
    net.add_argument("--layers", metavar="SIZES", help=f"layer sizes from input to output (default {DEFAULT_LAYERS})")
    net.add_argument("--activation", choices=("sigmoid", "tanh", "relu"),
                     help="σ of the hidden layers (and of the outputs with MSE); default sigmoid")
    net.add_argument("--loss", choices=("mse", "cross_entropy"), help="default mse")
    src = net.add_mutually_exclusive_group()
    src.add_argument("--preset", choices=tuple(PRESETS), help=f"a published network (default {DEFAULT_PRESET}; "
                     "listed below)")
    src.add_argument("--weights", metavar="FILE", help="weights from a JSON or safetensors file (format below)")
    src.add_argument("--seed", type=int, help="random weights and examples from this seed (rounded to 2 decimals)")
    src.add_argument("--checkpoint", metavar="RUN", help="a run folder (or model file) written by `chainrule train`")
    net.add_argument("--weight", metavar="NAME", help="explain one parameter along its paths, e.g. 2.weight[3,5]")
    gr = parser.add_argument_group("any computation graph")
    gr.add_argument("--graph", action="store_true",
                    help="explain the reverse-mode graph node by node: a built-in conv net on one digit, or a "
                         "--checkpoint run on its test example --example K (default 0)")
    gr.add_argument("--follow", metavar="NAME[i,…]", help=f"with --graph: one element along its paths, checked three "
                    f"ways (default {GRAPH_FOLLOW} for the built-in example)")
    data = parser.add_argument_group("examples")
    data.add_argument("--input", metavar="X", help="inputs, comma-separated; several examples separated by ';'")
    data.add_argument("--target", metavar="T",
                      help="targets likewise; with cross_entropy one class index per example, e.g. '1;0'")
    data.add_argument("--examples", type=int, metavar="N", help="how many examples (default 1, or as many as --input; "
                      "with --checkpoint the N test examples with the largest |∂l/∂w|)")
    data.add_argument("--example", metavar="K", help="with --checkpoint: which test examples (0-based, e.g. 7 or 3,7)")
    data.add_argument("--lr", type=float,
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


def _require_memory(sizes: list[int], examples: int) -> None:
    """Refuse a network or a number of examples whose float64 tables cannot fit, before allocating them
    (weights, gradients and the derivation's copies: about eight numbers per weight and per activation)."""
    from ..memory import require

    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    require(8 * 8 * (weights + examples * sum(sizes)), f"explaining layers {','.join(map(str, sizes))} on "
                                                       f"{examples} example(s)")


def _examples(args, n_in: int, n_out: int, preset=None):
    """(X, targets) from --input/--target/--examples, or the preset's example, or generated from --seed."""
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
        if preset is not None:
            X[0] = preset.x
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
    T = cls if ce else np.eye(n_out)[cls]
    if preset is not None:
        T[0] = preset.target
    return X, T


def _network_defaults(args):
    """The preset to explain (or None), with the options that depend on it filled in.

    No network option at all means ``--preset lecture``; --layers, --activation or --loss alone
    mean seeded random weights (seed 0), since a preset fixes all three."""
    from ..cli import UsageError
    from .presets import get

    own = [f"--{k}" for k in ("layers", "activation", "loss") if getattr(args, k) is not None]
    preset = None
    if not (args.weights or args.checkpoint or args.seed is not None) and (args.preset or not own):
        preset = get(args.preset or DEFAULT_PRESET)
        if own:
            raise UsageError(f"--preset {preset.name} is a fixed sigmoid network with an MSE loss; for {own[0]} "
                             "use --seed N (random weights) instead")
    args.activation = args.activation or "sigmoid"
    args.loss = args.loss or "mse"
    args.seed = 0 if args.seed is None else args.seed
    if args.lr is None:
        args.lr = preset.lr if preset else 0.5
    return preset


IMAGE_SHAPES = {"digits": (8, 8), "mnist": (28, 28)}


def _checkpoint(args):
    """(layers, X, targets, loss, example ids, image shape) from a run folder: the test examples where the
    chosen weight's gradient is largest (a trained net's gradient is often exactly 0: a dead ReLU, a blank
    pixel), or those named by --example."""
    import numpy as np

    from ..cli import UsageError
    from ..errors import DataError
    from .derivation import per_example_grads
    from .explanation import _targets, parse_param_name
    from .network import from_model

    try:
        from ..evaluate import load_run
        from ..trainconfig import ConfigError

        model, cfg, _info, splits = load_run(args.checkpoint)
    except (DataError, ConfigError, OSError) as e:
        raise UsageError(str(e)) from None
    if args.input or args.target:
        raise UsageError("--checkpoint explains the run's own test examples; leave out --input and --target")
    x, y = splits[1]
    x_all, labels = x.numpy().astype(np.float64), y.numpy()  # labels: int64 class indices
    layers = from_model(model, cfg.loss)
    n_out = layers[-1].weight.shape[0]
    T_all = labels if cfg.loss == "cross_entropy" else np.eye(n_out)[labels]
    if args.example is not None:
        ids = _ids(args.example, len(labels))
        if args.examples is not None and args.examples != len(ids):
            raise UsageError(f"--examples {args.examples} but --example names {len(ids)}")
    else:
        focus = parse_param_name(args.weight, layers)
        g = per_example_grads(layers, x_all, _targets(T_all, cfg.loss, len(labels), n_out)[0], cfg.loss, focus)
        ids = [int(i) for i in np.argsort(-np.abs(g), kind="stable")[:args.examples or 1]]
    targets = T_all[ids]
    shape = IMAGE_SHAPES.get(cfg.dataset)
    return layers, x_all[ids], targets, cfg.loss, ids, shape if shape and np.prod(shape) == x_all.shape[1] else None


def _ids(text: str, n: int) -> list[int]:
    from ..cli import UsageError

    try:
        ids = [int(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"--example {text!r}: expected test-example numbers like 7 or 3,7") from None
    bad = [i for i in ids if not 0 <= i < n]
    if bad:
        raise UsageError(f"--example {bad[0]}: the run's test split has examples 0 to {n - 1}")
    return ids


def _graph(args) -> int:
    """--graph: the computation graph of the built-in conv net or of a run's model, in float64."""
    import numpy as np

    import chainrule as cr

    from ..cli import UsageError
    from ..errors import ChainruleError, DataError
    from .graph import example, graph

    other = [f"--{k}" for k in ("preset", "weights", "layers", "activation", "loss", "input", "target", "weight",
                                "seed") if getattr(args, k) is not None]
    if other:
        raise UsageError(f"--graph explains the built-in conv net or a --checkpoint run; leave out {other[0]}")
    if args.checkpoint:
        try:
            from ..evaluate import load_run
            from ..trainconfig import ConfigError

            model, cfg, _info, splits = load_run(args.checkpoint)
        except (DataError, ConfigError, OSError) as e:
            raise UsageError(str(e)) from None
        x, y = splits[1]
        k = _ids(args.example, len(y.numpy()))[0] if args.example is not None else 0
        model = model.double()
        model.eval()
        X = cr.tensor(x.numpy()[k:k + 1].astype(np.float64))
        labels = y.numpy()[k:k + 1]
        if cfg.loss == "cross_entropy":
            f = lambda: cr.nn.functional.cross_entropy(model(X), cr.tensor(labels))
        else:
            T = cr.tensor(np.eye(10)[labels])
            f = lambda: cr.nn.functional.mse_loss(model(X), T)
        follow = args.follow
    else:
        if args.example is not None:
            raise UsageError("--example picks a test example of a --checkpoint run")
        model, f = example()
        follow = args.follow or GRAPH_FOLLOW
    try:
        g = graph(f(), names=model, follow=follow, recompute=f)
    except (ChainruleError, ValueError) as err:
        raise UsageError(str(err).removeprefix("explain.graph: ")) from None
    if not args.quiet:
        sys.stdout.write(g.text(lang=args.lang, width=args.width))
    _write_pages(args, g)
    return 0 if g.agree else 1


def _write_pages(args: argparse.Namespace, explanation) -> None:
    """--html and --json of an MLP or graph explanation; an unwritable path is one line."""
    from ..cli import UsageError

    for path, save in ((args.html, lambda p: explanation.save_html(p, lang=args.lang)),
                       (args.json, explanation.save_json)):
        if path:
            try:
                save(path)
            except OSError as err:
                raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
            if not args.quiet:
                print(f"wrote {path}")


def run(args: argparse.Namespace) -> int:
    from ..cli import UsageError

    if args.graph:
        return _graph(args)
    if args.follow:
        raise UsageError("--follow needs --graph (for one weight of an MLP, use --weight)")
    from ..errors import ChainruleError
    from . import backprop
    from .network import load_weights, seeded_network

    preset = _network_defaults(args)
    if args.width < 40:
        raise UsageError(f"--width {args.width}: at least 40 columns")
    if args.example is not None and not args.checkpoint:
        raise UsageError("--example K picks test examples of a --checkpoint run; give other inputs with --input")
    if args.examples is not None and args.examples < 1:
        raise UsageError(f"--examples {args.examples}: need at least 1")
    if not 0 < args.lr < math.inf:  # NaN fails both comparisons
        raise UsageError(f"--lr {args.lr}: the learning rate must be positive and finite")
    try:
        if args.checkpoint:
            if not args.weight:
                raise UsageError("--checkpoint needs --weight NAME (e.g. 2.weight[3,5]): a trained network's full "
                                 "tables would be unreadable")
            model, X, targets, loss, ids, shape = _checkpoint(args)
        else:
            loss = args.loss
            if args.weights:
                if args.layers:
                    raise UsageError("--layers and --weights together: the weights file fixes the sizes")
                model = load_weights(args.weights, args.activation, loss)
            elif preset is not None:
                model = preset.layers()
            else:
                sizes = _sizes(args.layers if args.layers is not None else DEFAULT_LAYERS)
                _require_memory(sizes, args.examples or 1)
                model = seeded_network(sizes, args.activation, loss, args.seed)
            n_in, n_out = model[0].weight.shape[1], model[-1].weight.shape[0]
            _require_memory([n_in] + [layer.weight.shape[0] for layer in model], args.examples or 1)
            if loss == "cross_entropy" and n_out < 2:
                raise UsageError("--loss cross_entropy needs at least 2 outputs")
            X, targets = _examples(args, n_in, n_out, preset)
            if preset is not None and tuple(X[0]) != tuple(preset.x):
                preset = None  # another input: the source's numbers no longer apply
        e = backprop(model, X, targets, loss=loss, lr=args.lr, weight=args.weight, published=preset)
        if args.checkpoint:
            e.derivation.example_ids, e.derivation.image_shape = ids, shape
    except UsageError:
        raise
    except (ChainruleError, ValueError) as err:
        raise UsageError(str(err).removeprefix("explain: ")) from None
    color = not args.plain and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    if not args.quiet:
        sys.stdout.write(e.text(lang=args.lang, color=color, width=args.width))
    _write_pages(args, e)
    return 0 if e.agree else 1
