"""``chainrule train``: train a classifier and write a run folder.

``train(config)`` does the work and knows nothing about the command line;
``configure``/``run`` turn options and a TOML file into a TrainConfig.
The order of batches in epoch e depends only on (seed, e), and the
optimizer, scheduler and RNG states are checkpointed before the first epoch
and after every epoch, so ``--resume`` after epoch k with the same settings
ends with exactly the weights of an uninterrupted run.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

from . import runs
from .errors import ChainruleError, DataError
from .memory import NotEnoughMemory
from .trainconfig import (
    COMMAND_LINE,
    DEFAULTS,
    FIELDS,
    OPTIONS,
    RUN,
    ConfigError,
    TrainConfig,
    alternatives,
    changed_on_resume,
    flag,
    from_dict,
    from_saved,
    load_toml,
    parse_option,
    seed_for_numpy,
    validate,
)

SPLIT_SEED = 0  # the train/test split of the digits and of --data is fixed, whatever --seed says
HIDDEN = 128  # the default hidden layer
N_CLASSES = 10  # the digits and MNIST: 0..9
PAUSE_ENV = "CHAINRULE_PAUSE_AT"  # tests: stop at a named point until a signal comes (see pause_point)


class TrainingDiverged(ChainruleError, ArithmeticError):
    """The loss became inf or NaN; the run folder keeps the last finite epoch."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``train``; ``str()`` says what the run folder holds and how to go on."""


class Splits(NamedTuple):
    """The data of a run; ``val`` is None without a validation split."""

    train: Any  # data.Images
    test: Any
    val: Any
    n_classes: int


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
    stopped_early: bool = False
    wall_seconds: float = 0.0
    n_train: int = 0

    @property
    def test_accuracy(self) -> float:
        return self.history[-1]["test_acc"] if self.history else float("nan")

    @property
    def best(self) -> dict | None:
        """The epoch's row with the best validation accuracy (None without a validation split)."""
        return best_row(self.history)

    def summary(self) -> dict:
        """The figures of the final summary (fractions, seconds)."""
        best = self.best
        ran = self.history[self.resumed_from:]
        seconds = sum(r["seconds"] for r in ran)
        return {"parameters": sum(p.numel() for p in self.model.parameters()),
                "epochs": len(self.history), "stopped_early": self.stopped_early,
                "best_epoch": best["epoch"] if best else None,
                "best_val_acc": best["val_acc"] if best else None,
                "best_test_acc": best["test_acc"] if best else None,
                "final_test_acc": self.test_accuracy, "wall_seconds": self.wall_seconds,
                "samples_per_second": self.n_train * len(ran) / seconds if seconds > 0 else None}


def best_row(history: list[dict]) -> dict | None:
    """Highest validation accuracy, ties to the lower validation loss, then the earlier epoch."""
    rows = [r for r in history if math.isfinite(r.get("val_acc", float("nan")))]
    return max(rows, key=lambda r: (r["val_acc"], -r["val_loss"], -r["epoch"])) if rows else None


def stopped_early(history: list[dict], patience: int | None) -> bool:
    """True when the last ``patience`` epochs brought no better validation accuracy."""
    best = best_row(history)
    return patience is not None and best is not None and history[-1]["epoch"] - best["epoch"] >= patience


def pause_point(stage: str, wanted: str | None) -> None:
    """For tests that interrupt a real process at a known point: with CHAINRULE_PAUSE_AT=stage, say so on
    stderr and wait for a signal (SIGINT raises KeyboardInterrupt right here)."""
    if wanted == stage:
        print(f"paused at {stage}", file=sys.stderr, flush=True)
        time.sleep(120)


