"""train(config): artifacts, accuracy of the default run, determinism, exact resume, PyTorch interop."""
from __future__ import annotations

import csv
import dataclasses
import gzip
import json
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule import runs
from chainrule.train import TrainConfig, load_dataset, load_splits, predict, train
from chainrule.trainconfig import ConfigError, from_dict, load_toml, validate


def _weights(model) -> dict:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


def test_run_folder_artifacts(tmp_path):
    out = tmp_path / "run"
    res = train(TrainConfig(epochs=3, out=str(out), layers=[64, 32, 10]))
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".lock", "best.safetensors", "checkpoints", "config.json", "curves.png", "last", "metrics.csv",
         "model.safetensors", "optimizer.safetensors"])
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert list(rows[0]) == list(runs.METRICS)
    for r, h in zip(rows, res.history):
        assert float(r["test_acc"]) == pytest.approx(h["test_acc"])
        assert 0 <= float(r["train_acc"]) <= 1 and float(r["train_loss"]) > 0
    assert float(rows[2]["train_loss"]) < float(rows[0]["train_loss"])
    assert float(rows[0]["lr"]) == pytest.approx(3e-3)  # cosine: the first epoch runs at the full lr
    # the plot is a real, non-empty PNG image
    png = (out / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    img = matplotlib.image.imread(out / "curves.png")
    assert img.shape[0] > 100 and img.shape[1] > 100 and img[..., :3].std() > 0.05
    # the checkpoint holds the final weights under PyTorch's names, and the config
    state, info = runs.read_model(out)
    assert sorted(state) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert state["0.weight"].shape == (32, 64) and state["2.weight"].shape == (10, 32)
    np.testing.assert_array_equal(state["2.weight"].numpy(), res.model[2].weight.numpy())
    assert info["epoch"] == 3 and info["config"]["layers"] == [64, 32, 10]
    assert json.loads((out / "config.json").read_text())["epochs"] == 3


def test_default_run_reaches_97_percent_and_reports_it_honestly():
    res = train(TrainConfig())
    train_set, test_set, val_set, _ = load_splits(res.config)
    assert len(test_set.labels) == 359 and len(val_set.labels) == 144 and len(train_set.labels) == 1797 - 359 - 144
    acc = float((predict(res.model, test_set.images).argmax(1) == test_set.labels.numpy()).mean())
    assert acc >= 0.97
    assert res.test_accuracy == pytest.approx(acc)


def test_fixed_test_split_seeded_validation_split_all_disjoint():
    a = load_splits(TrainConfig(seed=1))
    b = load_splits(TrainConfig(seed=2))
    np.testing.assert_array_equal(a.test.images.numpy(), b.test.images.numpy())  # the test split never moves
    assert not np.array_equal(a.val.images.numpy(), b.val.images.numpy())  # the validation split follows --seed
    np.testing.assert_array_equal(load_splits(TrainConfig(seed=1)).val.images.numpy(), a.val.images.numpy())
    x, _ = cr.data.load_digits()
    assert len(a.train.images) + len(a.val.images) + len(a.test.images) == len(x)
    rows = lambda s: {r.tobytes() for r in s.images.numpy()}  # noqa: E731
    train_rows, val_rows, test_rows = rows(a.train), rows(a.val), rows(a.test)
    for p, q in ((train_rows, test_rows), (train_rows, val_rows), (val_rows, test_rows)):
        assert len(p & q) <= 10  # only true duplicate images
    assert len(train_rows | val_rows | test_rows) >= len(x) - 20


def test_same_seed_same_weights_other_seed_differs():
    cfg = TrainConfig(epochs=2, layers=[64, 16, 10])
    a, b = train(cfg), train(cfg)
    _assert_same_weights(a.model, b.model)
    assert a.history[-1]["train_loss"] == b.history[-1]["train_loss"]
    c = train(dataclasses.replace(cfg, seed=1))
    assert not np.array_equal(a.model[0].weight.numpy(), c.model[0].weight.numpy())


@pytest.mark.parametrize("optimizer, schedule, extra", [
    ("adam", "cosine", {}),
    ("sgd", "step", {"momentum": 0.9, "nesterov": True, "lr": 0.05, "step_size": 2}),
    ("adamw", "linear", {}),
    ("rmsprop", "exponential", {"momentum": 0.5, "lr": 1e-3}),
])
def test_resume_after_epoch_k_equals_uninterrupted_run(tmp_path, optimizer, schedule, extra):
    cfg = TrainConfig(epochs=5, layers=[64, 24, 10], optimizer=optimizer, schedule=schedule, seed=3, **extra)
    full = train(dataclasses.replace(cfg, out=str(tmp_path / "full")))

    def stop_after_2(row):
        if row["epoch"] == 2:
            raise KeyboardInterrupt

    part = dataclasses.replace(cfg, out=str(tmp_path / "part"))
    with pytest.raises(KeyboardInterrupt):
        train(part, on_epoch=stop_after_2)
    cr.manual_seed(12345)  # whatever the global generator did in between must not matter
    resumed = train(part, resume=tmp_path / "part")
    _assert_same_weights(full.model, resumed.model)
    assert [r["test_acc"] for r in resumed.history] == [r["test_acc"] for r in full.history]
    assert [r["lr"] for r in resumed.history] == [r["lr"] for r in full.history]
    rows = list(csv.DictReader(open(tmp_path / "part" / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5]


def test_interrupt_in_the_middle_of_an_epoch_then_resume(tmp_path, monkeypatch):
    cfg = TrainConfig(epochs=4, layers=[64, 16, 10], seed=5)
    full = train(cfg)
    real_iter = cr.data.DataLoader.__iter__

    def interrupted(loader):
        for i, batch in enumerate(real_iter(loader)):
            if loader.epoch == 3 and i == 10:  # 10 batches into the third epoch
                raise KeyboardInterrupt
            yield batch

    monkeypatch.setattr(cr.data.DataLoader, "__iter__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(dataclasses.replace(cfg, out=str(tmp_path)))
    monkeypatch.undo()
    assert runs.read_model(tmp_path)[1]["epoch"] == 2
    resumed = train(dataclasses.replace(cfg, out=str(tmp_path)), resume=tmp_path)
    _assert_same_weights(full.model, resumed.model)


@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_resume_with_more_epochs_follows_the_longer_schedule(tmp_path, schedule):
    cfg = TrainConfig(epochs=2, layers=[64, 8, 10], schedule=schedule, lr=0.01, out=str(tmp_path))
    train(cfg)
    res = train(dataclasses.replace(cfg, epochs=4), resume=tmp_path)
    lrs = [r["lr"] for r in res.history]
    if schedule == "cosine":  # epochs 1-2 on a 2-epoch cosine, then epochs 3-4 on the 4-epoch one
        expected = [0.01, 0.005, 0.01 * (1 + np.cos(np.pi * 2 / 4)) / 2, 0.01 * (1 + np.cos(np.pi * 3 / 4)) / 2]
    else:
        expected = [0.01, 0.005, 0.01 * (1 - 2 / 4), 0.01 * (1 - 3 / 4)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-9, atol=1e-12)


def test_resume_rejects_a_different_architecture(tmp_path):
    train(TrainConfig(epochs=1, layers=[64, 8, 10], out=str(tmp_path)))
    with pytest.raises(ConfigError, match="cannot change --layers"):
        train(TrainConfig(epochs=2, layers=[64, 9, 10], out=str(tmp_path)), resume=tmp_path)


def test_resume_detects_checkpoint_files_from_different_epochs(tmp_path):
    train(TrainConfig(epochs=1, layers=[64, 8, 10], out=str(tmp_path / "a")))
    train(TrainConfig(epochs=2, layers=[64, 8, 10], out=str(tmp_path / "b")))
    (tmp_path / "b" / "optimizer.safetensors").write_bytes((tmp_path / "a" / "optimizer.safetensors").read_bytes())
    with pytest.raises(cr.DataError, match="epoch 1 but the model is from epoch 2"):
        train(TrainConfig(epochs=3, layers=[64, 8, 10]), resume=tmp_path / "b")


@pytest.mark.parametrize("activation, loss, optimizer, lr", [
    ("sigmoid", "cross_entropy", "sgd", 0.5),
    ("tanh", "cross_entropy", "rmsprop", 1e-3),
    ("relu", "mse", "adam", 3e-3),
])
def test_other_settings_learn(activation, loss, optimizer, lr):
    res = train(TrainConfig(epochs=4, layers=[64, 32, 10], activation=activation, loss=loss, optimizer=optimizer,
                            lr=lr, schedule="none"))
    assert res.history[-1]["test_acc"] > 0.8
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]


def test_training_matches_a_pytorch_replica():
    """Same initial weights, same batches, same loss and optimizer in torch: the same final weights."""
    torch = pytest.importorskip("torch")
    from chainrule.train import build_model

    cfg = TrainConfig(epochs=2, layers=[64, 32, 10], activation="sigmoid", loss="mse", optimizer="sgd", lr=0.5,
                      momentum=0.9, schedule="step", step_size=1, gamma=0.5, batch_size=50)
    res = train(cfg)
    cr.manual_seed(cfg.seed)
    init = build_model(cfg.layers, "sigmoid").state_dict()
    tm = _torch_model(torch, cfg.layers, torch.nn.Sigmoid)
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in init.items()})
    opt = torch.optim.SGD(tm.parameters(), lr=0.5, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    train_set, _ = load_dataset(cfg)
    x, y = torch.from_numpy(train_set.images.numpy()), torch.from_numpy(train_set.labels.numpy())
    loader = cr.data.DataLoader(cr.data.TensorDataset(*train_set), 50, shuffle=True, seed=cfg.seed)
    for epoch in range(2):
        order = torch.from_numpy(loader.order(epoch))
        for idx in order.split(50):
            loss = torch.nn.functional.mse_loss(tm(x[idx]), torch.nn.functional.one_hot(y[idx], 10).float())
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(res.model.state_dict()[k].numpy(), v.numpy(), atol=2e-5, err_msg=k)


def _idx(arr, code=0x08):
    return bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def test_mnist_from_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 64), ("t10k", 32)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = np.zeros((n, 28, 28), np.uint8)
        images[np.arange(n), labels, labels] = 255  # a learnable pattern: one bright pixel per class
        (tmp_path / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images)))
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(_idx(labels))
    res = train(TrainConfig(dataset="mnist", data_dir=str(tmp_path), epochs=30, batch_size=16, lr=0.01,
                            schedule="none"))
    assert res.model[0].weight.shape == (128, 784)
    assert res.history[-1]["test_acc"] == 1.0
    with pytest.raises(ConfigError, match="input size 784"):
        train(TrainConfig(dataset="mnist", data_dir=str(tmp_path), layers=[64, 10]))


