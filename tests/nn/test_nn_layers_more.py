"""Conv1d, transposed convolutions, 1-D/adaptive pooling, Upsample, padding, Unfold/Fold, PixelShuffle,
GroupNorm/InstanceNorm, Unflatten, channel dropout, Bilinear, EmbeddingBag and TransformerDecoderLayer against
PyTorch (torch's weights loaded): state-dict keys, forward values, input and parameter gradients, repr."""
import numpy as np
import pytest
import torch
from nn_compare import compare_module, copy_weights

import chainrule as cr

R = np.random.default_rng(0)
X1 = R.standard_normal((2, 4, 9)).astype(np.float32)
X2 = R.standard_normal((2, 4, 6, 5)).astype(np.float32)


def _both(build):
    torch.manual_seed(0)
    return build(cr.nn), build(torch.nn)


LAYERS = [  # (builder, input)
    (lambda nn: nn.Conv1d(4, 6, 3), X1), (lambda nn: nn.Conv1d(4, 6, 3, stride=2, padding=1, bias=False), X1),
    (lambda nn: nn.Conv1d(4, 6, 3, padding="same", dilation=2, groups=2), X1),
    (lambda nn: nn.Conv1d(4, 2, 3, padding=2, padding_mode="reflect"), X1),
    (lambda nn: nn.Conv1d(4, 2, 3, padding="same", padding_mode="circular"), X1),
    (lambda nn: nn.Conv2d(4, 2, 3, padding=1, padding_mode="replicate"), X2),
    (lambda nn: nn.Conv2d(4, 2, 3, padding="same", padding_mode="reflect"), X2),
    (lambda nn: nn.ConvTranspose2d(4, 3, 4, 2, 1), X2), (lambda nn: nn.ConvTranspose2d(4, 3, 3, 2, 1, 1), X2),
    (lambda nn: nn.ConvTranspose2d(4, 2, (2, 3), (1, 2), (0, 1), groups=2, bias=False, dilation=(2, 1)), X2),
    (lambda nn: nn.ConvTranspose1d(4, 3, 3, stride=2), X1),
    (lambda nn: nn.MaxPool1d(3), X1), (lambda nn: nn.MaxPool1d(3, 2, 1), X1), (lambda nn: nn.AvgPool1d(3), X1),
    (lambda nn: nn.AvgPool1d(3, 2, 1, count_include_pad=False), X1),
    (lambda nn: nn.AdaptiveAvgPool2d((1, 1)), X2), (lambda nn: nn.AdaptiveAvgPool2d(4), X2),
    (lambda nn: nn.AdaptiveAvgPool2d((4, None)), X2), (lambda nn: nn.AdaptiveAvgPool1d(4), X1),
    (lambda nn: nn.AdaptiveMaxPool2d((2, 3)), X2), (lambda nn: nn.AdaptiveMaxPool1d(4), X1),
    (lambda nn: nn.Upsample(scale_factor=2), X2), (lambda nn: nn.Upsample(size=(7, 8), mode="bilinear"), X2),
    (lambda nn: nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True), X2),
    (lambda nn: nn.Upsample(scale_factor=3, mode="linear"), X1), (lambda nn: nn.UpsamplingNearest2d(size=4), X2),
    (lambda nn: nn.UpsamplingBilinear2d(scale_factor=2), X2),
    (lambda nn: nn.ZeroPad2d(2), X2), (lambda nn: nn.ZeroPad2d((1, 2, 0, 3)), X2),
    (lambda nn: nn.ConstantPad2d(1, 3.5), X2), (lambda nn: nn.ConstantPad1d((1, 2), -1.0), X1),
    (lambda nn: nn.ReflectionPad2d(2), X2), (lambda nn: nn.ReplicationPad2d((1, 0, 2, 1)), X2),
    (lambda nn: nn.ReflectionPad1d(3), X1), (lambda nn: nn.CircularPad2d(1), X2), (lambda nn: nn.ZeroPad1d(2), X1),
    (lambda nn: nn.Unfold(2), X2), (lambda nn: nn.Unfold((2, 3), dilation=1, padding=1, stride=2), X2),
    (lambda nn: nn.PixelShuffle(2), X2), (lambda nn: nn.PixelUnshuffle(2), X2[:, :, :6, :4]),
    (lambda nn: nn.GroupNorm(2, 4), X2), (lambda nn: nn.GroupNorm(4, 4, affine=False), X1),
    (lambda nn: nn.GroupNorm(1, 4, eps=1e-3), X2),
    (lambda nn: nn.InstanceNorm2d(4), X2), (lambda nn: nn.InstanceNorm2d(4, affine=True), X2),
    (lambda nn: nn.InstanceNorm1d(4, affine=True, track_running_stats=True), X1),
    (lambda nn: nn.Unflatten(1, (2, 2)), X2), (lambda nn: nn.Unflatten(-1, (3, -1)), X1),
]