# ------------------------------------------------------------ data, model, optimizer from a config
def load_splits(cfg: TrainConfig) -> Splits:
    """Train, test and validation data as the config says, images shaped for its model."""
    from . import data

    if cfg.dataset == "mnist":
        train_set, test_set = data.load_mnist(cfg.data_dir)
        n_classes = N_CLASSES
    else:
        if cfg.dataset == "digits":
            x, y = data.load_digits()
            n_classes = N_CLASSES
        else:
            from .data.files import load_file

            x, y = load_file(cfg.data, cfg.target)
            n_classes = int(y._data.max()) + 1
            if n_classes < 2:
                raise DataError(f"{cfg.data}: every label is 0; a classifier needs at least two classes (0 and 1)")
        order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
        n_test = int(round(len(y) * cfg.test_fraction))
        if n_test == 0 or n_test == len(y):
            raise ConfigError(f"test_fraction {cfg.test_fraction:g} of {len(y)} examples leaves "
                              f"{'no test' if n_test == 0 else 'no training'} examples")
        test, train = order[:n_test], order[n_test:]
        train_set, test_set = data.Images(x[train], y[train]), data.Images(x[test], y[test])
    val_set = None
    if cfg.val_fraction > 0:
        n = len(train_set.labels)
        n_val = int(round(n * cfg.val_fraction))
        if n_val == 0 or n_val == n:
            raise ConfigError(f"val_fraction {cfg.val_fraction:g} of {n} training examples leaves "
                              f"{'no validation' if n_val == 0 else 'no training'} examples")
        order = np.random.default_rng((seed_for_numpy(cfg.seed), 1)).permutation(n)
        val, keep = np.sort(order[:n_val]), np.sort(order[n_val:])
        x, y = train_set
        train_set, val_set = data.Images(x[keep], y[keep]), data.Images(x[val], y[val])
    shape = _model_input(cfg)
    return Splits(*(None if s is None else data.Images(shape(s.images), s.labels)
                    for s in (train_set, test_set, val_set)), n_classes)


def _model_input(cfg: TrainConfig) -> Callable:
    """Rows (N, features) for an MLP; images (N, C, H, W) for a CNN."""
    from .tensor import Tensor

    def shape(t):
        a = t._data
        if cfg.model == "mlp":
            return t if a.ndim == 2 else Tensor._make(a.reshape(len(a), -1), None)
        if a.ndim == 2:
            side = math.isqrt(a.shape[1])
            if side * side != a.shape[1]:
                raise ConfigError(f"--model cnn needs images; {a.shape[1]} features per example are not a square "
                                  f"image (give .npz arrays x of shape (N, H, W) or (N, C, H, W))")
            a = a.reshape(len(a), 1, side, side)
        elif a.ndim == 3:
            a = a[:, None]
        elif a.ndim != 4:
            raise ConfigError(f"--model cnn needs images (N, H, W) or (N, C, H, W), got shape {a.shape}")
        if min(a.shape[2:]) < 4:
            raise ConfigError(f"--model cnn pools twice by 2: images must be at least 4x4, got {a.shape[2:]}")
        return Tensor._make(np.ascontiguousarray(a), None)

    return shape


def load_dataset(cfg: TrainConfig):
    """(train, test) as (inputs, labels) Tensors; the training part excludes the validation split."""
    return load_splits(cfg)[:2]


def layer_sizes(cfg: TrainConfig, n_in: int, n_classes: int) -> list[int]:
    sizes = list(cfg.layers) if cfg.layers is not None else [n_in, HIDDEN, n_classes]
    if sizes[0] != n_in or sizes[-1] != n_classes:
        raise ConfigError(f"layers {','.join(map(str, sizes))}: the first size must be the {cfg.dataset} input size "
                          f"{n_in} and the last the number of classes {n_classes}, e.g. {n_in},{HIDDEN},{n_classes}")
    return sizes


def _activation(name: str):
    from . import nn

    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[name]


def build_model(sizes: list[int], activation: str):
    """Sequential(Linear, act, ..., Linear): state-dict keys 0.weight, 0.bias, 2.weight, ... as in PyTorch."""
    from . import nn

    act = _activation(activation)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def build_cnn(image: tuple[int, int, int], channels: list[int], activation: str, n_classes: int):
    """(Conv2d 3x3 - act - MaxPool2d 2) per entry of ``channels``, then Flatten and Linear to the classes."""
    from . import nn

    act = _activation(activation)
    c, h, w = image
    layers: list = []
    for out in channels:
        layers += [nn.Conv2d(c, out, 3, padding=1), act(), nn.MaxPool2d(2)]
        c, h, w = out, h // 2, w // 2
    if h == 0 or w == 0:
        raise ConfigError(f"--channels {','.join(map(str, channels))}: {len(channels)} poolings by 2 leave nothing "
                          f"of a {image[1]}x{image[2]} image; use fewer")
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * h * w, n_classes))


