"""The device API answers truthfully on a CPU-only installation, in PyTorch's shapes."""
import pytest

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
