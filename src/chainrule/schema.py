"""Check what a file says before anything uses it: one small validator for every loaded structure.

A spec is a function ``(value, where) -> value`` that returns the value (possibly
converted) or raises a DataError naming ``where``, what was expected and what
was found. Checkpoint metadata, optimizer and scheduler state, RNG state and
JSON inputs all go through here, so a crafted file gets one clear error
instead of a KeyError, a RecursionError or an overwritten method.
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable

from .errors import DataError

Spec = Callable[[Any, str], Any]
MAX_JSON_DEPTH = 64  # far deeper than anything chainrule writes; deeper input is refused, not recursed into


def fail(where: str, expected: str, value: Any) -> DataError:
    return DataError(f"{where}: expected {expected}, got {_show(value)}")


def _show(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def load_json(text: str | bytes, where: str, spec: Spec | None = None) -> Any:
    """``json.loads`` that refuses hostile input (too deep, not JSON) with a DataError, then applies ``spec``."""
    if _depth_exceeds(text, MAX_JSON_DEPTH):
        raise DataError(f"{where}: JSON nested more than {MAX_JSON_DEPTH} levels deep; not a file chainrule wrote")
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys)
    except DuplicateKey as e:
        raise DataError(f"{where}: the key {e.args[0]!r} appears twice; a file chainrule wrote never repeats a key") \
            from None
    except (ValueError, TypeError, RecursionError) as e:
        raise DataError(f"{where}: not valid JSON ({e})") from None
    return spec(value, where) if spec is not None else value


class DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list) -> dict:
    """A JSON object whose keys are all different (two readers of a repeated key may each pick another value)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set = set()
        raise DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return out


def _depth_exceeds(text: str | bytes, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (a linear scan, no recursion)."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str) or (text.count("[") + text.count("{")) <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


# ------------------------------------------------------------ specs
def integer(lo: int | None = None, hi: int | None = None) -> Spec:
    def check(v: Any, where: str) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise fail(where, "an integer", v)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise fail(where, f"an integer in [{lo}, {hi}]", v)
        return v
    return check


def whole(lo: int, hi: int) -> Spec:
    """An integer in [lo, hi], written as an int or as a float with no fraction (JSON of a float column)."""
    def check(v: Any, where: str) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v) or v != int(v) \
                or not lo <= v <= hi:
            raise fail(where, f"a whole number in [{lo}, {hi}]", v)
        return v
    return check


def number(v: Any, where: str) -> float:
    """A finite int or float (not a bool), as float (an int too large for a float is not finite)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
        raise fail(where, "a finite number", v)
    return float(v)


def _finite(v: int | float) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def real(v: Any, where: str) -> float:
    """An int or float (not a bool), NaN and infinities included (a metric that was not measured)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or isinstance(v, int) and not _finite(v):
        raise fail(where, "a number", v)
    return float(v)


def string(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise fail(where, "a string", v)
    return v


def boolean(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        raise fail(where, "true or false", v)
    return v


def anything(v: Any, where: str) -> Any:
    return v


def optional(spec: Spec) -> Spec:
    return lambda v, where: None if v is None else spec(v, where)


def list_of(spec: Spec, length: int | None = None) -> Spec:
    def check(v: Any, where: str) -> list:
        if not isinstance(v, (list, tuple)):
            raise fail(where, "a list", v)
        if length is not None and len(v) != length:
            raise fail(where, f"a list of {length}", v)
        return [spec(x, f"{where}[{i}]") for i, x in enumerate(v)]
    return check


def mapping(key: Spec, value: Spec) -> Spec:
    def check(v: Any, where: str) -> dict:
        if not isinstance(v, dict):
            raise fail(where, "an object", v)
        return {key(k, f"{where} key"): value(x, f"{where}[{k!r}]") for k, x in v.items()}
    return check


def record(required: dict[str, Spec], optional_keys: dict[str, Spec] | None = None, extra: bool = False) -> Spec:
    """An object with exactly these keys (``extra=True``: others are kept unchecked)."""
    optional_keys = optional_keys or {}

    def check(v: Any, where: str) -> dict:
        if not isinstance(v, dict):
            raise fail(where, "an object", v)
        missing = [k for k in required if k not in v]
        if missing:
            raise DataError(f"{where}: missing {', '.join(map(repr, missing))} (has {sorted(map(str, v))})")
        unknown = [k for k in v if k not in required and k not in optional_keys]
        if unknown and not extra:
            raise DataError(f"{where}: unexpected {', '.join(map(repr, unknown))}")
        out = {k: s(v[k], f"{where}.{k}") for k, s in {**required, **optional_keys}.items() if k in v}
        out.update({k: v[k] for k in unknown})
        return out
    return check


def conform(current: Any, new: Any, where: str) -> Any:
    """``new`` checked to be the same kind of value as ``current`` (and converted to its container type).

    How optimizer and scheduler state is loaded: only values shaped like the
    ones the object already holds are accepted, so a file cannot smuggle in a
    function, a string where a number goes, or a list of the wrong length.
    """
    if isinstance(current, bool):
        return boolean(new, where)
    if isinstance(current, int):
        return integer()(new, where)
    if isinstance(current, float):
        return number(new, where)
    if isinstance(current, str):
        return string(new, where)
    if current is None:
        return None if new is None else _scalar(new, where)
    if isinstance(current, list) and current and all(type(c) is type(current[0]) for c in current):
        if not isinstance(new, (list, tuple)):  # a list of like values (per-group lrs): any length, as PyTorch
            raise fail(where, "a list", new)
        return [conform(current[0], n, f"{where}[{i}]") for i, n in enumerate(new)]
    if isinstance(current, (list, tuple)):
        if not isinstance(new, (list, tuple)) or len(new) != len(current):
            raise fail(where, f"a list of {len(current)}", new)
        items = [conform(c, n, f"{where}[{i}]") for i, (c, n) in enumerate(zip(current, new))]
        return type(current)(items)
    if isinstance(current, dict):
        if not isinstance(new, dict):
            raise fail(where, "an object", new)
        if all(isinstance(k, str) for k in current):  # a record: the same keys, each of its own kind
            if set(new) != set(current):
                raise DataError(f"{where}: expected the keys {sorted(current)}, got {sorted(map(str, new))[:8]}")
            return type(current)({k: conform(current[k], new[k], f"{where}.{k}") for k in current})
        # a mapping such as MultiStepLR's milestones {epoch: count}: integer keys and values
        return type(current)({integer()(k, f"{where} key"): integer()(v, f"{where}[{k!r}]") for k, v in new.items()})
    raise DataError(f"{where}: a {type(current).__name__} cannot be loaded from a file")


def _scalar(v: Any, where: str) -> Any:
    if isinstance(v, (bool, str, int)):
        return v
    return number(v, where)
