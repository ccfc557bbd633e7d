"""``chainrule evaluate RUN_OR_CHECKPOINT``: accuracy, per-class precision/recall/F1 in scikit-learn's
``classification_report`` layout, a confusion matrix, and the most confidently misclassified examples."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from . import runs
from .atomic import atomic_write, write_figure
from .errors import DataError
from .trainconfig import ConfigError

GRID = 24  # misclassified examples shown in the grid


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


def scores(cm: np.ndarray) -> dict:
    """Per class and averaged precision, recall, F1 (harmonic mean; 0 where both are 0) and support.

    "macro avg" weighs every class alike, "weighted avg" by its support, as scikit-learn does.
    """
    precision, recall = per_class(cm)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    support = cm.sum(axis=1)
    out = {"classes": {str(c): {"precision": float(precision[c]), "recall": float(recall[c]), "f1-score": float(f1[c]),
                                "support": int(support[c])} for c in range(len(cm))}}
    n = int(support.sum())
    weights = support / n if n else np.zeros(len(cm))
    for name, w in (("macro avg", np.full(len(cm), 1 / len(cm))), ("weighted avg", weights)):
        out[name] = {"precision": float(w @ precision), "recall": float(w @ recall), "f1-score": float(w @ f1),
                     "support": n}
    out["accuracy"] = float(np.trace(cm) / n) if n else 0.0
    return out


def classification_report(cm: np.ndarray, digits: int = 2) -> str:
    """The table scikit-learn's ``classification_report`` prints, from a confusion matrix."""
    s = scores(cm)
    names = list(s["classes"]) + ["macro avg", "weighted avg"]
    width = max(len(n) for n in names + ["accuracy"])
    cols = ("precision", "recall", "f1-score", "support")
    line = lambda name, vals: f"{name:>{width}} " + "".join(  # noqa: E731
        f" {v:>9}" if isinstance(v, (int, str)) else f" {v:>9.{digits}f}" for v in vals)
    out = [f"{'':>{width}} " + "".join(f" {c:>9}" for c in cols), ""]
    out += [line(c, [r[k] for k in cols]) for c, r in s["classes"].items()]
    out += ["", line("accuracy", ["", "", s["accuracy"], s["macro avg"]["support"]])]
    out += [line(n, [s[n][k] for k in cols]) for n in ("macro avg", "weighted avg")]
    return "\n".join(out) + "\n"


def report(cm: np.ndarray) -> str:
    """Accuracy, the classification report and the confusion matrix as text."""
    n = cm.sum()
    width = max(3, len(str(cm.max())))
    lines = [f"accuracy {100 * np.trace(cm) / max(n, 1):.2f}% ({np.trace(cm)}/{n})", "",
             classification_report(cm).rstrip("\n"), "",
             "confusion matrix (rows: true class, columns: predicted)",
             " " * 6 + " ".join(f"{c:>{width}}" for c in range(len(cm)))]
    for c, row in enumerate(cm):
        lines.append(f"{c:>5} " + " ".join(f"{v:>{width}}" if v else f"{'.':>{width}}" for v in row))
    return "\n".join(lines)


def load_run(path: str | Path, data_dir: str | None = None):
    """(model with the checkpoint's weights, TrainConfig, checkpoint info, splits) of a run folder or model file."""
    from .train import build_network, load_splits, param_shapes
    from .trainconfig import from_saved, validate

    state_dict, info = runs.read_model(path)
    cfg = from_saved(info["config"], path)
    if data_dir is not None:
        cfg.data_dir = str(Path(data_dir).resolve())
    try:
        validate(cfg)
    except ConfigError as e:
        raise ConfigError(f"{path} (saved config): {e}") from None
    splits = load_splits(cfg)
    # a 1 kB file may claim a network of hundreds of GiB: its tensors must fit the config before building
    runs.check_shapes(state_dict, param_shapes(cfg, splits), runs.model_file(path))
    model, _ = build_network(cfg, splits)
    runs.load_weights(model, state_dict, runs.model_file(path))
    return model, cfg, info, splits


