"""Every reader against crafted files: PyTorch .pt zips, .npz/.csv data, MNIST IDX files.

Each row builds a file by hand (bytes, not the writer under test) and says
which chainrule error and message reading it must give; before these fixes
they loaded quietly (a method shadowed by a BUILD opcode, a list containing
itself), raised MemoryError/RecursionError/OverflowError from inside, or
inflated a bomb before looking at it.
"""
from __future__ import annotations

import gzip
import io
import re
import struct
import zipfile
import zlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import load_mnist
from chainrule.data.files import load_file
from chainrule.data.mnist import read_idx
from chainrule.errors import DataError
from chainrule.memory import NotEnoughMemory
from chainrule.torchfile import RefusedGlobal


# ------------------------------------------------------------ .pt: pickle opcodes written by hand
def _g(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _s(text: str) -> bytes:
    b = text.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _i(v: int) -> bytes:
    return b"J" + struct.pack("<i", v)


def _tensor(size=(4,), stride=(1,), numel=4) -> bytes:
    pid = b"(" + _s("storage") + _g("torch", "FloatStorage") + _s("0") + _s("cpu") + _i(numel) + b"tQ"
    return (_g("torch._utils", "_rebuild_tensor_v2") + b"(" + pid + _i(0) + b"(" + b"".join(map(_i, size)) + b"t("
            + b"".join(map(_i, stride)) + b"t\x89" + _g("collections", "OrderedDict") + b")RtR")


def _pt(tmp_path, pickle_body: bytes, storage: bytes = np.arange(4, dtype=np.float32).tobytes(),
        compress=zipfile.ZIP_STORED):
    p = tmp_path / "x.pt"
    with zipfile.ZipFile(p, "w", compression=compress) as z:
        z.writestr("archive/data.pkl", b"\x80\x02" + pickle_body + b".")
        z.writestr("archive/data/0", storage)
    return p


def _laughs(levels: int = 30) -> bytes:
    body = b"]q\x00"
    for i in range(levels):  # each list holds the previous one ten times: 10**30 items once expanded
        body += b"(" + b"h" + bytes([i]) * 1 + b"".join(b"h" + bytes([i]) for _ in range(9)) + b"lq" + bytes([i + 1])
    return body


PT = {
    "shadowed-method": (_g("collections", "OrderedDict") + b")R}(" + _s("items") + _i(5) + b"ub", None, None),
    "self-containing-list": (b"]q\x00h\x00a", DataError, "holds a container that contains itself"),
    "nested-200000-deep": (b"]" * 200_000 + b"a" * 199_999, DataError, "nests containers more than 64 deep"),
    "billion-laughs": (_laughs(), DataError, "expands to more than 10000000 items"),
    "bytes-of-4-EiB": (b"\x8e" + struct.pack("<Q", 2**62), DataError, "declares an object larger than memory"),
    "4-TiB-strided-view": (_tensor(size=(2**20, 2**20), stride=(0, 0)), NotEnoughMemory,
                           "a tensor of size (1048576, 1048576) needs about 4.0 TiB"),
    "rebuild-calls-set": (_g("torch._tensor", "_rebuild_from_type_v2") + b"(" + _g("builtins", "set")
                          + _g("torch", "Tensor") + b"(" + _s("abc") + b"t}tR", RefusedGlobal,
                          "refused to rebuild a tensor"),
    "parameter-of-a-string": (_g("torch._utils", "_rebuild_parameter") + b"(" + _s("x") + b"\x88}tR", DataError,
                              "a Parameter can only be rebuilt from a tensor, not from a str"),
    "os-system": (_g("os", "system") + b"(" + _s("echo pwned") + b"tR", RefusedGlobal, "refused to load the global"),
}


@pytest.mark.parametrize("case", PT, ids=list(PT))
def test_a_crafted_pt_file(tmp_path, case):
    body, error, msg = PT[case]
    p = _pt(tmp_path, body)
    if error is None:  # loads, but as a fresh plain OrderedDict: the file cannot shadow its methods
        out = cr.load(p)
        assert type(out).__name__ == "OrderedDict" and vars(out) == {} and list(out.items()) == []
        return
    with pytest.raises(error, match=re.escape(msg)) as e:
        cr.load(p)
    assert str(p) in str(e.value)


def test_a_pt_zip_entry_is_sized_before_it_is_inflated(tmp_path, monkeypatch):
    from chainrule import memory

    monkeypatch.setattr(memory, "available", lambda: 10 << 20)  # 10 MiB free
    p = _pt(tmp_path, _tensor(size=(2**23,), numel=2**23), storage=bytes(2**25), compress=zipfile.ZIP_DEFLATED)
    assert p.stat().st_size < 1 << 20  # 32 MiB of zeros, compressed
    with pytest.raises(NotEnoughMemory, match=r"archive/data/0 \(33554432 bytes once inflated\) needs about 32.0 MiB"):
        cr.load(p)


# ------------------------------------------------------------ .npz and .csv data files
def _npy_header(shape, descr="<f4") -> bytes:
    b = io.BytesIO()
    np.lib.format.write_array_header_1_0(b, {"descr": descr, "fortran_order": False, "shape": shape})
    return b.getvalue()


def _npz_raw(path, members: dict) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)


