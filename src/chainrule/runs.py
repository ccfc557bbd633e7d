"""The run folder that ``chainrule train`` writes and ``evaluate``/``--resume`` read.

    config.json            the settings, for people
    metrics.csv            one row per epoch
    curves.png             loss, accuracy and learning rate per epoch
    best.safetensors       the weights of the epoch with the best validation accuracy (same metadata)
    model.safetensors      -> last/model.safetensors: the weights under PyTorch's state-dict names,
                           loadable by torch through safetensors; metadata: config, epoch, history (JSON)
    optimizer.safetensors  -> last/optimizer.safetensors: optimizer, scheduler and RNG state, the epoch
    last                   -> checkpoints/epoch-0007: the one pointer a checkpoint is switched by
    checkpoints/epoch-N/   the two files of one epoch, written together
    .lock                  held (flock) by the process writing the run

A checkpoint is one unit: both files go into a new folder, are flushed to
disk, the folder is renamed into ``checkpoints/`` and only then ``last`` is
switched to it in one rename. A kill at any point leaves ``last`` at the
previous good checkpoint (or at the new one), never at a mix; the previous
checkpoint folder is kept until the next one is in place. A folder written
before this layout (the two files side by side) is still read.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import time
from io import StringIO
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from . import schema
from .atomic import atomic_write, fsync_dir, point, publish, step, write_new
from .errors import DataError
from .tensor import Tensor

MODEL_FILE = "model.safetensors"
STATE_FILE = "optimizer.safetensors"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
PLOT_FILE = "curves.png"
LAST = "last"
CHECKPOINTS = "checkpoints"
LOCK_FILE = ".lock"
FORMAT = "chainrule-checkpoint-1"
BEST_FILE = "best.safetensors"
METRICS = ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "seconds")


class RunBusy(DataError):
    """Another process is writing this run folder."""


# ------------------------------------------------------------ run folders
def new_run_dir(root: str | Path = "runs") -> Path:
    """Create and return ``runs/<date>-<time>``, with a numeric suffix if two runs start in the same second.

    The folder is made here (mkdir fails if it exists), so two runs started at
    once never pick the same one.
    """
    base = Path(root) / time.strftime("%Y%m%d-%H%M%S")
    base.parent.mkdir(parents=True, exist_ok=True)
    path, n = base, 1
    while True:
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1
            path = base.with_name(f"{base.name}-{n}")


_held: dict[str, int] = {}  # run folders this process has locked, and how many times


@contextlib.contextmanager
def lock(run_dir: Path) -> Iterator[None]:
    """Hold the run folder for one writer: a second ``chainrule train`` into it fails at once.

    An OS lock (``flock``) on ``.lock``: it is released when the holder exits,
    however it exits, so a killed run never leaves the folder locked.
    """
    import fcntl

    run_dir.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(run_dir)
    if key in _held:  # this process holds it already (the CLI around train()): re-entering is fine
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    try:  # O_NOFOLLOW: a .lock planted as a link to another file must not get that file truncated
        fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as e:
        raise DataError(f"{run_dir / LOCK_FILE}: cannot open the run's lock file ({e.strerror or e}); "
                        f"a run folder's .lock is a plain file") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            raise RunBusy(f"{run_dir}: another chainrule process{f' (pid {other})' if other else ''} is writing "
                          f"this run; wait for it to finish or pick another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
    finally:
        os.close(fd)  # closing releases the lock


def has_checkpoint(run_dir: Path) -> bool:
    return (run_dir / LAST).exists() or (run_dir / MODEL_FILE).exists()


def checkpoint_dir(run: str | Path) -> Path:
    """The folder holding the model and optimizer files of the checkpoint ``run`` names.

    ``run`` is a run folder (its ``last`` checkpoint), a checkpoint folder, or
    a model file (the checkpoint it sits in, symlinks followed).
    """
    p = Path(run)
    if p.is_dir():
        if (p / LAST).is_dir():
            return (p / LAST).resolve()
        if (p / MODEL_FILE).is_file():
            return (p / MODEL_FILE).resolve().parent
    elif p.is_file():
        return p.resolve().parent
    raise DataError(f"{p}: no checkpoint here (give a run folder written by `chainrule train` or its "
                    f"{MODEL_FILE})")


def model_file(run: str | Path) -> Path:
    """A run folder or a checkpoint file -> the model checkpoint file (inside its checkpoint folder)."""
    p = Path(run)
    if p.is_file() and not p.is_symlink():
        return p
    return checkpoint_dir(p) / MODEL_FILE


def run_folder(run: str | Path) -> Path:
    """The run folder a run, checkpoint folder or model file belongs to (where its metrics and plots go)."""
    p = Path(run)
    folder = p if p.is_dir() else p.parent
    if folder.parent.name == CHECKPOINTS:
        return folder.parent.parent
    return folder


# ------------------------------------------------------------ nested state <-> tensors + JSON
MAX_STATE_DEPTH = 8  # optimizer/scheduler state nests 4 deep; a skeleton deeper than this is not ours


def flatten_state(obj: Any, prefix: str, tensors: dict) -> Any:
    """Arrays go to ``tensors`` under dotted names; the rest becomes a JSON skeleton pointing at them."""
    if isinstance(obj, (Tensor, np.ndarray)):
        tensors[prefix] = obj
        return {"@tensor": prefix}
    if isinstance(obj, dict):
        return {"@items": [[k, flatten_state(v, f"{prefix}.{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"@tuple": [flatten_state(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [flatten_state(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def unflatten_state(skeleton: Any, tensors: dict, where: str = "state", depth: int = 0) -> Any:
    """The inverse of ``flatten_state``, checking the skeleton's form (a DataError names what is wrong)."""
    if depth > MAX_STATE_DEPTH:
        raise DataError(f"{where}: state nested more than {MAX_STATE_DEPTH} levels deep")
    if isinstance(skeleton, dict):
        if set(skeleton) == {"@tensor"}:
            name = skeleton["@tensor"]
            if not isinstance(name, str) or name not in tensors:
                raise DataError(f"{where}: refers to a tensor {name!r} the file does not hold")
            return tensors[name]
        if set(skeleton) == {"@tuple"} and isinstance(skeleton["@tuple"], list):
            return tuple(unflatten_state(v, tensors, f"{where}.{i}", depth + 1)
                         for i, v in enumerate(skeleton["@tuple"]))
        if set(skeleton) == {"@items"} and isinstance(skeleton["@items"], list):
            out = {}
            for item in skeleton["@items"]:
                if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))
                        and not isinstance(item[0], bool)):
                    raise DataError(f"{where}: a dict entry must be [key, value] with a string or integer key, "
                                    f"got {schema._show(item)}")
                out[item[0]] = unflatten_state(item[1], tensors, f"{where}.{item[0]}", depth + 1)
            return out
        raise DataError(f"{where}: unknown state object with keys {sorted(map(str, skeleton))[:5]}")
    if isinstance(skeleton, list):
        return [unflatten_state(v, tensors, f"{where}.{i}", depth + 1) for i, v in enumerate(skeleton)]
    if skeleton is None or isinstance(skeleton, (bool, int, float, str)):
        return skeleton
    raise DataError(f"{where}: unexpected {schema._show(skeleton)}")