# ------------------------------------------------------------ config
def test_toml_config_mirrors_options(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('layers = [64, 50, 10]\nbatch-size = 16\nlr = 0.01\noptimizer = "sgd"\nnesterov = true\n'
                 'momentum = 0.9\nname = "mine"\nearly_stopping = 3\n')
    cfg = validate(load_toml(p))
    assert (cfg.layers, cfg.batch_size, cfg.lr, cfg.optimizer, cfg.nesterov, cfg.name, cfg.early_stopping) == (
        [64, 50, 10], 16, 0.01, "sgd", True, "mine", 3)
    p.write_text("[train]\nepochs = 4\n")
    assert load_toml(p).epochs == 4


@pytest.mark.parametrize("text, msg", [
    ("learning_rate = 0.1\n", "unknown key 'learning_rate'"),
    ('epochs = "ten"\n', "epochs must be an integer"),
    ("lr = true\n", "lr must be a number"),
    ("layers = [64, 0, 10]\n", "positive"),
    ("lr = \n", "invalid TOML"),
])
def test_bad_toml(tmp_path, text, msg):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=msg) as info:
        load_toml(p)
    assert "bad.toml" in str(info.value)


@pytest.mark.parametrize("values, msg", [
    ({"activation": "swish"}, "unknown activation 'swish'"),
    ({"lr": -0.1}, "lr must be > 0"),
    ({"lr": float("nan")}, "lr must be > 0"),
    ({"epochs": 0}, "epochs must be > 0"),
    ({"schedule": "cyclic"}, "unknown schedule"),
    ({"nesterov": True, "optimizer": "sgd"}, "nesterov needs a momentum"),
    ({"nesterov": True}, "--nesterov applies to --optimizer sgd, not adam"),
    ({"momentum": 0.9}, "--momentum applies to --optimizer sgd or rmsprop, not adam"),
    ({"betas": [0.8, 0.9], "optimizer": "sgd"}, "--betas applies to --optimizer adam or adamw, not sgd"),
    ({"gamma": 0.5}, "--gamma applies to --schedule step or exponential, not cosine"),
    ({"layers": [64, 10], "model": "cnn"}, "--layers applies to --model mlp"),
    ({"test_fraction": 0.5, "dataset": "mnist", "data_dir": "."}, "--test-fraction applies to --dataset digits"),
    ({"val_fraction": 0.5, "test_fraction": 0.5}, "leave no training data"),
    ({"early_stopping": 3, "val_fraction": 0.0}, "needs --val-fraction > 0"),
    ({"seed": 2**64}, "seed must be >= -9223372036854775808 and <= 18446744073709551615, got 18446744073709551616"),
    ({"data": "x.npz", "dataset": "digits"}, "leave out --dataset digits"),
    ({"data": "x.csv"}, "needs --target COLUMN"),
    ({"name": "../x"}, "single folder name"),
    ({"dataset": "mnist"}, "needs --data-dir"),
    ({"betas": [0.9, 1.5]}, "betas"),
])
def test_validate_rejects(values, msg):
    with pytest.raises(ConfigError, match=msg):
        validate(from_dict(values))


# ------------------------------------------------------------ PyTorch interop
def _torch_model(torch, sizes, act):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def test_checkpoint_loads_into_torch_and_back(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    sizes = [64, 20, 12, 10]
    res = train(TrainConfig(epochs=2, layers=sizes, activation="tanh", out=str(tmp_path / "run")))
    x = load_dataset(res.config)[1].images.numpy()

    # chainrule -> torch
    tm = _torch_model(torch, sizes, torch.nn.Tanh)
    tm.load_state_dict(st.load_file(str(tmp_path / "run" / "model.safetensors")))
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    ours = predict(res.model, x)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    assert (ours.argmax(1) == ref.argmax(1)).all()

    # torch -> chainrule
    torch.manual_seed(0)
    tm2 = _torch_model(torch, sizes, torch.nn.Tanh)
    st.save_file(tm2.state_dict(), str(tmp_path / "torch.safetensors"))
    from chainrule.train import build_model

    m2 = build_model(sizes, "tanh")
    m2.load_state_dict(cr.load(tmp_path / "torch.safetensors"))
    with torch.no_grad():
        ref2 = tm2(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(predict(m2, x), ref2, rtol=1e-5, atol=1e-5)