def checkpoint_path(run: str | Path, which: str) -> Path:
    """A run folder's best checkpoint (when it has one) or its last; a file is itself."""
    p = Path(run)
    if p.is_dir() and which == "best" and os.path.lexists(p / runs.BEST_FILE):  # a folder or a link there: say so
        return p / runs.BEST_FILE
    return runs.model_file(p)


# ------------------------------------------------------------ pictures
def cell_colours(cm: np.ndarray) -> tuple[np.ndarray, object, object]:
    """RGBA per cell: correct predictions on a blue scale, errors on a red log scale of their own (so a single
    mistake among hundreds of hits is clearly red), empty cells white. Also the two scalar mappables."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, LogNorm, Normalize

    k = len(cm)
    diagonal = np.eye(k, dtype=bool)
    errors = cm[~diagonal & (cm > 0)]
    ok = ScalarMappable(Normalize(0, max(1, int(cm.diagonal().max()))), colormaps["Blues"])
    reds = ListedColormap(colormaps["Reds"](np.linspace(0.4, 1.0, 256)))  # even one error is a strong red
    bad = ScalarMappable(LogNorm(1, max(2.0, float(errors.max()) if errors.size else 2.0)), reds)
    rgba = np.ones((k, k, 4))
    rgba[diagonal & (cm > 0)] = ok.to_rgba(cm[diagonal & (cm > 0)])
    rgba[~diagonal & (cm > 0)] = bad.to_rgba(errors)
    return rgba, ok, bad


def plot_confusion(cm: np.ndarray, path: Path, title: str, follow_symlinks: bool = True) -> None:
    """The matrix with each cell's count and its share of the true class (one decimal)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    precision, recall = per_class(cm)
    k = len(cm)
    size = max(8.0, 0.75 * k + 2.5)
    fig, ax = plt.subplots(figsize=(size + 2.5, size), constrained_layout=True)
    rgba, ok, bad = cell_colours(cm)
    ax.imshow(rgba)
    fig.colorbar(ok, ax=ax, label="correct (count)", shrink=0.8)
    bar = fig.colorbar(bad, ax=ax, label="errors (count, log scale)", shrink=0.8)
    top = bad.norm.vmax
    bar.set_ticks([t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if t <= top],
                  labels=[str(t) for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if t <= top])
    bar.ax.minorticks_off()
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    for (i, j), v in np.ndenumerate(cm):
        if v:
            dark = rgba[i, j, :3] @ np.array([0.299, 0.587, 0.114]) < 0.5
            ax.text(j, i, f"{v}\n{100 * share[i, j]:.1f}%", ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
    ticks = range(k)
    ax.set_xticks(ticks, [f"{c}\n{100 * p:.1f}%" for c, p in zip(ticks, precision)])
    ax.set_yticks(ticks, [f"{c} ({100 * r:.1f}%)" for c, r in zip(ticks, recall)])
    ax.set(xlabel="predicted class (precision)", ylabel="true class (recall)", title=title)
    write_figure(fig, path, dpi=110, follow_symlinks=follow_symlinks)
    plt.close(fig)


def most_confident_errors(probs: np.ndarray, labels: np.ndarray, n: int = GRID) -> np.ndarray:
    """Indices of the wrong predictions, most confident first."""
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probs[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:n]


def as_images(x: np.ndarray) -> np.ndarray | None:
    """(N, H, W) pictures of the inputs: CNN inputs with one channel, or rows of a square number of features."""
    if x.ndim == 4 and x.shape[1] == 1:
        return x[:, 0]
    if x.ndim == 3:
        return x
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side == x.shape[1] and side > 1:
            return x.reshape(len(x), side, side)
    return None


def plot_misclassified(images: np.ndarray, labels: np.ndarray, probs: np.ndarray, idx: np.ndarray, path: Path,
                       title: str, follow_symlinks: bool = True) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 6
    rows = max(1, math.ceil(len(idx) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2 * cols, 2.3 * rows + 0.6), squeeze=False,
                             constrained_layout=True)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, idx):
        p = int(probs[i].argmax())
        ax.imshow(images[i], cmap="gray_r")
        ax.set_title(f"#{i}: true {labels[i]}, said {p}\n({100 * probs[i, p]:.1f}% sure)", fontsize=9)
    fig.suptitle(title)
    write_figure(fig, path, dpi=100, follow_symlinks=follow_symlinks)
    plt.close(fig)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ------------------------------------------------------------ command line
