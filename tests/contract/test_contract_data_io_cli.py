"""DESIGN.md "cr.data", "cr.save/cr.load" and "Command line"."""
from __future__ import annotations

import gzip
import inspect
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import chainrule as cr


def test_tensor_dataset_and_dataloader_defaults():
    params = inspect.signature(cr.data.DataLoader).parameters
    assert list(params)[:5] == ["dataset", "batch_size", "shuffle", "drop_last", "seed"]
    assert params["batch_size"].default == 1 and params["shuffle"].default is False
    assert params["drop_last"].default is False and params["seed"].default is None
    x = cr.tensor(np.arange(20.0, dtype=np.float32).reshape(10, 2))
    y = cr.tensor(np.arange(10))
    ds = cr.data.TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    np.testing.assert_array_equal(xi.numpy(), [6.0, 7.0]) and yi.item() == 3
    batches = list(cr.data.DataLoader(ds))
    assert len(batches) == 10 and batches[0][0].shape == (1, 2) and batches[0][1].shape == (1,)
    loader = cr.data.DataLoader(ds, batch_size=4)
    assert len(loader) == 3
    got = list(loader)
    assert [b[0].shape[0] for b in got] == [4, 4, 2]
    assert isinstance(got[0][0], cr.Tensor) and got[0][0].dtype == np.float32 and got[0][1].dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in got]), np.arange(10))
    dl = cr.data.DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dl) == 2 and [b[0].shape[0] for b in dl] == [4, 4]


def test_dataloader_shuffle_seeded_and_complete():
    ds = cr.data.TensorDataset(cr.tensor(np.arange(50)))
    a = [b[0].numpy() for b in cr.data.DataLoader(ds, batch_size=8, shuffle=True, seed=3)]
    b = [b[0].numpy() for b in cr.data.DataLoader(ds, batch_size=8, shuffle=True, seed=3)]
    c = [b[0].numpy() for b in cr.data.DataLoader(ds, batch_size=8, shuffle=True, seed=4)]
    flat = np.concatenate(a)
    assert sorted(flat.tolist()) == list(range(50)) and flat.tolist() != list(range(50))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))
    loader = cr.data.DataLoader(ds, batch_size=50, shuffle=True, seed=3)
    e1, e2 = next(iter(loader))[0].numpy(), next(iter(loader))[0].numpy()
    assert not np.array_equal(e1, e2)  # a fresh order every epoch


def test_load_digits():
    x, y = cr.data.load_digits()
    assert len(x) == 1797 and len(y) == 1797
    assert x.numel() == 1797 * 64 and x.dtype == np.float32 and y.dtype == np.int64
    assert sorted(set(y.numpy().tolist())) == list(range(10))
    assert 0.0 <= float(x.numpy().min()) and float(x.numpy().max()) <= 16.0
    # the real UCI digits (as scikit-learn ships them): per-class counts, first image, total ink
    assert np.bincount(y.numpy()).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert y.numpy()[:10].tolist() == list(range(10))
    first = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0,
             0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0]
    scale = 16.0 / float(x.numpy().max())  # pixels are counts 0..16 in the source, however they are scaled
    pixels = x.numpy().reshape(1797, 64) * scale
    np.testing.assert_allclose(pixels[0], first, atol=1e-4)
    np.testing.assert_allclose(pixels.sum(), 561718.0, rtol=1e-6)


def _idx(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08}[arr.dtype.type]
    return struct.pack(">HBB", 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_idx(tmp_path: Path, gz: bool):
    rng = np.random.default_rng(0)
    data = {}
    for prefix, n in (("train", 6), ("t10k", 4)):
        imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        lbls = rng.integers(0, 10, n, dtype=np.uint8)
        data[prefix] = (imgs, lbls)
        for kind, arr in (("images-idx3-ubyte", imgs), ("labels-idx1-ubyte", lbls)):
            blob = _idx(arr)
            path = tmp_path / f"{prefix}-{kind}"
            if gz:
                path.with_name(path.name + ".gz").write_bytes(gzip.compress(blob))
            else:
                path.write_bytes(blob)
    m = cr.data.load_mnist(tmp_path)
    (xtr, ytr), (xte, yte) = m
    assert len(xtr) == 6 and len(xte) == 4 and ytr.dtype == np.int64
    np.testing.assert_array_equal(ytr.numpy(), data["train"][1])
    np.testing.assert_array_equal(yte.numpy(), data["t10k"][1])
    imgs = data["train"][0].astype(np.float32)
    got = xtr.numpy().reshape(6, 28, 28)
    np.testing.assert_allclose(got * (imgs.max() / got.max()), imgs, atol=1e-3)  # the pixels, up to a scale
    with pytest.raises(cr.ChainruleError, match="t10k-labels|labels"):
        (tmp_path / ("t10k-labels-idx1-ubyte" + (".gz" if gz else ""))).write_bytes(b"\x00\x00\x08")
        cr.data.load_mnist(tmp_path)


def test_save_load_dtypes_shapes_and_torch_interop(tmp_path: Path):
    from safetensors.torch import load_file, save_file

    tensors = {"w": cr.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)), "s": cr.tensor(3.5),
               "d": cr.tensor(np.ones(2, dtype=np.float64)), "h": cr.tensor(np.ones(3, dtype=np.float16)),
               "i": cr.tensor(np.array([1, -2], dtype=np.int64)), "b": cr.tensor([True, False]),
               "e": cr.zeros(0, 4), "n": cr.tensor(np.int64(7))}
    path = tmp_path / "t.safetensors"
    assert cr.save(tensors, path) is None
    back = cr.load(path)
    assert isinstance(back, dict) and set(back) == set(tensors)
    for k, v in tensors.items():
        assert isinstance(back[k], cr.Tensor) and back[k].shape == v.shape and back[k].dtype == v.dtype, k
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())
    assert back["s"].shape == () and back["n"].shape == ()
    t = load_file(str(path))
    assert tuple(t["s"].shape) == () and t["w"].dtype == torch.float32 and t["i"].dtype == torch.int64
    np.testing.assert_array_equal(t["w"].numpy(), tensors["w"].numpy())
    save_file({"x": torch.tensor(2.0), "y": torch.arange(4).reshape(2, 2)}, str(tmp_path / "torch.safetensors"))
    c = cr.load(str(tmp_path / "torch.safetensors"))
    assert c["x"].shape == () and c["x"].item() == 2.0 and c["y"].dtype == np.int64