X = np.linspace(0, 1, 40, dtype=np.float32).reshape(10, 4)
Y = np.arange(10) % 2
NPZ = {
    "x-declares-40-TB": (lambda p: _npz_raw(p, {"x.npy": _npy_header((10**12, 10)) + bytes(64),
                                                 "y.npy": _npy_header((10,), "<i8") + Y.astype("<i8").tobytes()}),
                         re.escape("the array x declares shape (1000000000000, 10) (40000000000000 bytes) but holds "
                                   "64 bytes")),
    "empty": (lambda p: np.savez(p, x=np.zeros((0, 4)), y=np.zeros(0, int)), "no examples"),
    "zero-features": (lambda p: np.savez(p, x=np.zeros((10, 0)), y=Y),
                      r"x has shape \(10, 0\): every example needs at least one input value"),
    "beyond-float32": (lambda p: np.savez(p, x=X.astype(np.float64) * 1e300, y=Y), "beyond float32's range"),
    "label-2**70": (lambda p: np.savez(p, x=X, y=np.where(Y == 1, 2.0**70, Y)),
                    r"y\[1\] is 1.18\d*e\+21; labels must be integer"),
    "label-uint64-max": (lambda p: np.savez(p, x=X, y=np.where(Y == 1, 2**64 - 1, Y).astype(np.uint64)),
                         r"y\[1\] is 18446744073709551615"),
}


@pytest.mark.parametrize("case", NPZ, ids=list(NPZ))
def test_a_crafted_npz_data_file(tmp_path, case):
    make, msg = NPZ[case]
    p = tmp_path / "d.npz"
    make(p)
    with pytest.raises(DataError, match=msg) as e:
        load_file(p)
    assert str(p) in str(e.value)


def test_a_data_file_of_one_class_is_refused(tmp_path, capsys):
    from chainrule import cli

    p = tmp_path / "d.npz"
    np.savez(p, x=X, y=np.zeros(10, int))
    assert cli.main(["train", "--data", str(p), "--epochs", "1", "-q", "--out", str(tmp_path / "r")]) == 2
    assert "every label is 0; a classifier needs at least two classes" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


CSV = {
    "label-beyond-int64": ("a,t\n1,99999999999999999999999\n2,1\n",
                           "line 2, column 't': '99999999999999999999999' is not an integer class label"),
    "repeated-feature": ("a,a,t\n1,2,0\n3,4,1\n", "the header names the column 'a' more than once"),
    "repeated-target": ("t,t\n1,0\n2,1\n", "the header names the column 't' more than once"),
}


@pytest.mark.parametrize("case", CSV, ids=list(CSV))
def test_a_crafted_csv_data_file(tmp_path, case):
    text, msg = CSV[case]
    p = tmp_path / "d.csv"
    p.write_text(text)
    with pytest.raises(DataError, match=msg):
        load_file(p, "t")


def test_a_csv_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes("t,a\n0,1.5\n1,2.5\n".encode("utf-8-sig"))
    x, y = load_file(p, "t")
    assert y.numpy().tolist() == [0, 1] and x.numpy().tolist() == [[1.5], [2.5]]


# ------------------------------------------------------------ MNIST IDX files
def _idx(code: int, dims: tuple, data: bytes) -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


def _mnist(folder, images: bytes, labels: bytes, gz: bool = False) -> None:
    folder.mkdir(exist_ok=True)
    for img, lbl in (("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                     ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")):
        for name, blob in ((img, images), (lbl, labels)):
            (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(blob) if gz else blob)


IMAGES = _idx(8, (3, 28, 28), bytes(3 * 784))
LABELS = _idx(8, (3,), bytes([0, 1, 2]))
IDX = {
    "float-labels": (IMAGES, _idx(0x0D, (3,), np.array([0.5, 1.7, 2], ">f4").tobytes()),
                     "labels must be an integer IDX type"),
    "nan-labels": (IMAGES, _idx(0x0D, (3,), np.array([np.nan, 1, 2], ">f4").tobytes()),
                   "labels must be an integer IDX type"),
    "nan-pixels": (_idx(0x0D, (3, 28, 28), np.full(3 * 784, np.nan, ">f4").tobytes()), LABELS,
                   "holds NaN or infinite pixels"),
    "0x0-images": (_idx(8, (3, 0, 0), b""), LABELS, "images of 0x0 pixels are empty"),
    "255-dimensions": (bytes([0, 0, 8, 255]) + bytes(1020), LABELS, "malformed: 255 dimensions"),
}


@pytest.mark.parametrize("case", IDX, ids=list(IDX))
def test_a_crafted_mnist_file(tmp_path, case):
    images, labels, msg = IDX[case]
    _mnist(tmp_path, images, labels)
    with pytest.raises(DataError, match=msg):
        load_mnist(tmp_path)


def test_a_gzip_bomb_is_inflated_only_as_far_as_its_header_says(tmp_path, monkeypatch):
    """1 GiB of zeros behind a header announcing one 28x28 image: reading stops one byte past 784."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    blob = c.compress(_idx(8, (1, 28, 28), b"")) + b"".join(c.compress(bytes(1 << 24)) for _ in range(64)) + c.flush()
    p = tmp_path / "bomb.gz"
    p.write_bytes(blob)
    inflated = []
    real = zlib.decompressobj

    def counting(*a, **k):
        d = real(*a, **k)

        class Counted:
            def __getattr__(self, name):
                return getattr(d, name)

            def decompress(self, data, max_length=0):
                out = d.decompress(data, max_length)
                inflated.append(len(out))
                return out
        return Counted()

    monkeypatch.setattr(zlib, "decompressobj", counting)
    with pytest.raises(DataError, match=r"malformed: 1 unexpected bytes after the data of shape \(1, 28, 28\)"):
        read_idx(p)
    assert sum(inflated) == 8 + 4 * 3 + 784 + 1 - 4  # header, dims, data and one byte more


def test_a_truncated_gzip_header_says_gzip(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(IMAGES)[:20])
    with pytest.raises(DataError, match="corrupt or truncated gzip data"):
        read_idx(p)
