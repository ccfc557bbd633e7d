"""``chainrule train``: train a fully connected classifier and write a run folder.

``train(config)`` does the work and knows nothing about the command line;
``configure``/``run`` turn options and a TOML file into a TrainConfig.
The order of batches in epoch e depends only on (seed, e), and the
optimizer, scheduler and RNG states are checkpointed after every epoch, so
``--resume`` after epoch k ends with exactly the weights of an
uninterrupted run.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import runs
from .errors import ChainruleError, DataError
from .trainconfig import (
    ACTIVATIONS,
    COMMAND_LINE,
    DATASETS,
    FIELDS,
    FIXED_ON_RESUME,
    LOSSES,
    OPTIMIZERS,
    SCHEDULES,
    ConfigError,
    TrainConfig,
    from_dict,
    from_saved,
    load_toml,
    parse_option,
    validate,
)

SPLIT_SEED = 0  # the digits train/test split is fixed, whatever --seed says
HIDDEN = 128  # the default hidden layer
N_CLASSES = 10  # both datasets are the digits 0..9


class TrainingDiverged(ChainruleError, ArithmeticError):
    """The loss became inf or NaN; the run folder keeps the last finite epoch."""


@dataclass
class TrainResult:
    """What ``train`` made: the trained model and optimizer, and one metrics row per epoch."""

    config: TrainConfig
    model: Any
    optimizer: Any
    scheduler: Any
    history: list[dict] = field(default_factory=list)  # one row per epoch, keys runs.METRICS
    run_dir: Path | None = None
    resumed_from: int = 0  # epochs already done in the checkpoint this run continued

    @property
    def test_accuracy(self) -> float:
        return self.history[-1]["test_acc"] if self.history else float("nan")


# ------------------------------------------------------------ data, model, optimizer from a config
def load_dataset(cfg: TrainConfig):
    """(train, test) pairs of (images float32 (N, features), labels int64) as Tensors."""
    from . import data

    if cfg.dataset == "mnist":
        return tuple(data.load_mnist(cfg.data_dir))
    x, y = data.load_digits()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    n_test = int(round(len(y) * cfg.test_fraction))
    test, train = order[:n_test], order[n_test:]
    return data.Images(x[train], y[train]), data.Images(x[test], y[test])


def layer_sizes(cfg: TrainConfig, n_in: int, n_classes: int) -> list[int]:
    sizes = list(cfg.layers) if cfg.layers is not None else [n_in, HIDDEN, n_classes]
    if sizes[0] != n_in or sizes[-1] != n_classes:
        raise ConfigError(f"layers {','.join(map(str, sizes))}: the first size must be the {cfg.dataset} input size "
                          f"{n_in} and the last the number of classes {n_classes}, e.g. {n_in},{HIDDEN},{n_classes}")
    return sizes


def build_model(sizes: list[int], activation: str):
    """Sequential(Linear, act, ..., Linear): state-dict keys 0.weight, 0.bias, 2.weight, ... as in PyTorch."""
    from . import nn

    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[activation]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def build_optimizer(cfg: TrainConfig, params):
    from . import optim

    wd = cfg.weight_decay if cfg.weight_decay is not None else (0.01 if cfg.optimizer == "adamw" else 0.0)
    if cfg.optimizer == "sgd":
        return optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov, weight_decay=wd)
    if cfg.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=cfg.lr, alpha=cfg.alpha, eps=cfg.eps, momentum=cfg.momentum, weight_decay=wd)
    cls = optim.Adam if cfg.optimizer == "adam" else optim.AdamW
    return cls(params, lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps, weight_decay=wd)


def build_scheduler(cfg: TrainConfig, optimizer):
    """Stepped once per epoch; cosine and linear decay over all ``epochs``."""
    from .optim import lr_scheduler as s

    if cfg.schedule == "step":
        return s.StepLR(optimizer, step_size=cfg.step_size or max(1, cfg.epochs // 3), gamma=cfg.gamma or 0.1)
    if cfg.schedule == "exponential":
        return s.ExponentialLR(optimizer, gamma=cfg.gamma or 0.9)
    if cfg.schedule == "cosine":
        return s.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    if cfg.schedule == "linear":
        return s.LinearLR(optimizer, start_factor=1.0, end_factor=0.0, total_iters=cfg.epochs)
    return None


def build_loss(name: str, n_classes: int) -> Callable:
    """loss(outputs, labels); MSE compares the outputs with one-hot labels."""
    from . import nn
    from .tensor import Tensor

    if name == "cross_entropy":
        return nn.CrossEntropyLoss()
    mse, eye = nn.MSELoss(), np.eye(n_classes, dtype=np.float32)
    return lambda out, y: mse(out, Tensor._make(eye[y.data], None))


def predict(model, x, batch_size: int = 2048) -> np.ndarray:
    """The model's outputs for ``x``, in eval mode and without recording a graph."""
    from .autograd import no_grad
    from .tensor import Tensor

    was_training = model.training
    model.eval()
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    with no_grad():
        out = [model(Tensor._make(arr[i:i + batch_size], None)).data for i in range(0, len(arr), batch_size)]
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def _measure(model, loss_fn, split) -> tuple[float, float]:
    """(mean loss, accuracy) of the model on one split."""
    from .autograd import no_grad
    from .tensor import Tensor

    x, y = split
    out = predict(model, x)
    with no_grad():
        loss = loss_fn(Tensor._make(out, None), y).item()
    return loss, float((out.argmax(axis=1) == y.data).mean())


