"""One benchmark process: one framework, one job; prints a ``RESULT {json}`` line.

python -m benchmarks.worker --framework chainrule --job c-adam --threads 1 [--quick]

Every framework runs in a process of its own so that its peak RSS and thread
pools are its own; the threads are pinned before NumPy is imported.
"""
from __future__ import annotations

import argparse
import importlib
import itertools
import json
import sys
import time

from . import common

MODULES = {"chainrule": "chainrule_mlp", "torch": "torch_mlp", "mygrad": "mygrad_mlp", "numpy": "numpy_mlp"}


def build(framework: str, job: str, threads: int = 1, weights=None):
    """The model of ``framework`` for ``job``, with the shared initial weights; and the config."""
    cfg, opt = common.split_job(job)
    if weights is None:
        weights = common.init_weights(cfg.sizes)
    mod = importlib.import_module(f".workers.{MODULES[framework]}", __package__)
    return mod.build(cfg, opt, weights, threads), cfg


def measure(framework: str, job: str, threads: int, quick: bool) -> dict:
    t0 = time.perf_counter()
    model, cfg = build(framework, job, threads)
    xs, ys = common.make_data(cfg.sizes, cfg.batch)
    batches = [model.batch(x, y) for x, y in zip(xs, ys)]
    setup_s = time.perf_counter() - t0
    nxt = itertools.cycle(batches).__next__

    loss_first = model.loss_value(model.step(*batches[0]))
    t1 = time.perf_counter()
    model.step(*nxt())
    first = time.perf_counter() - t1
    big = first > 0.05
    if quick:
        kw = dict(min_steps=5 if big else 20, min_time=0.3, warmup=1 if big else 5)
    else:
        kw = dict(min_steps=8 if big else 50, min_time=1.5 if big else 1.0, warmup=2 if big else 10)
    kw_fb = dict(kw, min_time=kw["min_time"] / 2, warmup=min(kw["warmup"], 3))

    with common.GcTimer() as gct:
        step_s, step_cpu, n_steps = common.time_steps(lambda: model.step(*nxt()), **kw)
    gc_s, gc_n = gct.seconds, gct.collections
    fwd_s, fwd_cpu, _ = common.time_steps(lambda: model.fwd(*nxt()), **kw_fb)
    fwdbwd_s, fwdbwd_cpu, _ = common.time_steps(lambda: model.fwdbwd(*nxt()), **kw_fb)
    loss_last = model.loss_value(model.fwd(*batches[0]))
    n_all = n_steps + kw["warmup"]
    return dict(
        framework=framework, job=job, threads=threads, batch=cfg.batch, params=cfg.params,
        step_ms=step_s * 1e3, fwd_ms=fwd_s * 1e3, fwdbwd_ms=fwdbwd_s * 1e3, n_steps=n_steps,
        step_cpu_ms=step_cpu * 1e3, fwd_cpu_ms=fwd_cpu * 1e3, fwdbwd_cpu_ms=fwdbwd_cpu * 1e3,
        gc_ms_per_step=gc_s * 1e3 / n_all, gc_collections_per_step=gc_n / n_all,
        peak_rss_mb=common.peak_rss_mb(), setup_s=setup_s,
        loss_first=loss_first, loss_last=loss_last, env=common.env_report(),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    p.add_argument("--framework", required=True, choices=sorted(MODULES))
    p.add_argument("--job", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    common.pin_threads(args.threads)
    try:
        res = measure(args.framework, args.job, args.threads, args.quick)
    except NotImplementedError as e:
        res = dict(framework=args.framework, job=args.job, skipped=str(e))
    print("RESULT " + json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
