"""cr.Generator: private, repeatable random streams; the global stream is a Generator too."""
import numpy as np
import pytest
import torch

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


DRAWS = [
    ("randn", lambda g: cr.randn(3, 2, generator=g)),
    ("rand", lambda g: cr.rand(5, generator=g)),
    ("randint", lambda g: cr.randint(0, 100, (6,), generator=g)),
    ("randint(high, size)", lambda g: cr.randint(100, (6,), generator=g)),
    ("randperm", lambda g: cr.randperm(10, generator=g)),
    ("normal(float, float, size)", lambda g: cr.normal(2.0, 3.0, size=(4,), generator=g)),
    ("normal(tensor, float)", lambda g: cr.normal(cr.zeros(4), 1.0, generator=g)),
    ("randn_like", lambda g: cr.randn_like(cr.zeros(3), generator=g)),
]


@pytest.mark.parametrize("name,draw", DRAWS, ids=[d[0] for d in DRAWS])
def test_creation_functions_draw_from_the_given_generator_only(name, draw):
    cr.manual_seed(0)
    before = cr.default_generator.get_state()
    a = draw(cr.Generator().manual_seed(7))
    assert cr.default_generator.get_state() == before  # the global stream is untouched
    b = draw(cr.Generator().manual_seed(7))
    c = draw(cr.Generator().manual_seed(8))
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()


def test_random_shapes_dtypes_and_ranges_like_torch():
    g = cr.Generator().manual_seed(1)
    assert cr.randint(3, 5, (1000,), generator=g).numpy().min() >= 3
    assert set(cr.randint(3, 5, (1000,), generator=g).tolist()) == {3, 4}
    assert sorted(cr.randperm(6, generator=g).tolist()) == list(range(6))
    for ours, theirs in ((cr.randint(0, 5, (2,)), torch.randint(0, 5, (2,))), (cr.randperm(3), torch.randperm(3)),
                         (cr.normal(0.0, 1.0, size=(2,)), torch.normal(0.0, 1.0, size=(2,))),
                         (cr.rand_like(cr.zeros(2, dtype=cr.float64)),
                          torch.rand_like(torch.zeros(2, dtype=torch.float64)))):
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch", "chainrule")
    x = cr.normal(cr.full((20000,), 5.0), 2.0, generator=g)
    assert abs(x.mean().item() - 5.0) < 0.05 and abs(x.std().item() - 2.0) < 0.05
    with pytest.raises(ValueError, match=r"randint: high \(2\) must be greater than low \(5\)"):
        cr.randint(5, 2, (3,))
    with pytest.raises(TypeError, match="normal.* needs a size"):
        cr.normal(0.0, 1.0)