# ------------------------------------------------------------ training
def train(config: TrainConfig | dict | None = None, *, resume: str | Path | None = None, verbose: bool = False,
          progress: bool = False, on_epoch: Callable[[dict], None] | None = None) -> TrainResult:
    """Train as ``config`` says; with ``config.out`` set, write the run folder after every epoch.

    ``resume`` is a run folder (or its model.safetensors) to continue from; its
    architecture must match ``config``. ``verbose`` prints one line per
    epoch, ``progress`` shows a tqdm bar on stderr. ``on_epoch(row)`` is
    called after each epoch's checkpoint is written.
    """
    from . import data, extras
    from .random import manual_seed

    cfg = config if isinstance(config, TrainConfig) else from_dict(config or {})
    validate(cfg)
    train_set, test_set = load_dataset(cfg)
    sizes = layer_sizes(cfg, train_set.images.shape[1], N_CLASSES)
    cfg = dataclasses.replace(cfg, layers=sizes)  # the run records the sizes it used, not "default"

    manual_seed(cfg.seed)
    model = build_model(sizes, cfg.activation)
    optimizer = build_optimizer(cfg, model.parameters())
    scheduler = build_scheduler(cfg, optimizer)
    loss_fn = build_loss(cfg.loss, N_CLASSES)
    loader = data.DataLoader(data.TensorDataset(*train_set), batch_size=cfg.batch_size, shuffle=True, seed=cfg.seed)

    start, history = 0, []
    if resume is not None:
        start, history = _restore(resume, cfg, model, optimizer, scheduler)
    if verbose:
        print(f"{'-'.join(map(str, sizes))} {cfg.activation} network on {cfg.dataset} ({len(train_set.labels)} train, "
              f"{len(test_set.labels)} test): {cfg.loss}, {cfg.optimizer} lr={cfg.lr:g} schedule={cfg.schedule}, "
              f"batch {cfg.batch_size}, seed {cfg.seed}, epochs {start + 1}..{cfg.epochs}")
    run_dir = Path(cfg.out) if cfg.out else None
    draw_curves = run_dir is not None and extras.available("matplotlib")
    if verbose and run_dir is not None and not draw_curves:
        print(extras.missing_note("matplotlib", f"{runs.PLOT_FILE} is not drawn"))
    result = TrainResult(cfg, model, optimizer, scheduler, history, run_dir, resumed_from=start)
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        runs.write_config(run_dir, cfg.to_dict())

    say = print
    bar = None
    if progress and start < cfg.epochs:
        from tqdm import tqdm

        sized = _terminal_sized()  # a pty may report 0x0, and then tqdm would hide its bar
        bar = tqdm(total=(cfg.epochs - start) * len(loader), file=sys.stderr, unit="batch", leave=False,
                   dynamic_ncols=sized, ncols=None if sized else 80, nrows=None if sized else 20)
        say = lambda line: tqdm.write(line, file=sys.stdout)
    try:
        for epoch in range(start, cfg.epochs):
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging loss is reported once, below
                row = _epoch(epoch, cfg, model, optimizer, scheduler, loss_fn, loader, (train_set, test_set), bar)
            history.append(row)
            if run_dir is not None:
                runs.save_checkpoint(run_dir, model, optimizer, scheduler, cfg.to_dict(), epoch + 1, history)
                runs.write_metrics(run_dir, history)
            if verbose:
                say(f"epoch {epoch + 1:>{len(str(cfg.epochs))}}/{cfg.epochs}  loss {row['train_loss']:.4f}  "
                    f"train {100 * row['train_acc']:6.2f}%  test {100 * row['test_acc']:6.2f}%  "
                    f"lr {row['lr']:.3g}  {row['seconds']:.2f}s")
            if on_epoch is not None:
                on_epoch(row)
    finally:
        if bar is not None:
            bar.close()
        if draw_curves and history:
            title = f"{cfg.dataset}  {','.join(map(str, sizes))} {cfg.activation}  {cfg.optimizer} lr={cfg.lr:g}"
            runs.plot_curves(history, run_dir / runs.PLOT_FILE, title=title)
    return result


