"""The user's own data: a ``.npz`` file with arrays ``x`` and ``y``, or a ``.csv`` file with a label column.

Nothing is trusted before it is checked: every error names the file, and
for CSV files the row and column at fault.
"""
from __future__ import annotations

import csv
import math
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
    y = _labels(y, p)
    if math.prod(x.shape[1:]) == 0:
        raise DataError(f"{p}: x has shape {x.shape}: every example needs at least one input value")
    with np.errstate(over="ignore"):
        x32 = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x32).all():  # finite in the file, yet beyond float32's range (about 3.4e38)
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(x32))[0])
        raise DataError(f"{p}: x[{', '.join(map(str, bad))}] is {x[bad]}, beyond float32's range; scale the inputs")
    return Images(Tensor._make(x32, None), Tensor._make(y, None))


def _read_npz(p: Path) -> tuple[np.ndarray, np.ndarray]:
    _check_declared_sizes(p)
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
    return x, y


def _check_declared_sizes(p: Path) -> None:
    """Each array's header must describe what its zip entry holds, checked before NumPy allocates for the shape."""
    from ..memory import require

    for name, shape, declared, held in _npy_headers(p):
        if declared > held:
            raise DataError(f"{p}: the array {name} declares shape {shape} ({declared} bytes) but holds {held} bytes")
        require(declared, f"{p}: the array {name} of shape {shape}")


def _npy_headers(p: Path) -> list[tuple]:
    """(name, shape, bytes the header declares, bytes the entry holds) per array; [] where np.load will object."""
    out = []
    try:
        with zipfile.ZipFile(p) as z:
            for info in z.infolist():
                if info.filename.endswith(".npy"):
                    with z.open(info) as f:
                        version = np.lib.format.read_magic(f)
                        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                            np.lib.format.read_array_header_2_0
                        shape, _, dtype = read(f)
                        header = f.tell()
                    out.append((info.filename[:-4], shape, math.prod(shape) * dtype.itemsize, info.file_size - header))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return []  # np.load says what is wrong with the file itself
    return out


def _labels(y: np.ndarray, p: Path) -> np.ndarray:
    """Class indices 0..K-1 as int64; floats only when they hold whole numbers."""
    if np.issubdtype(y.dtype, np.unsignedinteger) and y.size and y.max() > np.iinfo(np.int64).max:
        i = int(np.argmax(y))
        raise DataError(f"{p}: y[{i}] is {y[i]}; labels must be class indices 0, 1, 2, ...")
    if np.issubdtype(y.dtype, np.integer):
        out = y.astype(np.int64)
    elif np.issubdtype(y.dtype, np.floating):
        whole = np.isfinite(y) & (y == np.round(y)) & (np.abs(y) < 2**53)  # exact as an integer, no int64 overflow
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
        with open(p, newline="", encoding="utf-8-sig") as f:  # a spreadsheet's byte-order mark is not a name
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
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise DataError(f"{p}: the header names the column {repeated[0]!r} more than once")
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
        except (ValueError, OverflowError):
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
