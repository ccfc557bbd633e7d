"""PyTorch's file format (a zip of ``data.pkl`` + raw storages), read and written without torch.

Reading never executes what the file says: the unpickler knows a short
allow-list of globals (tensor and parameter rebuilders, storage types, dtypes,
OrderedDict, a few plain builtins) and refuses every other one by name, the
way ``torch.load(weights_only=True)`` does. Writing emits the pickle opcodes
by hand (protocol 2, as torch.save), so only those same globals ever appear.
"""
from __future__ import annotations

import io as _bytes_io
import math
import pickle
import struct
import zipfile
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from .errors import DataError
from .memory import NotEnoughMemory, require

ZIP_MAGIC = b"PK\x03\x04"

# storage class name in torch <-> NumPy dtype (BFloat16 has no NumPy dtype: widened to float32 exactly on reading)
STORAGES = {"FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
            "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16", "CharStorage": "int8",
            "ByteStorage": "uint8", "BoolStorage": "bool", "BFloat16Storage": "bfloat16",
            "UntypedStorage": "uint8"}
_STORAGE_OF = {np.dtype(v): k for k, v in STORAGES.items() if v != "bfloat16" and k != "UntypedStorage"}
_DTYPES = {"float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool", "bfloat16",
           "float", "double", "half", "long", "int", "short"}
_ALIAS = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
          "short": "int16"}


class RefusedGlobal(DataError):
    """The file asks to run or build something that is not a tensor or a plain container."""


# ------------------------------------------------------------------ reading
class _Storage:
    """A marker the unpickler hands out for ``torch.FloatStorage`` etc.: it only carries a dtype."""

    def __init__(self, name: str) -> None:
        self.name, self.dtype = name, STORAGES[name]


class _TypeMarker:
    """``torch.Tensor`` / ``torch.nn.Parameter`` named as a type inside ``_rebuild_from_type_v2``."""

    def __init__(self, name: str) -> None:
        self.name = name


def read(blob: bytes, where: str) -> Any:
    """The object saved in a PyTorch zip file, tensors as chainrule Tensors."""
    try:
        zf = zipfile.ZipFile(_bytes_io.BytesIO(blob))
        names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise DataError(f"{where}: not a readable PyTorch zip file ({e})") from None
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
        raise DataError(f"{where}: a zip file but not PyTorch's format (no single <archive>/data.pkl; "
                        f"found {names[:5]})")
    prefix = pkl[0][: -len("data.pkl")]

    for info in zf.infolist():  # what an entry says it holds, checked before it is inflated (zip bombs)
        require(info.file_size, f"{where}: the entry {info.filename} ({info.file_size} bytes once inflated)")
    order = "<"
    if prefix + "byteorder" in names:
        bo = zf.read(prefix + "byteorder").decode("ascii", "replace").strip()
        if bo not in ("little", "big"):
            raise DataError(f"{where}: unknown byteorder record {bo!r}")
        order = "<" if bo == "little" else ">"
    storages: dict[str, np.ndarray] = {}

    def load_storage(pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise DataError(f"{where}: unexpected persistent id {pid!r} in data.pkl")
        _, kind, key, _location, numel = pid
        if not isinstance(kind, _Storage):
            raise DataError(f"{where}: storage type {kind!r} is not a known torch storage")
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise DataError(f"{where}: malformed storage reference {pid!r}")
        if key not in storages:
            record = f"{prefix}data/{key}"
            if record not in names:
                raise DataError(f"{where}: storage {key!r} is referenced but {record} is missing")
            raw = zf.read(record)
            storages[key] = _decode_storage(raw, kind, numel, order, f"{where}: storage {key}")
        return storages[key]

    unpickler = _SafeUnpickler(_bytes_io.BytesIO(zf.read(pkl[0])), where, load_storage)
    try:
        obj = unpickler.load()
    except (DataError, NotEnoughMemory):
        raise
    except MemoryError:  # an opcode declaring an object of exabytes
        raise DataError(f"{where}: data.pkl declares an object larger than memory; the file is corrupt") from None
    except Exception as e:  # a truncated or malformed pickle
        raise DataError(f"{where}: data.pkl is corrupt ({type(e).__name__}: {e})") from None
    return _plain(obj, where, [MAX_ITEMS], set(), 0)


MAX_DEPTH = 64  # as for JSON (schema.MAX_JSON_DEPTH): far deeper than any state dict
MAX_ITEMS = 10_000_000  # containers and their items, counting each time a shared one is reached again


def _plain(obj: Any, where: str, budget: list, active: set, depth: int) -> Any:
    """``obj`` rebuilt from fresh plain containers (dropping any attribute a BUILD opcode set on one), refusing
    cycles, nesting deeper than MAX_DEPTH and structures that expand past MAX_ITEMS (a "billion laughs" of
    shared lists): what is returned can be walked, printed and saved without surprises."""
    from .devices import device
    from .tensor import Tensor

    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes, Tensor, np.dtype, device)):
        return obj
    if not isinstance(obj, (dict, list, tuple, set, frozenset, bytearray)):
        raise RefusedGlobal(f"{where}: data.pkl builds a {type(obj).__name__}, which is not a tensor or a plain "
                            f"container")
    if isinstance(obj, bytearray):
        return bytes(obj)
    if depth >= MAX_DEPTH:
        raise DataError(f"{where}: data.pkl nests containers more than {MAX_DEPTH} deep; not a state dict")
    if id(obj) in active:
        raise DataError(f"{where}: data.pkl holds a container that contains itself")
    budget[0] -= 1 + len(obj)
    if budget[0] < 0:
        raise DataError(f"{where}: data.pkl expands to more than {MAX_ITEMS} items (shared containers repeated); "
                        f"not a state dict")
    active.add(id(obj))
    try:
        def walk(v):
            return _plain(v, where, budget, active, depth + 1)

        if isinstance(obj, dict):
            pairs = dict.items(obj)  # not obj.items: a BUILD opcode may have shadowed it on the instance
            return (OrderedDict if isinstance(obj, OrderedDict) else dict)((walk(k), walk(v)) for k, v in pairs)
        return type(obj)(walk(v) for v in obj) if type(obj) in (list, tuple, set, frozenset) else list(map(walk, obj))
    finally:
        active.discard(id(obj))


