"""nn.utils.weight_norm against PyTorch: parameter names and order, forward and gradients of g and v, removal."""
import numpy as np
import pytest
import torch
from nn_compare import compare_module

import chainrule as cr


@pytest.mark.parametrize("build,x,dim", [
    (lambda nn: nn.Linear(4, 3), np.random.default_rng(0).standard_normal((5, 4)), 0),
    (lambda nn: nn.Conv1d(2, 3, 3), np.random.default_rng(1).standard_normal((2, 2, 6)), 0),
    (lambda nn: nn.Conv2d(2, 3, 2), np.random.default_rng(2).standard_normal((1, 2, 4, 4)), 1),
    (lambda nn: nn.Linear(4, 3), np.random.default_rng(3).standard_normal((5, 4)), None),
])
def test_weight_norm_matches_pytorch(build, x, dim):
    torch.manual_seed(0)
    tm = torch.nn.utils.weight_norm(build(torch.nn), dim=dim)
    cm = cr.nn.utils.weight_norm(build(cr.nn), dim=dim)
    assert [(k, tuple(v.shape)) for k, v in cm.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    compare_module(cm, tm, x.astype(np.float32))
    np.testing.assert_allclose(cm.weight.numpy(), tm.weight.detach().numpy(), rtol=1e-6, atol=1e-6)
    w = cm.weight.numpy().copy()
    cr.nn.utils.remove_weight_norm(cm)
    assert "weight" in dict(cm.named_parameters()) and "weight_g" not in cm.state_dict()
    np.testing.assert_allclose(cm.weight.numpy(), w, rtol=1e-6)


def test_weight_norm_is_refused_twice_and_for_a_missing_parameter():
    m = cr.nn.utils.weight_norm(cr.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        cr.nn.utils.weight_norm(m)
    with pytest.raises(ValueError, match="no parameter 'kernel'"):
        cr.nn.utils.weight_norm(cr.nn.Linear(2, 2), name="kernel")
