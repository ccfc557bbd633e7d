"""curves.png: loss, accuracy and learning rate per epoch, written atomically (an interrupted draw keeps the
previous picture)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

from .atomic import write_figure

SPLITS = (("train", "-o", "train (end of epoch)"), ("val", "-^", "validation"), ("test", "-s", "test"))


def extensions(history: list[dict]) -> list[tuple[int, int]]:
    """(first epoch, planned total) each time a resumed run changed ``--epochs``."""
    out, last = [], None
    for r in history:
        planned = r.get("planned_epochs")
        if planned is not None and planned != last:
            out.append((r["epoch"], planned))
            last = planned
    return out


def title(cfg, history: list[dict] | None = None) -> str:
    """One line naming the data, the network, the optimizer, the schedule and the epochs; single spaces.

    A run extended with a schedule that depends on the total says when it switched."""
    net = (f"MLP {'-'.join(map(str, cfg.layers))}" if cfg.model == "mlp" and cfg.layers
           else f"CNN channels {','.join(map(str, cfg.channels))}" if cfg.model == "cnn" else cfg.model.upper())
    schedule = "constant lr" if cfg.schedule == "none" else f"{cfg.schedule} schedule"
    plural = lambda n: f"{n} epoch{'s' if n != 1 else ''}"  # noqa: E731
    span = f"{schedule} over {plural(cfg.epochs)}"
    changes = extensions(history or [])
    if len(changes) > 1:
        span = f"{schedule} over {plural(changes[0][1])}, " + ", ".join(
            f"from epoch {e} over {plural(n)}" for e, n in changes[1:])
    parts = [cfg.dataset, f"{net} {cfg.activation}", f"{cfg.optimizer} lr={cfg.lr:g}", span]
    return ", ".join(" ".join(p.split()) for p in parts)


def plot_curves(history: list[dict], path: Path, cfg, pause: Callable[[], None] | None = None) -> None:
    """Draw ``figure(history, cfg)`` to ``path``; ``pause`` runs between drawing and writing (tests)."""
    import matplotlib.pyplot as plt

    fig = figure(history, cfg)
    if pause is not None:
        pause()
    write_figure(fig, Path(path), dpi=100, follow_symlinks=False)  # the run's own file, not a planted link's target
    plt.close(fig)


def figure(history: list[dict], cfg):
    """Three panels against the epoch: loss and accuracy (train, validation, test, all measured at the end of
    each epoch) and the learning rate each epoch ran at."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_acc, ax_lr) = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True)
    accs = []
    for split, style, label in SPLITS:
        loss = [r.get(f"{split}_loss", math.nan) for r in history]
        acc = [100 * r.get(f"{split}_acc", math.nan) for r in history]
        if all(math.isnan(v) for v in acc):
            continue
        ax_loss.plot(epochs, loss, style, ms=4, label=label)
        ax_acc.plot(epochs, acc, style, ms=4, label=label)
        accs += [v for v in acc if not math.isnan(v)]
    ax_loss.set(xlabel="epoch", ylabel="loss (mean over the split)", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    losses = [v for split, _, _ in SPLITS for r in history for v in [r.get(f"{split}_loss", math.nan)]
              if not math.isnan(v)]
    if len(epochs) > 1 and losses and min(losses) > 0 and max(losses) / min(losses) > 10:
        ax_loss.set_yscale("log")
    elif losses and all(math.isfinite(v) for v in losses):
        ax_loss.set_ylim(0, 1.6 * max(losses) if max(losses) > 0 else 1)  # room for the legend above the curves
    _accuracy_axis(ax_acc, accs)
    lrs = [r["lr"] for r in history]
    ax_lr.plot(epochs, lrs, "-o", ms=4, color="tab:purple")
    ax_lr.set(xlabel="epoch", ylabel="learning rate", title="learning rate (per epoch)")
    if len(set(lrs)) > 1 and min(lrs) > 0 and max(lrs) / min(lrs) > 100:
        ax_lr.set_yscale("log")
    elif len(set(lrs)) == 1:
        ax_lr.set_ylim(0, 1.5 * lrs[0] if lrs[0] > 0 else 1)
    else:
        ax_lr.set_ylim(bottom=0)
    for ax in (ax_loss, ax_acc, ax_lr):
        ax.grid(alpha=0.3)
        ax.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)  # one epoch is a visible point in the middle
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax_loss.legend(loc="upper right")
    ax_acc.legend(loc="lower right")
    for first, planned in extensions(history)[1:]:
        ax_lr.axvline(first - 0.5, color="grey", ls="--", lw=1)
        ax_lr.annotate(f"--epochs {planned}", (first - 0.5, 1), xycoords=("data", "axes fraction"),
                       xytext=(3, -12), textcoords="offset points", fontsize=8, color="grey")
    fig.suptitle(title(cfg, history))
    return fig


def _accuracy_axis(ax, accs: list[float]) -> None:
    """From a little below the lowest accuracy to just above 100%, with no tick past 100%."""
    if not accs:
        return
    low = min(accs)
    pad = max(0.5, 0.08 * (100 - low))
    ax.set_ylim(max(0.0, low - pad), 100 + 0.4 * pad)
    ax.set_yticks([t for t in ax.get_yticks() if max(0.0, low - pad) - 1e-9 <= t <= 100 + 1e-9])