def _decode_storage(raw: bytes, kind: _Storage, numel: int, order: str, where: str) -> np.ndarray:
    if kind.dtype == "bfloat16":
        if len(raw) != 2 * numel:
            raise DataError(f"{where}: holds {len(raw)} bytes, {2 * numel} expected for {numel} bfloat16 values")
        bits = np.frombuffer(raw, dtype=np.dtype("uint16").newbyteorder(order)).astype(np.uint32) << 16
        return bits.view(np.float32)  # every bfloat16 is exactly a float32
    dt = np.dtype(kind.dtype).newbyteorder(order) if np.dtype(kind.dtype).itemsize > 1 else np.dtype(kind.dtype)
    if kind.name == "UntypedStorage":
        numel = len(raw)  # counted in bytes
    if len(raw) != dt.itemsize * numel:
        raise DataError(f"{where}: holds {len(raw)} bytes, {dt.itemsize * numel} expected for {numel} "
                        f"{kind.dtype} values")
    return np.frombuffer(raw, dtype=dt).astype(dt.newbyteorder("="), copy=False)


def _rebuild_tensor(where: str) -> Callable:
    def rebuild(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
        from .tensor import Tensor

        if not isinstance(storage, np.ndarray):
            raise DataError(f"{where}: a tensor's storage is a {type(storage).__name__}, not stored data")
        ints = (storage_offset, *size, *stride)
        if not all(isinstance(v, int) and v >= 0 for v in ints) or len(size) != len(stride):
            raise DataError(f"{where}: tensor with offset {storage_offset}, size {size}, stride {stride} is invalid")
        n = math.prod(size)  # Python ints: a crafted size cannot overflow to 0
        if n:
            require(n * storage.itemsize, f"{where}: a tensor of size {tuple(size)}")
            last = storage_offset + sum((s - 1) * st for s, st in zip(size, stride))
            if last >= storage.size:
                raise DataError(f"{where}: tensor of size {tuple(size)} (offset {storage_offset}, stride "
                                f"{tuple(stride)}) reaches past its storage of {storage.size} values")
            view = np.lib.stride_tricks.as_strided(storage[storage_offset:], shape=tuple(size),
                                                   strides=tuple(st * storage.itemsize for st in stride))
            arr = np.array(view, copy=True, order="C")
        else:
            arr = np.zeros(tuple(size), dtype=storage.dtype)
        t = Tensor._make(arr, None)
        if requires_grad and arr.dtype.kind == "f":
            t.requires_grad_(True)
        return t

    rebuild.rebuilds_tensors = True  # the only functions _rebuild_from_type_v2 may call
    return rebuild


def _rebuild_parameter(where: str) -> Callable:
    def rebuild(data, requires_grad=True, backward_hooks=None, state=None):
        from .nn.parameter import Parameter
        from .tensor import Tensor

        if not isinstance(data, Tensor):
            raise RefusedGlobal(f"{where}: a Parameter can only be rebuilt from a tensor, not from a "
                                f"{type(data).__name__}")
        return Parameter(data, requires_grad=bool(requires_grad) and data.dtype.kind == "f")

    rebuild.rebuilds_tensors = True
    return rebuild


def _rebuild_from_type_v2(where: str) -> Callable:
    def rebuild(func, new_type, args, state):
        from .tensor import Tensor

        if getattr(func, "rebuilds_tensors", False) is not True or not isinstance(new_type, _TypeMarker) \
                or not isinstance(args, tuple):
            raise RefusedGlobal(f"{where}: refused to rebuild a tensor of type {new_type!r} with {func!r:.60}")
        out = func(*args)
        if not isinstance(out, Tensor):
            raise RefusedGlobal(f"{where}: _rebuild_from_type_v2 made a {type(out).__name__}, not a tensor")
        if new_type.name == "Parameter":
            out = _rebuild_parameter(where)(out, out.requires_grad)
        return out

    return rebuild


def _scalar(where: str) -> Callable:
    def scalar(dtype, data=None):
        if not isinstance(dtype, np.dtype) or dtype.kind not in "biufc" or not isinstance(data, bytes):
            raise RefusedGlobal(f"{where}: refused a NumPy scalar of dtype {dtype!r}")
        return np.frombuffer(data, dtype=dtype, count=1)[0].item()

    return scalar


def _numpy_dtype(where: str) -> Callable:
    def make(name, align=False, copy=False):
        dt = np.dtype(name)
        if dt.kind not in "biufc":
            raise RefusedGlobal(f"{where}: refused NumPy dtype {name!r} (only numbers)")
        return dt

    return make


def _encode(where: str) -> Callable:
    def encode(text, encoding="utf-8"):  # protocol 2 stores bytes as _codecs.encode(str, 'latin1')
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise RefusedGlobal(f"{where}: refused _codecs.encode({type(text).__name__}, {encoding!r})")
        return text.encode("latin1")

    return encode


class _SafeUnpickler(pickle.Unpickler):
    def __init__(self, f, where: str, load_storage: Callable) -> None:
        super().__init__(f, encoding="utf-8")
        self.where, self._load_storage = where, load_storage

    def persistent_load(self, pid):
        return self._load_storage(pid)

    def find_class(self, module: str, name: str):
        w = self.where
        allowed: dict[tuple[str, str], Any] = {
            ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor(w),
            ("torch._utils", "_rebuild_tensor"): _rebuild_tensor(w),
            ("torch._utils", "_rebuild_parameter"): _rebuild_parameter(w),
            ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter(w),
            ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2(w),
            ("torch", "Tensor"): _TypeMarker("Tensor"),
            ("torch.nn.parameter", "Parameter"): _TypeMarker("Parameter"),
            ("collections", "OrderedDict"): OrderedDict,
            ("torch", "Size"): tuple,
            ("builtins", "set"): set,
            ("builtins", "frozenset"): frozenset,
            ("builtins", "complex"): complex,
            ("_codecs", "encode"): _encode(w),
            ("numpy.core.multiarray", "scalar"): _scalar(w),
            ("numpy._core.multiarray", "scalar"): _scalar(w),
            ("numpy", "dtype"): _numpy_dtype(w),
        }
        if (module, name) in allowed:
            return allowed[(module, name)]
        if module == "torch" and name in STORAGES:
            return _Storage(name)
        if module == "torch" and name in _DTYPES:
            if name == "bfloat16":
                return np.dtype("float32")
            return np.dtype(_ALIAS.get(name, name))
        if module == "torch" and name == "device":
            from .devices import device

            return device
        raise RefusedGlobal(
            f"{w}: refused to load the global '{module}.{name}': chainrule reads only tensors, numbers, strings "
            "and lists/tuples/dicts of them from PyTorch files and never runs code stored in a pickle "
            "(torch.load(weights_only=True) refuses such files too). Save the state_dict() instead of the "
            "object, or convert the file to safetensors where it is trusted.")


# ------------------------------------------------------------------ writing
def write(obj: Any, archive: str = "archive") -> bytes:
    """``obj`` (nested dicts/lists/tuples of tensors, numbers, strings) as bytes torch.load reads."""
    storages: list[np.ndarray] = []
    ids: dict[int, int] = {}
    out = _bytes_io.BytesIO()
    out.write(b"\x80\x02")  # PROTO 2, as torch.save
    _emit(obj, out, storages, ids, [])
    out.write(b".")  # STOP
    buf = _bytes_io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{archive}/data.pkl", out.getvalue())
        zf.writestr(f"{archive}/byteorder", "little")
        for i, arr in enumerate(storages):
            zf.writestr(f"{archive}/data/{i}", arr.tobytes(order="C"))
        zf.writestr(f"{archive}/version", "3\n")
    return buf.getvalue()


def _global(out, module: str, name: str) -> None:
    out.write(b"c" + module.encode() + b"\n" + name.encode() + b"\n")


def _str(out, s: str) -> None:
    b = s.encode("utf-8")
    out.write(b"X" + struct.pack("<I", len(b)) + b)


def _int(out, v: int) -> None:
    if -(2**31) <= v < 2**31:
        out.write(b"J" + struct.pack("<i", v))
    else:
        b = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
        out.write(b"\x8a" + bytes([len(b)]) + b)


def _tuple(out, items, storages, ids, path) -> None:
    out.write(b"(")
    for i, v in enumerate(items):
        _emit(v, out, storages, ids, path + [i])
    out.write(b"t")


def _emit(obj: Any, out, storages: list, ids: dict, path: list) -> None:
    from .tensor import Tensor

    if obj is None:
        out.write(b"N")
    elif obj is True or obj is False:
        out.write(b"\x88" if obj else b"\x89")
    elif isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        _int(out, int(obj))
    elif isinstance(obj, (float, np.floating)):
        out.write(b"G" + struct.pack(">d", float(obj)))
    elif isinstance(obj, np.bool_):
        out.write(b"\x88" if obj else b"\x89")
    elif isinstance(obj, str):
        _str(out, obj)
    elif isinstance(obj, (Tensor, np.ndarray)):
        _tensor(obj, out, storages, ids, path)
    elif isinstance(obj, dict):
        if isinstance(obj, OrderedDict):
            _global(out, "collections", "OrderedDict")
            out.write(b")R")  # OrderedDict()
        else:
            out.write(b"}")
        if obj:
            out.write(b"(")
            for k, v in obj.items():
                _emit(k, out, storages, ids, path + [k])
                _emit(v, out, storages, ids, path + [k])
            out.write(b"u")
    elif isinstance(obj, list):
        out.write(b"]")
        if obj:
            out.write(b"(")
            for i, v in enumerate(obj):
                _emit(v, out, storages, ids, path + [i])
            out.write(b"e")
    elif isinstance(obj, tuple):
        _tuple(out, obj, storages, ids, path)
    else:
        raise TypeError(unsupported(obj, path))


def unsupported(obj: Any, path: list) -> str:
    """The error for an object that cannot be saved without pickling code (shared with the safetensors path)."""
    at = "".join(f"[{k!r}]" for k in path) or "the top level"
    hint = " save its .state_dict() instead" if hasattr(obj, "state_dict") else ""
    return (f"save: cannot store a {type(obj).__name__} at {at}: chainrule saves tensors, numbers, strings, None "
            f"and lists/tuples/dicts of them, never pickled objects;{hint or ' convert it to one of those'}")


def _tensor(t: Any, out, storages: list, ids: dict, path: list) -> None:
    from .tensor import Tensor

    arr = t.numpy() if isinstance(t, Tensor) else t
    if arr.dtype not in _STORAGE_OF:
        raise TypeError(f"save: the tensor at {path} has dtype {arr.dtype}, which PyTorch files cannot hold")
    key = ids.get(id(t))
    if key is None:  # the same tensor twice is stored once, as torch.save does
        key = ids[id(t)] = len(storages)
        storages.append(np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).reshape(-1)
                        if arr.ndim else arr.astype(arr.dtype.newbyteorder("<")).reshape(1))
    shape = tuple(int(s) for s in arr.shape)
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    _global(out, "torch._utils", "_rebuild_tensor_v2")
    out.write(b"(")
    # the storage: persistent id ('storage', torch.<Type>Storage, key, 'cpu', numel)
    out.write(b"(")
    _str(out, "storage")
    _global(out, "torch", _STORAGE_OF[arr.dtype])
    _str(out, str(key))
    _str(out, "cpu")
    _int(out, int(arr.size))
    out.write(b"tQ")  # TUPLE, BINPERSID
    _int(out, 0)
    _tuple(out, shape, storages, ids, path)
    _tuple(out, tuple(reversed(strides)), storages, ids, path)
    out.write(b"\x88" if getattr(t, "requires_grad", False) else b"\x89")
    _global(out, "collections", "OrderedDict")
    out.write(b")R")
    out.write(b"tR")  # args TUPLE, REDUCE
