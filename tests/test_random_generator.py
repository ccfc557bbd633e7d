"""cr.Generator: private, repeatable random streams; the global stream is a Generator too."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import random


def test_same_seed_same_numbers_and_independent_of_the_global_stream():
    a = random.generator(cr.Generator().manual_seed(7)).random(5)
    cr.manual_seed(0)
    cr.randn(10)  # the global stream moving must not matter
    b = random.generator(cr.Generator().manual_seed(7)).random(5)
    c = random.generator(cr.Generator().manual_seed(8)).random(5)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_manual_seed_returns_the_global_generator_and_resets_it():
    g = cr.manual_seed(3)
    assert g is cr.default_generator and g.initial_seed() == 3
    x = cr.randn(4).numpy().copy()
    cr.manual_seed(3)
    np.testing.assert_array_equal(cr.randn(4).numpy(), x)


def test_state_round_trip_replays_the_stream():
    g = cr.Generator().manual_seed(1)
    state = g.get_state()
    first = random.generator(g).random(3)
    g.set_state(state)
    np.testing.assert_array_equal(random.generator(g).random(3), first)


def test_a_wrong_generator_is_named():
    with pytest.raises(TypeError, match="chainrule.Generator"):
        random.generator(42)


def test_init_functions_take_a_chainrule_generator():
    a, b = cr.zeros(3, 4), cr.zeros(3, 4)
    cr.nn.init.xavier_uniform_(a, generator=cr.Generator().manual_seed(5))
    cr.nn.init.xavier_uniform_(b, generator=cr.Generator().manual_seed(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert np.abs(a.numpy()).max() > 0


def test_pytorch_dtype_aliases_are_the_same_dtypes():
    assert (cr.float, cr.double, cr.half) == (cr.float32, cr.float64, cr.float16)
    assert (cr.long, cr.int, cr.short, cr.int8) == (np.int64, np.int32, np.int16, np.int8)
    assert cr.tensor([1, 2], dtype=cr.long).dtype == np.int64
    assert cr.zeros(2, dtype=cr.double).dtype == np.float64