def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN_OR_CHECKPOINT", help="a run folder or one of its .safetensors files")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best",
                        help="of a run folder: the best validation epoch (default, when the run has one) or the last")
    parser.add_argument("--split", choices=("test", "val", "train"), default="test", help="which split (default test)")
    parser.add_argument("--data-dir", metavar="DIR", help="where the MNIST files are now, if they moved")
    parser.add_argument("--json", metavar="FILE", help="also write every number as JSON ('-': print only the JSON)")
    parser.add_argument("--plot", action="store_true",
                        help="also draw the confusion matrix and the most confident mistakes as PNGs")
    parser.add_argument("--plot-file", metavar="PNG", help="where the confusion matrix goes "
                        "(default: RUN/confusion-<split>.png; the mistakes go beside it, misclassified-<split>.png)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the accuracy line")


def run(args: argparse.Namespace) -> int:
    from . import extras
    from .cli import UsageError
    from .train import predict

    for option, value in (("--json", args.json), ("--plot-file", args.plot_file), ("--data-dir", args.data_dir)):
        if value is not None and not value.strip():
            raise UsageError(f"{option} needs a file name, got {value!r}")
    plot = args.plot or args.plot_file
    if plot:
        extras.require("matplotlib", "chainrule evaluate --plot")
    try:
        where = checkpoint_path(args.run, args.checkpoint)
        model, cfg, info, splits = load_run(where, args.data_dir)
    except (DataError, ConfigError) as e:
        raise UsageError(str(e)) from None
    split = {"train": splits.train, "test": splits.test, "val": splits.val}[args.split]
    if split is None:
        raise UsageError(f"{where}: the run has no validation split (it was trained with --val-fraction 0)")
    x, y = split
    outputs = predict(model, x)
    labels, predicted = y.numpy(), outputs.argmax(axis=1)
    cm = confusion_matrix(labels, predicted, splits.n_classes)
    head = f"{where} (epoch {info['epoch']}): {cfg.dataset} {args.split} split, {len(predicted)} examples"
    to_stdout = args.json == "-"
    if args.json:
        doc = {"checkpoint": str(where), "epoch": info["epoch"], "dataset": cfg.dataset, "split": args.split,
               "examples": int(len(predicted)), **scores(cm), "confusion_matrix": cm.tolist()}
        text = json.dumps(doc, indent=2) + "\n"
        if to_stdout:
            sys.stdout.write(text)
        else:
            _write(Path(args.json), lambda p: atomic_write(p, text))
    if not to_stdout:
        print(head)
        print(report(cm) if not args.quiet else report(cm).splitlines()[0])
        if args.json:
            print(f"wrote {args.json}")
    if plot:
        path = Path(args.plot_file) if args.plot_file else runs.run_folder(where) / f"confusion-{args.split}.png"
        title = f"{cfg.dataset} {args.split}: accuracy {100 * np.trace(cm) / max(cm.sum(), 1):.2f}%"
        follow = bool(args.plot_file)  # a path the user named is written like `>`; inside the run folder a planted
        _write(path, lambda p: plot_confusion(cm, p, title, follow))  # link is replaced, not followed
        written = [path]
        images = as_images(x.numpy())
        idx = most_confident_errors(softmax(outputs), labels)
        if images is not None and len(idx):
            grid = path.with_name(f"misclassified-{args.split}.png")
            _write(grid, lambda p: plot_misclassified(images, labels, softmax(outputs), idx, p,
                                                      f"{cfg.dataset} {args.split}: the {len(idx)} most confident "
                                                      f"mistakes", follow))
            written.append(grid)
        if not to_stdout:
            for p in written:
                print(f"wrote {p}")
            if images is None:
                print("(no grid of mistakes: the inputs are not images)")
    return 0


def _write(path: Path, write) -> None:
    from .cli import UsageError

    try:
        write(path)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
