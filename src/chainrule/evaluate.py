"""``chainrule evaluate RUN_OR_CHECKPOINT``: accuracy, per-class precision/recall, confusion matrix."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from . import runs
from .errors import DataError
from .trainconfig import ConfigError


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """C[i, j] = how many examples of class i were predicted as class j."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (labels, predicted), 1)
    return cm


def per_class(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(precision, recall) per class; a class never predicted (or absent) gets 0, not NaN."""
    hits = np.diag(cm).astype(np.float64)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    return precision, recall


def load_run(path: str | Path, data_dir: str | None = None):
    """(model with the checkpoint's weights, TrainConfig, checkpoint info) of a run folder or model file."""
    from .train import N_CLASSES, build_model, layer_sizes, load_dataset
    from .trainconfig import from_saved, validate

    state_dict, info = runs.read_model(path)
    cfg = from_saved(info["config"], path)
    if data_dir is not None:
        cfg.data_dir = data_dir
    try:
        validate(cfg)
    except ConfigError as e:
        raise ConfigError(f"{path} (saved config): {e}") from None
    splits = load_dataset(cfg)
    model = build_model(layer_sizes(cfg, splits[0].images.shape[1], N_CLASSES), cfg.activation)
    runs.load_weights(model, state_dict, runs.model_file(path))
    return model, cfg, info, splits


def report(cm: np.ndarray) -> str:
    """Accuracy, a precision/recall table and the confusion matrix as text."""
    precision, recall = per_class(cm)
    n = cm.sum()
    lines = [f"accuracy {100 * np.trace(cm) / max(n, 1):.2f}% ({np.trace(cm)}/{n})", "",
             f"{'class':>5}  {'precision':>9}  {'recall':>7}  {'support':>7}"]
    for c in range(len(cm)):
        lines.append(f"{c:>5}  {100 * precision[c]:>8.2f}%  {100 * recall[c]:>6.2f}%  {cm[c].sum():>7}")
    width = max(3, len(str(cm.max())))
    lines += ["", "confusion matrix (rows: true class, columns: predicted)",
              " " * 6 + " ".join(f"{c:>{width}}" for c in range(len(cm)))]
    for c, row in enumerate(cm):
        lines.append(f"{c:>5} " + " ".join(f"{v:>{width}}" if v else f"{'.':>{width}}" for v in row))
    return "\n".join(lines)


def plot_confusion(cm: np.ndarray, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    precision, recall = per_class(cm)
    fig, ax = plt.subplots(figsize=(6.5, 5.5), constrained_layout=True)
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax, label="examples")
    for (i, j), v in np.ndenumerate(cm):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                    color="white" if v > cm.max() / 2 else "black")
    k = range(len(cm))
    ax.set_xticks(k, [f"{c}\n{100 * p:.0f}%" for c, p in zip(k, precision)])
    ax.set_yticks(k, [f"{c} ({100 * r:.0f}%)" for c, r in zip(k, recall)])
    ax.set(xlabel="predicted class (precision)", ylabel="true class (recall)", title=title)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN_OR_CHECKPOINT", help="a run folder or its model.safetensors")
    parser.add_argument("--split", choices=("test", "train"), default="test", help="which split (default test)")
    parser.add_argument("--data-dir", metavar="DIR", help="where the MNIST files are now, if they moved")
    parser.add_argument("--plot", action="store_true", help="also draw the confusion matrix as a PNG")
    parser.add_argument("--plot-file", metavar="PNG", help="where (default: RUN/confusion-<split>.png)")


def run(args: argparse.Namespace) -> int:
    from . import extras
    from .cli import UsageError
    from .train import N_CLASSES, predict

    if args.plot or args.plot_file:
        extras.require("matplotlib", "chainrule evaluate --plot")
    try:
        model, cfg, info, splits = load_run(args.run, args.data_dir)
    except (DataError, ConfigError) as e:
        raise UsageError(str(e)) from None
    x, y = splits[0] if args.split == "train" else splits[1]
    predicted = predict(model, x).argmax(axis=1)
    cm = confusion_matrix(y.numpy(), predicted, N_CLASSES)
    where = runs.model_file(args.run)
    print(f"{where} (epoch {info['epoch']}): {cfg.dataset} {args.split} split, {len(predicted)} examples")
    print(report(cm))
    if args.plot or args.plot_file:
        path = Path(args.plot_file) if args.plot_file else where.parent / f"confusion-{args.split}.png"
        title = f"{cfg.dataset} {args.split}: accuracy {100 * np.trace(cm) / cm.sum():.2f}%"
        try:
            plot_confusion(cm, path, title)
        except OSError as e:
            raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
        print(f"wrote {path}")
    return 0