def build_network(cfg: TrainConfig, splits: Splits):
    """(model, cfg with the sizes it used): the run records ``layers`` resolved, not "default"."""
    sample = splits.train.images.shape[1:]
    if cfg.model == "cnn":
        return build_cnn(tuple(sample), cfg.channels, cfg.activation, splits.n_classes), cfg
    sizes = layer_sizes(cfg, sample[0], splits.n_classes)
    return build_model(sizes, cfg.activation), dataclasses.replace(cfg, layers=sizes)


def param_shapes(cfg: TrainConfig, splits: Splits) -> dict[str, tuple]:
    """The state-dict shapes ``build_network`` makes, known without allocating anything."""
    sample = tuple(splits.train.images.shape[1:])
    shapes: dict[str, tuple] = {}
    if cfg.model == "cnn":
        c, h, w = sample
        for i, out in enumerate(cfg.channels):  # (Conv2d, act, MaxPool2d) per entry, as build_cnn
            shapes[f"{3 * i}.weight"], shapes[f"{3 * i}.bias"] = (out, c, 3, 3), (out,)
            c, h, w = out, h // 2, w // 2
        last = 3 * len(cfg.channels) + 1  # after Flatten
        shapes[f"{last}.weight"], shapes[f"{last}.bias"] = (splits.n_classes, c * h * w), (splits.n_classes,)
        return shapes
    sizes = layer_sizes(cfg, sample[0], splits.n_classes)
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes[f"{2 * i}.weight"], shapes[f"{2 * i}.bias"] = (b, a), (b,)
    return shapes


def training_bytes(shapes: dict[str, tuple], cfg: TrainConfig) -> int:
    """About what training needs: float32 weights, gradients and up to two optimizer buffers per parameter."""
    n_params = sum(math.prod(s) for s in shapes.values())
    buffers = {"sgd": 1 if cfg.momentum else 0, "rmsprop": 1 + (1 if cfg.momentum else 0)}.get(cfg.optimizer, 2)
    return 4 * n_params * (2 + buffers)


def _network_text(cfg: TrainConfig) -> str:
    if cfg.model == "cnn":
        return f"channels {','.join(map(str, cfg.channels))}"
    return f"layers {','.join(map(str, cfg.layers))}" if cfg.layers else "the network"


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


def schedule_depends_on_epochs(cfg: TrainConfig) -> bool:
    """Whether the learning rate of an epoch depends on the total ``epochs`` (so extending a run changes it)."""
    return cfg.schedule in ("cosine", "linear") or (cfg.schedule == "step" and cfg.step_size is None)


def build_loss(name: str, n_classes: int) -> Callable:
    """loss(outputs, labels); MSE compares the outputs with one-hot labels."""
    from . import nn
    from .tensor import Tensor

    if name == "cross_entropy":
        return nn.CrossEntropyLoss()
    mse, eye = nn.MSELoss(), np.eye(n_classes, dtype=np.float32)
    return lambda out, y: mse(out, Tensor._make(eye[y._data], None))


def predict(model, x, batch_size: int = 2048) -> np.ndarray:
    """The model's outputs for ``x``, in eval mode and without recording a graph."""
    from .autograd import no_grad
    from .tensor import Tensor

    was_training = model.training
    model.eval()
    arr = x._data if isinstance(x, Tensor) else np.asarray(x)
    with no_grad():
        out = [model(Tensor._make(arr[i:i + batch_size], None))._data for i in range(0, len(arr), batch_size)]
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def _measure(model, loss_fn, split) -> tuple[float, float]:
    """(mean loss, accuracy) of the model on one split, in eval mode at the end of an epoch."""
    from .autograd import no_grad
    from .tensor import Tensor

    if split is None:
        return float("nan"), float("nan")
    x, y = split
    out = predict(model, x)
    with no_grad():
        loss = loss_fn(Tensor._make(out, None), y).item()
    return loss, float((out.argmax(axis=1) == y._data).mean())


