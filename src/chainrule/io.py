"""cr.save / cr.load: tensors and checkpoints in files that loading never executes.

Three formats, chosen by the file name and told apart on loading by their
first bytes:

- ``{name: tensor}`` (a state dict) -> a plain safetensors file, readable by
  any safetensors tool;
- anything else made of dicts, lists, tuples, tensors, numbers, strings and
  None (``{"epoch": 3, "model_state_dict": ..., "optimizer_state_dict": ...}``)
  -> safetensors for the tensors plus the structure as JSON in its header
  (key ``chainrule.structure``); no pickle anywhere;
- a name ending in ``.pt``, ``.pth``, ``.bin`` or ``.tar`` (and file objects)
  -> PyTorch's own zip format (torchfile.py), so that ``torch.load`` reads it
  and a ``.pt`` file never pretends to be something it is not.

Loading a PyTorch file goes through an allow-list unpickler that only
rebuilds tensors and plain containers (torchfile.py).

A save goes through ``atomic.atomic_write`` (a temporary file next to the
target, flushed to disk and renamed over it in one step), so a crash or an
error mid-save leaves the previous file as it was.
"""
from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from . import layout, torchfile
from .atomic import atomic_write
from .errors import DataError, DTypeError
from .schema import load_json
from .tensor import Tensor

STRUCTURE_KEY = "chainrule.structure"
TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".tar")


def save(obj: Any, f: Any, metadata: dict[str, str] | None = None, **torch_options: Any) -> None:
    """Write ``obj`` to the path or binary file object ``f`` (see the module docstring for the format).

    ``metadata`` (str -> str, safetensors files only) is stored in the header.
    PyTorch's ``pickle_module``/``pickle_protocol``/``_use_new_zipfile_serialization``
    are accepted for compatibility and change nothing.
    """
    unknown = set(torch_options) - {"pickle_module", "pickle_protocol", "_use_new_zipfile_serialization",
                                    "_disable_byteorder_record"}
    if unknown:
        raise TypeError(f"save() got unexpected keyword argument(s) {sorted(unknown)}")
    if metadata is not None:
        bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise TypeError(f"save: metadata must map str to str; offending keys: {bad}")
        if STRUCTURE_KEY in metadata:
            raise ValueError(f"save: metadata key {STRUCTURE_KEY!r} is reserved")
    if hasattr(f, "write"):
        _refuse_metadata(metadata, "a file object")
        f.write(torchfile.write(obj))
        return
    path = Path(f)
    if path.suffix.lower() in TORCH_SUFFIXES:
        _refuse_metadata(metadata, f"a {path.suffix} file (PyTorch's format)")
        atomic_write(path, torchfile.write(obj))
        return
    if _is_flat(obj):
        _save_safetensors(obj, path, metadata)
        return
    tensors: dict[str, Any] = {}
    skeleton = _encode(obj, tensors, {}, [])
    meta = dict(metadata or {})
    meta[STRUCTURE_KEY] = json.dumps(skeleton, allow_nan=True)
    _save_safetensors(tensors, path, meta)


def _refuse_metadata(metadata, where: str) -> None:
    if metadata:
        raise TypeError(f"save: metadata can only be stored in safetensors files, not in {where}")


def _is_flat(obj: Any) -> bool:
    """A ``{str: tensor}`` dict (a state dict): saved as a plain safetensors file."""
    return isinstance(obj, dict) and all(isinstance(k, str) and isinstance(v, (Tensor, np.ndarray))
                                         for k, v in obj.items())


