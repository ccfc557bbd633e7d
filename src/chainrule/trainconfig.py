"""TrainConfig: every setting of ``chainrule train``, declared once.

Each field carries its option (help, allowed values, bounds, which optimizer or
schedule it belongs to, whether a resumed run may change it). The command-line
options, the TOML keys and ``validate`` are all derived from that one
declaration, so the three cannot drift apart.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ChainruleError

MODELS = ("mlp", "cnn")
ACTIVATIONS = ("relu", "tanh", "sigmoid")
LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("none", "step", "exponential", "cosine", "linear")
DATASETS = ("digits", "mnist", "file")
SEED_RANGE = (-2**63, 2**64 - 1)  # what torch.manual_seed accepts; negative seeds wrap modulo 2**64 as there


class ConfigError(ChainruleError, ValueError):
    """A bad training setting; the command line reports it in one line with exit status 2."""


@dataclass(frozen=True)
class Option:
    """How one setting appears on the command line and what values it takes."""

    help: str
    group: str = "optimization"
    metavar: str | None = None
    choices: tuple = ()
    low: float | None = None  # the smallest allowed value ...
    low_open: bool = False  # ... excluded
    high: float | None = None  # the largest allowed value ...
    high_open: bool = False  # ... excluded
    only_with: tuple = ()  # (setting, values): the option means something only there
    on_resume: bool = False  # a resumed run may change it
    path: bool = False  # stored absolute, so the run can be read from any folder


def _opt(default: Any, help: str, **kw: Any) -> Any:
    if callable(default):
        return field(default_factory=default, metadata={"option": Option(help, **kw)})
    return field(default=default, metadata={"option": Option(help, **kw)})


DATA, RUN = "model and data", "run"


@dataclass
class TrainConfig:
    """The defaults train a 64-128-10 ReLU network on the bundled digits to ~98% test accuracy in seconds."""

    model: str = _opt("mlp", "mlp (fully connected) or cnn (Conv2d-ReLU-MaxPool twice, then Linear)", group=DATA,
                      choices=MODELS)
    dataset: str = _opt("digits", "digits (bundled 8x8 images), mnist (IDX files in --data-dir) or file "
                        "(--data)", group=DATA, choices=DATASETS)
    data: str | None = _opt(None, "your own data: FILE.npz with arrays x and y, or FILE.csv with --target",
                            group=DATA, metavar="FILE", path=True)
    target: str | None = _opt(None, "the label column of a --data CSV file", group=DATA, metavar="COLUMN")
    data_dir: str | None = _opt(None, "folder of the MNIST IDX files (.gz or raw)", group=DATA, metavar="DIR",
                                path=True, on_resume=True)
    test_fraction: float = _opt(0.2, "share held out for testing, a fixed split (MNIST has its own test set)",
                                group=DATA, metavar="X", low=0, low_open=True, high=1,
                                high_open=True, only_with=("dataset", ("digits", "file")))
    val_fraction: float = _opt(0.1, "share of the training data held out for validation, chosen by --seed "
                               "(0: none)", group=DATA, metavar="X", low=0, high=1, high_open=True)
    layers: list[int] | None = _opt(None, "all layer sizes from input to output, e.g. 64,128,10 (default: "
                                    "inputs,128,classes)", group=DATA, metavar="SIZES", only_with=("model", ("mlp",)))
    channels: list[int] = _opt(lambda: [32, 64], "output channels of the convolutions, one Conv2d-act-MaxPool2d "
                               "each", group=DATA,
                               metavar="C1,C2", only_with=("model", ("cnn",)))
    activation: str = _opt("relu", "the hidden layers' activation", group=DATA, choices=ACTIVATIONS)
    loss: str = _opt("cross_entropy", "cross_entropy, or mse against one-hot labels", group=DATA, choices=LOSSES)
    optimizer: str = _opt("adam", "the optimizer", choices=OPTIMIZERS)
    lr: float = _opt(3e-3, "learning rate", metavar="X", low=0, low_open=True)
    momentum: float = _opt(0.0, "momentum", metavar="X", low=0, only_with=("optimizer", ("sgd", "rmsprop")))
    nesterov: bool = _opt(False, "Nesterov momentum", only_with=("optimizer", ("sgd",)))
    weight_decay: float | None = _opt(None, "L2 penalty (default 0.01 for adamw, else 0)", metavar="X", low=0)
    betas: list[float] = _opt(lambda: [0.9, 0.999], "running-average factors", metavar="B1,B2", low=0, high=1,
                              high_open=True, only_with=("optimizer", ("adam", "adamw")))
    eps: float = _opt(1e-8, "added to the denominator", metavar="X", low=0, low_open=True,
                      only_with=("optimizer", ("adam", "adamw", "rmsprop")))
    alpha: float = _opt(0.99, "smoothing of the squared gradients", metavar="X", low=0, high=1, high_open=True,
                        only_with=("optimizer", ("rmsprop",)))
    schedule: str = _opt("cosine", "learning-rate schedule, stepped once per epoch; cosine and linear decay "
                         "over --epochs", choices=SCHEDULES)
    step_size: int | None = _opt(None, "epochs per decay (default a third of --epochs)", metavar="N", low=0,
                                 low_open=True, only_with=("schedule", ("step",)))
    gamma: float | None = _opt(None, "decay factor (default 0.1 for step, 0.9 for exponential)", metavar="X",
                               low=0, low_open=True, only_with=("schedule", ("step", "exponential")))
    batch_size: int = _opt(32, "examples per step", metavar="N", low=0, low_open=True)
    epochs: int = _opt(20, "epochs in all (with --resume: the new total)", metavar="N", low=0, low_open=True,
                       on_resume=True)
    early_stopping: int | None = _opt(None, "stop after this many epochs without a better validation accuracy",
                                      metavar="PATIENCE", low=0, low_open=True, on_resume=True)
    seed: int = _opt(0, "initial weights, validation split and data order; negative seeds as in PyTorch",
                     metavar="N", low=SEED_RANGE[0], high=SEED_RANGE[1])
    name: str | None = _opt(None, "name the run folder runs/NAME", group=RUN, metavar="NAME")
    out: str | None = _opt(None, "run folder (default runs/<date-time> or runs/NAME)", group=RUN, metavar="DIR")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
OPTIONS: dict[str, Option] = {name: f.metadata["option"] for name, f in FIELDS.items()}
DEFAULTS = TrainConfig()
COMMAND_LINE = "command line"
# set by the command line; a run folder's location is where it is
NOT_RECORDED_ON_RESUME = ("name", "out")


def alternatives(values) -> str:
    """('a', 'b', 'c') -> 'a, b or c'."""
    values = list(values)
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def from_dict(values: dict, base: TrainConfig | None = None, source: str = "config",
              relative_to: str | os.PathLike | None = None) -> TrainConfig:
    """``base`` with ``values`` applied; keys may use '-' or '_'; unknown keys and bad types are errors.

    Path settings are made absolute, relative paths taken from ``relative_to`` (default: the current folder).
    """
    cfg = dataclasses.replace(base) if base is not None else TrainConfig()
    for key, value in values.items():
        name = str(key).replace("-", "_")
        if name not in FIELDS:
            hint = " (a command-line option only)" if name in ("config", "resume", "quiet", "distributed") else ""
            raise ConfigError(f"{source}: unknown key {key!r}{hint} (known: {', '.join(FIELDS)})")
        value = _coerce(name, value, source)
        if OPTIONS[name].path and value is not None:
            value = str((Path(relative_to or ".") / Path(value).expanduser()).resolve())
        setattr(cfg, name, value)
    named = {str(k).replace("-", "_") for k in values}
    if "data" in named and cfg.data is not None and "dataset" not in named and cfg.dataset == DEFAULTS.dataset:
        cfg.dataset = "file"  # --data FILE alone says where the data comes from
    return cfg


# what a run recorded before a setting existed did without it: such a run had no validation split
BEFORE_IT_EXISTED = {"val_fraction": 0.0}


def from_saved(config: dict, path: str | os.PathLike) -> TrainConfig:
    """The settings a checkpoint recorded; keys this version does not know are skipped, bad values refused,
    and a setting the run predates gets the value that reproduces what that run did."""
    values = {**BEFORE_IT_EXISTED, **{k: v for k, v in config.items() if k in FIELDS}}
    return from_dict(values, source=f"{path} (saved config)")


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
        raise ConfigError(f"{flag(name)} must be {what}, got {text!r}") from None
    return text


def _coerce(name: str, value: Any, source: str) -> Any:
    """Check the type of one setting (TOML values arrive typed)."""
    kind = FIELDS[name].type
    where = flag(name) if source == COMMAND_LINE else f"{source}: {name}"
    if value is None:
        if "None" in kind:
            return None
        raise ConfigError(f"{where} cannot be empty")
    if kind.startswith("list[int]"):
        return parse_int_list(value, where, at_least=2 if name == "layers" else 1)
    if kind.startswith("list[float]"):
        vals = value.split(",") if isinstance(value, str) else value
        try:
            betas = [float(v) for v in vals]
        except (TypeError, ValueError):
            raise ConfigError(f"{where} must be two numbers like 0.9,0.999, got {brief(value)}") from None
        if len(betas) != 2:
            raise ConfigError(f"{where} must be two numbers like 0.9,0.999, got {brief(value)}")
        return betas
    if kind.startswith("bool"):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where} must be true or false, got {brief(value)}")
    if kind.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, got {brief(value)}")
        return value
    if kind.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, got {brief(value)}")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, got {brief(value)}")
    if not value.strip() or "\0" in value:  # "" would silently mean the default; NUL is in no file name
        raise ConfigError(f"{where} must be a non-empty name without NUL bytes, got {brief(value)}")
    return value


def brief(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut short: an error message quotes a setting, never a megabyte of it."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def parse_int_list(value: Any, where: str = "layers", at_least: int = 2) -> list[int]:
    """'64,128,10' or [64, 128, 10] -> [64, 128, 10]; anything else is a ConfigError."""
    items = value.split(",") if isinstance(value, str) else value
    example = "64,128,10" if at_least > 1 else "16,32"
    try:
        if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
            raise TypeError
        out = []
        for v in items:
            if isinstance(v, bool) or isinstance(v, float):
                raise ValueError
            out.append(int(v.strip()) if isinstance(v, str) else int(v))
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be comma-separated positive integers like {example}, got {brief(value)}") \
            from None
    if len(out) < at_least or any(v <= 0 for v in out):
        what = "at least two positive sizes (input,...,output)" if at_least > 1 else "positive integers"
        raise ConfigError(f"{where} must be {what} like {example}, got {brief(value)}")
    return out


def load_toml(path: str | os.PathLike, base: TrainConfig | None = None) -> TrainConfig:
    """Settings from a TOML file whose keys mirror the command-line options (``batch_size`` or ``batch-size``).

    Relative paths in the file are taken from the file's own folder.
    """
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
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: invalid TOML ({e})") from None
    except RecursionError:
        raise ConfigError(f"{p}: invalid TOML (arrays or tables nested too deeply)") from None
    if "train" in values and isinstance(values["train"], dict) and len(values) == 1:
        values = values["train"]  # a [train] table is accepted too
    return from_dict(values, base, source=str(p), relative_to=p.resolve().parent)


def _in_bounds(opt: Option, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for v in values:
        if not math.isfinite(v):
            return False
        if opt.low is not None and (v <= opt.low if opt.low_open else v < opt.low):
            return False
        if opt.high is not None and (v >= opt.high if opt.high_open else v > opt.high):
            return False
    return True


def _bounds_text(opt: Option) -> str:
    num = lambda v: str(v) if isinstance(v, int) else f"{v:g}"  # noqa: E731
    low = None if opt.low is None else f"{'>' if opt.low_open else '>='} {num(opt.low)}"
    high = None if opt.high is None else f"{'<' if opt.high_open else '<='} {num(opt.high)}"
    return " and ".join(s for s in (low, high) if s)


def validate(cfg: TrainConfig) -> TrainConfig:
    """Raise ConfigError for the first setting that cannot work; return ``cfg`` otherwise."""
    for name, opt in OPTIONS.items():
        value = getattr(cfg, name)
        if opt.choices and value not in opt.choices:
            raise ConfigError(f"unknown {name} {brief(value)} (choose from {', '.join(opt.choices)})")
        if value is not None and (opt.low is not None or opt.high is not None) and not _in_bounds(opt, value):
            shown = ",".join(f"{v:g}" for v in value) if isinstance(value, list) else value
            raise ConfigError(f"{name} must be {_bounds_text(opt)}, got {shown}")
    for name, opt in OPTIONS.items():
        if opt.only_with and getattr(cfg, name) != getattr(DEFAULTS, name):
            setting, allowed = opt.only_with
            if getattr(cfg, setting) not in allowed:
                raise ConfigError(f"{flag(name)} applies to --{setting} {alternatives(allowed)}, not "
                                  f"{getattr(cfg, setting)}; leave it out")
    if cfg.nesterov and cfg.momentum <= 0:
        raise ConfigError("nesterov needs a momentum > 0")
    if cfg.test_fraction + cfg.val_fraction >= 1:
        raise ConfigError(f"test_fraction {cfg.test_fraction:g} + val_fraction {cfg.val_fraction:g} leave no "
                          f"training data; their sum must be < 1")
    if cfg.early_stopping is not None and cfg.val_fraction == 0:
        raise ConfigError("--early-stopping watches the validation accuracy: it needs --val-fraction > 0")
    if cfg.layers is not None:
        parse_int_list(cfg.layers)
    if cfg.dataset == "mnist":
        if not cfg.data_dir:
            raise ConfigError("--dataset mnist needs --data-dir DIR, the folder of the MNIST IDX files")
        if not Path(cfg.data_dir).is_dir():
            raise ConfigError(f"data folder not found: {cfg.data_dir}")
    elif cfg.data_dir is not None:
        raise ConfigError("--data-dir is the folder of MNIST's files: it needs --dataset mnist")
    if (cfg.dataset == "file") != (cfg.data is not None):
        raise ConfigError("--dataset file needs --data FILE" if cfg.data is None else
                          f"--data reads your own file: leave out --dataset {cfg.dataset}")
    if cfg.target is not None and (cfg.data is None or not cfg.data.lower().endswith(".csv")):
        raise ConfigError("--target names the label column of a --data CSV file")
    if cfg.data is not None and cfg.data.lower().endswith(".csv") and cfg.target is None:
        raise ConfigError(f"{cfg.data}: a CSV file needs --target COLUMN, the column of the labels")
    if cfg.name is not None and cfg.name in ("", ".", "..") or cfg.name and ("/" in cfg.name or os.sep in cfg.name):
        raise ConfigError(f"--name must be a single folder name, got {cfg.name!r}")
    return cfg


def seed_for_numpy(seed: int) -> int:
    """PyTorch's reading of a seed: negative seeds wrap modulo 2**64 (``torch.manual_seed(-1)`` works)."""
    return seed % 2**64


def changed_on_resume(saved: TrainConfig, now: TrainConfig) -> list[str]:
    """The settings ``now`` changes that a resumed run cannot honour."""
    return [name for name, opt in OPTIONS.items()
            if not opt.on_resume and name not in NOT_RECORDED_ON_RESUME and getattr(saved, name) != getattr(now, name)]