# ------------------------------------------------------------ training
def train(config: TrainConfig | dict | None = None, *, resume: str | Path | None = None, verbose: bool = False,
          progress: bool = False, on_epoch: Callable[[dict], None] | None = None,
          new_run: bool = False, distributed: bool = False) -> TrainResult:
    """Train as ``config`` says; with ``config.out`` set, write the run folder before the first epoch and after
    every epoch.

    ``resume`` is a run folder (or its model.safetensors) to continue from;
    only ``epochs``, ``early_stopping`` and ``data_dir`` may differ from its
    settings. ``verbose`` prints a model summary and one line per epoch,
    ``progress`` shows a tqdm bar on stderr. ``on_epoch(row)`` is called
    after each epoch's checkpoint is written. Ctrl-C raises
    TrainingInterrupted, whose message says how to go on. ``distributed``
    trains data-parallel over the MPI ranks (chainrule.distributed.training).
    ``new_run`` refuses a folder that already holds a checkpoint, checked
    while holding the folder's lock (the command line's way to keep two
    runs apart).
    """
    from . import data, extras, memory
    from .random import manual_seed

    t_start = time.perf_counter()
    cfg = config if isinstance(config, TrainConfig) else from_dict(config or {})
    validate(cfg)
    pause = os.environ.get(PAUSE_ENV)
    pause_point("data", pause)
    saved = _saved_checkpoint(resume, cfg) if resume is not None else None
    splits = load_splits(cfg)
    shapes = param_shapes(cfg, splits)
    if saved is not None:  # the checkpoint's tensors must fit its config before that network is built
        runs.check_shapes(saved[0], shapes, saved[2])
    memory.require(training_bytes(shapes, cfg), _network_text(cfg))
    manual_seed(seed_for_numpy(cfg.seed))
    model, cfg = build_network(cfg, splits)
    dist = None
    if distributed:
        from .distributed.training import DataParallelRun

        dist = DataParallelRun(cfg.batch_size)
        verbose, progress = verbose and dist.is_main, progress and dist.is_main
    optimizer = build_optimizer(cfg, model.parameters())
    scheduler = build_scheduler(cfg, optimizer)
    loss_fn = build_loss(cfg.loss, splits.n_classes)
    if dist is None:
        loader = data.DataLoader(data.TensorDataset(*splits.train), batch_size=cfg.batch_size, shuffle=True,
                                 seed=seed_for_numpy(cfg.seed))
    else:
        loader = dist.loader(data.TensorDataset(*splits.train), seed_for_numpy(cfg.seed))

    start, history, notes = 0, [], []
    if saved is not None:
        start, history, notes = _restore(saved, cfg, model, optimizer, scheduler)
    net = model if dist is None else dist.wrap(model, optimizer)
    measured = splits if dist is None else dist.shard_splits(splits)  # each rank measures its share
    run_dir = Path(cfg.out) if cfg.out and (dist is None or dist.is_main) else None
    result = TrainResult(cfg, model, optimizer, scheduler, history, run_dir, resumed_from=start,
                         n_train=len(splits.train.labels))
    result.stopped_early = stopped_early(history, cfg.early_stopping)
    say = print
    if verbose:
        from .summary import summary

        n_val = 0 if splits.val is None else len(splits.val.labels)
        say(summary(model, tuple(splits.train.images.shape[1:])))
        say(f"{cfg.dataset}: {len(splits.train.labels)} train, {n_val} validation, {len(splits.test.labels)} test; "
            f"{cfg.loss}, {cfg.optimizer} lr={cfg.lr:g}, schedule {cfg.schedule}, batch {cfg.batch_size}, "
            f"seed {cfg.seed}, epochs {start + 1}..{cfg.epochs}" if start < cfg.epochs and not result.stopped_early
            else f"{cfg.dataset}: nothing left to train")
        for note in notes:
            say(f"note: {note}")
        if dist is not None:
            say(dist.describe())
    draw_curves = run_dir is not None and extras.available("matplotlib")
    if verbose and run_dir is not None and not draw_curves:
        say(extras.missing_note("matplotlib", f"{runs.PLOT_FILE} is not drawn"))

    bar = None
    epoch = start
    held = contextlib.ExitStack()  # one writer per run folder (an OS lock), for the whole run
    try:
        pause_point("start", pause)
        if run_dir is not None:
            run_dir.mkdir(parents=True, exist_ok=True)
            held.enter_context(runs.lock(run_dir))
            if new_run and runs.has_checkpoint(run_dir):  # under the lock: of two runs started at once, one starts
                raise ConfigError(_taken(run_dir))
            if saved is None:  # a checkpoint before the first epoch: Ctrl-C from here on leaves a run that resumes
                runs.save_checkpoint(run_dir, model, optimizer, scheduler, cfg.to_dict(), 0, [])
            runs.write_config(run_dir, cfg.to_dict())
        if progress and start < cfg.epochs and not result.stopped_early:
            from tqdm import tqdm

            sized = _terminal_sized()  # a pty may report 0x0, and then tqdm would hide its bar
            bar = tqdm(total=(cfg.epochs - start) * len(loader), file=sys.stderr, unit="batch", leave=False,
                       dynamic_ncols=sized, ncols=None if sized else 80, nrows=None if sized else 20)
            say = lambda line: tqdm.write(line, file=sys.stdout)  # noqa: E731
        while epoch < cfg.epochs and not result.stopped_early:
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging loss is reported once, below
                row = _epoch(epoch, cfg, net, optimizer, scheduler, loss_fn, loader, measured, bar, pause)
            if dist is not None:
                row = dist.reduce(row, measured)
            history.append(row)
            epoch += 1
            result.stopped_early = stopped_early(history, cfg.early_stopping)
            if run_dir is not None:
                if best_row(history) is row:  # first: a resume after Ctrl-C here redoes this epoch bit for bit
                    runs.save_best(run_dir, model, cfg.to_dict(), epoch, history)
                runs.save_checkpoint(run_dir, model, optimizer, scheduler, cfg.to_dict(), epoch, history)
                runs.write_metrics(run_dir, history)
            if verbose:
                val = f"  val {100 * row['val_acc']:6.2f}%" if math.isfinite(row["val_acc"]) else ""
                say(f"epoch {epoch:>{len(str(cfg.epochs))}}/{cfg.epochs}  loss {row['train_loss']:.4f}  "
                    f"train {100 * row['train_acc']:6.2f}%{val}  test {100 * row['test_acc']:6.2f}%  "
                    f"lr {row['lr']:.3g}  {row['seconds']:.2f}s")
                if result.stopped_early:
                    say(f"early stopping: no better validation accuracy for {cfg.early_stopping} epochs")
            if on_epoch is not None:
                on_epoch(row)
        if bar is not None:
            bar.close()
            bar = None
        # a resume redraws even with nothing left to train: Ctrl-C may have stopped the last drawing
        if draw_curves and history and (len(history) > start or saved is not None
                                        or not (run_dir / runs.PLOT_FILE).exists()):
            from .curves import plot_curves

            plot_curves(history, run_dir / runs.PLOT_FILE, cfg, pause=lambda: pause_point("plot", pause))
    except KeyboardInterrupt:
        raise TrainingInterrupted(_interrupted_message(run_dir, epoch, cfg)) from None
    finally:
        if bar is not None:
            bar.close()
        held.close()
    result.wall_seconds = time.perf_counter() - t_start
    return result