# ------------------------------------------------------------ checkpoint
def save_checkpoint(run_dir: Path, model, optimizer, scheduler, config: dict, epoch: int, history: list) -> Path:
    """Write the model and optimizer state of ``epoch`` as one new checkpoint and switch ``last`` to it.

    Every step is a point where a kill must be harmless (see the module
    docstring); ``atomic.fault_hook`` lets tests stop the writer there.
    Returns the checkpoint folder.
    """
    from . import io, random

    tensors: dict = {}
    state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict() if scheduler else None}
    skeleton = flatten_state(state, "state", tensors)
    rng = random.generator().bit_generator.state
    state_blob = io.encode(tensors, {"state": json.dumps(skeleton), "rng": json.dumps(rng), "epoch": str(epoch)})
    model_blob = io.encode(model.state_dict(), _model_meta(config, epoch, history))

    folder = run_dir / CHECKPOINTS
    if folder.is_symlink() or folder.exists() and not folder.is_dir():  # pruning must never reach outside the run
        raise DataError(f"{folder}: not a folder of this run (a link or a file); chainrule writes checkpoints only "
                        f"into a real folder inside the run")
    folder.mkdir(exist_ok=True)
    previous = _target(run_dir / LAST)
    step("mkdir checkpoint")
    tmp = Path(_mkdtemp(folder, f".epoch-{epoch:04d}-"))
    write_new(tmp / STATE_FILE, state_blob)
    write_new(tmp / MODEL_FILE, model_blob)
    final = publish(tmp, _free_name(folder, f"epoch-{epoch:04d}"))
    point(run_dir / LAST, f"{CHECKPOINTS}/{final.name}")
    for name in (MODEL_FILE, STATE_FILE):  # fixed links: created once, or over a folder of the old layout
        if _target_path(run_dir / name) != f"{LAST}/{name}":
            point(run_dir / name, f"{LAST}/{name}")
    step("prune")
    _prune(run_dir, keep={final.name, previous})
    return final


def _mkdtemp(folder: Path, prefix: str) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=folder)


def _target_path(link: Path) -> str | None:
    """What a symlink says (None for a missing link or a regular file)."""
    try:
        return os.readlink(link)
    except OSError:
        return None


