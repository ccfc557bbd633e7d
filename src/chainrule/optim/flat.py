"""A parameter group laid end to end in one array, with its optimizer state beside it.

An update written per parameter costs a few NumPy calls per parameter; on a
small network those calls, not the arithmetic, are most of the optimizer's
time.  Once a group's parameters are views of one flat array, and each state
buffer is a view of another, every step of the update that does not involve
the gradient is one call over the whole group.  Gradients stay separate
arrays (backward makes them), so only the terms with ``g`` loop per parameter.

Only groups of up to ``MAX_PACKED`` elements are packed: the calls saved
matter on small networks, not on large ones.

Packing replaces each parameter's ``.data`` by a view with the same values,
shape and memory order.  It is done only for arrays that nothing else holds
(no other reference and no view): otherwise someone holding the old array
would stop seeing the updates, as they do in PyTorch.
"""
from __future__ import annotations

import sys

from ..backend import xp
from ..tensor import Tensor

_SOLE_OWNER = 2  # the Tensor's slot and getrefcount's own argument
# Above about a million elements the per-parameter calls are a rounding error beside the passes
# over memory, and packing would hold two copies of the weights for a moment (peak memory) and
# move large buffers out of the heap, which made the allocator return and refault memory each step.
MAX_PACKED = 1 << 20


def _view_like(flat_part, arr):
    """``flat_part`` shaped as ``arr``, in ``arr``'s memory order (C or Fortran)."""
    if arr.flags.c_contiguous or arr.ndim < 2:
        return flat_part.reshape(arr.shape)
    return flat_part.reshape(arr.shape[::-1]).T


class FlatGroup:
    """The parameters of one group as views of ``self.flat``; state buffers as views of flat arrays."""

    __slots__ = ("params", "flat", "views", "buffers", "scratch", "scratch_views")

    def __init__(self, params: list) -> None:
        dtype = params[0].data.dtype
        total = sum(p.data.size for p in params)
        self.params = params
        self.flat = xp.empty(total, dtype=dtype)
        self.views = self._views(self.flat)
        for p, v in zip(params, self.views):
            v[...] = p.data
            p.data = v
        self.buffers: dict = {}
        self.scratch = xp.empty_like(self.flat)  # a temporary for the update, kept out of the state
        self.scratch_views = self._views(self.scratch)

    @classmethod
    def pack(cls, params: list) -> FlatGroup | None:
        """Pack ``params`` when every one is a float array of one dtype that only its Tensor holds."""
        if not params or sum(p.data.size for p in params) > MAX_PACKED:
            return None
        dtype = params[0].data.dtype
        for p in params:
            d = p.data
            if (d.dtype != dtype or d.dtype.kind != "f" or d.base is not None
                    or not (d.flags.c_contiguous or d.flags.f_contiguous)):
                return None
            del d
            if sys.getrefcount(p.data) != _SOLE_OWNER:
                return None
        return cls(params)

    def _views(self, flat) -> list:
        out, start = [], 0
        for p in self.params:
            n = p.data.size
            out.append(_view_like(flat[start:start + n], p.data))
            start += n
        return out

    def intact(self, params: list) -> bool:
        """True while ``params`` are this group's and each still is its view (no new ``.data``)."""
        if len(params) != len(self.params):
            return False
        for p, mine, v in zip(params, self.params, self.views):
            if p is not mine or p.data is not v:
                return False
        return True

    def buffer(self, state: dict, name: str):
        """The flat array behind ``state[p][name]`` for every parameter, creating or adopting them.

        A buffer the state already holds as a separate array (loaded from a state
        dict, or made by the per-parameter path) is copied into its view first.
        """
        entry = self.buffers.get(name)
        if entry is None:
            flat = xp.zeros_like(self.flat)
            entry = self.buffers[name] = (flat, self._views(flat))
        flat, views = entry
        for p, v in zip(self.params, views):
            st = state[p]
            t = st.get(name)
            if t is None:
                v[...] = 0
                st[name] = Tensor._make(v, None)
            elif t.data is not v:
                v[...] = t.data
                t.data = v
        return flat, views