def _taken(out: Path) -> str:
    return f"{out} already holds a run; continue it with --resume {out} or pick another --out"


def _interrupted_message(run_dir: Path | None, epoch: int, cfg: TrainConfig) -> str:
    """What Ctrl-C left behind, read back from the folder itself."""
    if run_dir is None:
        return "interrupted"
    try:
        done = runs.read_model(run_dir)[1]["epoch"]
    except (DataError, OSError):
        return (f"interrupted before the first checkpoint was written: {run_dir} holds nothing to resume; "
                f"run the same command again")
    how = f"continue with: chainrule train --resume {run_dir}"
    if epoch >= cfg.epochs or done >= cfg.epochs:
        return (f"interrupted while drawing {runs.PLOT_FILE}; training is complete ({done} epochs, checkpoint "
                f"saved); draw the curves with: chainrule train --resume {run_dir}")
    saved = "the checkpoint from before the first epoch" if done == 0 else f"the checkpoint after epoch {done}"
    return f"interrupted in epoch {epoch + 1}; {run_dir} keeps {saved}; {how}"


def _terminal_sized() -> bool:
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return size.columns > 0 and size.lines > 0


def _epoch(epoch, cfg, model, optimizer, scheduler, loss_fn, loader, splits, bar, pause) -> dict:
    t0 = time.perf_counter()
    lr = optimizer.param_groups[0]["lr"]
    model.train()
    loader.set_epoch(epoch)
    total, count = 0.0, 0
    for i, (xb, yb) in enumerate(loader):
        if pause is not None:
            pause_point(f"epoch {epoch + 1} batch {i + 1}", pause)
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
    train_loss, train_acc = _measure(model, loss_fn, splits.train)  # both at the end of the epoch, in eval mode
    val_loss, val_acc = _measure(model, loss_fn, splits.val)
    test_loss, test_acc = _measure(model, loss_fn, splits.test)
    return {"epoch": epoch + 1, "lr": lr, "train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
            "val_acc": val_acc, "test_loss": test_loss, "test_acc": test_acc, "seconds": time.perf_counter() - t0,
            "planned_epochs": cfg.epochs}  # the schedule's length this epoch ran under (kept in the checkpoint)


