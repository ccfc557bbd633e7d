"""A parameter group's optimizer state laid end to end in flat arrays that the optimizer allocated.

An update written per parameter costs a few NumPy calls per parameter; on a
small network those calls, not the arithmetic, are most of the optimizer's
time.  When each state buffer (momentum, Adam's moments, a scratch array) is a
view of one flat array, every step of the update that involves neither the
gradient nor the parameter itself is one call over the whole group.

The boundary is explicit: only memory this optimizer allocated is packed.  The
parameters are never moved or replaced, so anyone holding a parameter's array
(``w.numpy()``, an old ``w._data``) keeps seeing every update, as in PyTorch, and a
second optimizer over the same parameters behaves exactly like the first.

Only groups of up to ``MAX_PACKED`` elements are packed: the calls saved matter on
small networks, not on large ones.
"""
from __future__ import annotations

from .. import layout
from ..backend import xp
from ..tensor import Tensor

# Above about a million elements the per-parameter calls are a rounding error beside the passes over
# memory, and the flat copies would move large buffers out of the heap (the allocator then returns and
# refaults memory each step).
MAX_PACKED = 1 << 20


class FlatState:
    """The state buffers of one group of parameters, each a view of one flat array per name."""

    __slots__ = ("params", "shapes", "dtype", "size", "buffers", "scratch", "scratch_views")

    def __init__(self, params: list) -> None:
        self.params = list(params)
        self.shapes = [p._data.shape for p in params]
        self.dtype = params[0]._data.dtype
        self.size = sum(p._data.size for p in params)
        self.buffers: dict = {}
        self.scratch = xp.empty(self.size, dtype=self.dtype)  # a temporary for the update, kept out of the state
        self.scratch_views = self._views(self.scratch)

    @classmethod
    def make(cls, params: list) -> FlatState | None:
        """Flat state for ``params`` when they are float arrays of one dtype and small enough together."""
        if not params or sum(p._data.size for p in params) > MAX_PACKED:
            return None
        dtype = params[0]._data.dtype
        if any(p._data.dtype != dtype or dtype.kind != "f" for p in params):
            return None
        return cls(params)

    def _views(self, flat) -> list:
        out, start = [], 0
        for p in self.params:
            n = p._data.size
            out.append(layout.view_like(flat[start:start + n], p._data))  # the parameter's memory order
            start += n
        return out

    def fits(self, params: list) -> bool:
        """True while ``params`` are this group's, with the shapes and dtype the buffers were made for."""
        if len(params) != len(self.params):
            return False
        for p, mine, shape in zip(params, self.params, self.shapes):
            if p is not mine or p._data.shape != shape or p._data.dtype != self.dtype:
                return False
        return True

    def buffer(self, state: dict, name: str):
        """The flat array behind ``state[p][name]`` for every parameter, creating or adopting them.

        A buffer the state already holds as a separate array (loaded from a state
        dict, or made by the per-parameter path) is copied into its view first.
        """
        entry = self.buffers.get(name)
        if entry is None:
            flat = xp.zeros(self.size, dtype=self.dtype)
            entry = self.buffers[name] = (flat, self._views(flat))
        flat, views = entry
        for p, v in zip(self.params, views):
            st = state[p]
            t = st.get(name)
            if t is None:
                v[...] = 0
                st[name] = Tensor._make(v, None)
            elif t._data is not v:
                v[...] = t._data
                t._data = v
        return flat, views