def _target(link: Path) -> str | None:
    """The checkpoint folder name a pointer in the run folder names, or None."""
    target = _target_path(link)
    return Path(target).name if target is not None else None


def _free_name(folder: Path, name: str) -> str:
    """``name``, or ``name-2``, ... if a folder of that name exists (a re-saved epoch never overwrites)."""
    candidate, n = name, 1
    while (folder / candidate).exists():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


CHECKPOINT_NAME = re.compile(r"\.?epoch-[0-9]{4,}(-[0-9]+)?(-\w+\.tmp)?", re.ASCII)  # what save_checkpoint makes


def _prune(run_dir: Path, keep: set) -> None:
    """Remove checkpoint folders no pointer names (and leftovers of killed saves), keeping ``keep``.

    Only the lock holder calls this, so every temporary file here is a leftover.
    """
    for p in run_dir.iterdir():
        if p.name.startswith(".") and p.name.endswith(".tmp") and (p.is_symlink() or p.is_file()):
            p.unlink()
    pointed = {_target(p) for p in run_dir.iterdir() if p.is_symlink()}
    for p in (run_dir / CHECKPOINTS).iterdir():
        ours = CHECKPOINT_NAME.fullmatch(p.name) and p.is_dir() and not p.is_symlink()
        if ours and p.name not in keep and p.name not in pointed:
            shutil.rmtree(p, ignore_errors=True)
    for name in (STATE_FILE,):  # the old layout's optimizer file, now superseded by the checkpoint's
        old = run_dir / name
        if old.is_file() and not old.is_symlink():
            old.unlink()
    fsync_dir(run_dir / CHECKPOINTS)


def save_best(run_dir: Path, model, config: dict, epoch: int, history: list) -> None:
    """The best epoch's weights, beside the last checkpoint and readable by ``read_model`` like it."""
    from . import io

    atomic_write(run_dir / BEST_FILE, io.encode(model.state_dict(), _model_meta(config, epoch, history)),
                 follow_symlinks=False)


def _model_meta(config: dict, epoch: int, history: list) -> dict:
    return {"format": FORMAT, "config": json.dumps(config), "epoch": str(epoch), "history": json.dumps(history)}


# rows of runs saved before the validation split existed have no val_* (NaN: no validation split)
HISTORY_ROW = schema.record({**{k: schema.real for k in METRICS if not k.startswith("val_")},
                             "epoch": schema.whole(1, 10**9)},
                            {k: schema.real for k in METRICS if k.startswith("val_")}, extra=True)


def read_model(path: str | Path) -> tuple[dict, dict]:
    """(state_dict, metadata with config/epoch/history decoded and checked) of a model checkpoint."""
    from . import io

    p = model_file(path)
    tensors, meta = io.read_safetensors(p)
    if "config" not in meta:
        raise DataError(f"{p}: no training config in its metadata; was it written by `chainrule train`?")
    where = f"{p} (metadata)"
    info = {"config": schema.load_json(meta["config"], f"{where} config", schema.mapping(schema.string,
                                                                                         schema.anything)),
            "epoch": _epoch(meta.get("epoch", "0"), f"{where} epoch"),
            "history": schema.load_json(meta.get("history", "[]"), f"{where} history", schema.list_of(HISTORY_ROW))}
    epochs = [int(row["epoch"]) for row in info["history"]]
    # one row per epoch done, in order; none at all where a library caller saved no history
    if epochs != list(range(1, len(epochs) + 1)) or 0 < len(epochs) < info["epoch"]:
        raise DataError(f"{where} history: expected one row for each of epochs 1..{info['epoch']}, got the epochs "
                        f"{epochs[:10]}{'...' if len(epochs) > 10 else ''}")
    for row, e in zip(info["history"], epochs):
        row["epoch"] = e
    check_tensors(tensors, p)
    return tensors, info


def check_tensors(tensors: dict, path: Any, nonnegative: tuple[str, ...] = ()) -> None:
    """Every tensor of a run's file is finite float32, as ``chainrule train`` writes them (names ending in one of
    ``nonnegative`` also >= 0): a file of other dtypes, NaN or inf is not one of its checkpoints."""
    for name, t in tensors.items():
        a = t._data
        if a.dtype != np.float32:
            raise DataError(f"{path}: tensor {name!r} is {a.dtype}; chainrule train writes float32 only")
        if not np.isfinite(a).all():
            raise DataError(f"{path}: tensor {name!r} holds NaN or inf; chainrule train never saves a diverged state")
        if name.endswith(nonnegative) and (a < 0).any():
            raise DataError(f"{path}: tensor {name!r} holds negative values; it is a running average of squares")


def _epoch(text: str, where: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text):  # ASCII digits only: int() would also read '١٢' as 12
        raise DataError(f"{where}: expected a number of epochs, got {text[:40]!r}")
    return int(text)


