"""Bad input gets one clear chainrule error naming the owner and the value, never NumPy's or Python's internals.

Library: layer inputs that are arrays, non-integer sizes, rates and seeds,
examples of unequal length, indices out of range. Command line: a test split
left empty, a network too large for memory, IDX files with no images or a
header whose size overflows.
"""
from __future__ import annotations

import gzip
import struct
import time

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import cli, nn, optim
from chainrule.data import DataLoader, TensorDataset, read_idx
from chainrule.optim import lr_scheduler

# ------------------------------------------------------------ layers take arrays as ReLU and the losses do
LAYERS = [
    (lambda: nn.Linear(3, 2), (4, 3)),
    (lambda: nn.Conv2d(1, 2, 3), (2, 1, 5, 5)),
    (lambda: nn.BatchNorm1d(3), (4, 3)),
    (lambda: nn.LayerNorm(3), (4, 3)),
    (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), (4, 3)),
    (lambda: nn.ReLU(), (4, 3)),
]


@pytest.mark.parametrize("make, shape", LAYERS, ids=["Linear", "Conv2d", "BatchNorm1d", "LayerNorm", "Sequential",
                                                     "ReLU"])
def test_layers_take_numpy_arrays_and_lists_like_tensors(make, shape):
    cr.manual_seed(0)
    layer = make()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    want = layer(cr.tensor(x)).numpy()
    np.testing.assert_array_equal(layer(x).numpy(), want)
    np.testing.assert_array_equal(layer(x.tolist()).numpy(), want)


@pytest.mark.parametrize("layer", [nn.Linear(3, 2), nn.Conv2d(1, 2, 3), nn.BatchNorm1d(3), nn.LayerNorm(3)],
                         ids=["Linear", "Conv2d", "BatchNorm1d", "LayerNorm"])
def test_layers_refuse_what_is_not_a_tensor_naming_themselves(layer):
    name = type(layer).__name__
    with pytest.raises(cr.ArgumentError, match=rf"{name}: expected a Tensor \(or array\) as input, got str"):
        layer("abc")
    with pytest.raises(cr.ArgumentError, match=rf"{name}: cannot use this input as a tensor"):
        layer([[1.0, 2.0], [3.0]])


