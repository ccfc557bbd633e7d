"""cr.data: TensorDataset, DataLoader batching and seeded shuffling, the bundled digits, MNIST IDX files."""
from __future__ import annotations

import gzip
import struct
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.data import DataLoader, TensorDataset, load_digits, load_mnist, read_idx


def _dataset(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(cr.tensor(x), cr.tensor(y)), x, y


# ------------------------------------------------------------ TensorDataset
def test_tensor_dataset_items_and_len():
    ds, x, y = _dataset()
    assert len(ds) == 10
    xi, yi = ds[3]
    np.testing.assert_array_equal(xi.numpy(), x[3])
    assert yi.item() == 3


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(cr.ShapeError, match=r"\(4, 2\).*\(5,\)"):
        TensorDataset(cr.zeros(4, 2), cr.zeros(5))



def test_tensor_dataset_of_lists_and_arrays():
    x = np.arange(6, dtype=np.float64).reshape(3, 2)
    ds = TensorDataset(x, [0.5, 1.5, 2.5])
    assert ds.tensors[0].numpy() is x  # an array is wrapped, not copied
    assert ds.tensors[1].dtype == np.float32  # Python floats are float32, as cr.tensor makes them
    with pytest.raises(cr.ShapeError, match="not a rectangular array"):
        TensorDataset([[1, 2], [3]])


# ------------------------------------------------------------ DataLoader
def test_loader_in_order_batches_and_last_partial():
    ds, x, y = _dataset(10)
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert all(isinstance(t, cr.Tensor) for b in batches for t in b)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y)
    np.testing.assert_array_equal(batches[1][0].numpy(), x[4:8])
    assert len(DataLoader(ds, batch_size=4)) == 3


def test_loader_drop_last():
    ds, _, _ = _dataset(10)
    loader = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[1].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_loader_shuffle_is_a_permutation_that_changes_each_epoch():
    ds, x, y = _dataset(50)
    loader = DataLoader(ds, batch_size=7, shuffle=True, seed=3)
    e0 = np.concatenate([b[1].numpy() for b in loader])
    e1 = np.concatenate([b[1].numpy() for b in loader])
    assert sorted(e0) == list(range(50)) and sorted(e1) == list(range(50))
    assert not np.array_equal(e0, y) and not np.array_equal(e0, e1)
    # inputs travel with their labels
    for xb, yb in DataLoader(ds, batch_size=7, shuffle=True, seed=3):
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])


def test_loader_same_seed_same_order_and_set_epoch_replays():
    ds, _, _ = _dataset(30)
    a, b = DataLoader(ds, 5, shuffle=True, seed=11), DataLoader(ds, 5, shuffle=True, seed=11)
    orders_a = [[t[1].tolist() for t in a] for _ in range(3)]
    orders_b = [[t[1].tolist() for t in b] for _ in range(3)]
    assert orders_a == orders_b
    c = DataLoader(ds, 5, shuffle=True, seed=11)
    c.set_epoch(2)
    assert [t[1].tolist() for t in c] == orders_a[2]
    assert [t[1].tolist() for t in DataLoader(ds, 5, shuffle=True, seed=12)] != orders_a[0]


def test_loader_seed_none_follows_manual_seed():
    ds, _, _ = _dataset(30)
    cr.manual_seed(5)
    a = [t[1].tolist() for t in DataLoader(ds, 5, shuffle=True)]
    cr.manual_seed(5)
    b = [t[1].tolist() for t in DataLoader(ds, 5, shuffle=True)]
    assert a == b


def test_loader_batches_do_not_alias_the_dataset():
    ds, x, _ = _dataset(6)
    xb, _ = next(iter(DataLoader(ds, batch_size=3)))
    xb.data[:] = -1
    assert ds.tensors[0].numpy()[0, 0] == 0


def test_loader_generic_dataset_is_collated():
    class Squares:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return float(i), i * i

    batches = list(DataLoader(Squares(), batch_size=2))
    assert batches[0][0].dtype == np.float32 and batches[0][0].tolist() == [0.0, 1.0]
    assert batches[2][1].tolist() == [16]



def test_loader_ragged_examples_are_a_shape_error():
    ragged = [(np.ones(2), 0), (np.ones(3), 1)]
    with pytest.raises(cr.ShapeError, match=r"one shape to be stacked, got shapes \(2,\), \(3,\)"):
        list(DataLoader(ragged, batch_size=2))
    assert [b[0].shape for b in DataLoader(ragged, batch_size=1)] == [(1, 2), (1, 3)]


def test_loader_rejects_bad_batch_size():
    ds, _, _ = _dataset()
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)


# ------------------------------------------------------------ digits
def test_load_digits_shape_values_classes():
    x, y = load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.numpy().min() == 0.0 and x.numpy().max() == 1.0
    # pixels are counts 0..16 divided by 16
    np.testing.assert_array_equal(x.numpy() * 16, np.round(x.numpy() * 16))
    assert np.bincount(y.numpy()).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    images, labels = load_digits(flatten=False)
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images.numpy().reshape(1797, 64), x.numpy())