def _terminal_sized() -> bool:
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return size.columns > 0 and size.lines > 0


def _epoch(epoch, cfg, model, optimizer, scheduler, loss_fn, loader, splits, bar) -> dict:
    t0 = time.perf_counter()
    lr = optimizer.param_groups[0]["lr"]
    model.train()
    loader.set_epoch(epoch)
    total, count = 0.0, 0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
        count += len(yb)
        if bar is not None:
            bar.set_description(f"epoch {epoch + 1}/{cfg.epochs}", refresh=False)
            bar.update(1)
    if not math.isfinite(total):
        raise TrainingDiverged(f"training diverged in epoch {epoch + 1}: the loss became {total / max(count, 1)}; "
                               f"try a smaller learning rate than {lr:g}")
    if scheduler is not None:
        scheduler.step()
    _, train_acc = _measure(model, loss_fn, splits[0])
    test_loss, test_acc = _measure(model, loss_fn, splits[1])
    return {"epoch": epoch + 1, "lr": lr, "train_loss": total / max(count, 1), "train_acc": train_acc,
            "test_loss": test_loss, "test_acc": test_acc, "seconds": time.perf_counter() - t0}


def _restore(resume, cfg: TrainConfig, model, optimizer, scheduler) -> tuple[int, list]:
    """Load weights, optimizer, scheduler and RNG state; return (epochs done, history so far)."""
    from . import random
    from .optim.optimizer import OptimizerStateError

    state_dict, info = runs.read_model(resume)
    saved = info["config"]
    for key in FIXED_ON_RESUME:
        if saved.get(key) != getattr(cfg, key):
            raise ConfigError(f"cannot change {key} when resuming ({saved.get(key)!r} in the run, "
                              f"{getattr(cfg, key)!r} now)")
    checkpoint = runs.model_file(resume)
    run_dir = checkpoint.parent
    runs.load_weights(model, state_dict, checkpoint)
    opt_state, sched_state, rng = runs.read_state(run_dir, info["epoch"])
    try:
        optimizer.load_state_dict(opt_state)
    except OptimizerStateError as e:
        raise DataError(f"{run_dir / runs.STATE_FILE}: the optimizer state does not fit the model ({e})") from None
    if scheduler is not None and sched_state is not None:
        horizon = {k: v for k, v in vars(scheduler).items() if k in ("T_max", "total_iters", "step_size")}
        scheduler.load_state_dict(sched_state)
        if saved.get("epochs") != cfg.epochs and horizon:
            # --epochs changed: the schedule follows the new length from here (closed form at this epoch)
            vars(scheduler).update(horizon)
            scheduler.step(scheduler.last_epoch)
    random.generator().bit_generator.state = rng
    return info["epoch"], [dict(r) for r in info["history"]][: info["epoch"]]


