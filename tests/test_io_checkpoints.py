"""cr.save/cr.load of whole checkpoints: nested structures without pickle, PyTorch's .pt files both ways,
and hostile pickles refused by name."""
import io
import json
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.torchfile import RefusedGlobal


def _checkpoint():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    opt = torch.optim.Adam(tm.parameters(), lr=0.01)
    tm(torch.randn(5, 3)).sum().backward()
    opt.step()
    return {"epoch": 7, "loss": 0.25, "name": "run-1", "best": None, "flags": [True, False],
            "shape": (2, 3), "model_state_dict": tm.state_dict(), "optimizer_state_dict": opt.state_dict(),
            "big": 2**40, "scalar": torch.tensor(3.5), "ints": torch.arange(6).reshape(2, 3)}


def _same(ours, theirs, path="top"):
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, cr.Tensor), path
        assert ours.shape == tuple(theirs.shape), path
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "chainrule."), path
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=path)
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) or isinstance(ours, dict), path
        assert list(ours) == list(theirs), path
        for k in theirs:
            _same(ours[k], theirs[k], f"{path}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _same(a, b, f"{path}[{i}]")
    else:
        assert type(ours) is type(theirs) and ours == theirs, path


def _to_cr(obj):
    """The torch checkpoint with chainrule tensors (what chainrule code would save)."""
    if isinstance(obj, torch.Tensor):
        return cr.tensor(obj.numpy())
    if isinstance(obj, dict):
        return type(obj)((k, _to_cr(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cr(v) for v in obj)
    return obj


def test_a_file_written_by_torch_loads_without_torch_code(tmp_path):
    ck = _checkpoint()
    for name in ("ckpt.pt", "weights.bin"):
        torch.save(ck, tmp_path / name)
        _same(cr.load(tmp_path / name, weights_only=True, map_location="cpu"), ck)
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "sd.pth", _use_new_zipfile_serialization=True)
    sd = cr.load(tmp_path / "sd.pth", map_location=cr.device("cpu"))
    assert isinstance(sd, OrderedDict) and list(sd) == ["weight", "bias"]


def test_non_contiguous_views_shared_storage_bf16_and_parameters_from_torch(tmp_path):
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    obj = {"t": base.t(), "row": base[2], "slice": base[:, 1::2],
           "bf": torch.tensor([1.5, -2.25], dtype=torch.bfloat16),
           "p": torch.nn.Parameter(torch.ones(2)), "empty": torch.zeros(0, 3), "b": torch.tensor([True, False])}
    torch.save(obj, tmp_path / "v.pt")
    got = cr.load(tmp_path / "v.pt")
    for k in ("t", "row", "slice", "empty", "b"):
        _same(got[k], obj[k], k)
    assert got["bf"].dtype == cr.float32 and got["bf"].tolist() == [1.5, -2.25]
    assert isinstance(got["p"], cr.nn.Parameter) and got["p"].requires_grad


def test_chainrule_pt_files_are_real_pytorch_files(tmp_path):
    ck = _to_cr(_checkpoint())
    cr.save(ck, tmp_path / "ckpt.pt")
    assert zipfile.is_zipfile(tmp_path / "ckpt.pt")
    theirs = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    _same(cr.load(tmp_path / "ckpt.pt"), theirs)
    np.testing.assert_array_equal(theirs["model_state_dict"]["0.weight"].numpy(),
                                  ck["model_state_dict"]["0.weight"].numpy())
    assert theirs["optimizer_state_dict"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert theirs["big"] == 2**40 and theirs["scalar"].shape == () and theirs["ints"].dtype == torch.int64
    buf = io.BytesIO()
    cr.save({"w": cr.ones(2)}, buf)  # a file object gets PyTorch's format, as torch.save gives
    buf.seek(0)
    assert torch.load(buf, weights_only=True)["w"].tolist() == [1.0, 1.0]
    buf.seek(0)
    assert cr.load(buf)["w"].tolist() == [1.0, 1.0]


def test_nested_checkpoint_in_safetensors_has_no_pickle_and_round_trips(tmp_path):
    ck = _to_cr(_checkpoint())
    p = tmp_path / "ckpt.safetensors"
    cr.save(ck, p, metadata={"note": "kept"})
    raw = p.read_bytes()
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    assert json.loads(header["__metadata__"]["chainrule.structure"])  # the structure is JSON
    assert header["__metadata__"]["note"] == "kept"
    back = cr.load(p)
    assert back["epoch"] == 7 and back["shape"] == (2, 3) and back["best"] is None and back["flags"] == [True, False]
    assert list(back["optimizer_state_dict"]["state"]) == [0, 1, 2, 3]  # int keys survive
    np.testing.assert_array_equal(back["model_state_dict"]["2.bias"].numpy(), ck["model_state_dict"]["2.bias"].numpy())
    from safetensors.numpy import load_file

    assert "model_state_dict/0.weight" in load_file(p)  # any safetensors tool sees the tensors


def test_resume_training_from_a_torch_checkpoint(tmp_path):
    """A PyTorch checkpoint resumes in chainrule: weights and Adam state go on to the same next step."""
    ck = _checkpoint()
    torch.save(ck, tmp_path / "ckpt.pt")
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    tm.load_state_dict(ck["model_state_dict"])
    topt = torch.optim.Adam(tm.parameters(), lr=0.01)
    topt.load_state_dict(ck["optimizer_state_dict"])
    cm = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 2))
    loaded = cr.load(tmp_path / "ckpt.pt")
    cm.load_state_dict(loaded["model_state_dict"])
    copt = cr.optim.Adam(cm.parameters(), lr=0.01)
    copt.load_state_dict(loaded["optimizer_state_dict"])
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    tm(torch.tensor(x)).pow(2).sum().backward()
    topt.step()
    cm(cr.tensor(x)).pow(2).sum().backward()
    copt.step()
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(cm.state_dict()[k].numpy(), v.numpy(), rtol=1e-6, atol=1e-7, err_msg=k)


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /tmp/chainrule-pwned",))


def test_a_malicious_pickle_is_refused_by_name_and_runs_nothing(tmp_path):
    p = tmp_path / "evil.pt"
    torch.save({"w": torch.ones(1), "payload": _Evil()}, p)
    with pytest.raises(RefusedGlobal, match=r"refused to load the global '(posix|os)\.system'"):
        cr.load(p, weights_only=False)
    import os

    assert not os.path.exists("/tmp/chainrule-pwned")


@pytest.mark.parametrize("payload, name", [
    (b"cbuiltins\neval\n(X\x04\x00\x00\x001+1tR.", "builtins.eval"),
    (b"ctorch\nload\n(X\x01\x00\x00\x00xtR.", "torch.load"),
    (b"cnumpy\nload\n(X\x01\x00\x00\x00xtR.", "numpy.load"),
])
def test_handmade_hostile_data_pkl_is_refused(tmp_path, payload, name):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02" + payload)
    (tmp_path / "h.pt").write_bytes(buf.getvalue())
    with pytest.raises(RefusedGlobal, match=name.replace(".", r"\.")):
        cr.load(tmp_path / "h.pt")


def test_corrupt_torch_files_name_the_problem(tmp_path):
    torch.save({"w": torch.ones(4)}, tmp_path / "ok.pt")
    raw = (tmp_path / "ok.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(cr.DataError, match="cut.pt"):
        cr.load(tmp_path / "cut.pt")
    # a tensor that claims more elements than its storage holds
    buf = io.BytesIO()
    with zipfile.ZipFile(tmp_path / "ok.pt") as src, zipfile.ZipFile(buf, "w") as dst:
        for n in src.namelist():
            data = src.read(n)
            dst.writestr(n, data[:8] if "/data/" in n else data)
    (tmp_path / "short.pt").write_bytes(buf.getvalue())
    with pytest.raises(cr.DataError, match="holds 8 bytes, 16 expected"):
        cr.load(tmp_path / "short.pt")
    (tmp_path / "legacy.pt").write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(cr.DataError, match="legacy format"):
        cr.load(tmp_path / "legacy.pt")


def test_map_location_to_a_missing_device_is_refused_not_ignored(tmp_path):
    cr.save({"w": cr.ones(1)}, tmp_path / "w.safetensors")
    assert cr.load(tmp_path / "w.safetensors", map_location={"cuda:0": "cpu"})["w"].tolist() == [1.0]
    assert cr.load(tmp_path / "w.safetensors", map_location=lambda s, loc: s)["w"].tolist() == [1.0]
    with pytest.raises(cr.devices.DeviceError, match="map_location"):
        cr.load(tmp_path / "w.safetensors", map_location="cuda")


def test_metadata_only_goes_into_safetensors(tmp_path):
    with pytest.raises(TypeError, match="only be stored in safetensors"):
        cr.save({"w": cr.ones(1)}, tmp_path / "w.pt", metadata={"a": "b"})


@pytest.mark.parametrize("name, kw", [("Adagrad", dict(lr=0.1, lr_decay=0.01)), ("Adadelta", dict(lr=0.5)),
                                      ("SGD", dict(lr=0.05, momentum=0.9))])
def test_optimizer_state_saved_by_torch_continues_in_chainrule(tmp_path, name, kw):
    torch.manual_seed(3)
    tm = torch.nn.Linear(4, 2)
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((6, 4)).astype(np.float32) for _ in range(6)]
    for x in xs[:3]:
        topt.zero_grad()
        tm(torch.tensor(x)).pow(2).mean().backward()
        topt.step()
    torch.save({"model": tm.state_dict(), "opt": topt.state_dict()}, tmp_path / "o.pt")
    ck = cr.load(tmp_path / "o.pt")
    cm = cr.nn.Linear(4, 2)
    cm.load_state_dict(ck["model"])
    copt = getattr(cr.optim, name)(cm.parameters(), **kw)
    copt.load_state_dict(ck["opt"])
    for x in xs[3:]:
        topt.zero_grad()
        tm(torch.tensor(x)).pow(2).mean().backward()
        topt.step()
        copt.zero_grad()
        cm(cr.tensor(x)).pow(2).mean().backward()
        copt.step()
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(cm.state_dict()[k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