@pytest.mark.parametrize("i", range(len(LAYERS)))
def test_layer_matches_pytorch(i):
    build, x = LAYERS[i]
    cm, tm = _both(build)
    assert repr(cm) == repr(tm)
    compare_module(cm, tm, x, rtol=1e-5, atol=1e-5)


def test_fold_inverts_unfold_counts_as_pytorch():
    cm, tm = _both(lambda nn: nn.Fold((5, 6), 2, stride=(1, 2)))
    assert repr(cm) == repr(tm)
    compare_module(cm, tm, R.standard_normal((2, 8, 12)).astype(np.float32))


def test_instance_norm_running_stats_update_and_eval_as_pytorch():
    cm, tm = _both(lambda nn: nn.InstanceNorm2d(4, track_running_stats=True, momentum=0.3))
    for _ in range(2):
        compare_module(cm, tm, X2)
    cm.eval()
    tm.eval()
    compare_module(cm, tm, X2 * 2 + 1)


def test_group_norm_matches_float64_closely():
    cm, tm = _both(lambda nn: nn.GroupNorm(2, 4).double())
    compare_module(cm, tm, X2.astype(np.float64), rtol=1e-12, atol=1e-12)


def test_unbatched_inputs_match_pytorch():
    for build, x in [(lambda nn: nn.Conv1d(4, 2, 3), X1[0]), (lambda nn: nn.ConvTranspose2d(4, 2, 3, 2), X2[0]),
                     (lambda nn: nn.InstanceNorm1d(4), X1[0]), (lambda nn: nn.MaxPool1d(2), X1[0]),
                     (lambda nn: nn.AdaptiveAvgPool2d(2), X2[0])]:
        cm, tm = _both(build)
        compare_module(cm, tm, x)


def test_conv_transpose2d_output_size_picks_the_output_padding():
    cm, tm = _both(lambda nn: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1))
    copy_weights(cm, tm)
    y = cm(cr.tensor(X2), output_size=(12, 10))
    ty = tm(torch.tensor(X2), output_size=(12, 10))
    assert y.shape == tuple(ty.shape) == (2, 2, 12, 10)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(cr.ChainruleError, match="not reachable"):
        cm(cr.tensor(X2), output_size=(14, 10))


def test_a_dcgan_generator_block_matches_pytorch():
    def build(nn):
        return nn.Sequential(nn.ConvTranspose2d(8, 4, 4, 1, 0, bias=False), nn.BatchNorm2d(4), nn.ReLU(True),
                             nn.ConvTranspose2d(4, 1, 4, 2, 1, bias=False), nn.Tanh())

    cm, tm = _both(build)
    assert repr(cm) == repr(tm)
    compare_module(cm, tm, R.standard_normal((3, 8, 1, 1)).astype(np.float32), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", ["Dropout1d", "Dropout2d"])
def test_channel_dropout_zeroes_whole_channels_in_training_only(cls):
    m = getattr(cr.nn, cls)(0.5)
    assert repr(m) == repr(getattr(torch.nn, cls)(0.5))
    x = cr.ones(8, 6, 5) if cls == "Dropout1d" else cr.ones(8, 6, 3, 4)
    y = m(x).numpy().reshape(8, 6, -1)
    per_channel = y[..., 0]
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (per_channel == 0).mean() < 1
    assert (y == per_channel[..., None]).all()  # one decision per channel
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), x.numpy())


