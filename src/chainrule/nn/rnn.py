"""RNN, LSTM, GRU and their cells, with PyTorch's parameter names, shapes, gate order and I/O conventions.

Every step is composed of table ops (linear, sigmoid, tanh, mul, add), so the
gradients, to any order, need no rule of their own.  The input-to-hidden
products of all time steps are one ``linear`` per layer and direction; only the
hidden-to-hidden product runs step by step.

Gate order (as PyTorch's weights are laid out): LSTM i, f, g, o; GRU r, z, n.
"""
from __future__ import annotations

import math

from .. import arguments as arg
from ..creation import empty, zeros
from ..errors import ShapeError
from ..ops.elementwise import relu, sigmoid, tanh
from ..ops.linalg import linear
from ..ops.shape import cat, stack
from ..tensor import Tensor
from . import init
from .functional import _match_dtype, dropout
from .module import Module, _check_device, layer_input
from .parameter import Parameter

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# ------------------------------------------------------------------ one step
def _step(mode: str, xw: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor, b_hh: Tensor | None,
          w_hr: Tensor | None = None):
    """One time step from the input's projection ``xw`` (x W_ihᵀ + b_ih) and the state: (h', c')."""
    hw = linear(h, w_hh, b_hh)
    if mode == "LSTM":
        i, f, g, o = (xw + hw).chunk(4, 1)
        c = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h = sigmoid(o) * tanh(c)
        return (h if w_hr is None else linear(h, w_hr, None)), c
    if mode == "GRU":
        xr, xz, xn = xw.chunk(3, 1)
        hr, hz, hn = hw.chunk(3, 1)
        r = sigmoid(xr + hr)
        z = sigmoid(xz + hz)
        n = tanh(xn + r * hn)
        return n + z * (h - n), None  # (1 − z)·n + z·h
    pre = xw + hw
    return (tanh(pre) if mode == "RNN_TANH" else relu(pre)), None


def _check_state(owner: str, name: str, t, want: tuple) -> Tensor:
    if not isinstance(t, Tensor):
        raise arg.ArgumentError(f"{owner}: {name} must be a Tensor, got {type(t).__name__}")
    if tuple(t._data.shape) != want:
        raise ShapeError(f"{owner}: {name} must have shape {want}, got {tuple(t._data.shape)}")
    return t