def check_shapes(state_dict: dict, expected: dict[str, tuple], path: Any) -> None:
    """Refuse a checkpoint whose tensors do not fit the network its config describes, before building it."""
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    wrong = [f"{k} {tuple(state_dict[k].shape)} (config: {tuple(v)})" for k, v in expected.items()
             if k in state_dict and tuple(state_dict[k].shape) != tuple(v)]
    if missing or unexpected or wrong:
        parts = ([f"missing {', '.join(missing[:4])}"] if missing else []) + \
                ([f"unexpected {', '.join(unexpected[:4])}"] if unexpected else []) + \
                ([f"shapes {'; '.join(wrong[:4])}"] if wrong else [])
        raise DataError(f"{path}: the weights do not fit the network its config describes: {'; '.join(parts)}")


def load_weights(model, state_dict: dict, path: str | Path) -> None:
    """``model.load_state_dict``, a mismatch reported in one line as a DataError naming the checkpoint."""
    from .nn import StateDictError

    try:
        model.load_state_dict(state_dict)
    except StateDictError as e:
        raise DataError(f"{path}: the weights do not fit the network its config describes: "
                        f"{' '.join(str(e).split())}") from None


STATE_META = schema.record({"state": schema.string, "rng": schema.string, "epoch": schema.string})
STATE = schema.record({"optimizer": schema.mapping(schema.string, schema.anything),
                       "scheduler": schema.optional(schema.mapping(schema.string, schema.anything))})


SQUARES = ("exp_avg_sq", "max_exp_avg_sq", "square_avg")  # optimizer buffers that are averages of squares


def read_state(checkpoint: str | Path, epoch: int) -> tuple[dict, dict | None, dict]:
    """(optimizer state, scheduler state, RNG state) saved with the model at ``epoch``, their form checked.

    ``checkpoint`` is the checkpoint folder (or the run folder, or its model file).
    """
    from . import io

    p = checkpoint_dir(checkpoint) / STATE_FILE
    if not p.is_file():
        raise DataError(f"{p}: no optimizer state beside the model, so the run cannot be resumed")
    tensors, meta = io.read_safetensors(p)
    check_tensors(tensors, p, nonnegative=SQUARES)
    where = f"{p} (metadata)"
    meta = STATE_META({k: v for k, v in meta.items() if k in ("state", "rng", "epoch")}, where)
    saved_epoch = _epoch(meta["epoch"], f"{where} epoch")
    state = STATE(unflatten_state(schema.load_json(meta["state"], f"{where} state"), tensors, f"{where} state"),
                  f"{where} state")
    rng = schema.load_json(meta["rng"], f"{where} rng")
    if saved_epoch != epoch:
        raise DataError(f"{p}: optimizer state is from epoch {saved_epoch} but the model is from epoch {epoch}; "
                        f"the run was interrupted while saving, so it cannot be resumed exactly")
    return state["optimizer"], state["scheduler"], rng


# numpy's PCG64 state: a 128-bit state and increment, and the cached 32-bit half of a draw
RNG_STATE = schema.record({"bit_generator": schema.string,
                           "state": schema.record({"state": schema.integer(0, 2**128 - 1),
                                                   "inc": schema.integer(0, 2**128 - 1)}),
                           "has_uint32": schema.integer(0, 1), "uinteger": schema.integer(0, 2**32 - 1)})


def restore_rng(state: Any, where: str) -> None:
    """Set chainrule's global generator to a saved state, after checking it is one of the same kind."""
    from . import random

    bits = random.generator().bit_generator
    current = bits.state
    if not isinstance(state, dict) or state.get("bit_generator") != current["bit_generator"]:
        found = state.get("bit_generator") if isinstance(state, dict) else state
        raise DataError(f"{where}: the RNG state is not a {current['bit_generator']} state (found "
                        f"{schema._show(found)})")
    checked = RNG_STATE(schema.conform(current, state, where), where)  # the right keys, then each in its range
    try:
        bits.state = checked
    except (ValueError, TypeError, OverflowError) as e:
        raise DataError(f"{where}: invalid RNG state ({e})") from None


# ------------------------------------------------------------ metrics and plot
def write_config(run_dir: Path, config: dict) -> None:
    atomic_write(run_dir / CONFIG_FILE, json.dumps(config, indent=2) + "\n", follow_symlinks=False)


def write_metrics(run_dir: Path, history: list[dict]) -> None:
    text = StringIO(newline="")
    w = csv.DictWriter(text, fieldnames=METRICS)
    w.writeheader()
    for row in history:
        w.writerow({k: row[k] for k in METRICS})
    atomic_write(run_dir / METRICS_FILE, text.getvalue(), follow_symlinks=False)

