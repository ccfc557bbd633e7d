"""PyTorch's process-wide switches, legacy constructors, constants and print options (issue 12).

Each is checked against what torch does with the same call, or against the
clear error chainrule gives where it differs on purpose.
"""
import math

import numpy as np
import pytest
import torch

import chainrule as cr


@pytest.mark.parametrize("args", [(2, 3), (4,), (), (0, 2)])
def test_tensor_of_sizes_is_a_float32_tensor_of_that_shape(args):
    ours, theirs = cr.Tensor(*args), torch.Tensor(*args)
    assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch", "chainrule")
    assert not ours.numpy().any()  # PyTorch leaves them uninitialised; chainrule's are zeros
    assert cr.Tensor(cr.zeros(2, 5).shape).shape == (2, 5)
    assert cr.Tensor([1, 2]).tolist() == [1.0, 2.0] and cr.Tensor([1, 2]).dtype == cr.float32


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor",
                                  "ByteTensor"])
def test_legacy_typed_constructors_and_isinstance_like_torch(name):
    ours, theirs = getattr(cr, name)([1, 0, 2]), getattr(torch, name)([1, 0, 2])
    assert str(ours.dtype) == str(theirs.dtype).replace("torch", "chainrule")
    assert ours.tolist() == theirs.tolist()
    assert getattr(cr, name)(2, 3).shape == tuple(getattr(torch, name)(2, 3).shape)
    assert isinstance(ours, getattr(cr, name)) and isinstance(ours, cr.Tensor)
    other = "LongTensor" if name != "LongTensor" else "FloatTensor"
    assert not isinstance(ours, getattr(cr, other)) and not isinstance(theirs, getattr(torch, other))
    assert cr.is_tensor(ours) and not cr.is_tensor(np.zeros(2))


def test_variable_is_the_tensor_itself():
    x = cr.ones(2)
    v = cr.autograd.Variable(x, requires_grad=True)
    assert v is x and v.requires_grad
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]


def test_inference_mode_as_context_and_decorator():
    x = cr.ones(1, requires_grad=True)
    with cr.inference_mode():
        assert not (x * 2).requires_grad
    with cr.inference_mode(False):
        assert (x * 2).requires_grad

    @cr.inference_mode
    def bare(t):
        return t * 2

    @cr.inference_mode()
    def called(t):
        return t * 2

    assert not bare(x).requires_grad and not called(x).requires_grad and cr.is_grad_enabled()


def test_constants_limits_and_default_dtype_like_torch():
    assert (cr.inf, cr.pi, cr.e) == (torch.inf, torch.pi, torch.e) and math.isnan(cr.nan)
    for ours, theirs in ((cr.float32, torch.float32), (cr.float64, torch.float64), (cr.float16, torch.float16)):
        f, tf = cr.finfo(ours), torch.finfo(theirs)
        assert (f.eps, f.max, f.tiny, f.bits) == (tf.eps, tf.max, tf.tiny, tf.bits)
    assert cr.iinfo(cr.int64).max == torch.iinfo(torch.int64).max and cr.finfo().eps == torch.finfo().eps
    with pytest.raises(TypeError, match="not a floating-point dtype"):
        cr.finfo(cr.int64)
    assert str(cr.get_default_dtype()) == str(torch.get_default_dtype()).replace("torch", "chainrule")
    cr.set_default_dtype(cr.float32)  # the default, accepted
    with pytest.raises(TypeError, match="default float dtype stays float32.*double"):
        cr.set_default_dtype(cr.float64)


def test_threads_are_really_limited():
    from threadpoolctl import threadpool_info

    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
        with pytest.raises(cr.ArgumentError, match="set_num_threads: the number of threads must be an integer >= 1"):
            cr.set_num_threads(0)
    finally:
        cr.set_num_threads(before)


def test_determinism_flag_reads_back_and_compile_returns_the_model():
    cr.use_deterministic_algorithms(True)
    assert cr.are_deterministic_algorithms_enabled()
    cr.use_deterministic_algorithms(False)
    assert not cr.are_deterministic_algorithms_enabled()
    model = cr.nn.Linear(2, 2)
    assert cr.compile(model) is model and cr.compile(mode="max-autotune")(model) is model


def test_rng_state_round_trip_and_a_foreign_state_is_refused():
    cr.manual_seed(3)
    state = cr.get_rng_state()
    assert state.dtype == cr.uint8 and state.ndim == 1
    a = cr.randn(5)
    cr.set_rng_state(state)
    assert cr.randn(5).tolist() == a.tolist()
    with pytest.raises(cr.DataError, match="set_rng_state: this is not a state from cr.get_rng_state"):
        cr.set_rng_state(cr.tensor(np.frombuffer(b'{"seed": 1}', np.uint8)))
    with pytest.raises(cr.DataError, match="1-D uint8"):
        cr.set_rng_state(cr.zeros(3))


def test_print_options_follow_torch():
    values = [1.23456789, -20.5, 0.001]
    try:
        for kwargs in ({"precision": 2}, {"precision": 6}, {"profile": "default"}):
            cr.set_printoptions(**kwargs)
            torch.set_printoptions(**kwargs)
            assert repr(cr.tensor(values)) == repr(torch.tensor(values))
        cr.set_printoptions(threshold=5, edgeitems=2)
        torch.set_printoptions(threshold=5, edgeitems=2)
        assert repr(cr.arange(10)) == repr(torch.arange(10))
    finally:
        cr.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    with pytest.raises(ValueError, match="profile must be one of"):
        cr.set_printoptions(profile="tiny")
