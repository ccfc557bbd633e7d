"""The 8×8 handwritten digits that ship inside the package (UCI, CC BY 4.0; see LICENSE-digits.txt)."""
from __future__ import annotations

import zipfile
from importlib import resources
from typing import NamedTuple

import numpy as np

from ..errors import DataError
from ..tensor import Tensor


class Images(NamedTuple):
    """Images and their integer labels; unpacks as ``x, y = ...``."""

    images: Tensor  # float32 in [0, 1]
    labels: Tensor  # int64 class indices


DIGITS_FILE = "digits.npz"


def load_digits(flatten: bool = True) -> Images:
    """All 1,797 digits: images float32 scaled to [0, 1], shape (1797, 64) or (1797, 8, 8); labels int64 in 0..9.

    The pixels are counts 0..16 in the source and are divided by 16. No
    scikit-learn needed: the data is a 45 kB file in ``chainrule/data``.
    """
    path = resources.files(__package__) / DIGITS_FILE
    try:
        with resources.as_file(path) as p, np.load(p, allow_pickle=False) as z:
            images, labels = z["images"], z["labels"]
    except FileNotFoundError as e:
        raise DataError(f"{path}: the bundled digits file is missing; reinstall chainrule") from e
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: the bundled digits file is unreadable ({e}); reinstall chainrule") from e
    if images.shape != (1797, 8, 8) or labels.shape != (1797,):
        raise DataError(f"{path}: expected images (1797, 8, 8) and labels (1797,), got {images.shape} and "
                        f"{labels.shape}")
    x = images.astype(np.float32) / np.float32(16.0)
    if flatten:
        x = x.reshape(len(x), 64)
    return Images(Tensor._make(x, None), Tensor._make(labels.astype(np.int64), None))