# ------------------------------------------------------------ command line
def configure(parser: argparse.ArgumentParser) -> None:
    S = argparse.SUPPRESS  # only options given on the command line override the file / the resumed run
    d = TrainConfig()

    def one_of(options: tuple) -> str:
        return "|".join(options)

    g = parser.add_argument_group("model and data")
    g.add_argument("--dataset", metavar=one_of(DATASETS), default=S,
                   help=f"digits (bundled) or mnist (default {d.dataset})")
    g.add_argument("--data-dir", metavar="DIR", default=S, help="folder of the MNIST IDX files (.gz or raw)")
    g.add_argument("--layers", metavar="SIZES", default=S,
                   help=f"all layer sizes from input to output, e.g. 64,128,10 (default: inputs,{HIDDEN},10)")
    g.add_argument("--activation", metavar=one_of(ACTIVATIONS), default=S, help=f"default {d.activation}")
    g.add_argument("--loss", metavar=one_of(LOSSES), default=S, help=f"default {d.loss}")
    g = parser.add_argument_group("optimization")
    g.add_argument("--optimizer", metavar=one_of(OPTIMIZERS), default=S, help=f"default {d.optimizer}")
    g.add_argument("--lr", metavar="X", default=S, help=f"learning rate (default {d.lr:g})")
    g.add_argument("--momentum", metavar="X", default=S, help=f"sgd, rmsprop (default {d.momentum:g})")
    g.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=S, help="sgd: Nesterov momentum")
    g.add_argument("--weight-decay", metavar="X", default=S, help="default 0.01 for adamw, else 0")
    g.add_argument("--betas", metavar="B1,B2", default=S,
                   help=f"adam, adamw (default {','.join(f'{b:g}' for b in d.betas)})")
    g.add_argument("--eps", metavar="X", default=S, help=f"adam, adamw, rmsprop (default {d.eps:g})")
    g.add_argument("--alpha", metavar="X", default=S, help=f"rmsprop smoothing (default {d.alpha:g})")
    g.add_argument("--schedule", metavar=one_of(SCHEDULES), default=S,
                   help=f"learning-rate schedule, stepped per epoch (default {d.schedule})")
    g.add_argument("--step-size", metavar="N", default=S, help="step schedule: epochs per decay (default epochs/3)")
    g.add_argument("--gamma", metavar="X", default=S, help="step (default 0.1) / exponential (default 0.9) factor")
    g.add_argument("--batch-size", metavar="N", default=S, help=f"default {d.batch_size}")
    g.add_argument("--epochs", metavar="N", default=S, help=f"default {d.epochs}")
    g.add_argument("--seed", metavar="N", default=S, help=f"initial weights and data order (default {d.seed})")
    g = parser.add_argument_group("run")
    g.add_argument("--config", metavar="FILE.toml", help="settings file; its keys mirror these options")
    g.add_argument("--out", metavar="DIR", default=S, help="run folder (default runs/<date-time> or runs/NAME)")
    g.add_argument("--name", help="name the run folder runs/NAME")
    g.add_argument("--resume", metavar="RUN", help="continue the run in this folder from its last checkpoint")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no per-epoch lines")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults < the resumed run's settings < the TOML file < the command line."""
    cfg = TrainConfig()
    if args.resume:
        _, info = runs.read_model(args.resume)
        cfg = from_saved(info["config"], args.resume)
        cfg.out = str(runs.model_file(args.resume).parent)
    if args.config:
        cfg = load_toml(args.config, base=cfg)
    given = {k: parse_option(k, v) if isinstance(v, str) else v for k in FIELDS if hasattr(args, k)
             for v in [getattr(args, k)]}
    cfg = from_dict(given, base=cfg, source=COMMAND_LINE)
    if args.name and "out" not in given:
        cfg.out = str(Path("runs") / args.name)
    if not cfg.out:
        cfg.out = str(runs.new_run_dir())
    validate(cfg)
    return cfg


def run(args: argparse.Namespace) -> int:
    from .cli import UsageError

    cfg = None
    try:
        cfg = config_from_args(args)
        out = Path(cfg.out)
        if not args.resume and (out / runs.MODEL_FILE).exists():
            raise UsageError(f"{out} already holds a run; continue it with --resume {out} or pick another --out")
        quiet = args.quiet
        if not quiet:
            print(f"{'resuming' if args.resume else 'new run'}: {out}/")
        result = train(cfg, resume=args.resume, verbose=not quiet, progress=not quiet and sys.stderr.isatty())
    except (ConfigError, DataError) as e:
        raise UsageError(str(e)) from None
    except BrokenPipeError:  # `chainrule train | head`: cli.main stops quietly
        raise
    except OSError as e:  # the run folder cannot be written (reads are DataErrors)
        raise UsageError(f"cannot write {e.filename or cfg.out}: {e.strerror or e}") from None
    except TrainingDiverged as e:
        print(f"chainrule train: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if cfg is not None and (Path(cfg.out) / runs.MODEL_FILE).exists():
            print(f"\ninterrupted; continue with: chainrule train --resume {cfg.out}", file=sys.stderr)
        return 130
    if len(result.history) == result.resumed_from:
        print(f"nothing to do: {out} has already trained {cfg.epochs} epochs")
        return 0
    last = result.history[-1]
    written = [f for f in (runs.MODEL_FILE, runs.METRICS_FILE, runs.PLOT_FILE) if (out / f).exists()]
    print(f"test accuracy {100 * last['test_acc']:.2f}% after {last['epoch']} epochs; wrote {out}/ "
          f"({', '.join(written)})")
    print(f"next: chainrule evaluate {out}")
    return 0
