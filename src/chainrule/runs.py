"""The run folder that ``chainrule train`` writes and ``evaluate``/``--resume`` read.

    model.safetensors      model weights under PyTorch's state-dict names, loadable by
                           torch through safetensors; metadata: config, epoch, history (JSON)
    optimizer.safetensors  optimizer and scheduler state, the global RNG state, the epoch
    config.json            the settings, for people
    metrics.csv            one row per epoch
    best.safetensors       the weights of the epoch with the best validation accuracy (same metadata)
    curves.png             loss, accuracy and learning rate per epoch

Both .safetensors files are rewritten atomically after every epoch.
"""
from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError
from .tensor import Tensor

MODEL_FILE = "model.safetensors"
STATE_FILE = "optimizer.safetensors"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
PLOT_FILE = "curves.png"
BEST_FILE = "best.safetensors"
METRICS = ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "seconds")


def new_run_dir(root: str | Path = "runs") -> Path:
    """``runs/<date>-<time>``, with a numeric suffix if two runs start in the same second."""
    base = Path(root) / time.strftime("%Y%m%d-%H%M%S")
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def model_file(run: str | Path) -> Path:
    """A run folder or a checkpoint file -> the model checkpoint file."""
    p = Path(run)
    if p.is_dir():
        p = p / MODEL_FILE
    if not p.is_file():
        raise DataError(f"{p}: no checkpoint here (give a run folder written by `chainrule train` or its "
                        f"{MODEL_FILE})")
    return p


# ------------------------------------------------------------ nested state <-> tensors + JSON
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


def unflatten_state(skeleton: Any, tensors: dict) -> Any:
    """The inverse of ``flatten_state``: dict keys keep their types (ints stay ints), tuples stay tuples."""
    if isinstance(skeleton, dict):
        if "@tensor" in skeleton:
            return tensors[skeleton["@tensor"]]
        if "@tuple" in skeleton:
            return tuple(unflatten_state(v, tensors) for v in skeleton["@tuple"])
        return {k: unflatten_state(v, tensors) for k, v in skeleton["@items"]}
    if isinstance(skeleton, list):
        return [unflatten_state(v, tensors) for v in skeleton]
    return skeleton


# ------------------------------------------------------------ checkpoint
def save_checkpoint(run_dir: Path, model, optimizer, scheduler, config: dict, epoch: int, history: list) -> None:
    """Optimizer first, model last: the model file's epoch is the one a resume trusts."""
    from . import io, random

    tensors: dict = {}
    state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict() if scheduler else None}
    skeleton = flatten_state(state, "state", tensors)
    rng = random.generator().bit_generator.state
    io.save(tensors, run_dir / STATE_FILE,
            metadata={"state": json.dumps(skeleton), "rng": json.dumps(rng), "epoch": str(epoch)})
    io.save(model.state_dict(), run_dir / MODEL_FILE, metadata=_model_meta(config, epoch, history))


def save_best(run_dir: Path, model, config: dict, epoch: int, history: list) -> None:
    """The best epoch's weights, beside the last checkpoint and readable by ``read_model`` like it."""
    from . import io

    io.save(model.state_dict(), run_dir / BEST_FILE, metadata=_model_meta(config, epoch, history))


def _model_meta(config: dict, epoch: int, history: list) -> dict:
    return {"format": "chainrule-checkpoint-1", "config": json.dumps(config), "epoch": str(epoch),
            "history": json.dumps(history)}


def read_model(path: str | Path) -> tuple[dict, dict]:
    """(state_dict, metadata with config/history decoded) of a model checkpoint."""
    from . import io

    p = model_file(path)
    tensors, meta = io.load(p), io.load_metadata(p)
    if "config" not in meta:
        raise DataError(f"{p}: no training config in its metadata; was it written by `chainrule train`?")
    try:
        info = {"config": json.loads(meta["config"]), "epoch": int(meta.get("epoch", 0)),
                "history": json.loads(meta.get("history", "[]"))}
    except (ValueError, TypeError) as e:
        raise DataError(f"{p}: unreadable checkpoint metadata ({e})") from e
    if not isinstance(info["config"], dict) or not isinstance(info["history"], list):
        raise DataError(f"{p}: unreadable checkpoint metadata (config must be a JSON object, history a list)")
    return tensors, info


def load_weights(model, state_dict: dict, path: str | Path) -> None:
    """``model.load_state_dict``, a mismatch reported in one line as a DataError naming the checkpoint."""
    from .nn import StateDictError

    try:
        model.load_state_dict(state_dict)
    except StateDictError as e:
        raise DataError(f"{path}: the weights do not fit the network its config describes: "
                        f"{' '.join(str(e).split())}") from None


def read_state(run_dir: Path, epoch: int) -> tuple[dict, dict | None, dict]:
    """(optimizer state, scheduler state, RNG state) saved with the model at ``epoch``."""
    from . import io

    p = run_dir / STATE_FILE
    tensors, meta = io.load(p), io.load_metadata(p)
    try:
        saved_epoch = int(meta["epoch"])
        state = unflatten_state(json.loads(meta["state"]), tensors)
        rng = json.loads(meta["rng"])
    except (KeyError, ValueError, TypeError) as e:
        raise DataError(f"{p}: unreadable optimizer checkpoint ({e})") from e
    if saved_epoch != epoch:
        raise DataError(f"{p}: optimizer state is from epoch {saved_epoch} but the model is from epoch {epoch}; "
                        f"the run was interrupted while saving, so it cannot be resumed exactly")
    return state["optimizer"], state["scheduler"], rng


# ------------------------------------------------------------ metrics and plot
def write_config(run_dir: Path, config: dict) -> None:
    (run_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")


def write_metrics(run_dir: Path, history: list[dict]) -> None:
    with open(run_dir / METRICS_FILE, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=METRICS)
        w.writeheader()
        for row in history:
            w.writerow({k: row[k] for k in METRICS})

