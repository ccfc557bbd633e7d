"""cr.save / cr.load: safetensors round trips, atomic replacement, clear errors, interop with PyTorch."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.io import load_metadata

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_dtypes_and_shapes(tmp_path, dtype):
    rng = np.random.default_rng(0)
    arrays = {
        "matrix": (rng.normal(size=(3, 4)) * 10).astype(dtype),
        "scalar": np.asarray(rng.normal() * 10).astype(dtype),
        "empty": np.zeros((0, 2), dtype),
        "cube": (rng.normal(size=(2, 1, 3)) * 10).astype(dtype),
    }
    cr.save({k: cr.from_numpy(v) for k, v in arrays.items()}, tmp_path / "t.safetensors")
    out = cr.load(tmp_path / "t.safetensors")
    assert set(out) == set(arrays)
    for k, v in arrays.items():
        assert isinstance(out[k], cr.Tensor)
        assert out[k].dtype == v.dtype and out[k].shape == v.shape, k
        np.testing.assert_array_equal(out[k].numpy(), v)


def test_zero_d_tensor_keeps_shape_and_noncontiguous_is_saved(tmp_path):
    p = tmp_path / "s.safetensors"
    t = cr.arange(12, dtype=cr.float32).reshape(3, 4)
    cr.save({"step": cr.tensor(7.0), "t": t.T, "arr": np.arange(3)}, p)
    out = cr.load(p)
    assert out["step"].shape == () and out["step"].item() == 7.0
    np.testing.assert_array_equal(out["t"].numpy(), t.numpy().T)
    out["t"].data += 1  # loaded tensors are ordinary writable tensors


def test_metadata_round_trip(tmp_path):
    p = tmp_path / "m.safetensors"
    cr.save({"w": cr.ones(2)}, p, metadata={"config": '{"lr": 0.1}'})
    assert load_metadata(p) == {"config": '{"lr": 0.1}'}
    cr.save({"w": cr.ones(2)}, p)
    assert load_metadata(p) == {}


def test_save_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError, match=r"cannot store a set at \['w'\]"):
        cr.save({"w": {1, 2}}, tmp_path / "x")
    with pytest.raises(TypeError, match=r"Linear at \['m'\].*state_dict"):
        cr.save({"m": cr.nn.Linear(1, 1)}, tmp_path / "x")
    with pytest.raises(TypeError, match="metadata"):
        cr.save({"w": cr.ones(2)}, tmp_path / "x", metadata={"a": 1})
    with pytest.raises(cr.DTypeError, match=r"save: cannot write .*x: .*object"):
        cr.save({"w": np.array([1, "a"], dtype=object)}, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_save_into_a_missing_folder_names_the_target_not_a_temporary(tmp_path):
    target = tmp_path / "no-such-folder" / "w.safetensors"
    with pytest.raises(FileNotFoundError) as info:
        cr.save({"w": cr.ones(2)}, target)
    assert info.value.filename == str(target)
    assert ".tmp" not in str(info.value)


def test_load_missing_and_corrupt_files_name_the_file(tmp_path):
    with pytest.raises(cr.DataError, match=r"nope\.safetensors: file not found"):
        cr.load(tmp_path / "nope.safetensors")
    with pytest.raises(cr.DataError, match="is a folder"):
        cr.load(tmp_path)
    good = tmp_path / "good.safetensors"
    cr.save({"w": cr.ones(100)}, good)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(good.read_bytes()[:-10])
    with pytest.raises(cr.DataError, match=r"bad\.safetensors: not a valid safetensors file"):
        cr.load(bad)
    bad.write_bytes(b"this is not a checkpoint at all")
    with pytest.raises(cr.DataError, match=r"bad\.safetensors: not a valid safetensors file"):
        cr.load(bad)
    with pytest.raises(cr.DataError, match=r"bad\.safetensors: not a valid safetensors file"):
        load_metadata(bad)



def test_load_of_a_dtype_numpy_lacks_is_a_data_error(tmp_path):
    """A bfloat16 checkpoint (common from PyTorch) is refused by name, not with a KeyError."""
    import torch
    from safetensors.torch import save_file

    p = tmp_path / "bf16.safetensors"
    save_file({"w": torch.ones(3, dtype=torch.bfloat16)}, str(p))
    with pytest.raises(cr.DataError, match=r"bf16\.safetensors: holds BF16 tensors"):
        cr.load(p)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name != "w.safetensors")


@pytest.mark.parametrize("fail_at", ["fsync", "replace", "write"])
def test_failed_save_leaves_previous_file_and_no_temp(tmp_path, monkeypatch, fail_at):
    p = tmp_path / "w.safetensors"
    cr.save({"w": cr.ones(1000)}, p)
    before = p.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full (simulated)")

    import chainrule.io as io

    if fail_at == "write":
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, blob):
                self.f.write(blob[: len(blob) // 2])
                raise OSError("disk full (simulated)")

        monkeypatch.setattr(io.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    else:
        monkeypatch.setattr(io.os, fail_at, boom)
    with pytest.raises(OSError, match="simulated"):
        cr.save({"w": cr.zeros(1000)}, p)
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert _leftovers(tmp_path) == []
    np.testing.assert_array_equal(cr.load(p)["w"].numpy(), np.ones(1000, np.float32))


def test_process_killed_mid_save_leaves_previous_file(tmp_path):
    """The process dies after writing the temp file but before the rename: the target is untouched."""
    p = tmp_path / "w.safetensors"
    cr.save({"w": cr.ones(10)}, p)
    before = p.read_bytes()
    code = (
        "import os, chainrule as cr, chainrule.io as io\n"
        "io.os.replace = lambda *a: os._exit(9)\n"
        f"cr.save({{'w': cr.zeros(10)}}, {str(p)!r})\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    assert p.read_bytes() == before


def test_interop_with_torch_safetensors(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    a = tmp_path / "from_torch.safetensors"
    ref = {"w": torch.randn(3, 4), "n": torch.tensor(5), "h": torch.randn(2).half(), "s": torch.tensor(2.5)}
    st.save_file(ref, str(a))
    out = cr.load(a)
    for k, v in ref.items():
        assert out[k].shape == tuple(v.shape)
        np.testing.assert_array_equal(out[k].numpy(), v.numpy())
    b = tmp_path / "from_cr.safetensors"
    cr.save(out, b)
    back = st.load_file(str(b))
    for k, v in ref.items():
        assert back[k].dtype == v.dtype and torch.equal(back[k], v)
