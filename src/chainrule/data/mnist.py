"""MNIST from its IDX files on disk (gzipped or raw); nothing is downloaded.

IDX layout: two zero bytes, a type code, the number of dimensions, one
big-endian uint32 per dimension, then the values in C order, big-endian.
"""
from __future__ import annotations

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
        if labels.dtype.kind not in "iu":
            raise DataError(f"{lbl_path}: labels must be an integer IDX type (ubyte), found {labels.dtype}")
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise DataError(f"{lbl_path}: labels must be digits 0..9, found values {labels.min()}..{labels.max()}")
        if min(images.shape[1:]) == 0:
            raise DataError(f"{img_path}: images of {images.shape[1]}x{images.shape[2]} pixels are empty")
        if images.dtype.kind == "f" and not np.isfinite(images).all():
            raise DataError(f"{img_path}: holds NaN or infinite pixels; inputs must be finite numbers")
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


MAX_DIMS = 32  # NumPy's limit is 64; MNIST's files have 1 or 3


def _data_bytes(header: bytes, path: Path) -> int:
    """The bytes of data an IDX header (type code, dimensions) announces; Python ints, so nothing overflows."""
    dims = [int.from_bytes(header[4 + 4 * i:8 + 4 * i], "big") for i in range(header[3])]
    return math.prod(dims) * np.dtype(IDX_TYPES[header[2]]).itemsize


def _gunzip(blob: bytes, path: Path) -> bytes:
    """Inflate a .gz IDX file, never beyond what its header announces (a gzip bomb stops at the header's size).

    A header that is not IDX is returned as it is, for read_idx to say what is wrong with it.
    """
    from ..memory import require

    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(blob, 4)
        if len(out) == 4 and out[:2] == b"\0\0" and out[2] in IDX_TYPES and out[3] <= MAX_DIMS:
            out += d.decompress(d.unconsumed_tail, 4 * out[3])
        if len(out) < 4 or len(out) < 4 + 4 * out[3] or out[:2] != b"\0\0" or out[2] not in IDX_TYPES:
            if not d.eof and not d.unconsumed_tail:
                raise DataError(f"{path}: corrupt or truncated gzip data (the compressed stream ends early)")
            return out  # not an IDX header: read_idx says what is wrong with it
        need = _data_bytes(out, path)
        require(need, f"{path}: the IDX data ({need} bytes once inflated)")
        out += d.decompress(d.unconsumed_tail, need + 1)  # one byte more than announced shows trailing data
    except zlib.error as e:
        raise DataError(f"{path}: corrupt or truncated gzip data ({e})") from None
    if len(out) > 4 + 4 * out[3] + need:
        return out  # read_idx names the unexpected bytes
    if not d.eof:
        raise DataError(f"{path}: corrupt or truncated gzip data (the compressed stream ends early)")
    if d.unused_data:
        raise DataError(f"{path}: corrupt gzip data ({len(d.unused_data)} bytes after the compressed stream)")
    return out


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
        blob = _gunzip(blob, path)
    if len(blob) < 4:
        raise DataError(f"{path}: truncated: {len(blob)} bytes, shorter than the 4-byte IDX header")
    if blob[0] != 0 or blob[1] != 0:
        raise DataError(f"{path}: not an IDX file (it must start with two zero bytes, found {blob[:4].hex()})")
    code, ndim = blob[2], blob[3]
    if ndim > MAX_DIMS:
        raise DataError(f"{path}: malformed: {ndim} dimensions (an array has at most {MAX_DIMS})")
    if code not in IDX_TYPES:
        raise DataError(f"{path}: unknown IDX type code 0x{code:02x} (known: "
                        f"{', '.join(f'0x{c:02x}' for c in IDX_TYPES)})")
    header = 4 + 4 * ndim
    if len(blob) < header:
        raise DataError(f"{path}: truncated header: {ndim} dimensions need {header} bytes, the file has {len(blob)}")
    dims = tuple(int(d) for d in np.frombuffer(blob, ">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[code])
    expected = _data_bytes(blob, path)
    found = len(blob) - header
    if found < expected:
        raise DataError(f"{path}: truncated: shape {dims} needs {expected} bytes of data, found {found}")
    if found > expected:
        raise DataError(f"{path}: malformed: {found - expected} unexpected bytes after the data of shape {dims}")
    data = np.frombuffer(blob, dtype, count=expected // dtype.itemsize, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))
