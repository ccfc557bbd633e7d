"""Correctness of the benchmark harness: every framework's worker trains the same model.

No timings here: these tests make sure the benchmark compares like with like
(same weights, data, loss and update rule in every column) and that its
verdicts on the targets follow the numbers.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root holds benchmarks/

from benchmarks import common, overhead, runner  # noqa: E402
from benchmarks.worker import build  # noqa: E402

torch = pytest.importorskip("torch")


def trajectory(framework: str, job: str, steps: int = 4):
    """Losses of ``steps`` training steps on the shared data, and the final weights."""
    model, cfg = build(framework, job)
    xs, ys = common.make_data(cfg.sizes, cfg.batch)
    losses = [model.loss_value(model.step(*model.batch(xs[i], ys[i]))) for i in range(steps)]
    return np.array(losses), model.weights()


def assert_same_training(job: str, framework: str, adam: bool = False) -> None:
    ref_loss, ref_w = trajectory("torch", job)
    loss, w = trajectory(framework, job)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5, atol=1e-5)
    assert len(w) == len(ref_w)
    for (W, b), (rW, rb) in zip(w, ref_w):
        assert W.shape == rW.shape and W.dtype == np.float32
        for got, ref in ((W, rW), (b, rb)):
            rel = np.abs(got - ref) / np.abs(ref).max()
            if adam:  # Adam normalises each element: near-zero gradients may differ by ~lr between float32 codes
                assert (rel > 1e-4).mean() < 1e-3
            else:
                assert rel.max() < 1e-4


@pytest.mark.parametrize("job", ["a", "b"])
def test_numpy_bound_trains_like_torch(job):
    assert_same_training(job, "numpy")


def test_numpy_bound_adam_trains_like_torch():
    assert_same_training("b-adam", "numpy", adam=True)


def test_mygrad_trains_like_torch():
    import mygrad  # noqa: F401 - a test dependency: missing it is a failure, not a skip
    assert_same_training("a", "mygrad")


def test_mygrad_has_no_adam_job():
    import mygrad  # noqa: F401 - a test dependency: missing it is a failure, not a skip
    with pytest.raises(NotImplementedError):
        build("mygrad", "c-adam")



@pytest.mark.parametrize("job", ["a", "b"])
def test_chainrule_worker_trains_like_torch(job):
    assert_same_training(job, "chainrule")


def test_chainrule_worker_adam_trains_like_torch():
    assert_same_training("a-adam", "chainrule", adam=True)


def test_chainrule_worker_keeps_float32():
    model, cfg = build("chainrule", "a")
    xs, ys = common.make_data(cfg.sizes, cfg.batch)
    x, y = model.batch(xs[0], ys[0])
    loss = model.step(x, y)
    assert loss.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.model.parameters())


@pytest.mark.parametrize("name", list(overhead.OPS))
def test_overhead_ops_compute_the_same_in_chainrule_and_torch(name):
    """The per-op table compares the same computation: values and gradients agree."""
    f = overhead.OPS[name]
    outs = {}
    for fw in ("chainrule", "torch"):
        _, k = overhead._leaves(fw)
        y = k.x
        for _ in range(3):
            y = f(y, k)
        y.backward(k.g)
        outs[fw] = [np.asarray(y.detach().numpy())] + [
            np.zeros((4, 4), np.float32) if t.grad is None else np.asarray(t.grad.numpy()) for t in k.leaves]
    for got, ref in zip(outs["chainrule"], outs["torch"]):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_chains_compute_the_same_in_chainrule_and_torch():
    res = {}
    for fw in ("chainrule", "torch"):
        _, k = overhead._leaves(fw)
        a = overhead._chain10(k.x, k.w, k.b)
        a.backward()
        b = overhead._chain10_mixed(k.x, k.w)
        res[fw] = [float(a.item()), float(b.item())] + [np.asarray(t.grad.numpy()) for t in (k.x, k.w, k.b)]
    for got, ref in zip(res["chainrule"], res["torch"]):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_split_job():
    cfg, opt = common.split_job("c-adam")
    assert (cfg.sizes, cfg.batch, opt) == ((784, 256, 256, 10), 128, "adam")
    assert common.split_job("e")[1] == "sgd"
    with pytest.raises(ValueError, match="f-adam"):
        common.split_job("f-adam")


def test_unknown_config_is_refused_by_name():
    with pytest.raises(SystemExit, match="zz"):
        runner._parse_list("a,zz", common.JOBS, "config")


def _summary(step, fwd=1.0, fwdbwd=2.5, rss=100.0):
    return dict(step_ms=step, fwd_ms=fwd, fwdbwd_ms=fwdbwd, bwd_fwd=(fwdbwd - fwd) / fwd, peak_rss_mb=rss,
                gc_ms_per_step=0.0)


def test_target_verdicts_follow_the_numbers():
    s = {"chainrule": _summary(1.0, rss=130.0), "torch": _summary(1.2), "mygrad": _summary(0.9),
         "numpy": _summary(0.95, rss=100.0)}
    got = {w: (round(v, 4), met) for w, v, t, met in runner.targets("e", s)}
    assert got["speed-up over torch"] == (1.2, True)  # e needs >= 1.05
    assert got["speed-up over mygrad"] == (0.9, False)
    assert got["time / numpy bound"] == (round(1 / 0.95, 4), True)
    assert got["backward/forward"] == (1.5, True)
    assert got["peak RSS / numpy bound"] == (1.3, True)
    got_a = {w: met for w, v, t, met in runner.targets("a", s)}
    assert got_a["speed-up over torch"] is False  # a needs >= 3
    assert "time / numpy bound" not in got_a  # no bound target on a


def test_gc_timer_counts_collections():
    import gc

    with common.GcTimer() as t:
        gc.collect()
        gc.collect()
    assert t.collections == 2 and t.seconds > 0


def test_worker_env_pins_threads_and_drops_openblas_tuning(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("OPENBLAS_L2_SIZE", "1048576")
    env = common.worker_env(3)
    assert "OPENBLAS_CORETYPE" not in env and "OPENBLAS_L2_SIZE" not in env
    assert all(env[v] == "3" for v in common.THREAD_VARS)
    assert str(common.REPO) in env["PYTHONPATH"].split(os.pathsep)


def test_bench_command_takes_the_suite_options(capsys):
    from chainrule import cli

    with pytest.raises(SystemExit) as e:
        cli.main(["bench", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--quick" in out and "--configs" in out and "--json" in out


def _raw(step, cpu):
    return dict(step_ms=step, fwd_ms=1.0, fwdbwd_ms=2.0, step_cpu_ms=cpu, fwd_cpu_ms=1.0, fwdbwd_cpu_ms=3.0,
                peak_rss_mb=50.0, gc_ms_per_step=0.0, gc_collections_per_step=0.0)


def test_summaries_pick_the_clock_asked_for():
    rs = [_raw(2.0, 1.0), _raw(4.0, 1.5), dict(error="crashed")]  # a failed process is left out
    wall, cpu = runner.summarize(rs, "wall"), runner.summarize(rs, "cpu")
    assert wall["step_ms"] == 3.0 and wall["bwd_fwd"] == 1.0
    assert cpu["step_ms"] == 1.25 and cpu["bwd_fwd"] == 2.0
    assert runner.summarize([dict(error="x")]) is None


def test_cross_check_reports_ratios_by_the_other_clock():
    raw = {"a": {"chainrule": [_raw(1.0, 1.0)], "torch": [_raw(9.0, 3.0)], "numpy": [_raw(0.5, 0.5)]}}
    text = runner.cross_check(raw, ["chainrule", "torch", "numpy"], "cpu")
    last = text.splitlines()[-1].split()
    assert last == ["a", "1", "3.00", "2.00"]
