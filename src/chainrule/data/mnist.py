"""MNIST from its IDX files on disk (gzipped or raw); nothing is downloaded.

IDX layout: two zero bytes, a type code, the number of dimensions, one
big-endian uint32 per dimension, then the values in C order, big-endian.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import DataError
from ..tensor import Tensor
from .digits import Images

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class MNIST(NamedTuple):
    """The two splits; each unpacks as ``images, labels``."""

    train: Images
    test: Images


def load_mnist(root: str | os.PathLike, flatten: bool = True) -> MNIST:
    """Train (60,000) and test (10,000) splits from the four IDX files in ``root``.

    Images are float32 in [0, 1] of shape (N, 784), or (N, 28, 28) with
    ``flatten=False``; labels are int64. Each file may be raw or ``.gz``, and
    may sit in ``root``, ``root/raw`` or ``root/MNIST/raw`` (torchvision's layout).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: MNIST folder not found")
    splits = {}
    for split, (img_name, lbl_name) in FILES.items():
        img_path, lbl_path = _find(root, img_name), _find(root, lbl_name)
        images, labels = read_idx(img_path), read_idx(lbl_path)
        if images.ndim != 3:
            raise DataError(f"{img_path}: expected 3 dimensions (count, rows, cols) of images, found shape "
                            f"{images.shape}")
        if labels.ndim != 1:
            raise DataError(f"{lbl_path}: expected 1 dimension of labels, found shape {labels.shape}")
        if len(images) == 0:
            raise DataError(f"{img_path}: holds 0 images; an MNIST split needs at least one")
        if len(images) != len(labels):
            raise DataError(f"{img_path} holds {len(images)} images but {lbl_path} holds {len(labels)} labels")
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise DataError(f"{lbl_path}: labels must be digits 0..9, found values {labels.min()}..{labels.max()}")
        x = images.astype(np.float32)
        if images.dtype == np.uint8:
            x /= np.float32(255.0)
        if flatten:
            x = x.reshape(len(x), -1)
        splits[split] = Images(Tensor._make(x, None), Tensor._make(labels.astype(np.int64), None))
    return MNIST(**splits)


def _find(root: Path, name: str) -> Path:
    """The file ``name`` under ``root`` in any common layout, gzipped or not."""
    dotted = name.replace("-idx", ".idx")  # some mirrors write train-images.idx3-ubyte
    for folder in (root, root / "raw", root / "MNIST" / "raw"):
        for base in (name, dotted):
            for suffix in ("", ".gz"):
                p = folder / (base + suffix)
                if p.is_file():
                    return p
    raise DataError(f"{root / name}: MNIST file not found (looked for {name} and {name}.gz in {root}, "
                    f"{root / 'raw'} and {root / 'MNIST' / 'raw'})")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """One IDX file as an array (native byte order); DataError says what is wrong and where."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except FileNotFoundError as e:
        raise DataError(f"{path}: file not found") from e
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from e
    if blob[:2] == b"\x1f\x8b":
        try:
            blob = gzip.decompress(blob)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: corrupt or truncated gzip data ({e})") from e
    if len(blob) < 4:
        raise DataError(f"{path}: truncated: {len(blob)} bytes, shorter than the 4-byte IDX header")
    if blob[0] != 0 or blob[1] != 0:
        raise DataError(f"{path}: not an IDX file (it must start with two zero bytes, found {blob[:4].hex()})")
    code, ndim = blob[2], blob[3]
    if code not in IDX_TYPES:
        raise DataError(f"{path}: unknown IDX type code 0x{code:02x} (known: "
                        f"{', '.join(f'0x{c:02x}' for c in IDX_TYPES)})")
    header = 4 + 4 * ndim
    if len(blob) < header:
        raise DataError(f"{path}: truncated header: {ndim} dimensions need {header} bytes, the file has {len(blob)}")
    dims = tuple(int(d) for d in np.frombuffer(blob, ">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[code])
    expected = math.prod(dims) * dtype.itemsize  # Python ints: a crafted header cannot overflow to 0
    found = len(blob) - header
    if found < expected:
        raise DataError(f"{path}: truncated: shape {dims} needs {expected} bytes of data, found {found}")
    if found > expected:
        raise DataError(f"{path}: malformed: {found - expected} unexpected bytes after the data of shape {dims}")
    data = np.frombuffer(blob, dtype, count=expected // dtype.itemsize, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))