# ------------------------------------------------------------------ layers over sequences
class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrence shared by RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        super().__init__()
        _check_device(device)
        name = type(self).__name__
        self.mode = mode
        self.input_size = arg.integer(name, "input_size", input_size, 1)
        self.hidden_size = arg.integer(name, "hidden_size", hidden_size, 1)
        self.num_layers = arg.integer(name, "num_layers", num_layers, 1)
        arg.number(name, "dropout", dropout, 0.0, 1.0)
        self.dropout = dropout  # as given: the repr shows it so
        self.proj_size = arg.integer(name, "proj_size", proj_size, 0)
        if self.proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported for LSTM, not RNN or GRU")
        if self.proj_size >= self.hidden_size:
            raise ValueError(f"{name}: proj_size {proj_size} has to be smaller than hidden_size {hidden_size}")
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        gates = _GATES[mode] * self.hidden_size
        out = self.proj_size or self.hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(self.num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                fan_in = self.input_size if layer == 0 else out * dirs
                shapes = [("weight_ih", (gates, fan_in)), ("weight_hh", (gates, out))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if self.proj_size:
                    shapes.append(("weight_hr", (self.proj_size, self.hidden_size)))
                for pname, shape in shapes:
                    setattr(self, pname + sfx, Parameter(empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(pname + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(−1/√hidden_size, 1/√hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights for cuDNN here; on NumPy there is nothing to do."""

    @property
    def all_weights(self) -> list:
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _weights(self, layer: int, d: int):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = self._parameters.get
        return (get("weight_ih" + sfx), get("weight_hh" + sfx), get("bias_ih" + sfx), get("bias_hh" + sfx),
                get("weight_hr" + sfx))

    def forward(self, input: Tensor, hx=None):
        name = type(self).__name__
        if type(input).__name__ == "PackedSequence":
            raise NotImplementedError(f"{name}: PackedSequence input is not supported; pass the padded tensor "
                                      "(and mask or pick the outputs at each sequence's length)")
        x = layer_input(input, name)
        if x._data.ndim not in (2, 3):
            raise ShapeError(f"{name}: expected input of shape (L, N, H_in)"
                             f"{' (batch_first: (N, L, H_in))' if self.batch_first else ''} or unbatched "
                             f"(L, H_in), got {tuple(x._data.shape)}")
        if x._data.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input has {x._data.shape[-1]} features (last axis of shape "
                             f"{tuple(x._data.shape)}), the layer expects input_size={self.input_size}")
        x = _match_dtype(x, self.weight_ih_l0, name)
        batched = x._data.ndim == 3
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        n = x._data.shape[1]
        dirs = 2 if self.bidirectional else 1
        out_size = self.proj_size or self.hidden_size
        h0, c0 = self._initial_state(hx, n, dirs, out_size, batched, x._data.dtype)
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                seq, h, c = self._direction(x, h0[k], None if c0 is None else c0[k], layer, d)
                outs.append(seq)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if dirs == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = dropout(x, self.dropout, True)
        out = x
        h_n = stack(h_n, 0)
        c_n = stack(c_n, 0) if self.mode == "LSTM" else None
        if not batched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return (out, (h_n, c_n)) if self.mode == "LSTM" else (out, h_n)

    def _initial_state(self, hx, n: int, dirs: int, out_size: int, batched: bool, dtype):
        name = type(self).__name__
        k = self.num_layers * dirs
        shape_h = (k, n, out_size) if batched else (k, out_size)
        shape_c = (k, n, self.hidden_size) if batched else (k, self.hidden_size)
        if hx is None:
            h0 = zeros(*shape_h, dtype=dtype)
            c0 = zeros(*shape_c, dtype=dtype) if self.mode == "LSTM" else None
        elif self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise arg.ArgumentError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            h0 = _check_state(name, "h_0", hx[0], shape_h)
            c0 = _check_state(name, "c_0", hx[1], shape_c)
        else:
            if isinstance(hx, (tuple, list)):
                raise arg.ArgumentError(f"{name}: hx must be one Tensor h_0 (a tuple is LSTM's (h_0, c_0))")
            h0, c0 = _check_state(name, "h_0", hx, shape_h), None
        if not batched:
            h0 = h0.unsqueeze(1)
            c0 = None if c0 is None else c0.unsqueeze(1)
        return h0, c0

    def _direction(self, x: Tensor, h: Tensor, c: Tensor | None, layer: int, d: int):
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
        steps, n = x._data.shape[0], x._data.shape[1]
        xw = linear(x.reshape(steps * n, x._data.shape[2]), w_ih, b_ih).reshape(steps, n, -1)
        xs = xw.unbind(0)
        outs: list = [None] * steps
        for t in (range(steps - 1, -1, -1) if d else range(steps)):
            h, c = _step(self.mode, xs[t], h, c, w_hh, b_hh, w_hr)
            outs[t] = h
        return stack(outs, 0) if steps else zeros(0, n, h._data.shape[-1], dtype=x._data.dtype), h, c

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) (or relu): RNN(input_size, hidden_size,
    num_layers=1, nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0, bidirectional=False)."""

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("RNN: proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity, args = args[3], args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; select from 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)


class LSTM(RNNBase):
    """LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0): returns (output, (h_n, c_n))."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("GRU: proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ------------------------------------------------------------------ cells (one step)
class RNNCellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None) -> None:
        super().__init__()
        _check_device(device)
        name = type(self).__name__
        self.input_size = arg.integer(name, "input_size", input_size, 1)
        self.hidden_size = arg.integer(name, "hidden_size", hidden_size, 1)
        self.bias = bias
        g = num_chunks * self.hidden_size
        self.weight_ih = Parameter(empty(g, self.input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(g, self.hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(g, dtype=dtype))
            self.bias_hh = Parameter(empty(g, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _input(self, input: Tensor):
        name = type(self).__name__
        x = layer_input(input, name)
        if x._data.ndim not in (1, 2) or x._data.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: expected input of shape (N, {self.input_size}) or ({self.input_size},), "
                             f"got {tuple(x._data.shape)}")
        x = _match_dtype(x, self.weight_ih, name)
        batched = x._data.ndim == 2
        return (x if batched else x.unsqueeze(0)), batched

    def _state(self, t, name: str, batched: bool, n: int, dtype) -> Tensor:
        if t is None:
            return zeros(n, self.hidden_size, dtype=dtype)
        want = (n, self.hidden_size) if batched else (self.hidden_size,)
        t = _check_state(type(self).__name__, name, t, want)
        return t if batched else t.unsqueeze(0)

    def _run(self, mode: str, input: Tensor, hx, cx=None):
        x, batched = self._input(input)
        n, dtype = x._data.shape[0], x._data.dtype
        h = self._state(hx, "hx", batched, n, dtype)
        c = self._state(cx, "cx", batched, n, dtype) if mode == "LSTM" else None
        h, c = _step(mode, linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)
        if not batched:
            h = h.squeeze(0)
            c = None if c is None else c.squeeze(0)
        return h, c

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; select from 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._run("RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU", input, hx)[0]


class LSTMCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None):
        """(h', c') from input and hx = (h, c) (zeros when None)."""
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise arg.ArgumentError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
        h, c = hx if hx is not None else (None, None)
        return self._run("LSTM", input, h, c)


class GRUCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._run("GRU", input, hx)[0]
