"""The device API answers truthfully on a CPU-only installation, in PyTorch's shapes."""
import pytest
import torch

import chainrule as cr
from chainrule.devices import DeviceError, parse_to


def test_device_names_parse_and_compare_like_pytorch():
    assert str(cr.device("cpu")) == "cpu" and repr(cr.device("cpu")) == "device(type='cpu')"
    d = cr.device("cuda:1")
    assert (d.type, d.index) == ("cuda", 1) and str(d) == "cuda:1"
    assert cr.device("cuda", 1) == d and cr.device(d) == d
    assert cr.device("cpu") == "cpu" and cr.device("cpu") != "cuda"
    assert hash(cr.device("cpu")) == hash(cr.device("cpu"))
    with pytest.raises(ValueError, match="unknown device type"):
        cr.device("gpu")


def test_nothing_claims_a_gpu():
    assert cr.cuda.is_available() is False and cr.cuda.device_count() == 0
    assert cr.backends.mps.is_available() is False and cr.backends.cudnn.is_available() is False
    assert cr.accelerator.is_available() is False and cr.accelerator.current_accelerator() is None
    cr.cuda.manual_seed_all(0)  # accepted, as PyTorch does without CUDA
    import chainrule.backends.cudnn as cudnn

    cudnn.benchmark = True  # scripts set it; it must not fail


def test_using_a_missing_device_says_what_to_write():
    with pytest.raises(DeviceError, match=r"CPU only.*device='cpu'"):
        cr.set_default_device("cuda")
    with pytest.raises(DeviceError, match="Linear.cuda"):
        cr.nn.Linear(2, 2).cuda()
    with pytest.raises(DeviceError, match="'mps' is not available"):
        cr.nn.Linear(2, 2, device="mps")
    with pytest.raises(DeviceError, match="cuda.current_device"):
        cr.cuda.current_device()
    cr.set_default_device("cpu")
    assert cr.get_default_device() == "cpu"


@pytest.mark.parametrize("args, kwargs, want", [
    (("cpu",), {}, ("cpu", None)),
    ((cr.float64,), {}, (None, cr.float64)),
    (("cpu", cr.float16), {}, ("cpu", cr.float16)),
    ((), {"device": cr.device("cpu"), "dtype": cr.float32, "non_blocking": True}, ("cpu", cr.float32)),
    ((cr.zeros(1, dtype=cr.float64),), {}, ("cpu", cr.float64)),
])
def test_to_argument_forms(args, kwargs, want):
    dev, dtype = parse_to(args, kwargs)
    assert (None if dev is None else str(dev), dtype) == want


def test_module_to_takes_every_form_and_changes_dtype_in_place():
    m = cr.nn.Linear(3, 2)
    w = m.weight
    assert m.to(cr.device("cpu")) is m and m.to("cpu", non_blocking=True) is m
    m.to(dtype=cr.double)
    assert m.weight is w and w.dtype == cr.float64
    with pytest.raises(TypeError, match="floating point"):
        m.to(cr.long)
    with pytest.raises(DeviceError):
        m.to("cuda")


# ---------------------------------------------------------------- tensors and creation functions
CREATORS = [
    ("zeros", lambda lib, **kw: lib.zeros(2, 3, **kw)),
    ("ones", lambda lib, **kw: lib.ones(2, 3, **kw)),
    ("empty", lambda lib, **kw: lib.empty(2, 3, **kw)),
    ("full", lambda lib, **kw: lib.full((2, 3), 1.5, **kw)),
    ("tensor", lambda lib, **kw: lib.tensor([1.0, 2.0], **kw)),
    ("arange", lambda lib, **kw: lib.arange(4, **kw)),
    ("linspace", lambda lib, **kw: lib.linspace(0, 1, 5, **kw)),
    ("eye", lambda lib, **kw: lib.eye(3, **kw)),
    ("randn", lambda lib, **kw: lib.randn(2, 3, **kw)),
    ("rand", lambda lib, **kw: lib.rand(2, 3, **kw)),
    ("randint", lambda lib, **kw: lib.randint(0, 5, (2, 3), **kw)),
    ("randperm", lambda lib, **kw: lib.randperm(5, **kw)),
    ("zeros_like", lambda lib, **kw: lib.zeros_like(lib.ones(2), **kw)),
    ("ones_like", lambda lib, **kw: lib.ones_like(lib.ones(2), **kw)),
    ("empty_like", lambda lib, **kw: lib.empty_like(lib.ones(2), **kw)),
    ("full_like", lambda lib, **kw: lib.full_like(lib.ones(2), 3.0, **kw)),
    ("randn_like", lambda lib, **kw: lib.randn_like(lib.ones(2), **kw)),
    ("rand_like", lambda lib, **kw: lib.rand_like(lib.ones(2), **kw)),
    ("randint_like", lambda lib, **kw: lib.randint_like(lib.ones(2), 0, 5, **kw)),
    ("as_tensor", lambda lib, **kw: lib.as_tensor([1.0, 2.0], **kw)),
]


@pytest.mark.parametrize("name,make", CREATORS, ids=[c[0] for c in CREATORS])
def test_creation_functions_take_device_like_torch(name, make):
    ours, theirs = make(cr, device="cpu"), make(torch, device="cpu")
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "chainrule.")
    assert make(cr, device=cr.device("cpu")).device == cr.device("cpu")
    with pytest.raises(cr.devices.DeviceError, match=f"{name}: device 'cuda' is not available"):
        make(cr, device="cuda")


def test_tensor_device_is_a_device_and_to_takes_every_form():
    x = cr.ones(2, requires_grad=True)
    assert isinstance(x.device, cr.device) and x.device.type == "cpu" and x.device == "cpu" and not x.is_cuda
    assert x.to("cpu") is x and x.to(cr.device("cpu")) is x and x.to(x) is x and x.cpu() is x
    y = x.to("cpu", cr.float64)
    assert y.dtype == cr.float64 and y.grad_fn is not None  # a dtype change stays differentiable
    assert x.to(device="cpu", dtype=cr.float64).dtype == cr.float64
    assert x.to(cr.zeros(1, dtype=cr.float64)).dtype == cr.float64  # to(other): other's dtype and device
    copied = x.to("cpu", copy=True)
    assert copied is not x and copied.tolist() == x.tolist()
    for call in (lambda: x.to("cuda"), lambda: x.cuda(), lambda: x.to("cuda:0", cr.float64)):
        with pytest.raises(cr.devices.DeviceError, match="not available"):
            call()


def test_placement_keywords_that_need_a_gpu_or_another_layout_are_refused_by_name():
    assert cr.zeros(2, pin_memory=False).shape == (2,)
    with pytest.raises(ValueError, match="zeros: pin_memory=True is not available"):
        cr.zeros(2, pin_memory=True)
    with pytest.raises(TypeError, match=r"zeros\(out=\.\.\.\) is not supported"):
        cr.zeros(2, out=cr.zeros(2))
    with pytest.raises(TypeError, match="ones.. got an unexpected keyword argument 'colour'"):
        cr.ones(2, colour="red")
