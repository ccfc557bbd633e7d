"""Bad input gets a chainrule error that names the op and the shapes, dtypes or values at fault."""
from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "maximum": cr.maximum, "minimum": cr.minimum,
    "matmul": lambda a, b: a @ b,
}


def test_error_classes_are_chainrule_errors_and_builtin_ones():
    assert issubclass(cr.ShapeError, cr.ChainruleError) and issubclass(cr.ShapeError, ValueError)
    assert issubclass(cr.DTypeError, cr.ChainruleError) and issubclass(cr.DTypeError, TypeError)
    assert issubclass(cr.AutogradError, cr.ChainruleError) and issubclass(cr.AutogradError, RuntimeError)
    assert issubclass(cr.IndexOutOfRange, cr.ChainruleError) and issubclass(cr.IndexOutOfRange, IndexError)
    assert issubclass(cr.GradcheckError, cr.ChainruleError)


@pytest.mark.parametrize("name", [n for n in BINARY if n != "matmul"])
def test_broadcast_mismatch_names_op_and_both_shapes(name):
    with pytest.raises(cr.ShapeError) as info:
        BINARY[name](cr.ones(2, 3), cr.ones(4, 3))
    msg = str(info.value)
    assert msg.startswith(name) and "(2, 3)" in msg and "(4, 3)" in msg


def test_where_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(cr.ShapeError, match=r"where.*\(2, 3\).*\(4, 3\)"):
        cr.where(cr.ones(2, 3) > 0, cr.ones(4, 3), cr.zeros(2, 3))


def test_matmul_and_cat_mismatch_name_op_and_both_shapes():
    with pytest.raises(cr.ShapeError, match=r"^matmul.*\(2, 3\).*\(2, 3\)"):
        cr.ones(2, 3) @ cr.ones(2, 3)
    with pytest.raises(cr.ShapeError, match=r"^cat.*\(2, 3\).*\(2, 2\)"):
        cr.cat([cr.ones(2, 3), cr.ones(2, 2)], dim=0)
    with pytest.raises(cr.ShapeError, match=r"^cat.*\(2, 3\).*\(3,\)"):
        cr.cat([cr.ones(2, 3), cr.ones(3)])


def test_backward_on_non_scalar_without_gradient():
    y = cr.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(cr.AutogradError, match=r"scalar.*\(2, 3\)"):
        y.backward()
    with pytest.raises(cr.AutogradError, match=r"gradient has shape \(3,\).*\(2, 3\)"):
        y.backward(cr.ones(3))
    with pytest.raises(cr.AutogradError, match="does not require grad"):
        cr.ones(2).sum().backward()


@pytest.mark.parametrize("make", [
    lambda: cr.tensor([1, 2], requires_grad=True),
    lambda: cr.tensor([1, 2]).requires_grad_(),
    lambda: cr.zeros(2, dtype=cr.int64, requires_grad=True),
    lambda: cr.arange(3, requires_grad=True),
    lambda: cr.tensor([True], requires_grad=True),
])
def test_requires_grad_on_integer_or_bool_tensor(make):
    with pytest.raises(cr.DTypeError, match="floating-point"):
        make()


@pytest.mark.parametrize("name", list(BINARY))
def test_mixing_float32_and_float64_raises_instead_of_upcasting(name):
    a = cr.ones(2, 2)
    b = cr.ones(2, 2, dtype=cr.float64)
    for x, y in ((a, b), (b, a)):
        with pytest.raises(cr.DTypeError) as info:
            BINARY[name](x, y)
        msg = str(info.value)
        assert msg.startswith(name) and "float32" in msg and "float64" in msg


def test_other_ways_of_mixing_float32_and_float64():
    a, b = cr.ones(2), cr.ones(2, dtype=cr.float64)
    for bad in (lambda: cr.where(a > 0, a, b), lambda: cr.cat([a, b]), lambda: cr.stack([b, a]),
                lambda: a + np.ones(2), lambda: cr.linear(cr.ones(1, 2), cr.ones(3, 2, dtype=cr.float64))):
        with pytest.raises(cr.DTypeError, match="float64"):
            bad()
    assert (a + np.float64(1.0)).dtype == np.float32  # a NumPy scalar is a number, not a float64 tensor
    assert (a + b.float()).dtype == np.float32 and (a.double() + b).dtype == np.float64


def test_indexing_out_of_range():
    x = cr.ones(3, 2)
    with pytest.raises(cr.IndexOutOfRange) as info:
        x[3]
    msg = str(info.value)
    assert "(3, 2)" in msg and "3" in msg
    with pytest.raises(cr.IndexOutOfRange, match=r"values -4\.\.0"):
        x[np.array([0, -4])]


def test_errors_are_not_bare_numpy_tracebacks():
    """The exception is raised from chainrule's own code with its own class (no NumPy chain shown)."""
    with pytest.raises(cr.ShapeError) as info:
        cr.ones(2, 3) * cr.ones(3, 2)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(cr.ShapeError, match=r"reshape.*\(2, 3\).*\(5,\)"):
        cr.ones(2, 3).reshape(5)


def test_bad_data_and_shapes_at_creation():
    with pytest.raises(cr.ShapeError, match="rectangular"):
        cr.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(cr.ShapeError, match=r"negative dimension .*\(2, -1\)"):
        cr.zeros(2, -1)
    with pytest.raises(cr.DTypeError, match="mean: needs a floating-point tensor, got int64"):
        cr.tensor([1, 2]).mean()
    with pytest.raises(cr.ShapeError, match=r"max: the tensor of shape \(0, 2\) is empty"):
        cr.zeros(0, 2).max()
    with pytest.raises(cr.ShapeError, match=r"pad: \(1, 2, 3, 4\)"):
        cr.pad(cr.ones(2), (1, 2, 3, 4))


def test_matmul_mismatch_names_the_axes_that_must_match():
    with pytest.raises(cr.ShapeError, match=r"\(2, 3\) and \(4, 5\).*last axis \(3\).*second-to-last axis \(4\)"):
        cr.ones(2, 3) @ cr.ones(4, 5)


def test_broadcast_mismatch_explains_the_rule():
    with pytest.raises(cr.ShapeError, match=r"add: shapes \(2, 3\) and \(4, 5\) cannot be broadcast"):
        cr.ones(2, 3) + cr.ones(4, 5)
