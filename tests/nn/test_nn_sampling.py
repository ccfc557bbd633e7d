"""affine_grid, grid_sample (the spatial transformer) and LocalResponseNorm against PyTorch: values and the
gradients for input, grid and theta."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_compare import compare_module

import chainrule as cr

CF = cr.nn.functional
R = np.random.default_rng(0)
X = R.standard_normal((2, 3, 5, 6)).astype(np.float32)
THETA = (np.array([[1, 0, 0], [0, 1, 0]]) + R.standard_normal((2, 2, 3)) * 0.4).astype(np.float32)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode,padding_mode", [("bilinear", "zeros"), ("bilinear", "border"), ("nearest", "zeros"),
                                               ("nearest", "border")])
def test_spatial_transformer_matches_pytorch(align_corners, mode, padding_mode):
    cx, tx = cr.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    ct, tt = cr.tensor(THETA, requires_grad=True), torch.tensor(THETA, requires_grad=True)
    cg = CF.affine_grid(ct, (2, 3, 4, 7), align_corners=align_corners)
    tg = TF.affine_grid(tt, (2, 3, 4, 7), align_corners=align_corners)
    np.testing.assert_allclose(cg.numpy(), tg.detach().numpy(), rtol=1e-6, atol=1e-6)
    y = CF.grid_sample(cx, cg, mode, padding_mode, align_corners)
    ty = TF.grid_sample(tx, tg, mode, padding_mode, align_corners)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    up = R.standard_normal(y.shape).astype(np.float32)
    (y * cr.tensor(up)).sum().backward()
    (ty * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    if mode == "bilinear":
        np.testing.assert_allclose(ct.grad.numpy(), tt.grad.numpy(), rtol=1e-4, atol=1e-4)
    else:  # nearest: PyTorch's grid gradient is zeros; chainrule records none
        assert not tt.grad.abs().max() and ct.grad is None


def test_identity_theta_samples_the_input_back():
    eye = cr.tensor(np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]], dtype=np.float32), (2, 1, 1)))
    grid = CF.affine_grid(eye, (2, 3, 5, 6), align_corners=False)
    np.testing.assert_allclose(CF.grid_sample(cr.tensor(X), grid, align_corners=False).numpy(), X, atol=1e-5)


@pytest.mark.parametrize("size", [2, 3, 5])
def test_local_response_norm_matches_pytorch(size):
    cm, tm = cr.nn.LocalResponseNorm(size, 1e-2, 0.75, 2.0), torch.nn.LocalResponseNorm(size, 1e-2, 0.75, 2.0)
    assert repr(cm) == repr(tm)
    compare_module(cm, tm, X)
    compare_module(cm, tm, X[:, :, 0])


def test_bad_arguments_are_refused():
    with pytest.raises(cr.ChainruleError, match=r"theta of shape \(2, 2, 3\)"):
        CF.affine_grid(cr.randn(2, 3, 3), (2, 3, 4, 4))
    with pytest.raises(NotImplementedError, match="reflection"):
        CF.grid_sample(cr.tensor(X), cr.zeros(2, 4, 4, 2), padding_mode="reflection")
    with pytest.raises(cr.ChainruleError, match="same N"):
        CF.grid_sample(cr.tensor(X), cr.zeros(3, 4, 4, 2))