def test_bilinear_matches_pytorch():
    cm, tm = _both(lambda nn: nn.Bilinear(3, 4, 2))
    assert repr(cm) == repr(tm)
    assert list(cm.state_dict()) == list(tm.state_dict())
    copy_weights(cm, tm)
    a, b = R.standard_normal((5, 3)).astype(np.float32), R.standard_normal((5, 4)).astype(np.float32)
    ca, cb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y, ty = cm(ca, cb), tm(ta, tb)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    for c, t in [(ca, ta), (cb, tb), (cm.weight, tm.weight), (cm.bias, tm.bias)]:
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_matches_pytorch(mode, padding_idx):
    cm, tm = _both(lambda nn: nn.EmbeddingBag(10, 3, mode=mode, padding_idx=padding_idx))
    assert repr(cm) == repr(tm)
    copy_weights(cm, tm)
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9, 2, 2], dtype=np.int64)
    offsets = np.array([0, 3, 3, 8], dtype=np.int64)  # the third bag is empty: zeros, as PyTorch
    for args in [(idx, offsets), (idx.reshape(2, 5), None)]:
        cm.zero_grad()
        tm.zero_grad()
        ca = [cr.tensor(a) if a is not None else None for a in args]
        ta = [torch.tensor(a) if a is not None else None for a in args]
        y, ty = cm(*ca), tm(*ta)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-6)
        (y * cr.tensor(np.arange(y.numel(), dtype=np.float32).reshape(y.shape))).sum().backward()
        (ty * torch.arange(ty.numel(), dtype=torch.float32).reshape(ty.shape)).sum().backward()
        np.testing.assert_allclose(cm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_embedding_bag_per_sample_weights_and_last_offset():
    cm, tm = _both(lambda nn: nn.EmbeddingBag(6, 2, mode="sum", include_last_offset=True))
    copy_weights(cm, tm)
    idx, off = np.array([0, 1, 5, 3]), np.array([0, 1, 4])
    w = np.array([0.5, -1.0, 2.0, 3.0], dtype=np.float32)
    cw, tw = cr.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    y, ty = cm(cr.tensor(idx), cr.tensor(off), cw), tm(torch.tensor(idx), torch.tensor(off), tw)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_decoder_layer_matches_pytorch(norm_first):
    def build(nn):
        layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first)
        return nn.TransformerDecoder(layer, 2)

    cm, tm = _both(build)
    copy_weights(cm, tm)
    tgt, mem = R.standard_normal((2, 5, 8)).astype(np.float32), R.standard_normal((2, 3, 8)).astype(np.float32)
    mask = np.triu(np.full((5, 5), -np.inf, dtype=np.float32), 1)
    ct, cmem = cr.tensor(tgt, requires_grad=True), cr.tensor(mem, requires_grad=True)
    tt, tmem = torch.tensor(tgt, requires_grad=True), torch.tensor(mem, requires_grad=True)
    y = cm(ct, cmem, tgt_mask=cr.tensor(mask))
    ty = tm(tt, tmem, tgt_mask=torch.tensor(mask))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(cmem.grad.numpy(), tmem.grad.numpy(), rtol=1e-3, atol=1e-4)
    tp = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("call,match", [
    (lambda: cr.nn.Conv1d(4, 2, 3)(cr.randn(2, 3, 9)), r"has 3 channels.*expects 4"),
    (lambda: cr.nn.Conv1d(4, 2, 3)(cr.randn(2, 4, 5, 5)), r"\(N, C, L\)"),
    (lambda: cr.nn.ConvTranspose2d(4, 2, 3)(cr.randn(1, 3, 5, 5)), "has 3 channels, but weight"),
    (lambda: cr.nn.ConvTranspose2d(4, 2, 3, stride=1, output_padding=1), "output_padding"),
    (lambda: cr.nn.GroupNorm(3, 4), "divisible by num_groups 3"),
    (lambda: cr.nn.GroupNorm(2, 4)(cr.randn(2, 6, 3)), r"expected input of shape \(N, 4, \.\.\.\)"),
    (lambda: cr.nn.InstanceNorm2d(4, affine=True)(cr.randn(2, 3, 4, 4)), "match num_features"),
    (lambda: cr.nn.Unflatten(1, (4, 4))(cr.randn(2, 6)), r"does not multiply to 6"),
    (lambda: cr.nn.functional.interpolate(cr.randn(1, 2, 4, 4), scale_factor=2, mode="bicubic"), "bicubic"),
    (lambda: cr.nn.functional.interpolate(cr.randn(1, 2, 4, 4), scale_factor=2, align_corners=True),
     "align_corners option can only be set"),
    (lambda: cr.nn.functional.interpolate(cr.randn(1, 2, 4, 4)), "exactly one of size and scale_factor"),
    (lambda: cr.nn.functional.interpolate(cr.randn(1, 2, 4), size=3, mode="bilinear"), "needs a 4-D input"),
    (lambda: cr.nn.ReflectionPad2d(4)(cr.randn(1, 1, 4, 4)), "smaller than the axis size 4"),
    (lambda: cr.nn.functional.fold(cr.randn(1, 8, 5), (4, 4), 2), "holds 3x3 = 9"),
    (lambda: cr.nn.PixelShuffle(2)(cr.randn(1, 6, 2, 2)), "divisible by upscale_factor"),
    (lambda: cr.nn.EmbeddingBag(5, 2)(cr.tensor([1, 2, 3])), "offsets are needed"),
    (lambda: cr.nn.AdaptiveAvgPool2d((2, 2, 2)), "a tuple of 2"),
    (lambda: cr.nn.Bilinear(2, 3, 4)(cr.randn(5, 2), cr.randn(5, 2)), "must agree"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises((cr.ChainruleError, ValueError, NotImplementedError), match=match):
        call()


@pytest.mark.parametrize("build,shape", [(lambda nn: nn.AdaptiveMaxPool2d((4, 3)), (2, 3, 6, 5)),
                                         (lambda nn: nn.AdaptiveMaxPool2d(7), (1, 2, 5, 5)),
                                         (lambda nn: nn.AdaptiveMaxPool1d(5), (2, 3, 9))])
def test_adaptive_max_pool_gives_a_tie_to_the_first_position_as_pytorch(build, shape):
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    x[..., :3] = 0.0  # ties, as after a ReLU
    x[..., -1] = x.max() + 1  # ties between windows sharing their maximum
    cm, tm = _both(build)
    compare_module(cm, tm, x, rtol=0, atol=0)