def _encode(obj: Any, tensors: dict, seen: dict, path: list) -> Any:
    """JSON for ``obj``; tensors go into ``tensors`` under their path and appear as {"tensor": name}."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (Tensor, np.ndarray)):
        if id(obj) not in seen:
            name = "/".join(str(k) for k in path) or "tensor"
            while name in tensors:
                name += "'"
            tensors[name] = obj
            seen[id(obj)] = name
        return {"tensor": seen[id(obj)]}
    if isinstance(obj, dict):
        kind = "ordered_dict" if isinstance(obj, OrderedDict) else "dict"
        items = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (str, int, float, bool))):
                raise TypeError(f"save: dict keys must be strings, numbers, bools or None; got a "
                                f"{type(k).__name__} key at {path}")
            items.append([k, _encode(v, tensors, seen, path + [k])])
        return {kind: items}
    if isinstance(obj, (list, tuple)):
        return {type(obj).__name__ if type(obj) in (list, tuple) else "list":
                [_encode(v, tensors, seen, path + [i]) for i, v in enumerate(obj)]}
    raise TypeError(torchfile.unsupported(obj, path))


def _decode(node: Any, tensors: dict, where: str) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and len(node) == 1:
        (kind, body), = node.items()
        if kind == "tensor" and isinstance(body, str):
            if body not in tensors:
                raise DataError(f"{where}: the structure names a tensor {body!r} that the file does not hold")
            return tensors[body]
        if kind in ("dict", "ordered_dict") and isinstance(body, list):
            out = OrderedDict() if kind == "ordered_dict" else {}
            for item in body:
                if not (isinstance(item, list) and len(item) == 2):
                    raise DataError(f"{where}: malformed dict entry in the structure: {item!r}")
                out[item[0]] = _decode(item[1], tensors, where)
            return out
        if kind in ("list", "tuple") and isinstance(body, list):
            items = [_decode(v, tensors, where) for v in body]
            return items if kind == "list" else tuple(items)
    raise DataError(f"{where}: malformed structure entry {str(node)[:80]!r}")


def _save_safetensors(tensors: dict, path: Path, metadata: dict[str, str] | None) -> None:
    atomic_write(path, encode(tensors, metadata, path))


def encode(tensors: dict, metadata: dict[str, str] | None = None, path: Any = "tensors") -> bytes:
    """The safetensors bytes of ``{name: Tensor or array}`` (``path`` only names the target in errors)."""
    from safetensors import SafetensorError
    from safetensors.numpy import save as _encode_st

    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save: tensor names must be strings, got {name!r}")
        arr = value.numpy() if isinstance(value, Tensor) else value
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"save: {name!r} is a {type(value).__name__}, not a Tensor or numpy array")
        arrays[name] = layout.for_file(arr)
    try:
        blob = _encode_st(arrays, metadata=metadata)
    except SafetensorError as e:  # a dtype the format has no code for (object, float128, ...)
        raise DTypeError(f"save: cannot write {path}: {e}") from None
    return blob


def load(f: Any, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """What ``save`` wrote, from a path or binary file object: chainrule's files or PyTorch's own.

    A plain safetensors file gives ``{name: Tensor}``; a checkpoint gives its
    dicts, lists and values back; a PyTorch ``.pt``/``.bin`` file is read
    without torch through an allow-list (see torchfile.py) whatever
    ``weights_only`` says: nothing stored in a file is ever executed.
    ``map_location`` may name the CPU (a string, ``cr.device``, a dict of
    device names, or a function, which has nothing to move).
    """
    _check_map_location(map_location)
    where = str(getattr(f, "name", "<file object>")) if hasattr(f, "read") else str(f)
    blob = f.read() if hasattr(f, "read") else _read(f)
    if blob[:4] == torchfile.ZIP_MAGIC:
        return torchfile.read(blob, where)
    if blob[8:9] != b"{" and blob[:1] == b"\x80":  # a safetensors header (JSON) starts at byte 8
        raise DataError(f"{where}: a pickle in PyTorch's legacy format (before torch 1.6); chainrule reads the zip "
                        "format only: re-save it with a current torch (torch.save(torch.load(f), f))")
    tensors, meta = _decode_safetensors(blob, where)
    if STRUCTURE_KEY not in meta:
        return tensors
    skeleton = load_json(meta[STRUCTURE_KEY], f"{where}: the structure in the header")  # depth-limited
    return _decode(skeleton, tensors, where)


def _check_map_location(map_location: Any) -> None:
    """Every tensor is on the CPU already; a target that is not the CPU is refused rather than ignored."""
    from .devices import check

    if map_location is None or callable(map_location) and not isinstance(map_location, str):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for t in targets:
        check(t, "load(map_location=...)")


def _decode_safetensors(blob: bytes, where: str) -> tuple[dict, dict]:
    from safetensors import SafetensorError
    from safetensors.numpy import load as _decode_st

    meta = _header_metadata(blob, where)  # our own reading of the header first: the tensors' reading must agree
    try:
        arrays = _decode_st(blob)
    except (SafetensorError, ValueError, TypeError) as e:
        raise DataError(f"{where}: not a valid safetensors file ({e})") from e
    except KeyError as e:  # a dtype NumPy has no type for, such as BF16
        raise DataError(f"{where}: holds {e.args[0]} tensors, which NumPy cannot represent; "
                        f"convert them (e.g. to float32) before saving") from None
    return {name: Tensor._make(arr, None) for name, arr in arrays.items()}, meta


def _header_metadata(blob: bytes, where: str) -> dict[str, str]:
    """The str -> str ``__metadata__`` of a safetensors header, read once, by one parser.

    Duplicate keys are refused (two JSON readers could each pick another
    value), as is nesting deeper than any header chainrule writes.
    """
    if len(blob) < 8:
        raise DataError(f"{where}: not a valid safetensors file ({len(blob)} bytes, shorter than its 8-byte header "
                        f"length)")
    header_len = int.from_bytes(blob[:8], "little")
    if header_len > len(blob) - 8:
        raise DataError(f"{where}: not a valid safetensors file (its header claims {header_len} bytes, the file has "
                        f"{len(blob) - 8} after the length)")
    header = load_json(blob[8:8 + header_len], f"{where}: the safetensors header")
    if not isinstance(header, dict):
        raise DataError(f"{where}: not a valid safetensors file (the header is a {type(header).__name__}, not an "
                        f"object)")
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise DataError(f"{where}: not a valid safetensors file (__metadata__ must map strings to strings)")
    return meta


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The str -> str metadata stored in a safetensors file's header ({} when there is none)."""
    return read_safetensors(path)[1]


def read_safetensors(path: str | os.PathLike) -> tuple[dict, dict[str, str]]:
    """({name: Tensor}, metadata) of one safetensors file, from one read (the two always belong together)."""
    blob = _read(path)
    if blob[:4] == torchfile.ZIP_MAGIC:
        raise DataError(f"{path}: a PyTorch zip file, not a safetensors file")
    return _decode_safetensors(blob, str(path))


def _read(path: Any) -> bytes:
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError as e:
        raise DataError(f"{path}: file not found") from e
    except IsADirectoryError as e:
        raise DataError(f"{path}: is a folder, not a safetensors file") from e
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from e