def _saved_checkpoint(resume, cfg: TrainConfig) -> tuple:
    """(state_dict, info, path) of the run to continue, after checking that ``cfg`` can continue it."""
    state_dict, info = runs.read_model(resume)
    run_cfg = from_saved(info["config"], resume)
    if run_cfg.layers is not None and cfg.layers is None:
        cfg = dataclasses.replace(cfg, layers=run_cfg.layers)
    changed = changed_on_resume(run_cfg, cfg)
    if changed:
        what = ", ".join(f"{flag(k)} ({_show(getattr(run_cfg, k))} in the run, {_show(getattr(cfg, k))} now)"
                         for k in changed)
        movable = ", ".join(flag(k) for k, o in OPTIONS.items() if o.on_resume)
        raise ConfigError(f"cannot change {what} when resuming: a resumed run keeps its settings, so that it ends "
                          f"as an uninterrupted run would; only {movable} may change (start a new run for others)")
    done = info["epoch"]
    if cfg.epochs < done:
        raise ConfigError(f"{runs.run_folder(resume)} has already trained {done} epochs; --epochs "
                          f"{cfg.epochs} is fewer. Give --epochs {done} or more to continue (or evaluate it as it is)")
    return state_dict, info, runs.model_file(resume)


def _show(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else f"{value}"


def _restore(saved: tuple, cfg: TrainConfig, model, optimizer, scheduler) -> tuple[int, list, list[str]]:
    """Load weights, optimizer, scheduler and RNG state; return (epochs done, history so far, notes to print)."""
    from .optim.optimizer import OptimizerStateError

    state_dict, info, checkpoint = saved
    run_dir = checkpoint.parent  # the checkpoint's folder: the optimizer state of the same epoch sits there
    runs.load_weights(model, state_dict, checkpoint)
    opt_state, sched_state, rng = runs.read_state(run_dir, info["epoch"])
    fresh_groups = [dict(g) for g in optimizer.param_groups]  # what the run's settings give, before loading
    fresh_sched = dict(scheduler.state_dict()) if scheduler is not None else None
    try:
        optimizer.load_state_dict(opt_state)
    except OptimizerStateError as e:
        raise DataError(f"{run_dir / runs.STATE_FILE}: the optimizer state does not fit the model ({e})") from None
    blank = dict.fromkeys(runs.METRICS, float("nan"))  # columns a run from an older version did not record
    done, history, notes = info["epoch"], [{**blank, **r} for r in info["history"]][: info["epoch"]], []
    saved_epochs = info["config"].get("epochs")
    if scheduler is None or sched_state is None:
        _check_groups(fresh_groups, optimizer, scheduler, sched_state, cfg, run_dir / runs.STATE_FILE)
    else:
        horizon = {k: v for k, v in vars(scheduler).items() if k in ("T_max", "total_iters", "step_size")}
        try:
            scheduler.load_state_dict(sched_state)
        except OptimizerStateError as e:
            raise DataError(f"{run_dir / runs.STATE_FILE}: the scheduler state does not fit "
                            f"{type(scheduler).__name__} ({e})") from None
        _check_schedule(fresh_sched, scheduler, info["epoch"], saved_epochs != cfg.epochs, run_dir / runs.STATE_FILE)
        _check_groups(fresh_groups, optimizer, scheduler, sched_state, cfg, run_dir / runs.STATE_FILE)
        if saved_epochs != cfg.epochs and horizon:
            # --epochs changed: the schedule follows the new length from here (closed form at this epoch)
            for k, v in horizon.items():
                setattr(scheduler, k, v)
            scheduler.step(scheduler.last_epoch)
    if saved_epochs != cfg.epochs and schedule_depends_on_epochs(cfg) and done > 0 and done < cfg.epochs:
        before = history[-1]["lr"] if history else cfg.lr
        notes.append(f"the {cfg.schedule} schedule now spans {cfg.epochs} epochs instead of {saved_epochs}: epoch "
                     f"{done + 1} runs at lr {optimizer.param_groups[0]['lr']:.3g} (epoch {done} ran at "
                     f"{before:.3g}); epochs 1-{done} keep the rates they had, so the weights will differ from a "
                     f"run started with --epochs {cfg.epochs}")
    runs.restore_rng(rng, f"{run_dir / runs.STATE_FILE}")
    return done, history, notes


RESTARTED = ("last_epoch", "_step_count", "_last_lr", "_is_initial")  # scheduler state that moves with the epochs
HORIZON = ("T_max", "total_iters", "step_size")  # follows --epochs, which a resumed run may change


def _check_groups(fresh: list[dict], optimizer, scheduler, sched_state, cfg: TrainConfig, where: Path) -> None:
    """The loaded optimizer state must say what the run's settings say: a state file cannot change betas, eps
    or weight decay, drop the schedule, or set a learning rate the schedule does not give."""
    if (scheduler is None) != (sched_state is None):
        raise DataError(f"{where}: the run's schedule is {cfg.schedule} but the file holds "
                        f"{'no' if sched_state is None else 'a'} scheduler state")
    for i, (want, got) in enumerate(zip(fresh, optimizer.param_groups)):
        for k, v in want.items():
            if k not in ("params", "lr") and got.get(k) != v:
                raise DataError(f"{where}: the optimizer state has {k} {got.get(k)!r} in group {i}, but the run's "
                                f"settings give {v!r}")
    expected = scheduler._closed_form() if scheduler is not None else [cfg.lr] * len(fresh)
    lrs = [g["lr"] for g in optimizer.param_groups]
    if not all(math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12) for a, b in zip(lrs, expected)):
        raise DataError(f"{where}: the optimizer state's learning rate {lrs[0]!r} is not the {cfg.schedule} "
                        f"schedule's {expected[0]:.6g} at this epoch")