def test_checkpoint_moves_between_chainrule_and_torch(tmp_path: Path):
    from safetensors.torch import load_file, save_file

    net = cr.nn.Sequential(cr.nn.Linear(4, 5), cr.nn.ReLU(), cr.nn.Linear(5, 2), cr.nn.BatchNorm1d(2))
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2), torch.nn.BatchNorm1d(2))
    net.train()
    net(cr.randn(8, 4))  # move the running statistics
    cr.save(net.state_dict(), tmp_path / "c.safetensors")
    tnet.load_state_dict(load_file(str(tmp_path / "c.safetensors")))
    net.eval()
    tnet.eval()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(net(cr.tensor(x)).numpy(), tnet(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    save_file(tnet.state_dict(), str(tmp_path / "t.safetensors"))
    net2 = cr.nn.Sequential(cr.nn.Linear(4, 5), cr.nn.ReLU(), cr.nn.Linear(5, 2), cr.nn.BatchNorm1d(2))
    net2.load_state_dict(cr.load(tmp_path / "t.safetensors"))
    net2.eval()
    np.testing.assert_allclose(net2(cr.tensor(x)).numpy(), net(cr.tensor(x)).numpy(), rtol=1e-6)


def test_failed_save_keeps_old_file_and_bad_file_error(tmp_path: Path):
    path = tmp_path / "keep.safetensors"
    cr.save({"a": cr.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="bad"):
        cr.save({"a": cr.ones(2), "bad": object()}, path)
    assert path.read_bytes() == before
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file at all")
    with pytest.raises(cr.ChainruleError, match="junk.safetensors"):
        cr.load(junk)
    with pytest.raises(cr.ChainruleError, match="missing.safetensors"):
        cr.load(tmp_path / "missing.safetensors")


def _chainrule_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "chainrule"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "chainrule.cli"]


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["train", "--help"], ["evaluate", "--help"],
                                  ["explain", "--help"]], ids=" ".join)
def test_command_line_help_and_version(args):
    r = subprocess.run(_chainrule_cmd() + args, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    if args == ["--version"]:
        assert cr.__version__ in out
    else:
        assert "usage" in out.lower()
        if args == ["--help"]:
            for sub in ("train", "evaluate", "explain"):
                assert sub in out


def test_save_interrupted_mid_write_keeps_old_file(tmp_path: Path, monkeypatch):
    import os

    path = tmp_path / "ckpt.safetensors"
    cr.save({"a": cr.ones(3)}, path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        cr.save({"a": cr.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]  # no temporary left behind


def test_load_never_executes_code(tmp_path: Path):
    import pickle

    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (Path.write_text, (marker, "pwned"))

    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(pickle.dumps({"w": Evil()}))
    with pytest.raises(cr.ChainruleError):
        cr.load(bad)
    assert not marker.exists()


def test_train_evaluate_explain_end_to_end(tmp_path: Path):
    from safetensors.torch import load_file

    run = tmp_path / "run"
    r = subprocess.run(_chainrule_cmd() + ["train", "--epochs", "2", "--quiet", "--out", str(run)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert list(run.glob("*.safetensors")) and list(run.glob("*.png")) and list(run.glob("*.csv"))
    state = load_file(str(run / "model.safetensors"))
    sizes = [(tuple(v.shape)) for k, v in sorted(state.items()) if k.endswith("weight")]
    layers = []
    for out_f, in_f in sizes:
        layers += [torch.nn.Linear(in_f, out_f), torch.nn.ReLU()]
    tnet = torch.nn.Sequential(*layers[:-1])
    tnet.load_state_dict(state)  # chainrule's checkpoint is a torch state dict for the same architecture
    x, y = cr.data.load_digits()
    acc = (tnet(torch.tensor(x.numpy())).argmax(1).numpy() == y.numpy()).mean()
    assert acc > 0.8
    r = subprocess.run(_chainrule_cmd() + ["evaluate", str(run)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "%" in r.stdout and "accuracy" in r.stdout.lower()
    html = tmp_path / "explain.html"
    r = subprocess.run(_chainrule_cmd() + ["explain", "--html", str(html), "--quiet"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "<html" in html.read_text(encoding="utf-8").lower()
    r = subprocess.run(_chainrule_cmd() + ["train", "--epochs", "zero"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "epochs" in r.stderr