# ------------------------------------------------------------ sizes, rates, seeds
@pytest.mark.parametrize("make, msg", [
    (lambda: nn.Linear(2.5, 3), "Linear: in_features must be an integer, got 2.5"),
    (lambda: nn.Linear("a", 3), "Linear: in_features must be an integer, got 'a'"),
    (lambda: nn.Linear(3, -1), "Linear: out_features must be an integer >= 0, got -1"),
    (lambda: nn.Conv2d(1, 2, 2.5), "Conv2d: kernel_size must be an int or a pair of ints, got 2.5"),
    (lambda: nn.Conv2d(1, 2, 3, stride=0), "Conv2d: stride must be an integer >= 1, got 0"),
    (lambda: nn.Conv2d(1.0, 2, 3), "Conv2d: in_channels must be an integer"),
    (lambda: nn.BatchNorm1d(2.5), "BatchNorm1d: num_features must be an integer, got 2.5"),
    (lambda: nn.BatchNorm1d(3, momentum="x"), "BatchNorm1d: momentum must be a finite number"),
    (lambda: nn.LayerNorm(2.5), "LayerNorm: normalized_shape must be an integer, got 2.5"),
    (lambda: nn.LayerNorm("x"), "LayerNorm: normalized_shape must be an integer, got 'x'"),
    (lambda: nn.Embedding(5.5, 2), "Embedding: num_embeddings must be an integer, got 5.5"),
    (lambda: nn.MaxPool2d(0), "MaxPool2d: kernel_size must be an integer >= 1, got 0"),
    (lambda: nn.MaxPool2d(2.5), "MaxPool2d: kernel_size must be an int or a pair of ints, got 2.5"),
    (lambda: nn.AvgPool2d(2, padding=2), r"AvgPool2d: padding \(2, 2\) must be at most half the kernel size"),
    (lambda: nn.Flatten("a"), "Flatten: start_dim must be an integer, got 'a'"),
    (lambda: nn.LeakyReLU("a"), "LeakyReLU: negative_slope must be a finite number, got 'a'"),
    (lambda: nn.Dropout(1.5), r"Dropout: p \(the probability of an element to be zeroed\) must be between 0 and 1"),
    (lambda: nn.Dropout("a"), "Dropout: p .* must be a finite number, got 'a'"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_layer_arguments_are_checked(make, msg):
    with pytest.raises(cr.ArgumentError, match=msg) as info:
        make()
    assert isinstance(info.value, (ValueError, TypeError, cr.ChainruleError))


def _p():
    return [nn.Parameter(cr.ones(2))]


@pytest.mark.parametrize("make, msg", [
    (lambda: optim.SGD(None, lr=0.1), "SGD: params must be an iterable of Tensors"),
    (lambda: optim.Adam(5), "Adam: params must be an iterable of Tensors"),
    (lambda: optim.SGD(_p(), lr="a"), "SGD: learning rate must be a finite number, got 'a'"),
    (lambda: optim.SGD(_p(), lr=0.1, momentum=float("nan")), "SGD: momentum must be a finite number"),
    (lambda: optim.Adam(_p(), betas="ab"), r"Adam: betas must be a pair \(beta1, beta2\), got 'ab'"),
    (lambda: optim.Adam(_p(), betas=("a", 0.9)), "Adam: beta parameter at index 0 must be a finite number, got 'a'"),
    (lambda: optim.Adam(_p(), eps="a"), r"Adam: epsilon \(eps\) must be a finite number"),
    (lambda: optim.RMSprop(_p(), alpha="x"), "RMSprop: alpha value must be a finite number"),
    (lambda: lr_scheduler.StepLR(optim.SGD(_p(), lr=0.1), 1.5), "StepLR: step_size must be an integer, got 1.5"),
    (lambda: lr_scheduler.StepLR(optim.SGD(_p(), lr=0.1), "a"), "StepLR: step_size must be an integer, got 'a'"),
    (lambda: lr_scheduler.CosineAnnealingLR(optim.SGD(_p(), lr=0.1), "a"), "CosineAnnealingLR: T_max must be"),
    (lambda: lr_scheduler.ExponentialLR(optim.SGD(_p(), lr=0.1), "a"), "ExponentialLR: gamma must be a finite"),
    (lambda: lr_scheduler.LinearLR(optim.SGD(_p(), lr=0.1), total_iters=0), "LinearLR: total_iters must be"),
    (lambda: lr_scheduler.MultiStepLR(optim.SGD(_p(), lr=0.1), ["a"]), "MultiStepLR: a milestone must be"),
    (lambda: nn.utils.clip_grad_norm_(_p(), "a"), "clip_grad_norm_: max_norm must be a finite number"),
    (lambda: nn.init.normal_(_p()[0], std="a"), "normal_: std must be a finite number, got 'a'"),
    (lambda: nn.init.normal_(_p()[0], std=-1), "normal_: std must be >= 0, got -1"),
    (lambda: nn.init.uniform_(_p()[0], 2, 1), "uniform_: a must be <= b"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_optimizer_scheduler_and_init_arguments_are_checked(make, msg):
    with pytest.raises(cr.ArgumentError, match=msg):
        make()


def test_negative_seeds_map_deterministically_as_in_pytorch():
    cr.manual_seed(-1)
    a = cr.randn(5).numpy()
    cr.manual_seed(2**64 - 1)  # -1 and 2**64 - 1 are the same seed (two's complement), as in PyTorch
    np.testing.assert_array_equal(cr.randn(5).numpy(), a)
    cr.manual_seed(-1)
    np.testing.assert_array_equal(cr.randn(5).numpy(), a)
    cr.manual_seed(0)
    assert not np.array_equal(cr.randn(5).numpy(), a)
    data = TensorDataset(cr.arange(10))
    orders = [[b[0].numpy().tolist() for b in DataLoader(data, batch_size=10, shuffle=True, seed=s)]
              for s in (-5, 2**64 - 5, -5)]
    assert orders[0] == orders[1] == orders[2] and sorted(orders[0][0]) == list(range(10))


@pytest.mark.parametrize("bad", [1.5, "a", 2**64, -(2**63) - 1, None, True])
def test_seeds_that_are_not_integers_in_range_are_refused(bad):
    if bad is not None:
        with pytest.raises(cr.ArgumentError, match="manual_seed: a seed must"):
            cr.manual_seed(bad)
        with pytest.raises(cr.ArgumentError, match="DataLoader: a seed must"):
            DataLoader([1, 2], seed=bad)


# ------------------------------------------------------------ data
@pytest.mark.parametrize("items, msg", [
    ([(np.ones(2), 1), (np.ones(2),)], "same fields: example 0 has 2, example 1 has 1"),
    ([(np.ones(2),), (np.ones(2), 1)], "same fields: example 0 has 1, example 1 has 2"),
    ([{"a": 1}, {"b": 2}], r"same keys: example 0 has \['a'\], example 1 has \['b'\]"),
    ([(1, 2), 3], "same fields: example 0 has 2, example 1 has int"),
])
def test_examples_of_unequal_length_are_one_clear_error(items, msg):
    with pytest.raises(cr.ShapeError, match=f"collate: the examples of a batch must have the {msg}"):
        list(DataLoader(items, batch_size=2))


def test_a_dataset_without_len_is_refused_at_construction():
    with pytest.raises(cr.ArgumentError, match="DataLoader: the dataset must have __len__ and __getitem__"):
        DataLoader(5)


def test_tensor_dataset_index_out_of_range():
    ds = TensorDataset(cr.ones(3, 2), cr.zeros(3))
    for i in (3, -4, 10**6):
        with pytest.raises(IndexError, match=f"TensorDataset: index {i} is out of range for 3 examples"):
            ds[i]
        with pytest.raises(cr.ChainruleError):
            ds[i]
    assert ds[-3][0].shape == (2,)


# ------------------------------------------------------------ out-of-range class and embedding indices
_X = cr.tensor(np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("call, names", [
    (lambda: F.cross_entropy(_X, cr.tensor(np.array([0, 3]))), ("cross_entropy", "3 is not in [0, 2]")),
    (lambda: F.cross_entropy(_X, cr.tensor(np.array([-1, 0]))), ("cross_entropy", "-1 is not in [0, 2]")),
    (lambda: F.cross_entropy(_X, cr.tensor(np.array([0, 3])), label_smoothing=0.1), ("cross_entropy", "3 is not")),
    (lambda: F.nll_loss(_X, cr.tensor(np.array([0, 3]))), ("nll_loss", "3 is not in [0, 2]")),
    (lambda: nn.CrossEntropyLoss()(_X, cr.tensor(np.array([0, 5]))), ("cross_entropy", "5 is not in [0, 2]")),
    (lambda: F.one_hot(cr.tensor(np.array([1, 7])), 5), ("one_hot", "7 is not in [0, 4]")),
    (lambda: nn.Embedding(5, 2)(cr.tensor(np.array([1, 7]))), ("embedding", "7 is not in [0, 4]")),
    (lambda: nn.Embedding(5, 2)(cr.tensor(np.array([-1]))), ("embedding", "-1 is not in [0, 4]")),
    (lambda: cr.gather(_X, 1, cr.tensor(np.array([[0], [3]]))), ("gather along dim 1", "3 is not in [-3, 2]")),
], ids=["ce", "ce-negative", "ce-smoothing", "nll", "CrossEntropyLoss", "one_hot", "Embedding", "Embedding-negative",
        "gather"])
def test_out_of_range_indices_are_index_errors_and_chainrule_errors(call, names):
    with pytest.raises(IndexError) as info:
        call()
    assert isinstance(info.value, cr.ChainruleError)
    for name in names:
        assert name in str(info.value), str(info.value)


# ------------------------------------------------------------ command line
def _cli_error(capsys, argv) -> str:
    try:
        code = cli.main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith(f"chainrule {argv[0]}: error: "), err
    return err


@pytest.mark.parametrize("toml, msg", [
    ("test_fraction = 0.0001\n", "test_fraction 0.0001 of 1797 examples leaves no test examples"),
    ("test_fraction = 0.9999\nval_fraction = 0\n", "test_fraction 0.9999 of 1797 examples leaves no training"),
    ("val_fraction = 0.0001\n", "val_fraction 0.0001 of 1438 training examples leaves no validation"),
])
def test_a_fraction_that_empties_a_split_is_refused_before_training(tmp_path, capsys, toml, msg):
    path = tmp_path / "c.toml"
    path.write_text(toml)
    out = tmp_path / "run"
    err = _cli_error(capsys, ["train", "--config", str(path), "--out", str(out), "--quiet"])
    assert msg in err, err
    assert not (out / "model.safetensors").exists()


def test_layers_too_large_for_memory_say_how_much_they_need(tmp_path, capsys):
    t0 = time.perf_counter()
    err = _cli_error(capsys, ["train", "--layers", "64,2000000000,10", "--out", str(tmp_path / "r"), "--quiet"])
    assert "layers 64,2000000000,10 needs about" in err and "TiB of memory, but only" in err, err
    assert time.perf_counter() - t0 < 30  # refused from the estimate, nothing of that size was touched


def _idx(shape, data: bytes = b"", code: int = 0x08) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + data


def _mnist(folder, n_train: int, n_test: int = 4) -> None:
    folder.mkdir(exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx((n, 28, 28), bytes(n * 784))))
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(_idx((n,), bytes(n)))


@pytest.mark.parametrize("n_train, n_test, which", [(0, 4, "train"), (8, 0, "t10k")])
def test_mnist_files_with_no_images(tmp_path, capsys, n_train, n_test, which):
    _mnist(tmp_path / "m", n_train, n_test)
    err = _cli_error(capsys, ["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "m"), "--out",
                              str(tmp_path / "r"), "--quiet"])
    assert f"{which}-images-idx3-ubyte.gz: holds 0 images" in err, err


def test_an_idx_header_whose_size_overflows_int64(tmp_path):
    p = tmp_path / "big-idx3-ubyte"
    # 2**32-1 cubed times 8 bytes wraps int64 around; the size must be computed exactly, not to 0 or negative
    p.write_bytes(_idx((2**32 - 1, 2**32 - 1, 2**32 - 1), b"", code=0x0E))
    needed = (2**32 - 1) ** 3 * 8
    with pytest.raises(cr.DataError, match=rf"truncated: shape \(4294967295, 4294967295, 4294967295\) needs "
                                           rf"{needed} bytes of data, found 0"):
        read_idx(p)
    p.write_bytes(_idx((2**16, 2**16, 2**16, 2**16), b""))  # 2**64 elements: int64 overflows to exactly 0
    with pytest.raises(cr.DataError, match="needs 18446744073709551616 bytes of data, found 0"):
        read_idx(p)


# ------------------------------------------------------------ no NumPy warning from chainrule's own code
def test_no_numpy_runtime_warning_reaches_a_user_even_under_dash_w_error(tmp_path):
    """log 0, 1/0, 0/0, sqrt(-1), exp overflow, the mean/var of nothing: inf/NaN as PyTorch, silently
    (detect_anomaly finds them), forward and backward, even when the user turned RuntimeWarnings into
    errors; the user's own NumPy code still warns."""
    import os
    import subprocess
    import sys
    script = tmp_path / "probe.py"
    script.write_text(
        "import numpy as np\n"
        "import chainrule as cr\n"
        "x = cr.tensor([0.0, -1.0, 1.0, 100.0], requires_grad=True)\n"
        "outs = [x.log(), 1.0 / x, x / x, x.sqrt(), (x * 10).exp(), x ** -1.0, cr.log1p(-x - 1)]\n"
        "for y in outs:\n"
        "    y.sum().backward()\n"
        "e = cr.zeros(2, 0, requires_grad=True)\n"
        "for f in (cr.mean, cr.var, cr.std, cr.logsumexp, cr.softmax):\n"
        "    f(e, 1).sum().backward()\n"
        "assert np.isinf(cr.log(cr.tensor(0.0)).item()) and np.isnan(cr.mean(cr.zeros(0)).item())\n"
        "try:\n"
        "    np.log(np.zeros(1))\n"
        "except RuntimeWarning:\n"
        "    print('user warning still raised')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", str(script)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "user warning still raised"