def _check_schedule(fresh: dict, scheduler, done: int, epochs_changed: bool, where: Path) -> None:
    """The loaded scheduler state has the run's settings and stands at the epoch the checkpoint is of."""
    state = scheduler.state_dict()
    for k, v in fresh.items():
        if k not in RESTARTED and not (epochs_changed and k in HORIZON) and state[k] != v:
            raise DataError(f"{where}: the scheduler state has {k} {state[k]!r}, but the run's settings give {v!r}")
    if scheduler.last_epoch != done:
        raise DataError(f"{where}: the scheduler state stands at epoch {scheduler.last_epoch}, but the checkpoint "
                        f"is of epoch {done}")


# ------------------------------------------------------------ command line
def configure(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field, derived from its declaration, plus --config, --resume and --quiet."""
    S = argparse.SUPPRESS  # only options given on the command line override the file / the resumed run
    groups: dict[str, Any] = {}
    for name, opt in OPTIONS.items():
        g = groups.get(opt.group) or groups.setdefault(opt.group, parser.add_argument_group(opt.group))
        default = getattr(DEFAULTS, name)
        help_text = opt.help
        if opt.only_with:
            help_text = f"{alternatives(opt.only_with[1])}: {help_text}"
        if default is not None and not isinstance(default, bool):
            shown = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in default) \
                if isinstance(default, list) else (f"{default:g}" if isinstance(default, float) else default)
            help_text += f" (default {shown})"
        if FIELDS[name].type.startswith("bool"):
            g.add_argument(flag(name), action=argparse.BooleanOptionalAction, default=S, help=help_text)
        else:
            g.add_argument(flag(name), metavar=opt.metavar or "|".join(opt.choices), default=S, help=help_text)
    g = groups[RUN]
    g.add_argument("--config", metavar="FILE.toml", help="settings file; its keys mirror these options")
    g.add_argument("--resume", metavar="RUN", help="continue the run in this folder from its last checkpoint")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no per-epoch lines")
    g.add_argument("--distributed", action="store_true",
                   help="data-parallel over MPI ranks: mpiexec -n N chainrule train --distributed ...")



def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults < the resumed run's settings < the TOML file < the command line."""
    cfg = TrainConfig()
    if args.resume:
        _, info = runs.read_model(args.resume)
        cfg = from_saved(info["config"], args.resume)
    if args.config:
        cfg = load_toml(args.config, base=cfg)
    given = {k: parse_option(k, v) if isinstance(v, str) else v for k in FIELDS if hasattr(args, k)
             for v in [getattr(args, k)]}
    cfg = from_dict(given, base=cfg, source=COMMAND_LINE)
    validate(cfg)  # before a run folder is made for it: a bad setting leaves nothing behind
    if args.resume:
        if "out" in given or "name" in given:
            raise ConfigError("--resume continues the run in its own folder; leave out --out and --name")
        cfg.out = str(runs.run_folder(args.resume))
        _saved_checkpoint(args.resume, cfg)  # refuse a change it cannot honour before printing anything
    else:
        if cfg.name is not None and "out" not in given:
            cfg.out = str(Path("runs") / cfg.name)  # validate() made sure the name is one folder name
        if not cfg.out:
            cfg.out = str(runs.new_run_dir())
    validate(cfg)
    return cfg


def run(args: argparse.Namespace) -> int:
    from .cli import UsageError

    if args.distributed:
        from .distributed import launch

        return launch.run(args.argv, lambda: _run(args, distributed=True), UsageError)
    return _run(args)


def _run(args: argparse.Namespace, distributed: bool = False) -> int:
    from .cli import UsageError
    from .distributed import is_main

    main = is_main()  # rank 0, or a process that is not distributed
    try:
        cfg = config_from_args(args)
        out = Path(cfg.out)
        if not args.resume and runs.has_checkpoint(out):  # early and friendly; train() checks again, locked
            raise UsageError(_taken(out))
        quiet = args.quiet or not main
        if not quiet:
            print(f"{'resuming' if args.resume else 'new run'}: {out}/")
        result = train(cfg, resume=args.resume, verbose=not quiet, progress=not quiet and sys.stderr.isatty(),
                       new_run=not args.resume, distributed=distributed)
    except (ConfigError, DataError, NotEnoughMemory) as e:
        raise UsageError(str(e)) from None
    except BrokenPipeError:  # `chainrule train | head`: cli.main stops quietly
        raise
    except OSError as e:  # the run folder cannot be written (reads are DataErrors)
        raise UsageError(f"cannot write {e.filename or out}: {e.strerror or e}") from None
    except TrainingDiverged as e:
        print(f"chainrule train: error: {e}", file=sys.stderr)
        return 1
    except TrainingInterrupted as e:
        if main:
            print(f"\n{e}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:  # while reading the data and building the model: nothing written yet
        if main:
            print("\ninterrupted before training started; nothing was written", file=sys.stderr)
        return 130
    if not main:
        return 0
    if len(result.history) == result.resumed_from:
        why = "it stopped early" if result.stopped_early else f"it has trained {cfg.epochs} epochs"
        print(f"nothing to do: {why} (give a larger --epochs to train on)")
        return 0
    print(format_summary(result.summary()))
    written = [f for f in (runs.MODEL_FILE, runs.BEST_FILE, runs.METRICS_FILE, runs.PLOT_FILE) if (out / f).exists()]
    print(f"wrote {out}/ ({', '.join(written)})")
    print(f"next: chainrule evaluate {out}")
    return 0


def format_summary(s: dict) -> str:
    """The final summary as aligned lines, as Keras and Lightning print one."""
    lines = [("parameters", f"{s['parameters']:,}")]
    if s["best_epoch"] is not None:
        early = ", stopped early" if s["stopped_early"] else ""
        lines.append(("best epoch", f"{s['best_epoch']} of {s['epochs']} (validation accuracy "
                                    f"{100 * s['best_val_acc']:.2f}%){early}"))
        lines.append(("test accuracy", f"{100 * s['best_test_acc']:.2f}% at the best epoch (best.safetensors), "
                                       f"{100 * s['final_test_acc']:.2f}% at the last"))
    else:
        lines.append(("test accuracy", f"{100 * s['final_test_acc']:.2f}% after {s['epochs']} epochs"))
    speed = f", {s['samples_per_second']:,.0f} training samples/s" if s["samples_per_second"] else ""
    lines.append(("wall time", f"{s['wall_seconds']:.1f} s{speed}"))
    return "\n".join(f"{k:<14} {v}" for k, v in lines)
