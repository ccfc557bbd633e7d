"""The user's own data: a ``.npz`` file with arrays ``x`` and ``y``, or a ``.csv`` file with a label column.

Nothing is trusted before it is checked: every error names the file, and
for CSV files the row and column at fault.
"""
from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..tensor import Tensor
from .digits import Images


def load_file(path: str | os.PathLike, target: str | None = None) -> Images:
    """Images/features float32 and labels int64 from ``path`` (.npz: arrays x, y; .csv: ``target`` column)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: data file not found")
    suffix = p.suffix.lower()
    if suffix == ".npz":
        x, y = _read_npz(p)
    elif suffix == ".csv":
        if target is None:
            raise DataError(f"{p}: a CSV file needs the name of its label column (--target COLUMN)")
        x, y = _read_csv(p, target)
    else:
        raise DataError(f"{p}: unknown data format {suffix or '(no suffix)'!r}; use .npz (arrays x, y) or .csv")
    if len(y) == 0:
        raise DataError(f"{p}: no examples")
    return Images(Tensor._make(np.ascontiguousarray(x, dtype=np.float32), None), Tensor._make(y, None))


def _read_npz(p: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(p, allow_pickle=False) as z:
            missing = [k for k in ("x", "y") if k not in z.files]
            if missing:
                raise DataError(f"{p}: needs arrays named x (inputs) and y (labels); it has "
                                f"{', '.join(z.files) or 'none'}")
            x, y = z["x"], z["y"]
    except DataError:
        raise
    except ValueError as e:  # object arrays need pickle, which is never allowed
        raise DataError(f"{p}: unreadable .npz ({e})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{p}: unreadable .npz ({e})") from None
    if x.ndim < 2:
        raise DataError(f"{p}: x must have one row per example, shape (N, features) or (N, H, W), got {x.shape}")
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{p}: y must be one label per example, shape ({len(x)},), got {y.shape}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_) or np.iscomplexobj(x):
        raise DataError(f"{p}: x must be numbers, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        raise DataError(f"{p}: x[{', '.join(map(str, bad))}] is {x[bad]}; inputs must be finite numbers")
    return x, _labels(y, p)


def _labels(y: np.ndarray, p: Path) -> np.ndarray:
    """Class indices 0..K-1 as int64; floats only when they hold whole numbers."""
    if np.issubdtype(y.dtype, np.integer):
        out = y.astype(np.int64)
    elif np.issubdtype(y.dtype, np.floating):
        whole = np.isfinite(y) & (y == np.round(y))
        if not whole.all():
            i = int(np.argmin(whole))
            raise DataError(f"{p}: y[{i}] is {y[i]}; labels must be integer class indices 0, 1, 2, ...")
        out = y.astype(np.int64)
    else:
        raise DataError(f"{p}: y must be integer class indices 0, 1, 2, ..., got dtype {y.dtype}")
    if out.min() < 0:
        i = int(np.argmin(out))
        raise DataError(f"{p}: y[{i}] is {out[i]}; labels must be class indices 0, 1, 2, ...")
    return out


def _read_csv(p: Path, target: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(p, newline="") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError as e:
        raise DataError(f"{p}: not a text CSV file ({e})") from None
    except (OSError, csv.Error) as e:
        raise DataError(f"{p}: unreadable CSV ({e})") from None
    rows = [(n, r) for n, r in enumerate(rows, start=1) if r and any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{p}: empty CSV file")
    (_, header), body = rows[0], rows[1:]
    header = [h.strip() for h in header]
    if target not in header:
        raise DataError(f"{p}: no column {target!r} for --target; the header has {', '.join(header)}")
    t = header.index(target)
    features = [c for i, c in enumerate(header) if i != t]
    if not features:
        raise DataError(f"{p}: only the label column {target!r}; there are no input columns")
    x = np.empty((len(body), len(features)), np.float64)
    y = np.empty(len(body), np.int64)
    for k, (line, row) in enumerate(body):
        if len(row) != len(header):
            raise DataError(f"{p}: line {line} has {len(row)} cells, the header has {len(header)}")
        label = row[t].strip()
        try:
            y[k] = int(label)
        except ValueError:
            raise DataError(f"{p}: line {line}, column {target!r}: {label!r} is not an integer class label "
                            f"(labels must be 0, 1, 2, ...)") from None
        if y[k] < 0:
            raise DataError(f"{p}: line {line}, column {target!r}: {label} is negative; labels must be 0, 1, 2, ...")
        j = 0
        for i, cell in enumerate(row):
            if i == t:
                continue
            try:
                v = float(cell)
            except ValueError:
                v = float("nan")
            if not np.isfinite(v):
                raise DataError(f"{p}: line {line}, column {header[i]!r}: {cell.strip()!r} is not a finite number")
            x[k, j] = v
            j += 1
    return x, y
