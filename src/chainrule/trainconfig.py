"""TrainConfig: every setting of ``chainrule train``, its defaults, TOML loading and validation.

The command line, a TOML file and a resumed run all produce the same
dataclass; ``validate`` is the one place that says what a bad value is.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ChainruleError

ACTIVATIONS = ("relu", "tanh", "sigmoid")
LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("none", "step", "exponential", "cosine", "linear")
DATASETS = ("digits", "mnist")
# what cannot change when a run is resumed: the checkpoint would not fit, or the data would differ
FIXED_ON_RESUME = ("dataset", "test_fraction", "layers", "activation", "optimizer")


class ConfigError(ChainruleError, ValueError):
    """A bad training setting; the command line reports it in one line with exit status 2."""


@dataclass
class TrainConfig:
    """The defaults train a 64-128-10 ReLU network on the bundled digits to ~98% test accuracy in seconds."""

    dataset: str = "digits"
    data_dir: str | None = None  # the folder of MNIST's IDX files
    test_fraction: float = 0.2  # digits only: the fixed held-out share (MNIST has its own test set)
    layers: list[int] | None = None  # all sizes, input to output; None: [inputs, 128, classes]
    activation: str = "relu"
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    lr: float = 3e-3
    momentum: float = 0.0  # sgd, rmsprop
    nesterov: bool = False  # sgd
    weight_decay: float | None = None  # None: the optimizer's default (0.01 for adamw, else 0)
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])  # adam, adamw
    eps: float = 1e-8  # adam, adamw, rmsprop
    alpha: float = 0.99  # rmsprop
    schedule: str = "cosine"  # stepped once per epoch
    step_size: int | None = None  # step: None means a third of the epochs
    gamma: float | None = None  # step (default 0.1), exponential (default 0.9)
    batch_size: int = 32
    epochs: int = 20
    seed: int = 0
    out: str | None = None  # the run folder; None: write nothing (the CLI picks runs/<time>)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
COMMAND_LINE = "command line"


def from_dict(values: dict, base: TrainConfig | None = None, source: str = "config") -> TrainConfig:
    """``base`` with ``values`` applied; keys may use '-' or '_'; unknown keys and bad types are errors."""
    cfg = dataclasses.replace(base) if base is not None else TrainConfig()
    for key, value in values.items():
        name = str(key).replace("-", "_")
        if name not in FIELDS:
            raise ConfigError(f"{source}: unknown key {key!r} (known: {', '.join(FIELDS)})")
        setattr(cfg, name, _coerce(name, value, source))
    return cfg


def from_saved(config: dict, path: str | os.PathLike) -> TrainConfig:
    """The settings a checkpoint recorded; keys this version does not know are skipped, bad values refused."""
    return from_dict({k: v for k, v in config.items() if k in FIELDS}, source=f"{path} (saved config)")


def parse_option(name: str, text: str) -> Any:
    """A command-line string as the setting's type, so every bad value gets the same one-line error."""
    kind = FIELDS[name].type
    try:
        if kind.startswith("int"):
            return int(text)
        if kind.startswith("float"):
            return float(text)
    except ValueError:
        what = "an integer" if kind.startswith("int") else "a number"
        raise ConfigError(f"--{name.replace('_', '-')} must be {what}, got {text!r}") from None
    return text


def _coerce(name: str, value: Any, source: str) -> Any:
    """Check the type of one setting (TOML values arrive typed)."""
    kind = FIELDS[name].type
    where = f"--{name.replace('_', '-')}" if source == COMMAND_LINE else f"{source}: {name}"
    if value is None:
        if "None" in kind:
            return None
        raise ConfigError(f"{where} cannot be empty")
    if name == "layers":
        return parse_int_list(value, where)
    if name == "betas":
        vals = value.split(",") if isinstance(value, str) else value
        try:
            betas = [float(v) for v in vals]
        except (TypeError, ValueError):
            raise ConfigError(f"{where} must be two numbers like 0.9,0.999, got {value!r}") from None
        if len(betas) != 2:
            raise ConfigError(f"{where} must be two numbers like 0.9,0.999, got {value!r}")
        return betas
    if kind.startswith("bool"):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    if kind.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        return value
    if kind.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, got {value!r}")
    return value


def parse_int_list(value: Any, where: str = "layers") -> list[int]:
    """'64,128,10' or [64, 128, 10] -> [64, 128, 10]; anything else is a ConfigError."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
            raise TypeError
        out = []
        for v in items:
            if isinstance(v, bool) or isinstance(v, float):
                raise ValueError
            out.append(int(v.strip()) if isinstance(v, str) else int(v))
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be comma-separated positive integers like 64,128,10, got {value!r}") \
            from None
    if len(out) < 2 or any(v <= 0 for v in out):
        raise ConfigError(f"{where} must be at least two positive sizes (input,...,output) like 64,128,10, "
                          f"got {value!r}")
    return out


def load_toml(path: str | os.PathLike, base: TrainConfig | None = None) -> TrainConfig:
    """Settings from a TOML file whose keys mirror the command-line options (``batch_size`` or ``batch-size``)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    p = Path(path)
    try:
        with open(p, "rb") as f:
            values = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read config file ({e.strerror or e})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: invalid TOML ({e})") from None
    if "train" in values and isinstance(values["train"], dict) and len(values) == 1:
        values = values["train"]  # a [train] table is accepted too
    return from_dict(values, base, source=str(p))


def validate(cfg: TrainConfig) -> TrainConfig:
    """Raise ConfigError for the first setting that cannot work; return ``cfg`` otherwise."""
    def choice(name: str, options: tuple) -> None:
        if getattr(cfg, name) not in options:
            raise ConfigError(f"unknown {name} {getattr(cfg, name)!r} (choose from {', '.join(options)})")

    def positive(name: str, value: Any, allow_zero: bool = False) -> None:
        ok = value is None or (math.isfinite(value) and (value >= 0 if allow_zero else value > 0))
        if not ok:
            raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")

    choice("dataset", DATASETS)
    choice("activation", ACTIVATIONS)
    choice("loss", LOSSES)
    choice("optimizer", OPTIMIZERS)
    choice("schedule", SCHEDULES)
    positive("lr", cfg.lr)
    positive("momentum", cfg.momentum, allow_zero=True)
    positive("weight_decay", cfg.weight_decay, allow_zero=True)
    positive("eps", cfg.eps)
    positive("gamma", cfg.gamma)
    positive("batch_size", cfg.batch_size)
    positive("epochs", cfg.epochs)
    positive("step_size", cfg.step_size)
    if not 0 <= cfg.alpha < 1:
        raise ConfigError(f"alpha must be in [0, 1), got {cfg.alpha}")
    if not all(0 <= b < 1 for b in cfg.betas):
        raise ConfigError(f"betas must be in [0, 1), got {cfg.betas}")
    if not 0 < cfg.test_fraction < 1:
        raise ConfigError(f"test_fraction must be between 0 and 1, got {cfg.test_fraction}")
    if cfg.nesterov and (cfg.optimizer != "sgd" or cfg.momentum <= 0):
        raise ConfigError("nesterov needs --optimizer sgd and a momentum > 0")
    if cfg.layers is not None:
        parse_int_list(cfg.layers)
    if cfg.dataset == "mnist":
        if not cfg.data_dir:
            raise ConfigError("--dataset mnist needs --data-dir DIR, the folder of the MNIST IDX files")
        if not Path(cfg.data_dir).is_dir():
            raise ConfigError(f"data folder not found: {cfg.data_dir}")
    return cfg
