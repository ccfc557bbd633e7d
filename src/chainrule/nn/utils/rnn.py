"""PyTorch's ``torch.nn.utils.rnn``: PackedSequence with PyTorch's layout, pack/pad and their inverses.

A PackedSequence holds the time-major concatenation of the sequences' steps
(``data``), how many sequences are still running at each step (``batch_sizes``),
and the permutation that sorted the batch by length.  RNN, LSTM and GRU take one
and return one; ``h_n`` comes back in the batch's original order, as PyTorch.
"""
from __future__ import annotations

from typing import NamedTuple

from ... import arguments as arg
from ...backend import xp
from ...errors import ShapeError
from ...ops.shape import cat, stack
from ...tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "unpack_sequence"]


class PackedSequence(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def lengths(self):
        """Each sequence's length, in sorted order (an array)."""
        bs = self.batch_sizes._data
        return (bs[None, :] > xp.arange(int(bs[0]) if bs.size else 0)[:, None]).sum(1)


def _int64(a) -> Tensor:
    return Tensor._make(xp.asarray(a, dtype=xp.int64), None)


def _lengths(lengths, op: str):
    arr = lengths._data if isinstance(lengths, Tensor) else xp.asarray(
        lengths.detach().cpu().numpy() if hasattr(lengths, "detach") else lengths)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ShapeError(f"{op}: lengths must be a 1-D list or tensor of integers, got {arr!r:.60}")
    return arr.astype(xp.int64)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch (or (B, T, *) with ``batch_first``) whose sequences have ``lengths``."""
    op = "pack_padded_sequence"
    x = input if isinstance(input, Tensor) else Tensor.of(input)
    n = _lengths(lengths, op)
    if x._data.ndim < 2:
        raise ShapeError(f"{op}: input must be at least 2-D (T, B, *), got shape {tuple(x._data.shape)}")
    if batch_first:
        x = x.transpose(0, 1)
    t_max, b = x._data.shape[:2]
    if n.size != b:
        raise ShapeError(f"{op}: {n.size} lengths for a batch of {b} sequences (input {tuple(input.shape)}, "
                         f"batch_first={batch_first})")
    if n.size and n.min() <= 0:
        raise ValueError(f"{op}: length of all samples has to be greater than 0, got {n.tolist()}")
    if n.size and n.max() > t_max:
        raise ShapeError(f"{op}: a length {int(n.max())} is longer than the input's {t_max} steps")
    if enforce_sorted:
        if (xp.diff(n) > 0).any():
            raise ValueError(f"{op}: lengths {n.tolist()} must be sorted in decreasing order when "
                             "enforce_sorted=True; pass enforce_sorted=False to have them sorted")
        sorted_idx = None
    else:
        sorted_idx = xp.argsort(-n, kind="stable")
        n = n[sorted_idx]
        x = x[:, sorted_idx]
    sizes = (n[None, :] > xp.arange(int(n[0]))[:, None]).sum(1)
    data = cat([x[t, :int(s)] for t, s in enumerate(sizes)], 0)
    if sorted_idx is None:
        return PackedSequence(data, _int64(sizes))
    return PackedSequence(data, _int64(sizes), _int64(sorted_idx), _int64(xp.argsort(sorted_idx)))


def padded_sorted(sequence: PackedSequence, padding_value: float = 0.0, total_length: int | None = None):
    """(T, B, *) in the packed (sorted) batch order, and the sorted lengths."""
    bs = sequence.batch_sizes._data.astype(xp.int64)
    data = sequence.data
    b = int(bs[0])
    steps, start = [], 0
    for s in bs:
        s = int(s)
        step = data[start:start + s]
        if s < b:
            fill = Tensor._make(xp.full((b - s,) + tuple(data._data.shape[1:]), padding_value, dtype=data._data.dtype),
                                None)
            step = cat([step, fill], 0)
        steps.append(step)
        start += s
    t = len(steps)
    if total_length is not None:
        if total_length < t:
            raise ValueError(f"pad_packed_sequence: total_length {total_length} is less than the longest sequence "
                             f"{t}")
        blank = Tensor._make(xp.full((b,) + tuple(data._data.shape[1:]), padding_value, dtype=data._data.dtype), None)
        steps += [blank] * (total_length - t)
    return stack(steps, 0), sequence.lengths()


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None):
    """The padded batch (T, B, *) (or (B, T, *)) in the original order, and the lengths (int64)."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    out, lengths = padded_sorted(sequence, padding_value, total_length)
    if sequence.unsorted_indices is not None:
        idx = sequence.unsorted_indices._data
        out, lengths = out[:, idx], lengths[idx]
    return (out.transpose(0, 1) if batch_first else out), _int64(lengths)


def repack(padded: Tensor, like: PackedSequence) -> PackedSequence:
    """(T, B, *) in sorted order -> a PackedSequence with ``like``'s batch sizes and permutation."""
    data = cat([padded[t, :int(s)] for t, s in enumerate(like.batch_sizes._data)], 0)
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (L_i, *) into (L_max, B, *) (or (B, L_max, *)), padding each to L_max."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', not {padding_side!r}")
    seqs = [s if isinstance(s, Tensor) else Tensor.of(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    tails = {tuple(s._data.shape[1:]) for s in seqs}
    if len(tails) != 1 or any(s._data.ndim == 0 for s in seqs):
        raise ShapeError(f"pad_sequence: sequences must be (L, *) with the same trailing shape, got "
                         f"{[tuple(s._data.shape) for s in seqs]}")
    longest = max(s._data.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        short = longest - s._data.shape[0]
        if short:
            fill = Tensor._make(xp.full((short,) + tuple(s._data.shape[1:]), padding_value, dtype=s._data.dtype), None)
            s = cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    n = _lengths(lengths, "unpad_sequence")
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :int(k)] for i, k in enumerate(n)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    lengths = [arg.integer("pack_sequence", "sequence length", len(s), 1) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
