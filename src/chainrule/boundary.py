"""The one place where an error escaping from NumPy or Python internals becomes chainrule's own.

Every public entry point (``chainrule.<f>``, ``nn.functional.<f>``, Tensor methods, nn layers'
constructors and forward) is guarded: an exception that chainrule's own checks did not raise, or
whose message does not name the op, is re-raised as a ``ChainruleError`` naming the function the
user called, the arguments' shapes and values, and the original message.  Errors from the user's
own code (a hook, a ``Function``, a callback) pass through untouched; so do chainrule's own
errors.  The guard costs one Python call on the way in and nothing more unless something fails.
"""
from __future__ import annotations

import functools
import os
import re
import sys
import sysconfig

from .errors import ArgumentError, ChainruleError, IndexOutOfRange, ShapeError

_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_NUMPY = None  # the NumPy package folder, found on first failure
_STDLIB = os.path.abspath(sysconfig.get_paths()["stdlib"]) + os.sep
_SHAPE_WORDS = re.compile(r"broadcast|shape|dimension|mismatch|size|aligned")


# what NumPy and Python raise on bad input (a MemoryError or a KeyboardInterrupt is no argument's fault)
ESCAPES = (TypeError, ValueError, AttributeError, IndexError, KeyError, OverflowError, ZeroDivisionError)


def guard(fn, name: str | None = None, constructor: bool = False):
    """``fn`` with its escaping errors rephrased as chainrule's, naming ``name`` (default: its own name);
    a ``constructor`` names the class being made (a base class's __init__ runs for its subclasses)."""
    op = name or getattr(fn, "__name__", "call")

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ChainruleError:
            raise
        except ESCAPES as e:
            if constructor:
                new = rephrase(type(args[0]).__name__, e, args[1:], kwargs)
            else:
                new = rephrase(op, e, args, kwargs)
            if new is e:
                raise
            raise new from None

    guarded.__guarded__ = True
    return guarded


def _placed(guarded, module: str, qualname: str):
    """Name the guarded function where it is reachable, so pickle (by reference) finds this very object."""
    guarded.__module__, guarded.__qualname__ = module, qualname
    return guarded


def guard_namespace(namespace: dict, names) -> None:
    """Guard each plain function among ``names`` in a module's globals (its public API)."""
    for name in names:
        fn = namespace.get(name)
        if _is_plain_function(fn):
            namespace[name] = _placed(guard(fn, name), namespace["__name__"], name)


def guard_methods(cls: type, operators: dict | None = None) -> None:
    """Guard every public method of ``cls`` (not properties or attributes), and the ``operators`` named
    (dunder name -> what a message calls it); the arithmetic operators stay unguarded, being the hot path
    (their ops rephrase NumPy's errors themselves, ops/registry.op_error)."""
    for name, fn in list(vars(cls).items()):
        if not name.startswith("_") and _is_plain_function(fn):
            setattr(cls, name, _placed(guard(fn, name), cls.__module__, f"{cls.__qualname__}.{name}"))
    for name, op in (operators or {}).items():
        fn = vars(cls).get(name)
        if _is_plain_function(fn):
            setattr(cls, name, _placed(guard(fn, op), cls.__module__, f"{cls.__qualname__}.{name}"))


def _is_plain_function(fn) -> bool:
    return callable(fn) and not isinstance(fn, type) and hasattr(fn, "__code__") and not getattr(
        fn, "__guarded__", False)


def guard_init(cls: type) -> None:
    """Guard the constructor a chainrule class defines itself (nn layers), naming the class."""
    init = cls.__dict__.get("__init__")
    if init is not None and not getattr(init, "__guarded__", False):
        cls.__init__ = _placed(guard(init, cls.__name__, constructor=True), cls.__module__,
                               f"{cls.__qualname__}.__init__")


def rephrase(op: str, exc: BaseException, args: tuple = (), kwargs: dict | None = None) -> BaseException:
    """``exc`` itself when it is chainrule's own clear error or came from user code; else a chainrule error."""
    where = _culprit(exc)
    if where == "user":
        return exc
    msg = str(exc)
    if where == "chainrule" and op in msg:
        return exc  # one of chainrule's own checks, already naming the op
    text = _plain(exc, msg)
    described = describe(args, kwargs or {})
    full = f"{op}: {text}" + (f" (called with {described})" if described else "")
    if isinstance(exc, (IndexError, KeyError)):
        return IndexOutOfRange(full)
    if isinstance(exc, ValueError) and _SHAPE_WORDS.search(msg) and "too big" not in msg:
        return ShapeError(full)
    return ArgumentError(full)


def _plain(exc: BaseException, msg: str) -> str:
    """The original message, in the user's terms where an internal detail would leak."""
    m = re.match(r"'(\w+)' object has no attribute '(\w+)'", msg)
    if isinstance(exc, AttributeError) and m:
        return f"got a {m.group(1)} where a Tensor (or a value of another type) was expected"
    return msg or type(exc).__name__


def _culprit(exc: BaseException) -> str:
    """Who raised ``exc``: "chainrule", "internals" (NumPy or Python's own library, called by chainrule),
    or "user" (the deepest frame that is not NumPy's or the standard library's is outside chainrule)."""
    global _NUMPY
    if _NUMPY is None:
        np = sys.modules.get("numpy")
        _NUMPY = os.path.dirname(os.path.abspath(np.__file__)) + os.sep if np is not None else "\0"
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    inner_is_ours = bool(frames) and os.path.abspath(frames[-1]).startswith(_HERE)
    for f in reversed(frames):
        if f.startswith("<frozen") or f.endswith(".pyx"):
            continue  # Python's frozen modules; NumPy's compiled parts (they name relative .pyx files)
        f = os.path.abspath(f)
        if f.startswith(_NUMPY) or f.startswith(_STDLIB):
            continue
        if f.startswith(_HERE):
            return "chainrule" if inner_is_ours else "internals"
        return "user"
    return "internals"


def describe(args: tuple, kwargs: dict) -> str:
    """The arguments as a reader wants them: tensors and arrays by shape and dtype, other values by repr."""
    parts = [_one(a) for a in args] + [f"{k}={_one(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _one(v) -> str:
    try:
        return _shown(v)
    except Exception:  # noqa: BLE001 - a value whose repr fails (a half-built object) is named by its type
        return f"<{type(v).__name__}>"


def _shown(v) -> str:
    shape, dtype = getattr(v, "shape", None), getattr(v, "dtype", None)
    if shape is not None and dtype is not None and not isinstance(v, type):
        kind = type(v).__name__
        return f"{'Tensor' if kind == 'Tensor' else kind} of shape {tuple(shape)} ({dtype})"
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."