def test_load_digits_matches_scikit_learn_copy():
    import sklearn.datasets as sk  # a test dependency: missing it is a failure, not a skip
    ref = sk.load_digits()
    x, y = load_digits()
    np.testing.assert_array_equal(x.numpy() * 16, ref.data)
    np.testing.assert_array_equal(y.numpy(), ref.target)


def test_load_digits_needs_no_sklearn_and_ships_licence():
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import chainrule as cr\n"
        "x, y = cr.data.load_digits(); print(x.shape[0])\n"
        "from importlib import resources\n"
        "print('CC BY 4.0' in (resources.files('chainrule.data') / 'LICENSE-digits.txt').read_text())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["1797", "True"]


# ------------------------------------------------------------ MNIST / IDX
def _idx(arr: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _write_mnist(root, n_train=6, n_test=4, gz=False, rng=None):
    rng = rng or np.random.default_rng(0)
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        lbls = rng.integers(0, 10, size=n, dtype=np.uint8)
        for name, arr in ((f"{prefix}-images-idx3-ubyte", imgs), (f"{prefix}-labels-idx1-ubyte", lbls)):
            blob = _idx(arr)
            if gz:
                (root / (name + ".gz")).write_bytes(gzip.compress(blob))
            else:
                (root / name).write_bytes(blob)
        data[prefix] = (imgs, lbls)
    return data


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_raw_and_gz(tmp_path, gz):
    ref = _write_mnist(tmp_path, gz=gz)
    m = load_mnist(tmp_path)
    (xtr, ytr), (xte, yte) = m
    assert xtr.shape == (6, 784) and xte.shape == (4, 784) and xtr.dtype == np.float32
    np.testing.assert_allclose(xtr.numpy(), ref["train"][0].reshape(6, 784) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(yte.numpy(), ref["t10k"][1])
    assert yte.dtype == np.int64
    assert load_mnist(tmp_path, flatten=False).test.images.shape == (4, 28, 28)


def test_load_mnist_torchvision_layout(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _write_mnist(raw, gz=True)
    assert load_mnist(tmp_path).train.labels.shape == (6,)


def test_read_idx_other_dtypes(tmp_path):
    arr = np.arange(6, dtype=np.int32).reshape(2, 3) - 2
    (tmp_path / "a.idx").write_bytes(_idx(arr, 0x0C))
    out = read_idx(tmp_path / "a.idx")
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, arr)


def test_mnist_missing_file_named(tmp_path):
    _write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(cr.DataError, match="t10k-labels-idx1-ubyte.*not found"):
        load_mnist(tmp_path)


def test_mnist_missing_folder(tmp_path):
    with pytest.raises(cr.DataError, match="nowhere.*not found"):
        load_mnist(tmp_path / "nowhere")


def test_mnist_truncated_data(tmp_path):
    _write_mnist(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(cr.DataError, match=r"train-images-idx3-ubyte: truncated: shape \(6, 28, 28\) needs 4704 "
                                           r"bytes of data, found 4604"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("blob, msg", [
    (b"\x00\x00", "truncated: 2 bytes"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated header"),
    (b"PK\x03\x04" + bytes(20), "not an IDX file"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x05\x06", "1 unexpected bytes"),
])
def test_read_idx_malformed(tmp_path, blob, msg):
    p = tmp_path / "bad-idx"
    p.write_bytes(blob)
    with pytest.raises(cr.DataError, match=msg) as info:
        read_idx(p)
    assert str(p) in str(info.value)


def test_mnist_truncated_gzip(tmp_path):
    _write_mnist(tmp_path, gz=True)
    p = tmp_path / "train-labels-idx1-ubyte.gz"
    p.write_bytes(p.read_bytes()[:-12])
    with pytest.raises(cr.DataError, match="train-labels-idx1-ubyte.gz: corrupt or truncated gzip"):
        load_mnist(tmp_path)


def test_mnist_wrong_ndim_and_count_mismatch(tmp_path):
    _write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(np.zeros(5, np.uint8)))
    with pytest.raises(cr.DataError, match="6 images but .* 5 labels"):
        load_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(np.zeros((6, 1), np.uint8)))
    with pytest.raises(cr.DataError, match="expected 1 dimension of labels"):
        load_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(np.full(6, 12, np.uint8)))
    with pytest.raises(cr.DataError, match="0..9"):
        load_mnist(tmp_path)


@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 2**32))
def test_loader_properties(n, batch_size, shuffle, drop_last, seed):
    ds = TensorDataset(cr.tensor(np.arange(n, dtype=np.float32).reshape(n, 1)), cr.tensor(np.arange(n)))
    loader = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = list(loader)
    sizes = [len(b[1]) for b in batches]
    assert len(batches) == len(loader) == (n // batch_size if drop_last else -(-n // batch_size))
    assert all(s == batch_size for s in sizes[:-1]) and (not sizes or 0 < sizes[-1] <= batch_size)
    if drop_last:
        assert all(s == batch_size for s in sizes)
    seen = np.concatenate([b[1].numpy() for b in batches]) if batches else np.zeros(0, np.int64)
    assert len(set(seen.tolist())) == len(seen) == (n // batch_size * batch_size if drop_last else n)
    for xb, yb in batches:
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())
