"""cr.save / cr.load: named tensors in the safetensors format (loading never executes code).

A save writes a temporary file next to the target, flushes it to disk and
renames it over the target in one step, so a crash or an error mid-save
leaves the previous file as it was.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from . import layout
from .errors import DataError, DTypeError
from .tensor import Tensor


def save(tensors: dict, path: str | os.PathLike, metadata: dict[str, str] | None = None) -> None:
    """Write ``{name: Tensor or array}`` to ``path``; ``metadata`` is optional str -> str."""
    from safetensors import SafetensorError
    from safetensors.numpy import save as _encode

    if not isinstance(tensors, dict):
        raise TypeError(f"save: expected a dict of name -> tensor, got {type(tensors).__name__}")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save: tensor names must be strings, got {name!r}")
        arr = value.data if isinstance(value, Tensor) else value
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"save: {name!r} is a {type(value).__name__}, not a Tensor or numpy array")
        arrays[name] = layout.for_file(arr)
    if metadata is not None:
        bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise TypeError(f"save: metadata must map str to str; offending keys: {bad}")
    try:
        blob = _encode(arrays, metadata=metadata)
    except SafetensorError as e:  # a dtype the format has no code for (object, float128, ...)
        raise DTypeError(f"save: cannot write {path}: {e}") from None
    atomic_write(Path(path), blob)


def atomic_write(path: Path, blob: bytes) -> None:
    """Replace ``path`` by ``blob`` all at once: temp file in the same folder, fsync, rename."""
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as e:  # name the file asked for, not the temporary one
        raise type(e)(e.errno, e.strerror, str(path)) from None
    try:
        os.chmod(tmp, _mode_for(path))  # mkstemp makes it 0600; a checkpoint should get the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(folder)


def _mode_for(path: Path) -> int:
    """The existing file's permissions, or those a new file gets under the current umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(path: str | os.PathLike) -> dict[str, Tensor]:
    """``{name: Tensor}`` from a safetensors file, with the dtypes and shapes (0-d included) it was saved with."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as _decode

    blob = _read(path)
    try:
        arrays = _decode(blob)
    except (SafetensorError, ValueError, TypeError) as e:
        raise DataError(f"{path}: not a valid safetensors file ({e})") from e
    except KeyError as e:  # a dtype NumPy has no type for, such as BF16
        raise DataError(f"{path}: holds {e.args[0]} tensors, which NumPy cannot represent; "
                        f"convert them (e.g. to float32) before saving") from None
    return {name: Tensor._make(arr, None) for name, arr in arrays.items()}


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The str -> str metadata stored in a safetensors file's header ({} when there is none)."""
    from safetensors import SafetensorError, safe_open

    _read(path, check_only=True)
    try:
        with safe_open(str(path), framework="numpy") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, ValueError, OSError) as e:
        raise DataError(f"{path}: not a valid safetensors file ({e})") from e


def _read(path: Any, check_only: bool = False) -> bytes:
    p = Path(path)
    try:
        if check_only:
            if not p.is_file():
                raise FileNotFoundError(path)
            return b""
        return p.read_bytes()
    except FileNotFoundError as e:
        raise DataError(f"{path}: file not found") from e
    except IsADirectoryError as e:
        raise DataError(f"{path}: is a folder, not a safetensors file") from e
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from e
