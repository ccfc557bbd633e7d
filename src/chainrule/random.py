"""Random generators: the global one behind randn/rand, init and dropout, and ``cr.Generator`` for private streams.

Every function that draws random numbers takes ``generator=None`` and asks
``generator(g)`` for the NumPy generator to use, so the choice between the
global stream and a caller's own lives here and nowhere else.
"""
from __future__ import annotations

from typing import Any

import numpy as np


class Generator:
    """A random stream of its own, as ``torch.Generator``: ``g = cr.Generator().manual_seed(0)``.

    The numbers differ from PyTorch's (a different algorithm), but the same
    seed gives the same numbers every time.
    """

    def __init__(self, device: Any = "cpu") -> None:
        from .devices import device as _device

        self.device = _device(device)
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))

    def manual_seed(self, seed: int) -> "Generator":
        from .arguments import seed as checked_seed

        value = checked_seed("manual_seed", seed)  # PyTorch's range; negative seeds wrap around as there
        self._seed = int(seed)
        self._rng = np.random.default_rng(value)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy and return the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return {"seed": self._seed, "bit_generator": self._rng.bit_generator.state}

    def set_state(self, state: dict) -> "Generator":
        self._seed = state["seed"]
        self._rng.bit_generator.state = state["bit_generator"]
        return self

    def __repr__(self) -> str:
        return f"<chainrule.Generator seed={self._seed}>"


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Make everything random in chainrule repeatable from here on (returns the global Generator)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    """The global stream's state as a uint8 tensor (PyTorch's ByteTensor), for ``set_rng_state`` later."""
    import json

    from .tensor import Tensor

    text = json.dumps(default_generator.get_state())
    return Tensor._make(np.frombuffer(text.encode(), np.uint8).copy(), None)


def set_rng_state(state) -> None:
    """Put the global stream back to a state from ``get_rng_state`` (checked before it is used)."""
    import json

    from .errors import DataError

    arr = np.asarray(state)
    try:
        if arr.dtype != np.uint8 or arr.ndim != 1:
            raise ValueError(f"a 1-D uint8 tensor, got {arr.dtype} of shape {arr.shape}")
        value = json.loads(arr.tobytes().decode())
        bits = value["bit_generator"]
        if not isinstance(value["seed"], int) or bits.get("bit_generator") != "PCG64":
            raise ValueError("not a state of chainrule's generator")
        probe = np.random.default_rng()
        probe.bit_generator.state = bits  # NumPy checks the numbers
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as e:
        raise DataError(f"set_rng_state: this is not a state from cr.get_rng_state() ({e})") from None
    default_generator.set_state(value)


def generator(gen: "Generator | np.random.Generator | None" = None) -> np.random.Generator:
    """The NumPy generator to draw from: the caller's ``gen`` if given, else the global stream."""
    if gen is None:
        return default_generator._rng
    if isinstance(gen, Generator):
        return gen._rng
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(f"generator must be a chainrule.Generator (or numpy.random.Generator), not {type(gen).__name__}")
